import Glibc

/// Pass-through: replace safebuild with the real docker, so that exit status, signals, TTY and stdin are docker's own
/// by construction.
package enum Exec {
    /// Never returns on success; throws when the kernel refuses the exec.
    package static func replace(with path: String, arguments: [String], via: String) throws(SafebuildError) -> Never {
        setenv(DockerLocator.viaVariable, via, 1)
        // Byte for byte: an argument that is not UTF-8 reaches docker as it was given (`String(lossless:)`).
        let argv = ([path] + arguments).map { Optional($0.losslessCString()) } + [nil]
        execv(path.losslessCString(), argv)
        let reason = String(cString: strerror(errno))
        let status: SafebuildError.ExitCode = (errno == EACCES || errno == ENOEXEC) ? .notExecutable : .noDocker
        throw SafebuildError(status, "cannot run \(path): \(reason)")
    }
}
