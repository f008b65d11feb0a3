import Glibc
import CSafebuild

/// Starts every child of safebuild (docker, and the helpers `docker inspect`, `kill`, `rm`, the prunes…) through
/// `sb_spawn` (CSafebuild/spawn.c): posix_spawn's file actions and signal attributes, plus PR_SET_PDEATHSIG, so that
/// a child is SIGKILLed when safebuild dies, even by SIGKILL (a Jenkins abort after its soft-kill wait, the OOM
/// killer, `timeout -s KILL`): no docker goes on running a build nobody waits for. The kernel ties the death signal
/// to the thread that started the child; safebuild starts its children from its main thread, which lives as long as
/// the process. An exec of a set-user-ID program (sudo) clears the death signal; safebuild starts none.
///
/// In the child: an empty signal mask (safebuild blocks the signals it reads from a signalfd) and default handlers
/// back for `defaults`, while a signal that is ignored and not in `defaults` stays ignored; the redirections applied
/// in order; the process group kept unless `processGroup` says otherwise.
enum Spawn {
    /// Every signal whose handler can be reset (all but SIGKILL and SIGSTOP).
    static let allSignals: [Int32] = (1..<Int32(NSIG)).filter { $0 != SIGKILL && $0 != SIGSTOP }

    /// One `dup2(from, to)` in the child before exec (from == to: the descriptor stays open across the exec).
    struct Redirection: Equatable, Sendable {
        var from: Int32
        var to: Int32
    }

    /// Starts `path` and returns its pid. `processGroup`: nil keeps safebuild's, 0 makes a group of the child's own.
    static func start(
        _ path: String, _ arguments: [String], environment: [String: String], defaults: [Int32] = allSignals,
        redirections: [Redirection] = [], processGroup: pid_t? = nil
    ) throws(SafebuildError) -> pid_t {
        // Byte for byte (`String(lossless:)`): what is not UTF-8 reaches the child as it was given.
        let argv = ([path] + arguments).map { Optional($0.losslessCString()) } + [nil]
        let envp = environment.map { Optional("\($0.key)=\($0.value)".losslessCString()) } + [nil]
        let file = path.losslessCString()
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
            free(file)
        }
        let dups = redirections.flatMap { [$0.from, $0.to] }
        var pid: pid_t = 0
        let rc = dups.withUnsafeBufferPointer { dups in
            defaults.withUnsafeBufferPointer { defaults in
                sb_spawn(
                    &pid, file, argv, envp, dups.baseAddress, Int32(redirections.count), defaults.baseAddress,
                    Int32(defaults.count), processGroup ?? -1)
            }
        }
        guard rc == 0 else {
            throw SafebuildError(.software, "cannot start \(path): \(String(cString: strerror(rc)))")
        }
        return pid
    }
}
