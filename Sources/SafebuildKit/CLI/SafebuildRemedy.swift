import ArgumentParser
import Glibc

/// `safebuild remedy NAME`: the privileged entry (`PrivilegedRemedy`), run as root through `sudo -n` by a safebuild
/// that is not root. Prints the remedy's report as one JSON line on stdout.
struct SafebuildRemedy: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "remedy",
        abstract: "Runs a remedy that needs root (drop_caches, compact_memory) for a member of the host's group.",
        discussion: """
            The privileged entry: safebuild runs it itself as `sudo -n safebuild remedy NAME` when it is not root and \
            a sudoers rule allows it (Scripts/install.sh --with-sudo). It reads nothing of the caller's (no \
            SAFEBUILD_* variable, no --sb- option, no working directory): the host policy alone allows the remedy \
            and sets its host-wide lock and cooldown. Every request is recorded in the host journal.
            """,
        helpNames: [.short, .long])

    @Argument(help: ArgumentHelp("drop_caches or compact_memory.", valueName: "NAME"))
    var name: String

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        let names = PrivilegedRemedy.names.map(\.rawValue).joined(separator: ", ")
        guard let remedy = RemedyName(rawValue: name), remedy.needsRoot else {
            throw SafebuildError(.usage, "safebuild remedy runs only the remedies that need root: \(names) (got '\(name)')")
        }
        guard geteuid() == 0 else {
            throw SafebuildError(
                .usage,
                "safebuild remedy \(name) runs as root, through 'sudo -n \(HostSettings.executablePath() ?? "safebuild") remedy \(name)'; a protected build or run does that itself when a sudoers rule allows it (Scripts/install.sh --with-sudo)")
        }
        // Nothing relative to the caller: not its directory, not its umask.
        _ = chdir("/")
        _ = umask(0o027)
        let signals = try SignalInbox()

        // The host policy alone, as the host layer is read for every command (its owner and mode checked).
        let host = try PolicyLoader.hostLayer(hostPath: context.hostPolicyPath, hostMemory: context.hostMemory)
        let policy = host.policy
        let source = host.files.first?.path ?? PolicySource.builtInName
        for warning in host.warnings { Console.warn(warning) }
        let memory = context.hostMemory ?? 0
        let files = SharedFiles(group: HostSettings.groupID(policy.journal.group.value))
        let remedies = Remedies(
            context: LiveRemedyContext(docker: "/nonexistent/docker", globalFlags: [], signals: signals),
            settings: RemedySettings(policy: policy, hostMemory: memory))
        let lock = HostLock(
            state: RuntimeState(directory: policy.lockDirectory ?? "/run/safebuild", files: files, isRoot: true),
            cooldown: policy.cooldownSeconds)
        let journal = JournalWriter(
            path: policy.journalPath ?? Journal.systemDirectory + "/" + Journal.fileName,
            maxBytes: policy.journalMaxBytes(hostMemory: memory), keep: policy.journalKeep, files: files)
        let requester = PrivilegedRemedy.Requester.from(environment: context.environment)
        let report = PrivilegedRemedy.run(
            remedy, policy: policy, policySource: source, requester: requester, remedies: remedies, lock: lock,
            waiting: .signals(signals), journal: journal, host: Journal.Context.current(environment: [:]).host)
        // Through sudo the caller's own console line says what happened; run by hand, this line does.
        if requester.via == "root" { Console.say(PrivilegedRemedy.summary(report, requester: requester)) }
        context.out(PrivilegedEntry.line(report))
        return 0
    }
}
