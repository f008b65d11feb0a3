/// Where a process sits in the memory cgroup hierarchy, from `/proc/<pid>/cgroup`.
package struct CgroupMembership: Codable, Sendable, Equatable {
    package enum Version: String, Codable, Sendable { case v1, v2 }

    package var version: Version
    /// The cgroup path, for example `/system.slice/docker.service` or `/docker/<id>`.
    package var path: String

    /// Reads the memory controller's line (`4:memory:/x`, v1) or the unified line (`0::/x`, v2). A v1 memory line
    /// wins on hybrid hosts, where the memory controller stays on v1.
    package static func parse(_ text: String, source: String) throws(ProbeError) -> CgroupMembership {
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
    package func directory(root: String = "/sys/fs/cgroup") -> String {
        let relative = path == "/" ? "" : path
        return version == .v1 ? "\(root)/memory\(relative)" : "\(root)\(relative)"
    }
}
