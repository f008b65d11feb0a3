/// Raising an OOM-killed memory limit (sizes are read and written by `Size`).
package enum MemoryLimit {
    /// The raised limit: `current × factor`, at most `cap`; nil when `current` is already at or above the cap (or the
    /// factor does not raise it), so that the same limit would only be killed again.
    package static func raised(current: UInt64, factor: Double, cap: UInt64) -> UInt64? {
        guard current < cap, factor > 1 else { return nil }
        let wanted = Double(current) * factor
        let next = wanted >= Double(cap) ? cap : UInt64(wanted)
        let mib: UInt64 = 1 << 20
        let rounded = Swift.min(cap, (next + mib - 1) / mib * mib)
        return rounded > current ? rounded : nil
    }
}
