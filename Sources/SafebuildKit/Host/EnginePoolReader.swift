import Glibc

/// The live side of the memory budget: who the daemon behind a socket is (SO_PEERCRED), how it places containers
/// (its command line, daemon.json, `/info`, /proc/self/mountinfo), and the limits and usage of that cgroup path.
/// Paths are fields so that tests can point elsewhere.
package struct EnginePoolReader: Sendable {
    package var proc = "/proc"
    package var daemonConfigPath = "/etc/docker/daemon.json"

    package init() {}

    // MARK: The daemon

    /// The pid of the process that accepted a connection to the unix socket at `socketPath` (SO_PEERCRED; socket(7)),
    /// without a request sent. nil when the socket cannot be connected to, or its peer lives in another pid namespace.
    package static func peerPID(socketPath: String) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return nil }
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }; Glibc hides it behind _GNU_SOURCE.
        var credentials: (Int32, UInt32, UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0, credentials.0 > 0 else { return nil }
        return credentials.0
    }

    /// The daemon listening on `socketPath`, named by pid and start time.
    package func daemon(socketPath: String) -> ProcessIdentity? {
        Self.peerPID(socketPath: socketPath).flatMap { ProcessIdentity.of($0, proc: proc) }
    }

    /// A process's argv (/proc/PID/cmdline, NUL-separated).
    package func commandLine(of pid: Int32) -> [String]? {
        guard let text = HostReader.read("\(proc)/\(pid)/cmdline"), !text.isEmpty else { return nil }
        return text.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    // MARK: Detection (one engine call)

    /// The pool of the engine at `socketPath`, whose daemon is `daemon`: the driver and version from the engine's
    /// `/info` (within `timeout` seconds), else from dockerd's `--exec-opt native.cgroupdriver` and
    /// /proc/self/mountinfo; the parent from dockerd's command line, its configuration file, or the driver's default.
    /// nil when no memory controller is mounted.
    package func detect(socketPath: String, daemon: ProcessIdentity?, timeout: Double) -> EnginePool? {
        let mounts = CgroupMounts.parse(HostReader.read("\(proc)/self/mountinfo") ?? "")
        let argv = daemon.flatMap { commandLine(of: $0.pid) }
        let configPath = argv.flatMap { EngineCgroupParent.flag("--config-file", in: $0) } ?? daemonConfigPath
        let config = HostReader.read(configPath).flatMap { DockerJSON.decode(DockerJSON.DaemonConfig.self, from: $0) }

        var driver: CgroupDriver?
        var version: CgroupMembership.Version?
        var source: String
        let info = try? EngineClient(socketPath: socketPath).request("/info", deadline: Clock.now() + timeout)
        if let info, info.status == 200, let decoded = DockerJSON.decode(DockerJSON.Info.self, from: info.body) {
            driver = decoded.cgroupDriver.flatMap(CgroupDriver.init(rawValue:))
            version = decoded.cgroupVersion == "2" ? .v2 : decoded.cgroupVersion == "1" ? .v1 : nil
            source = "engine /info"
        } else {
            source = "the engine did not answer /info"
        }
        if driver == nil {
            driver = EngineCgroupParent.driver(commandLine: argv, config: config)
            source += driver == nil ? "; cgroupfs driver assumed" : "; driver from dockerd's exec-opts"
        }
        if version == nil {
            version = mounts.version
            source += "; version from /proc/self/mountinfo"
        }
        guard let version, let root = mounts.root(version) ?? mounts.memoryRoot else { return nil }
        let daemonCgroup = daemon.flatMap { d in
            HostReader.read("\(proc)/\(d.pid)/cgroup").flatMap { try? CgroupMembership.parse($0, source: "cgroup").path }
        }
        var parent = EngineCgroupParent.resolve(
            commandLine: argv, config: config, configPath: configPath, driver: driver ?? .cgroupfs,
            daemonCgroup: daemonCgroup)
        if daemon == nil { parent.source += " (dockerd's command line was not visible)" }
        return EnginePool(
            daemon: daemon, driver: driver ?? .cgroupfs, version: version, root: root, parent: parent,
            driverSource: source)
    }

    // MARK: The budget and what it holds

    /// The memory limit of the pool's parent cgroup and of each ancestor that exists (nil: unlimited).
    package func limits(_ pool: EnginePool) -> [(path: String, limit: UInt64?)] {
        let file = pool.version == .v1 ? "memory.limit_in_bytes" : "memory.max"
        return pool.ancestry(of: pool.parent.path).compactMap { path, directory in
            guard let text = HostReader.read(directory + "/" + file) else { return nil }
            return (path, CgroupCounters.parse(pool.version, files: [file: text]).limit)
        }
    }

    /// The budget for `pool` on a host with `memTotal` bytes.
    package func budget(
        _ pool: EnginePool, memTotal: UInt64, reserve: (bytes: UInt64, text: String),
        override: (bytes: UInt64, text: String)?
    ) -> MemoryBudget {
        MemoryBudget.compute(memTotal: memTotal, reserve: reserve, limits: limits(pool), override: override)
    }

    /// The parent cgroup's usage less its inactive page cache; 0 when the cgroup does not exist yet (runc makes it
    /// with the first container).
    package func poolUsage(_ pool: EnginePool) -> UInt64? {
        let usage = pool.version == .v1 ? "memory.usage_in_bytes" : "memory.current"
        guard let text = HostReader.read(pool.directory + "/" + usage) else {
            return access(pool.directory, F_OK) == 0 ? nil : 0
        }
        var files = [usage: text]
        files["memory.stat"] = HostReader.read(pool.directory + "/memory.stat")
        return CgroupCounters.parse(pool.version, files: files).workingSet
    }

    /// MemAvailable, from /proc/meminfo (its one line: this runs on every admission).
    package func memAvailable() -> UInt64? {
        guard let text = HostReader.read(proc + "/meminfo"), let kib = KeyedNumbers.value("MemAvailable", in: text)
        else { return nil }
        return kib * 1024
    }
}
