import Glibc

/// The real context: docker through `Command`, /proc through open/read/write, sleeps that end on SIGINT/SIGTERM.
package struct LiveRemedyContext: RemedyContext {
    package var dockerPath: String
    package var globalFlags: [String]
    package var signals: SignalInbox?
    package var memAvailable: () -> UInt64?
    /// The way to the remedies that need root when safebuild is not root.
    package var privileged: PrivilegedEntry

    /// `memAvailable` defaults to MemAvailable from /proc/meminfo.
    package init(
        docker: String, globalFlags: [String], signals: SignalInbox? = nil,
        memAvailable: (() -> UInt64?)? = nil
    ) {
        self.dockerPath = docker
        self.globalFlags = globalFlags
        self.signals = signals
        self.memAvailable = memAvailable ?? { HostReader().memAvailable() }
        privileged = .live(signals: signals)
    }

    package func docker(_ arguments: [String], timeout: Double) -> Command.Result? {
        try? Command(dockerPath, globalFlags + arguments, timeout: timeout).run()
    }

    package func readFile(_ path: String) -> Result<String, FileError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileError(errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while bytes.count < 1 << 20 {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(FileError(errno)) }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[..<n])
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    package func writeFile(_ path: String, _ contents: String) -> Result<Void, FileError> {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileError(errno)) }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return n == bytes.count ? .success(()) : .failure(FileError(n < 0 ? errno : EIO))
    }

    package func sync() { Glibc.sync() }

    /// docker's data root (`docker info`), when the engine is local (DOCKER_HOST unset or a unix socket, no -H to
    /// elsewhere): a path on another machine must not be measured here.
    package func dataRootFree() -> (free: UInt64, total: UInt64)? {
        var hosts = [Environment.current()["DOCKER_HOST"] ?? ""]
        for (i, flag) in globalFlags.enumerated() {
            if flag == "-H" || flag == "--host", i + 1 < globalFlags.count { hosts.append(globalFlags[i + 1]) }
            if flag.hasPrefix("-H=") || flag.hasPrefix("--host=") { hosts.append(String(flag.split(separator: "=", maxSplits: 1)[1])) }
            if flag == "-c" || flag.hasPrefix("--context") { return nil }
        }
        guard hosts.allSatisfy({ $0.isEmpty || $0.hasPrefix("unix://") }),
            let result = docker(["info", "--format", "{{.DockerRootDir}}"], timeout: 30), result.succeeded
        else { return nil }
        let root = result.stdout.trimmingWhitespace()
        return root.isEmpty ? nil : EngineProbes.diskFree(root)
    }

    package func sleep(seconds: Double) -> Int32? {
        if let signals { return signals.sleep(seconds: seconds) }
        var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var left = timespec()
        while nanosleep(&ts, &left) < 0 && errno == EINTR { ts = left }
        return nil
    }

    package func now() -> Double { Clock.now() }

    package func availableMemory() -> UInt64? { memAvailable() }

    package var isRoot: Bool { geteuid() == 0 }
    package func runAsRoot(_ name: RemedyName) -> RemedyReport { privileged.run(name) }

    package func progress(_ text: String) {
        guard !Console.quiet else { return }
        Output.write(2, text)
    }

    package var stderrIsTerminal: Bool { isatty(2) == 1 }

}
