import ArgumentParser

/// `safebuild doctor`: every host and engine probe as a report (`Doctor`).
struct SafebuildDoctor: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Checks the host and the docker engine for what makes builds run out of memory or disk.",
        discussion: "Exit status: 0 all ok, 1 warnings, 2 problems.",
        helpNames: [.short, .long])

    @Flag(help: "Machine-readable report (findings and every measured figure).")
    var json = false

    @Option(help: ArgumentHelp("OOM kills of the last N hours.", valueName: "N"))
    var hours: Double = 24

    @Option(help: ArgumentHelp("Bound on the engine calls, in seconds.", valueName: "SECONDS"))
    var timeout: Double = 5

    @Flag(help: "The host only: do not ask the docker daemon (when it is down or hangs).")
    var noEngine = false

    func validate() throws {
        guard hours > 0 else { throw ValidationError("--hours needs a positive number") }
        guard timeout > 0 else { throw ValidationError("--timeout needs a positive number") }
    }

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        let figures = try Doctor.measure(
            environment: context.environment, options: context.options, hours: hours, timeout: timeout,
            askEngine: !noEngine)
        let findings = Doctor.diagnose(figures, now: context.now, hours: hours)
        context.out(json ? Doctor.json(findings, figures: figures) : Doctor.text(findings))
        return Doctor.status(findings)
    }
}
