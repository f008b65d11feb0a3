/// What a plan needs to know of this host and this process, read once before the plan is made, so that the plan
/// itself is a pure function of its inputs.
package struct HostFacts: Sendable, Equatable {
    /// safebuild's working directory (docker resolves the build context and a relative `-f` from it).
    package var workingDirectory: String
    /// Physical memory in bytes (MemTotal), for sizes the policy gives as a share; 0 when unknown.
    package var memory: UInt64
    /// Where the journal goes when neither `--sb-journal` nor the policy says (`Journal.defaultPath`).
    package var defaultJournalPath: String
    /// Where the remedies' host-wide lock lives when the policy does not say (`HostLock.defaultDirectory`).
    package var defaultLockDirectory: String
    /// What safebuild's stdin and stdout are (a terminal, a file, a pipe…): whether a retry can replay them.
    package var stdin: DescriptorKind
    package var stdout: DescriptorKind

    package init(
        workingDirectory: String, memory: UInt64, defaultJournalPath: String, defaultLockDirectory: String,
        stdin: DescriptorKind = .null, stdout: DescriptorKind = .null
    ) {
        self.workingDirectory = workingDirectory
        self.memory = memory
        self.defaultJournalPath = defaultJournalPath
        self.defaultLockDirectory = defaultLockDirectory
        self.stdin = stdin
        self.stdout = stdout
    }

    /// Reads them (getcwd, sysconf, which of the default directories are writable, fstat of stdin and stdout).
    package static func current(environment: [String: String]) -> HostFacts {
        HostFacts(
            workingDirectory: WorkingDirectory.current(), memory: PhysicalMemory.total() ?? 0,
            defaultJournalPath: Journal.defaultPath(environment: environment),
            defaultLockDirectory: HostLock.defaultDirectory(policy: nil, environment: environment),
            stdin: DescriptorKind.of(0), stdout: DescriptorKind.of(1))
    }
}
