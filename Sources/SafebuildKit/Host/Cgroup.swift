/// Where a process sits in the memory cgroup hierarchy, from `/proc/<pid>/cgroup`.
public struct CgroupMembership: Codable, Sendable, Equatable {
    public enum Version: String, Codable, Sendable { case v1, v2 }

    public var version: Version
    /// The cgroup path, for example `/system.slice/docker.service` or `/docker/<id>`.
    public var path: String

    /// Reads the memory controller's line (`4:memory:/x`, v1) or the unified line (`0::/x`, v2). A v1 memory line
    /// wins on hybrid hosts, where the memory controller stays on v1.
    public static func parse(_ text: String, source: String) throws(ProbeError) -> CgroupMembership {
        var unified: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, Int(parts[0]) != nil else {
                throw ProbeError(source, "unexpected line \"\(line.prefix(60))\"")
            }
            if parts[1].split(separator: ",").contains("memory") {
                return CgroupMembership(version: .v1, path: String(parts[2]))
            }
            if parts[0] == "0", parts[1].isEmpty { unified = String(parts[2]) }
        }
        guard let unified else { throw ProbeError(source, "no memory controller and no unified (0::) line") }
        return CgroupMembership(version: .v2, path: unified)
    }

    /// The directory of this cgroup's memory files under `root` (normally `/sys/fs/cgroup`).
    public func directory(root: String = "/sys/fs/cgroup") -> String {
        let relative = path == "/" ? "" : path
        return version == .v1 ? "\(root)/memory\(relative)" : "\(root)\(relative)"
    }
}

/// A cgroup's memory limit and usage. Documentation/admin-guide/cgroup-v2.rst (memory.max, memory.current,
/// memory.swap.max) and Documentation/admin-guide/cgroup-v1/memory.rst (memory.limit_in_bytes, memory.memsw.*).
public struct CgroupMemory: Codable, Sendable, Equatable {
    public var membership: CgroupMembership
    /// nil: no limit ("max" on v2, the page-counter maximum on v1) or the file is absent (the root cgroup on v2).
    public var limit: UInt64?
    public var usage: UInt64?
    /// v2: memory.swap.max; v1: memory.memsw.limit_in_bytes minus the memory limit. nil when unlimited or absent.
    public var swapLimit: UInt64?
    /// The kernel accounts swap for this cgroup (v1: memory.memsw.* files exist; v2: memory.swap.max exists).
    public var swapAccounting: Bool

    /// What is left under the limit, if there is one.
    public var headroom: UInt64? {
        guard let limit, let usage else { return nil }
        return limit > usage ? limit - usage : 0
    }

    /// v1 reports "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages); anything this big is none.
    static let unlimitedFloor: UInt64 = 1 << 62

    /// Builds the figures from the text of the cgroup's files, keyed by file name; absent files are missing keys.
    public static func parse(
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
    public static func fileNames(_ version: CgroupMembership.Version) -> [String] {
        switch version {
        case .v1: return ["memory.limit_in_bytes", "memory.usage_in_bytes", "memory.memsw.limit_in_bytes", "memory.memsw.usage_in_bytes"]
        case .v2: return ["memory.max", "memory.current", "memory.swap.max", "memory.swap.current"]
        }
    }
}
