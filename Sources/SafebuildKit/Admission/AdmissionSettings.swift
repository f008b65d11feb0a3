/// The policy's `admission:` section resolved for one command on this host: plain bytes and seconds, where the
/// ledger lives, and how the command is named in it. Part of `SupervisionPlan`.
package struct AdmissionSettings: Sendable, Equatable {
    package var enabled: Bool
    /// `admission.budget` in bytes and as written; nil: detected.
    package var budget: UInt64?
    package var budgetText: String?
    package var hostReserve: UInt64
    package var hostReserveText: String
    package var reserve: AdmissionReserve
    package var defaultRequest: UInt64
    /// Percent added to a learned p95 peak.
    package var learnedHeadroom: Double
    package var waitTimeout: Double
    package var onTimeout: AdmissionTimeoutAction
    package var oversize: AdmissionOversize
    /// The directory of `admission.ledger`.
    package var stateDirectory: String
    /// The modes and group of the ledger (the host's `journal.group`), and where a member's per-user fallback goes
    /// (`XDG_RUNTIME_DIR`): as for the remedies' lock (`RuntimeState`).
    package var files: SharedFiles = .host()
    package var runtimeEnvironment: [String: String] = [:]
    /// How the command is named in the ledger: `run busybox, job app/main #12`.
    package var label: String
    /// What a learned reservation is looked up by: the CI job, else the image (`run`) or first tag (`build`).
    package var job: String?
    package var image: String?

    package init(
        enabled: Bool = true, budget: UInt64? = nil, budgetText: String? = nil, hostReserve: UInt64 = 0,
        hostReserveText: String = "0", reserve: AdmissionReserve = .limit, defaultRequest: UInt64 = 1 << 30,
        learnedHeadroom: Double = 25, waitTimeout: Double = 1800, onTimeout: AdmissionTimeoutAction = .run,
        oversize: AdmissionOversize = .alone, stateDirectory: String, label: String, job: String? = nil,
        image: String? = nil
    ) {
        self.enabled = enabled
        self.budget = budget
        self.budgetText = budgetText
        self.hostReserve = hostReserve
        self.hostReserveText = hostReserveText
        self.reserve = reserve
        self.defaultRequest = defaultRequest
        self.learnedHeadroom = learnedHeadroom
        self.waitTimeout = waitTimeout
        self.onTimeout = onTimeout
        self.oversize = oversize
        self.stateDirectory = stateDirectory
        self.label = label
        self.job = job
        self.image = image
    }

    /// `admission:` of `policy`, sizes resolved for a host with `hostMemory` bytes.
    package init(
        policy: Policy, hostMemory: UInt64, stateDirectory: String, label: String, job: String?, image: String?
    ) {
        let a = policy.admission
        self.init(
            enabled: a.enabled.value, budget: a.budget.value?.bytes(hostMemory: hostMemory),
            budgetText: a.budget.value?.description, hostReserve: a.hostReserve.value.bytes(hostMemory: hostMemory),
            hostReserveText: a.hostReserve.value.description, reserve: a.reserve.value,
            defaultRequest: a.defaultRequest.value.bytes(hostMemory: hostMemory), learnedHeadroom: a.learnedHeadroom.value,
            waitTimeout: a.waitTimeout.value, onTimeout: a.onTimeout.value, oversize: a.oversize.value,
            stateDirectory: stateDirectory, label: label, job: job, image: image)
    }

    /// Where the ledger lives: the directory of the remedies' host-wide lock (`remedies.lock_dir`, else
    /// `HostLock.defaultDirectory`). One function, so that the install's state-directory rules replace it in one
    /// place.
    package static func stateDirectory(lockDirectory: String) -> String { lockDirectory }

    /// The ledger's label of a command: its subcommand, image or tags, and CI job.
    package static func label(
        command: ProtectedCommand, image: String?, tags: [String]?, job: String?, buildNumber: String?
    ) -> String {
        var text = command.name
        if let image { text += " " + image } else if let tags, !tags.isEmpty { text += " " + tags.joined(separator: ",") }
        if let job { text += ", job " + job + (buildNumber.map { " #\($0)" } ?? "") }
        return text
    }
}
