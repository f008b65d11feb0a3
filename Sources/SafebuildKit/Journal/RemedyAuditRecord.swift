/// What the privileged entry (`safebuild remedy NAME`, run as root through sudo) did for whom (`"kind": "remedy"`),
/// written to the host journal when it ends: the audit trail of every root remedy a member of the group asked for.
package struct RemedyAuditRecord: Codable, Sendable, Equatable {
    package var schema = JournalSchema.version
    package var kind = "remedy"
    package var started: String
    package var ended: String
    package var durationSeconds: Double
    package var host: String
    /// Who asked: sudo's `SUDO_USER` and `SUDO_UID`; absent when root ran the command itself.
    package var requestedBy: String?
    package var requestedUID: UInt32?
    /// `sudo` when sudo ran it, `root` when root ran it directly.
    package var via: String
    /// The host policy the remedy was allowed and cooled down by (`built-in` when the host has none).
    package var policySource: String
    /// The remedy: whether it ran or why not, the figures before and after, how long it took.
    package var remedy: JournalRemedy
    package var safebuildVersion: String?

    enum CodingKeys: String, CodingKey {
        case schema, kind, started, ended, durationSeconds = "duration_seconds", host, requestedBy = "requested_by"
        case requestedUID = "requested_uid", via, policySource = "policy_source", remedy
        case safebuildVersion = "safebuild_version"
    }

    package init(
        started: String, ended: String, durationSeconds: Double, host: String, requestedBy: String?,
        requestedUID: UInt32?, via: String, policySource: String, remedy: JournalRemedy,
        safebuildVersion: String? = Safebuild.version
    ) {
        self.started = started
        self.ended = ended
        self.durationSeconds = durationSeconds
        self.host = host
        self.requestedBy = requestedBy
        self.requestedUID = requestedUID
        self.via = via
        self.policySource = policySource
        self.remedy = remedy
        self.safebuildVersion = safebuildVersion
    }
}
