/// The memory pool an engine's containers share: the cgroup they are put under, where its files are, and how their
/// own cgroups are named. What `EnginePoolReader` detects once per daemon (it costs an engine call) and the
/// admission ledger keeps for the next commands, keyed by the daemon's pid and start time.
package struct EnginePool: Codable, Sendable, Equatable {
    /// dockerd, when its pid was visible through the socket.
    package var daemon: ProcessIdentity?
    package var driver: CgroupDriver
    package var version: CgroupMembership.Version
    /// The memory hierarchy's mount point: `/sys/fs/cgroup/memory` (v1), `/sys/fs/cgroup` (v2).
    package var root: String
    package var parent: EngineCgroupParent
    /// Where the driver and version came from: `engine /info`, `dockerd --exec-opt and /proc/self/mountinfo`…
    package var driverSource: String

    package init(
        daemon: ProcessIdentity?, driver: CgroupDriver, version: CgroupMembership.Version, root: String,
        parent: EngineCgroupParent, driverSource: String
    ) {
        self.daemon = daemon
        self.driver = driver
        self.version = version
        self.root = root
        self.parent = parent
        self.driverSource = driverSource
    }

    /// The parent cgroup's directory.
    package var directory: String { Self.join(root, parent.path) }

    /// The name of container `id`'s cgroup directory in `directory`: `ID` (cgroupfs), `docker-ID.scope` (systemd).
    package func containerDirectoryName(id: String) -> String {
        driver == .systemd ? "docker-\(id).scope" : id
    }

    /// Container `id`'s cgroup directory (`/sys/fs/cgroup/memory/docker/ID`, `/sys/fs/cgroup/system.slice/docker-ID.scope`).
    package func containerDirectory(id: String) -> String { directory + "/" + containerDirectoryName(id: id) }

    /// The container id in one of `directory`'s entries, if it is a container's cgroup.
    package func containerID(inEntry name: String) -> String? {
        var id = Substring(name)
        if driver == .systemd {
            guard id.hasPrefix("docker-"), id.hasSuffix(".scope") else { return nil }
            id = id.dropFirst("docker-".count).dropLast(".scope".count)
        }
        guard id.count == 64, id.allSatisfy(\.isHexDigit) else { return nil }
        return String(id)
    }

    /// The directories of `cgroupPath` and of each of its ancestors up to the root, innermost first: the limits
    /// along them all apply.
    package func ancestry(of cgroupPath: String) -> [(path: String, directory: String)] {
        var parts = cgroupPath.split(separator: "/").map(String.init)
        var out: [(String, String)] = []
        while true {
            let path = "/" + parts.joined(separator: "/")
            out.append((path, Self.join(root, path)))
            if parts.isEmpty { break }
            parts.removeLast()
        }
        return out
    }

    static func join(_ root: String, _ path: String) -> String { path == "/" ? root : root + path }
}
