import Glibc

/// Finds the real docker: `SAFEBUILD_DOCKER` (or `--sb-docker`) if set, else the first `docker` on PATH that is not
/// safebuild itself; for a protected command (and the own commands that call docker), the host policy's `docker.path`
/// before either (`locateForHost`). Pass-through commands never read a policy, so they keep the first two. "Itself" is decided on the file, not the name: the same inode (a symlink or hard link, however
/// the links are laid) or the same bytes (a copy). Every docker safebuild hands over to is recorded in
/// `SAFEBUILD_VIA`, so that a wrapper script between two safebuilds cannot make them call each other forever.
package struct DockerLocator: Sendable {
    package static let viaVariable = "SAFEBUILD_VIA"

    /// Path of the running safebuild (`/proc/self/exe` on Linux).
    package var selfExecutable: String

    package init(selfExecutable: String = DockerLocator.currentExecutable()) {
        self.selfExecutable = selfExecutable
    }

    /// The real docker of a protected command: `locate`, with the host policy's `docker.path` (`hostDocker`, the host
    /// layer's) winning over `SAFEBUILD_DOCKER` / `--sb-docker`; the warning says when those named another file.
    package func locateForHost(
        _ hostDocker: Sourced<String?>, explicit: String?, environment: [String: String]
    ) throws(SafebuildError) -> (docker: String, warning: String?) {
        let hostPolicy = hostDocker.source.file ?? PolicySource.builtInName
        let choice = Self.hostChoice(
            hostPath: hostDocker.value, hostPolicy: hostPolicy, explicit: explicit,
            fromVariable: explicit != nil && environment["SAFEBUILD_DOCKER"] == explicit)
        guard let host = choice.path else { return (try locate(explicit: explicit, environment: environment), nil) }
        let docker = try locate(
            explicit: host, namedBy: "docker.path of the host policy \(hostPolicy)", environment: environment)
        return (docker, choice.warning)
    }

    /// The docker the host policy names (`hostPath`, set in `hostPolicy`) and what to say about `explicit`
    /// (`SAFEBUILD_DOCKER` when `fromVariable`, else `--sb-docker`) when it names another file; a nil path: the host
    /// names none, `explicit` and PATH decide.
    package static func hostChoice(
        hostPath: String?, hostPolicy: String, explicit: String?, fromVariable: Bool
    ) -> (path: String?, warning: String?) {
        guard let hostPath, !hostPath.isEmpty else { return (nil, nil) }
        guard let explicit, !explicit.isEmpty, explicit != hostPath else { return (hostPath, nil) }
        let name = fromVariable ? "SAFEBUILD_DOCKER" : "--sb-docker"
        return (
            hostPath,
            "\(name) names \(explicit), but protected commands run the host's docker \(hostPath) (docker.path of the host policy \(hostPolicy)); \(name) still chooses the docker of pass-through commands"
        )
    }

    package func locate(
        explicit: String?, namedBy: String = "SAFEBUILD_DOCKER/--sb-docker", environment: [String: String]
    ) throws(SafebuildError) -> String {
        let visited = Set((environment[Self.viaVariable] ?? "").split(separator: ":").map(String.init))
        if let explicit {
            guard let file = FileIdentity(path: explicit) else {
                throw SafebuildError(.noDocker, "\(namedBy) names \(explicit), which does not exist")
            }
            if isSelf(file) || visited.contains(file.resolved) {
                throw SafebuildError(.noDocker, "\(namedBy) names \(explicit), which is safebuild itself; point it at the real docker")
            }
            guard access(explicit, X_OK) == 0 else {
                throw SafebuildError(.notExecutable, "\(explicit) is not executable")
            }
            return explicit
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        var sawSelf = false
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/docker"
            guard let file = FileIdentity(path: candidate), file.isRegular, access(candidate, X_OK) == 0 else { continue }
            if isSelf(file) || visited.contains(file.resolved) {
                sawSelf = true
                continue
            }
            return candidate
        }
        let reason = sawSelf ? "the only docker on PATH is safebuild itself" : "no docker on PATH (\(path))"
        throw SafebuildError(.noDocker, "\(reason); install docker or set SAFEBUILD_DOCKER to the real docker")
    }

    /// The value of `SAFEBUILD_VIA` to hand to `docker` at `path`.
    package static func via(adding path: String, to environment: [String: String]) -> String {
        let resolved = FileIdentity(path: path)?.resolved ?? path
        guard let old = environment[viaVariable], !old.isEmpty else { return resolved }
        return old + ":" + resolved
    }

    func isSelf(_ file: FileIdentity) -> Bool {
        guard let me = FileIdentity(path: selfExecutable) else { return false }
        if file.device == me.device && file.inode == me.inode { return true }
        return file.size == me.size && FileIdentity.sameBytes(file.resolved, me.resolved, size: me.size)
    }

    package static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "safebuild" }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
