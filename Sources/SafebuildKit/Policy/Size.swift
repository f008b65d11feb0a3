/// An amount of memory or disk as a policy gives it: bytes in docker's units (`512m`, `4g`), or a share of the host's
/// memory (`25%`), resolved against the host when a command runs.
package enum Size: Equatable, Hashable, Sendable, CustomStringConvertible {
    case bytes(UInt64)
    /// Percent of host memory, in (0, 100].
    case share(Double)

    package static let kib: UInt64 = 1024
    package static let mib: UInt64 = 1024 * 1024
    package static let gib: UInt64 = 1024 * 1024 * 1024
    package static let tib: UInt64 = 1024 * 1024 * 1024 * 1024
    package static let pib: UInt64 = 1024 * 1024 * 1024 * 1024 * 1024

    /// The largest size a policy may give: 8 PiB (`8p`, 2^53 bytes), beyond any machine's memory or disk. Anything
    /// larger is a mistake, and refusing it keeps every use in range: the size is exact as a `Double` (the journal's
    /// numbers), and a limit raised by the policy's largest factor, 16, still fits in docker's signed 64 bits.
    package static let maximum: UInt64 = 1 << 53

    /// docker's smallest memory limit (moby daemon/daemon_unix.go `linuxMinMemory = 6291456`,
    /// "Minimum memory limit allowed is 6MB").
    package static let dockerMinimumMemory: UInt64 = 6 * mib

    /// Bytes on a host with `hostMemory` bytes of memory (a share is rounded down to whole MiB).
    package func bytes(hostMemory: UInt64) -> UInt64 {
        switch self {
        case .bytes(let n): return n
        case .share(let percent):
            // Whole MiB, so that the limit reads as docker users write it (`6026m`, not `6171023k`).
            // Below 2^64 whatever the host says (a Double of UInt64.max rounds up to 2^64).
            let bytes = UInt64(min((Double(hostMemory) * percent / 100).rounded(.down), Double(UInt64.max).nextDown))
            return bytes >= Self.mib ? bytes / Self.mib * Self.mib : bytes
        }
    }

    /// How `a` compares with `b`: -1, 0 or 1; a share and a size are compared on a host with `hostMemory` bytes,
    /// and cannot be without it (nil).
    package static func order(_ a: Size, _ b: Size, hostMemory: UInt64?) -> Int? {
        func sign<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : x == y ? 0 : 1 }
        switch (a, b) {
        case (.bytes(let x), .bytes(let y)): return sign(x, y)
        case (.share(let x), .share(let y)): return sign(x, y)
        default:
            guard let hostMemory, hostMemory > 0 else { return nil }
            return sign(a.bytes(hostMemory: hostMemory), b.bytes(hostMemory: hostMemory))
        }
    }

    /// Parses a size the way docker's `units.RAMInBytes` does (github.com/docker/go-units size.go: case-insensitive
    /// `b`, `k`, `m`, `g`, `t`, `p`, an optional `i` and `b`, binary multiples, one optional space, a decimal fraction
    /// truncated to whole bytes), or `NN%` / `NN.N%` of host memory. `nil` when the text is neither.
    package static func parse(_ text: String) -> Size? {
        guard case .size(let size) = read(text) else { return nil }
        return size
    }

    /// Whether `text` is written as a size but its number of bytes does not fit in 64 bits (`99999999999p`).
    package static func isTooLarge(_ text: String) -> Bool { read(text) == .tooLarge }

    private enum Reading: Equatable {
        case size(Size)
        case tooLarge
        case invalid
    }

    private static func read(_ text: String) -> Reading {
        var chars = Array(text.utf8)
        if chars.last == UInt8(ascii: "%") {
            chars.removeLast()
            guard let number = decimal(chars[...]), number.value > 0, number.value <= 100 else { return .invalid }
            return .size(.share(number.value))
        }
        // Unit suffix: [kmgtp]?i?b?, case-insensitive, read from the end.
        var end = chars.count
        func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
        if end > 0, lower(chars[end - 1]) == UInt8(ascii: "b") { end -= 1 }
        if end > 0, lower(chars[end - 1]) == UInt8(ascii: "i") { end -= 1 }
        var multiplier: UInt64 = 1
        if end > 0 {
            switch lower(chars[end - 1]) {
            case UInt8(ascii: "k"): multiplier = kib
            case UInt8(ascii: "m"): multiplier = mib
            case UInt8(ascii: "g"): multiplier = gib
            case UInt8(ascii: "t"): multiplier = tib
            case UInt8(ascii: "p"): multiplier = pib
            default: break
            }
            if multiplier != 1 { end -= 1 }
        }
        if end > 0, chars[end - 1] == UInt8(ascii: " ") { end -= 1 }
        guard let number = decimal(chars[..<end]) else { return .invalid }
        if number.fraction || number.wholeOverflows {
            let value = number.value * Double(multiplier)
            guard value < 1.8e19 else { return .tooLarge }
            return .size(.bytes(UInt64(value.rounded(.towardZero))))
        }
        let (product, overflow) = number.whole.multipliedReportingOverflow(by: multiplier)
        return overflow ? .tooLarge : .size(.bytes(product))
    }

    /// Bytes of a size in docker's units (no share of host memory): what docker makes of `-m 512m`.
    package static func bytes(_ text: String) -> UInt64? {
        guard case .bytes(let n)? = parse(text) else { return nil }
        return n
    }

    /// `\d+(\.\d+)?`; `whole` is exact unless `wholeOverflows` (then only `value` counts).
    private static func decimal(
        _ chars: ArraySlice<UInt8>
    ) -> (value: Double, whole: UInt64, fraction: Bool, wholeOverflows: Bool)? {
        guard let first = chars.first, first >= 48, first <= 57 else { return nil }
        var whole: UInt64 = 0
        var overflows = false
        var i = chars.startIndex
        while i < chars.endIndex, chars[i] >= 48, chars[i] <= 57 {
            let (m, o1) = whole.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(chars[i] - 48))
            if o1 || o2 { overflows = true }
            whole = s
            i += 1
        }
        let text = String(decoding: chars, as: UTF8.self)
        if i == chars.endIndex {
            return overflows ? (Double(text) ?? .infinity, 0, false, true) : (Double(whole), whole, false, false)
        }
        guard chars[i] == UInt8(ascii: "."), i + 1 < chars.endIndex else { return nil }
        guard chars[(i + 1)...].allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Double(text) else { return nil }
        return (value, whole, true, overflows)
    }

    /// The shortest exact spelling: `4g`, `512m`, `1536k`, `100b`, `25%`.
    package var description: String {
        switch self {
        case .bytes(let n): return Self.format(n)
        case .share(let percent):
            return percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
        }
    }

    /// Bytes in the shortest exact docker spelling.
    package static func format(_ n: UInt64) -> String {
        if n == 0 { return "0" }
        for (unit, suffix) in [(pib, "p"), (tib, "t"), (gib, "g"), (mib, "m"), (kib, "k")] where n % unit == 0 {
            return "\(n / unit)\(suffix)"
        }
        return "\(n)b"
    }
}
