/// The memory figures and counters of one cgroup, from its files (Documentation/admin-guide/cgroup-v1/memory.rst,
/// cgroup-v2.rst). What admission reads of the engine's parent cgroup, and what an attempt's accounting reads of its
/// containers' cgroups.
package struct CgroupCounters: Sendable, Equatable {
    /// v1 memory.usage_in_bytes, v2 memory.current.
    package var usage: UInt64?
    /// The high-water mark: v1 memory.max_usage_in_bytes, v2 memory.peak (Linux 5.19+).
    package var peak: UInt64?
    /// v1 memory.limit_in_bytes, v2 memory.max; nil when unlimited.
    package var limit: UInt64?
    /// Page cache the kernel would reclaim first: memory.stat `total_inactive_file` (v1, hierarchical) or
    /// `inactive_file` (v2).
    package var inactiveFile: UInt64?
    /// Tasks of this cgroup the OOM killer killed: v1 memory.oom_control `oom_kill` (counted in the victim's own
    /// cgroup only, whichever limit was hit), v2 memory.events `oom_kill` (also counts the descendants').
    package var oomKills: UInt64?
    /// v2 memory.events.local `oom`: times this cgroup's own limit was hit and an allocation was about to fail.
    /// v1 has no such counter (memory.failcnt stays 0 here under memsw accounting: measured on 6.18).
    package var limitHits: UInt64?

    package init(
        usage: UInt64? = nil, peak: UInt64? = nil, limit: UInt64? = nil, inactiveFile: UInt64? = nil,
        oomKills: UInt64? = nil, limitHits: UInt64? = nil
    ) {
        self.usage = usage
        self.peak = peak
        self.limit = limit
        self.inactiveFile = inactiveFile
        self.oomKills = oomKills
        self.limitHits = limitHits
    }

    /// Usage less the inactive page cache (what `docker stats` shows as memory usage).
    package var workingSet: UInt64? {
        guard let usage else { return nil }
        let inactive = inactiveFile ?? 0
        return usage > inactive ? usage - inactive : 0
    }

    /// The files to read for `version`; `stat` adds memory.stat (a longer file, read only for the parent's usage).
    package static func fileNames(_ version: CgroupMembership.Version, stat: Bool) -> [String] {
        var names: [String]
        switch version {
        case .v1:
            names = ["memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.limit_in_bytes", "memory.oom_control"]
        case .v2:
            names = ["memory.current", "memory.peak", "memory.max", "memory.events", "memory.events.local"]
        }
        if stat { names.append("memory.stat") }
        return names
    }

    /// Builds the figures from file texts keyed by name; a missing file leaves its figure nil.
    package static func parse(_ version: CgroupMembership.Version, files: [String: String]) -> CgroupCounters {
        func number(_ name: String) -> UInt64? {
            guard let text = files[name] else { return nil }
            let word = text.utf8.prefix { $0 != 10 && $0 != 32 }
            guard let n = UInt64(String(decoding: word, as: UTF8.self)), n < CgroupMemory.unlimitedFloor else { return nil }
            return n
        }
        func key(_ file: String, _ key: String) -> UInt64? {
            files[file].flatMap { KeyedNumbers.value(key, in: $0) }
        }
        switch version {
        case .v1:
            return CgroupCounters(
                usage: number("memory.usage_in_bytes"), peak: number("memory.max_usage_in_bytes"),
                limit: number("memory.limit_in_bytes"), inactiveFile: key("memory.stat", "total_inactive_file"),
                oomKills: key("memory.oom_control", "oom_kill"), limitHits: nil)
        case .v2:
            return CgroupCounters(
                usage: number("memory.current"), peak: number("memory.peak"), limit: number("memory.max"),
                inactiveFile: key("memory.stat", "inactive_file"), oomKills: key("memory.events", "oom_kill"),
                limitHits: key("memory.events.local", "oom"))
        }
    }

    /// Reads the files of the cgroup at `directory` (nil when the directory is gone).
    package static func read(
        _ directory: String, version: CgroupMembership.Version, stat: Bool = false
    ) -> CgroupCounters? {
        var files: [String: String] = [:]
        for name in fileNames(version, stat: stat) {
            if let text = HostReader.read(directory + "/" + name) { files[name] = text }
        }
        guard !files.isEmpty else { return nil }
        return parse(version, files: files)
    }
}
