/// docker's memory sizes (`-m 512m`, `--memory 1g`): parsing as docker does (units.RAMInBytes: binary multiples,
/// suffix b/k/m/g/t/p, optionally followed by `b` or `ib`, case-insensitive) and raising an OOM-killed limit.
public enum MemoryLimit {
    /// Bytes for a docker memory size, or nil when docker would reject it.
    public static func parse(_ text: String) -> UInt64? {
        let s = Array(text.lowercased().utf8)
        var i = 0
        while i < s.count && ((s[i] >= 0x30 && s[i] <= 0x39) || s[i] == 0x2E) { i += 1 }
        guard i > 0, let number = Double(String(decoding: s[..<i], as: UTF8.self)) else { return nil }
        var unit = String(decoding: s[i...], as: UTF8.self)
        if unit.hasPrefix(" ") { unit.removeFirst() }
        if unit.hasSuffix("ib") { unit.removeLast(2) } else if unit.count == 2 && unit.hasSuffix("b") { unit.removeLast() }
        let shift: UInt64
        switch unit {
        case "", "b": shift = 0
        case "k": shift = 10
        case "m": shift = 20
        case "g": shift = 30
        case "t": shift = 40
        case "p": shift = 50
        default: return nil
        }
        return UInt64(number * Double(UInt64(1) << shift))
    }

    /// A size as a docker flag value, rounded up to whole MiB (`768m`).
    public static func format(_ bytes: UInt64) -> String {
        let mib: UInt64 = 1 << 20
        return "\((bytes + mib - 1) / mib)m"
    }

    /// The raised limit: `current × factor`, at most `cap`; nil when `current` is already at or above the cap (or the
    /// factor does not raise it), so that the same limit would only be killed again.
    public static func raised(current: UInt64, factor: Double, cap: UInt64) -> UInt64? {
        guard current < cap, factor > 1 else { return nil }
        let wanted = Double(current) * factor
        let next = wanted >= Double(cap) ? cap : UInt64(wanted)
        let mib: UInt64 = 1 << 20
        let rounded = Swift.min(cap, (next + mib - 1) / mib * mib)
        return rounded > current ? rounded : nil
    }
}
