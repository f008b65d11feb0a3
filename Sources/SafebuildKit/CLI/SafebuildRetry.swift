import ArgumentParser
import Glibc

/// `safebuild retry [ID]`: runs a recorded invocation again, in its directory, with its command line, under the
/// current policy; the new records name the old invocation in `retry_of`.
struct SafebuildRetry: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Runs the last failed protected command again, in its directory, under the current policy.",
        helpNames: [.short, .long])

    @Argument(help: "The invocation to run again, as 'safebuild journal' lists it (default: the last failed one).")
    var id: String?

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        let path = context.journalPath
        let record: InvocationRecord
        if let id {
            record = try Journal.find(id: id, path: path)
        } else {
            record = try Journal.lastFailed(path: path)
        }
        if record.redacted {
            throw SafebuildError(
                .usage,
                "invocation \(record.id) had values in its command line that the journal does not keep (of -e, --env and --build-arg only the names, and no secret); run it again yourself from \(record.cwd)")
        }
        let commandLine = DockerCommandLine(record.argv)
        guard let protected = commandLine.protected else {
            throw SafebuildError(.usage, "invocation \(record.id) is not a protected build or run; nothing to retry")
        }
        guard chdir(record.cwd) == 0 else {
            throw SafebuildError(.noInput, "cannot enter \(record.cwd), where invocation \(record.id) ran: \(String(cString: strerror(errno)))")
        }
        var env = context.environment
        env["PWD"] = record.cwd
        Console.say("retrying \(record.id) in \(record.cwd): docker \(ShellQuote.join(record.argv))")
        return try Supervisor(
            commandLine: commandLine, command: protected, options: context.options, environment: env,
            retryOf: record.id
        ).run()
    }
}
