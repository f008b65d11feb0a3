package import Glibc
package import SafebuildKit

/// Why a test could not even start (no engine, no binary). It fails the test: engine tests are never skipped.
package struct TestSetupError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

// MARK: - The binary under test

/// The safebuild executable the tests run: `$SAFEBUILD_BIN` (Scripts/test.sh sets it), else the debug build next
/// to this package (`.build/debug/safebuild`, found from this file's path).
package enum SafebuildBinary {
    package static func path(filePath: String = #filePath) throws -> String {
        if let given = getenv("SAFEBUILD_BIN").map({ String(cString: $0) }), !given.isEmpty {
            guard access(given, X_OK) == 0 else { throw TestSetupError("SAFEBUILD_BIN=\(given) is not an executable") }
            return given
        }
        let candidate = packageRoot(filePath: filePath) + "/.build/debug/safebuild"
        guard access(candidate, X_OK) == 0 else {
            throw TestSetupError("no safebuild binary at \(candidate): run `swift build` first or set SAFEBUILD_BIN")
        }
        return candidate
    }

    /// The package root: three levels above Sources/SafebuildTestSupport/TestSupport.swift.
    package static func packageRoot(filePath: String = #filePath) -> String {
        var parts = filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }
}

// MARK: - The engine under test

/// The private Docker engine the engine tests talk to, as Scripts/engine.sh describes it in the environment:
/// `DOCKER_HOST`, `SAFEBUILD_TEST_IMAGE` (the busybox base image) and `SAFEBUILD_TEST_DOCKER` (the real docker client).
package struct TestEngine: Sendable {
    package let host: String
    package let image: String
    package let docker: String

    /// Reads the environment and checks that the engine answers; throws a sentence saying what to do otherwise.
    package static func current() throws -> TestEngine {
        let env = Environment.current()
        func need(_ key: String) throws -> String {
            guard let value = env[key], !value.isEmpty else {
                throw TestSetupError(
                    "\(key) is not set: engine tests need a running test engine; run them through "
                        + "`bash Scripts/test.sh`, or `eval \"$(bash Scripts/engine.sh start DIR)\"` first")
            }
            return value
        }
        let engine = TestEngine(
            host: try need("DOCKER_HOST"), image: try need("SAFEBUILD_TEST_IMAGE"), docker: try need("SAFEBUILD_TEST_DOCKER"))
        let ping = try engine.dockerRun(["version", "--format", "{{.Server.Version}}"], timeout: 20)
        guard ping.status == .exited(0) else {
            throw TestSetupError(
                "the test engine at \(engine.host) does not answer (\(engine.docker) version: \(ping.status), "
                    + "\(ping.stderrText)); start it with Scripts/engine.sh start")
        }
        return engine
    }

    /// An environment for safebuild or docker against this engine: the current one, without any `SAFEBUILD_*`
    /// variable, with `DOCKER_HOST`, `DOCKER_BUILDKIT=0`, `SAFEBUILD_DOCKER` set to the real client (unless
    /// `pinDocker` is false), then `extra` on top.
    package func environment(pinDocker: Bool = true, _ extra: [String: String] = [:]) -> [String: String] {
        var env = Environment.current().filter { !$0.key.hasPrefix("SAFEBUILD_") || $0.key.hasPrefix("SAFEBUILD_TEST_") }
        env["DOCKER_HOST"] = host
        env["DOCKER_BUILDKIT"] = "0"
        if pinDocker { env["SAFEBUILD_DOCKER"] = docker }
        for (key, value) in extra { env[key] = value }
        return env
    }

    /// Runs the real docker against this engine.
    package func dockerRun(_ arguments: [String], stdin: [UInt8]? = nil, timeout: Double = 60) throws -> ProcessResult {
        try ProcessRunner.run(docker, arguments, environment: environment(), stdin: stdin, timeout: timeout)
    }

    /// The names of the running containers whose name starts with `prefix`.
    package func runningContainers(named prefix: String) throws -> [String] {
        let ps = try dockerRun(["ps", "--filter", "name=\(prefix)", "--format", "{{.Names}}"], timeout: 20)
        return ps.stdoutText.split(separator: "\n").map(String.init)
    }

    /// A container name unique to this test run.
    package static func uniqueName(_ prefix: String) -> String {
        var random: UInt32 = 0
        arc4random_buf(&random, 4)
        return "\(prefix)-\(getpid())-\(String(random, radix: 36))"
    }
}

// MARK: - Processes

/// What a finished process left: its status and every byte of its output.
package struct ProcessResult: Sendable {
    package let status: ExitStatus
    package let stdout: [UInt8]
    package let stderr: [UInt8]
    /// Killed by the runner because it overran its deadline.
    package let timedOut: Bool

    package var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    package var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    /// `$?` as a shell shows it.
    package var code: Int32 { status.code }
}

/// Starts processes for tests with posix_spawn: stdin from given bytes (or /dev/null), stdout and stderr into
/// files (so no pipe can fill up and block), in the test's own process group, with a clean signal mask.
package enum ProcessRunner {
    package static func run(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, stdin: [UInt8]? = nil,
        workingDirectory: String? = nil, timeout: Double = 60
    ) throws -> ProcessResult {
        let process = try Started(
            path, arguments, environment: environment, stdin: stdin, workingDirectory: workingDirectory)
        return process.wait(timeout: timeout)
    }

    /// The processes whose process group is `pgid` (from /proc/PID/stat), as (pid, command name).
    package static func processes(inGroup pgid: pid_t) -> [(pid: pid_t, name: String)] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var found: [(pid: pid_t, name: String)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = pid_t(name) else { continue }
            let stat = String(decoding: TemporaryDirectory.readFileIfPresent("/proc/\(pid)/stat"), as: UTF8.self)
            // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after the last ')'.
            guard let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let group = pid_t(fields[2]), group == pgid else { continue }
            found.append((pid, String(stat[stat.index(after: open)..<close])))
        }
        return found
    }

    /// Runs `arguments` under a fresh pseudo-terminal (util-linux `script -qec`, as on every Debian), capturing what
    /// the terminal showed. The terminal turns `\n` into `\r\n`.
    package static func runUnderTerminal(
        _ arguments: [String], environment: [String: String]? = nil, timeout: Double = 60
    ) throws -> ProcessResult {
        try run("/usr/bin/script", ["-qec", ShellQuote.join(arguments), "/dev/null"], environment: environment,
            timeout: timeout)
    }

    /// A process running in the background, to be signalled and waited for.
    package final class Started: @unchecked Sendable {
        package let pid: pid_t
        private let directory: TemporaryDirectory
        private var finished: ProcessResult?

        /// - Parameters:
        ///   - workingDirectory: where the process starts (default: the test's own).
        ///   - newProcessGroup: start it in a process group of its own (its pgid is its pid), as Jenkins starts a
        ///     step, so that the whole group can be signalled with `kill(-pid, …)`.
        package init(
            _ path: String, _ arguments: [String], environment: [String: String]? = nil, stdin: [UInt8]? = nil,
            workingDirectory: String? = nil, newProcessGroup: Bool = false
        ) throws {
            directory = try TemporaryDirectory()
            let inPath = directory.path + "/stdin", outPath = directory.path + "/stdout", errPath = directory.path + "/stderr"
            try directory.write("stdin", stdin ?? [])

            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, stdin == nil ? "/dev/null" : inPath, O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var empty = sigset_t(), defaults = sigset_t()
            sigemptyset(&empty)
            sigfillset(&defaults)
            sigdelset(&defaults, SIGKILL)
            sigdelset(&defaults, SIGSTOP)
            posix_spawnattr_setsigmask(&attributes, &empty)
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
            if newProcessGroup {
                posix_spawnattr_setpgroup(&attributes, 0)
                flags |= POSIX_SPAWN_SETPGROUP
            }
            posix_spawnattr_setflags(&attributes, Int16(flags))

            // posix_spawn_file_actions_addchdir_np is not visible from Swift here: coreutils' `env -C DIR` changes
            // directory, then execs the program (same pid, same process group).
            let words = workingDirectory.map { ["/usr/bin/env", "-C", $0, path] } ?? [path]
            // Byte for byte: a test may pass an argument that is not UTF-8 as `String(lossless:)`.
            let argv = (words + arguments).map { Optional($0.losslessCString()) } + [nil]
            let env = (environment ?? Environment.current()).map { Optional("\($0.key)=\($0.value)".losslessCString()) } + [nil]
            defer {
                for p in argv { free(p) }
                for p in env { free(p) }
            }
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, words[0], &actions, &attributes, argv, env)
            guard rc == 0 else { throw TestSetupError("cannot start \(path): \(String(cString: strerror(rc)))") }
            self.pid = pid
        }

        deinit {
            if finished == nil {
                kill(pid, SIGKILL)
                var raw: Int32 = 0
                _ = waitpid(pid, &raw, 0)
            }
        }

        /// Sends `signal` to the process.
        package func send(_ signal: Int32) {
            kill(pid, signal)
        }

        /// Sends `signal` and waits for the end (`wait(timeout:)`): the result, and the seconds from the signal to the end.
        package func signalAndWait(_ signal: Int32, timeout: Double = 30) -> (result: ProcessResult, seconds: Double) {
            let sent = Clock.now()
            send(signal)
            let result = wait(timeout: timeout)
            return (result, Clock.now() - sent)
        }

        /// Sends `signal` to every process of its process group (started with `newProcessGroup`).
        package func sendToGroup(_ signal: Int32) {
            kill(-pid, signal)
        }

        /// Whether it has ended (without reaping it: `wait` still returns its result).
        package var hasExited: Bool {
            if finished != nil { return true }
            // Not reaped yet, an ended child is a zombie: state `Z` after the command name in /proc/PID/stat.
            let stat = TemporaryDirectory.readFileIfPresent("/proc/\(pid)/stat")
            guard let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count else { return true }
            return stat[close + 2] == UInt8(ascii: "Z")
        }

        /// What it printed on stderr so far.
        package var stderrSoFar: String { String(decoding: directory.read("stderr"), as: UTF8.self) }

        /// What it printed on stdout so far.
        package var stdoutSoFar: String { String(decoding: directory.read("stdout"), as: UTF8.self) }

        /// Waits for the end, killing the process (SIGKILL) if it is still there after `timeout` seconds.
        package func wait(timeout: Double = 60) -> ProcessResult {
            if let finished { return finished }
            let deadline = Clock.now() + timeout
            var raw: Int32 = 0
            var timedOut = false
            while true {
                let r = waitpid(pid, &raw, WNOHANG)
                if r == pid { break }
                if r < 0 && errno != EINTR { break }
                if Clock.now() > deadline {
                    kill(pid, SIGKILL)
                    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                    timedOut = true
                    break
                }
                usleep(5_000)
            }
            let result = ProcessResult(
                status: ExitStatus(waitStatus: raw), stdout: directory.read("stdout"),
                stderr: directory.read("stderr"), timedOut: timedOut)
            finished = result
            return result
        }
    }

    /// Polls `condition` every 50 ms for up to `timeout` seconds; true as soon as it holds.
    package static func waitUntil(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Clock.now() + timeout
        while Clock.now() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }
}

// MARK: - Files

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when the value goes away. For PATH tests
/// it holds `docker` symlinks and copies.
package final class TemporaryDirectory: @unchecked Sendable {
    package let path: String

    package init() throws {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/sb-test.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestSetupError("cannot create a temporary directory in \(base): \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    deinit {
        // `rm -rf`, started directly: ProcessRunner itself keeps its output in a TemporaryDirectory.
        let words: [String] = ["/bin/rm", "-rf", path]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        if posix_spawn(&pid, "/bin/rm", nil, nil, argv, environ) == 0 {
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        }
    }

    /// Makes `name` (may contain `/` for subfolders that exist) a symlink to `target`; returns its path.
    @discardableResult
    package func symlink(_ name: String, to target: String) throws -> String {
        let link = path + "/" + name
        guard Glibc.symlink(target, link) == 0 else {
            throw TestSetupError("cannot link \(link) to \(target): \(String(cString: strerror(errno)))")
        }
        return link
    }

    /// Makes a subdirectory; returns its path.
    @discardableResult
    package func directory(_ name: String) throws -> String {
        let dir = path + "/" + name
        guard mkdir(dir, 0o755) == 0 else { throw TestSetupError("cannot create \(dir): \(String(cString: strerror(errno)))") }
        return dir
    }

    /// Copies the file at `source` to `name`, keeping it executable; returns its path.
    @discardableResult
    package func copy(_ source: String, to name: String, mode: mode_t = 0o755) throws -> String {
        let bytes = try Self.readFile(source)
        try write(name, bytes, mode: mode)
        return path + "/" + name
    }

    /// Writes `bytes` to `name`; returns its path.
    @discardableResult
    package func write(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws -> String {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw TestSetupError("cannot write \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let ok = bytes.withUnsafeBytes { Output.writeAll(fd, $0) }
        guard ok else { throw TestSetupError("cannot write \(file): \(String(cString: strerror(errno)))") }
        fchmod(fd, mode)
        return file
    }

    /// The bytes of `name` (empty when it cannot be read).
    package func read(_ name: String) -> [UInt8] {
        (try? Self.readFile(path + "/" + name)) ?? []
    }

    /// The bytes of the file at `file`, wherever it is (empty when it cannot be read).
    package static func readFileIfPresent(_ file: String) -> [UInt8] {
        (try? readFile(file)) ?? []
    }

    package static func readFile(_ file: String) throws -> [UInt8] {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TestSetupError("cannot read \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out.append(contentsOf: buffer[..<n])
        }
        return out
    }
}
