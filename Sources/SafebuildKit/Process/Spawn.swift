import Glibc

/// posix_spawn with what every child of safebuild needs: an empty signal mask (safebuild blocks the signals it reads
/// from a signalfd) and default handlers back for `defaults`, plus the caller's file actions.
enum Spawn {
    /// Every signal whose handler can be reset (all but SIGKILL and SIGSTOP).
    static let allSignals: [Int32] = (1..<Int32(NSIG)).filter { $0 != SIGKILL && $0 != SIGSTOP }

    /// Starts `path` and returns its pid. `files` adds the file actions (dup2, open) for the child's descriptors.
    static func start(
        _ path: String, _ arguments: [String], environment: [String: String], defaults: [Int32] = allSignals,
        files: (inout posix_spawn_file_actions_t) -> Void = { _ in }
    ) throws(SafebuildError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        files(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), reset = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&reset)
        for s in defaults { sigaddset(&reset, s) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &reset)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            throw SafebuildError(.software, "cannot start \(path): \(String(cString: strerror(rc)))")
        }
        return pid
    }
}
