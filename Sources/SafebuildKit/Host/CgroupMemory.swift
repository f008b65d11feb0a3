
/// A cgroup's memory limit and usage. Documentation/admin-guide/cgroup-v2.rst (memory.max, memory.current,
/// memory.swap.max) and Documentation/admin-guide/cgroup-v1/memory.rst (memory.limit_in_bytes, memory.memsw.*).
package struct CgroupMemory: Codable, Sendable, Equatable {
    package var membership: CgroupMembership
    /// nil: no limit ("max" on v2, the page-counter maximum on v1) or the file is absent (the root cgroup on v2).
    package var limit: UInt64?
    package var usage: UInt64?
    /// v2: memory.swap.max; v1: memory.memsw.limit_in_bytes minus the memory limit. nil when unlimited or absent.
    package var swapLimit: UInt64?
    /// The kernel accounts swap for this cgroup (v1: memory.memsw.* files exist; v2: memory.swap.max exists).
    package var swapAccounting: Bool

    /// What is left under the limit, if there is one.
    package var headroom: UInt64? {
        guard let limit, let usage else { return nil }
        return limit > usage ? limit - usage : 0
    }

    /// v1 reports "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages); anything this big is none.
    static let unlimitedFloor: UInt64 = 1 << 62

    /// Builds the figures from the text of the cgroup's files, keyed by file name; absent files are missing keys.
    package static func parse(
        membership: CgroupMembership, files: [String: String], directory: String
    ) throws(ProbeError) -> CgroupMemory {
        func number(_ name: String) throws(ProbeError) -> (present: Bool, value: UInt64?) {
            guard let text = files[name] else { return (false, nil) }
            let word = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first ?? ""
            if word == "max" { return (true, nil) }
            guard let n = UInt64(word) else {
                throw ProbeError("\(directory)/\(name)", "expected a number or \"max\", found \"\(text.prefix(40))\"")
            }
            return (true, n >= unlimitedFloor ? nil : n)
        }
        switch membership.version {
        case .v1:
            let limit = try number("memory.limit_in_bytes").value
            let memsw = try number("memory.memsw.limit_in_bytes")
            var swap: UInt64?
            if let total = memsw.value, let limit { swap = total > limit ? total - limit : 0 }
            return CgroupMemory(
                membership: membership, limit: limit, usage: try number("memory.usage_in_bytes").value,
                swapLimit: swap, swapAccounting: memsw.present)
        case .v2:
            let swap = try number("memory.swap.max")
            return CgroupMemory(
                membership: membership, limit: try number("memory.max").value,
                usage: try number("memory.current").value, swapLimit: swap.value, swapAccounting: swap.present)
        }
    }

    /// The files `parse` reads for each version.
    package static func fileNames(_ version: CgroupMembership.Version) -> [String] {
        switch version {
        case .v1: return ["memory.limit_in_bytes", "memory.usage_in_bytes", "memory.memsw.limit_in_bytes", "memory.memsw.usage_in_bytes"]
        case .v2: return ["memory.max", "memory.current", "memory.swap.max", "memory.swap.current"]
        }
    }
}
