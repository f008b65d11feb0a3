#if canImport(Glibc)
import Glibc
#endif

/// Runs one protected docker command: docker as a supervised child, its exit status returned as safebuild's.
struct Supervisor {
    let docker: String
    let commandLine: DockerCommandLine
    let command: ProtectedCommand
    let options: SafebuildOptions
    let environment: [String: String]

    func run() throws(SafebuildError) -> Int32 {
        let signals = try SignalInbox()
        signal(SIGPIPE, SIG_IGN)
        Console.quiet = options.quiet

        var arguments = commandLine.arguments
        var cidFile: String?
        if command == .run {
            if let given = RunArguments.value(of: ["--cidfile"], in: commandLine) {
                cidFile = given
            } else {
                let path = Self.temporaryPath("cid")
                arguments.insert(contentsOf: ["--cidfile", path], at: commandLine.commandArgumentsIndex)
                cidFile = path
            }
        }
        if options.dryRun {
            Console.say("dry run: would run: \(ShellQuote.join([docker] + arguments))")
            return 0
        }
        defer {
            if let cidFile, RunArguments.value(of: ["--cidfile"], in: commandLine) == nil { unlink(cidFile) }
        }

        var child = ChildProcess(path: docker, arguments: arguments, environment: environment)
        if let cidFile {
            let globals = commandLine.globalFlags
            let docker = self.docker
            child.stopGrace = 3
            child.onStop = {
                guard let id = Self.readContainerID(cidFile) else { return }
                _ = try? Command(docker, globals + ["kill", id], timeout: 5).run()
            }
        }
        let outcome = try child.run(signals: signals) { _, _ in }
        return outcome.status.code
    }

    static func readContainerID(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        let id = String(decoding: buffer[..<n], as: UTF8.self).trimmingWhitespace()
        return id.isEmpty ? nil : id
    }

    static func temporaryPath(_ kind: String) -> String {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var random: UInt64 = 0
        arc4random_buf(&random, 8)
        return "\(dir)/safebuild-\(getpid())-\(String(random, radix: 36)).\(kind)"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
