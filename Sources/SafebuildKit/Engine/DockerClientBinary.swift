import Glibc

/// A docker CLI binary as the file system shows it, and what `docker --version` printed for it: kept in the engine
/// state so that a build learns its CLI's version (which decides the builder docker picks) without starting a second
/// docker CLI each time (about 40 ms on 2 cores). A new file at the path, or the same file changed, is a new
/// identity: the version is asked again.
package struct DockerClientBinary: Sendable, Equatable {
    /// The binary's resolved path.
    package var path: String
    package var device: UInt64
    package var inode: UInt64
    package var size: Int64
    /// Modification and status-change times, nanoseconds.
    package var modified: Int64
    package var changed: Int64

    package init(path: String, device: UInt64, inode: UInt64, size: Int64, modified: Int64, changed: Int64) {
        self.path = path
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.changed = changed
    }

    /// The binary at `path` (symlinks followed), or nil when it cannot be looked at.
    package static func look(_ path: String) -> DockerClientBinary? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        var st = stat()
        guard stat(real, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        func ns(_ t: timespec) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec) }
        return DockerClientBinary(
            path: String(cString: real), device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
            modified: ns(st.st_mtim), changed: ns(st.st_ctim))
    }
}

/// What `docker --version` printed for one binary.
package struct DockerClientRecord: Sendable, Equatable {
    package var binary: DockerClientBinary
    /// The first line docker printed, e.g. `Docker version 20.10.24+dfsg1, build 297e128`.
    package var versionLine: String
    /// When it was asked (wall clock), so that a binary nobody runs is forgotten.
    package var at: Double

    package init(binary: DockerClientBinary, versionLine: String, at: Double) {
        self.binary = binary
        self.versionLine = versionLine
        self.at = at
    }
}

/// The docker CLI's version for a build: from the engine state when this very binary was asked before, else from
/// `docker --version` (then kept, when the state's lock is free).
package enum DockerClientVersion {
    package static func read(
        docker: String, environment: [String: String], state: EngineStateFile?,
        ask: ((String) -> String?)? = nil
    ) -> DockerVersion? {
        let binary = DockerClientBinary.look(docker)
        if let binary, let known = state?.peek().client(binary) {
            return DockerVersion(versionOutput: known.versionLine)
        }
        guard let line = ask.map({ $0(docker) }) ?? askDocker(docker, environment: environment) else { return nil }
        if let binary, let state {
            state.updateIfFree { $0.remember(DockerClientRecord(binary: binary, versionLine: line, at: Clock.wall())) }
        }
        return DockerVersion(versionOutput: line)
    }

    /// The first line of `docker --version`, nil when it fails.
    package static func askDocker(_ docker: String, environment: [String: String]) -> String? {
        guard let result = try? Command(docker, ["--version"], environment: environment, timeout: 5).run(),
            result.succeeded
        else { return nil }
        let line = result.stdout.split(separator: "\n").first.map(String.init) ?? ""
        return line.isEmpty ? nil : line
    }
}
