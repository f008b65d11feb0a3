/// How docker ended one attempt.
package struct DockerExit: Sendable, Equatable {
    package var status: ExitStatus
    /// The first termination signal safebuild received while docker ran (it was forwarded to docker).
    package var interruptedBy: Int32?
    /// The container the attempt created (`run`: read from its `--cidfile`), if any.
    package var containerID: String?
    /// When docker started, wall-clock seconds: what the kernel logged since then belongs to this attempt.
    package var startedAt: Double
    /// What the attempt did with stdin and stdout, for the decision whether it can be run again unchanged.
    package var streams: StreamReport
    /// What the attempt's containers used (nil: not followed, for want of a local engine's pool).
    package var memory: AttemptMemory?
    /// A classic build's step containers, as it named them (` ---> Running in ID`): a failed step's container is
    /// left behind, holding what the step wrote.
    package var buildContainers: [String] = []

    /// The container id of a classic build's ` ---> Running in 6f1c1d8b8e2a` line (moby
    /// builder/dockerfile/internals.go), if the line is one.
    package static func buildContainer(in line: String) -> String? {
        let marker = " ---> Running in "
        guard line.hasPrefix(marker) else { return nil }
        let id = line.dropFirst(marker.count).prefix { $0.isHexDigit }
        return id.count >= 12 ? String(id) : nil
    }

    package init(
        status: ExitStatus, interruptedBy: Int32? = nil, containerID: String? = nil, startedAt: Double,
        streams: StreamReport = StreamReport(), memory: AttemptMemory? = nil
    ) {
        self.status = status
        self.interruptedBy = interruptedBy
        self.containerID = containerID
        self.startedAt = startedAt
        self.streams = streams
        self.memory = memory
    }
}
