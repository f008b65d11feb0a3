/// What safebuild's own commands take from outside, handed to `run(_:)` the way swiftly hands its commands a
/// SwiftlyCoreContext: `live` in `Safebuild.main`, one with made-up edges in tests.
package struct CommandContext {
    /// The `--sb-…` options and `SAFEBUILD_*` variables.
    package var options: SafebuildOptions
    package var environment: [String: String]
    package var currentDirectory: String
    /// The host's policy file (`HostPolicyLocation.current`: from where this binary is installed).
    package var hostPolicyPath: String
    /// Physical memory in bytes, for the policy's percentages.
    package var hostMemory: UInt64?
    /// Wall-clock time in seconds since 1970, read once per command.
    package var now: Double
    /// stdout and stderr.
    package var out: (String) -> Void
    package var err: (String) -> Void

    package init(
        options: SafebuildOptions, environment: [String: String], currentDirectory: String, hostPolicyPath: String,
        hostMemory: UInt64?, now: Double, out: @escaping (String) -> Void, err: @escaping (String) -> Void
    ) {
        self.options = options
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.hostPolicyPath = hostPolicyPath
        self.hostMemory = hostMemory
        self.now = now
        self.out = out
        self.err = err
    }

    package static func live(options: SafebuildOptions, environment: [String: String]) -> CommandContext {
        CommandContext(
            options: options, environment: environment, currentDirectory: WorkingDirectory.current(),
            hostPolicyPath: HostPolicyLocation.current, hostMemory: PhysicalMemory.total(),
            now: JournalTime.now(), out: { Output.write(1, $0) }, err: { Output.write(2, $0) })
    }

    /// The context of the privileged entry (`safebuild remedy`): no options, the root directory, and of the
    /// environment only what sudo itself sets about the caller (`SUDO_USER`, `SUDO_UID`, `SUDO_GID`).
    package static func privileged(environment: [String: String]) -> CommandContext {
        let sudo = environment.filter { ["SUDO_USER", "SUDO_UID", "SUDO_GID"].contains($0.key) }
        return CommandContext(
            options: SafebuildOptions(), environment: sudo, currentDirectory: "/",
            hostPolicyPath: HostPolicyLocation.current, hostMemory: PhysicalMemory.total(),
            now: JournalTime.now(), out: { Output.write(1, $0) }, err: { Output.write(2, $0) })
    }

    /// The journal the reading commands read (`safebuild journal …`, `retry`, `policy suggest`): `--sb-journal` /
    /// `SAFEBUILD_JOURNAL` (an operator may read any journal they can), else `hostJournalPath`.
    package var journalPath: String {
        if let given = options.journalPath, !given.isEmpty { return given }
        return hostJournalPath
    }

    /// The journal protected commands write (`Journal.forWriting`): the host policy's `journal.path` (a host-only key),
    /// else the default place. A broken host policy does not stop the journal from being read.
    package var hostJournalPath: String {
        let host = try? PolicyLoader.hostLayer(hostPath: hostPolicyPath, hostMemory: hostMemory)
        return Journal.path(
            options: SafebuildOptions(), policyPath: (host?.policy ?? PolicyLoader.builtIn).journalPath,
            environment: environment)
    }
}
