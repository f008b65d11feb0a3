/// What one attempt asks the admission ledger for.
package struct AdmissionRequest: Sendable, Equatable {
    /// Bytes to reserve.
    package var bytes: UInt64
    /// Where the figure came from, in words: `the memory limit 800m`, `admission.default_request 1g`, `learned: …`.
    package var source: String
    /// A retry's re-admission: it keeps the ticket the first attempt drew.
    package var retry: Bool

    package init(bytes: UInt64, source: String, retry: Bool = false) {
        self.bytes = bytes
        self.source = source
        self.retry = retry
    }
}

/// How an admission ended.
package enum AdmissionOutcome: String, Codable, Sendable, Equatable, CaseIterable {
    /// It fitted (at once or after waiting).
    case admitted
    /// Larger than the budget, admitted because nothing else held a reservation (`oversize: alone`).
    case admittedAlone = "admitted_alone"
    /// It waited `wait_timeout` and ran anyway (`on_timeout: run`).
    case ranAfterTimeout = "ran_after_timeout"
    /// Larger than the whole budget and `oversize: refuse`.
    case refusedOversize = "refused_oversize"
    /// It waited `wait_timeout` and `on_timeout: refuse`.
    case refusedTimeout = "refused_timeout"
    /// A termination signal ended the wait.
    case interrupted
    /// No admission: turned off, no local engine, or the ledger could not be used (the message says which).
    case skipped

    /// Whether docker may start.
    package var proceeds: Bool { self == .admitted || self == .admittedAlone || self == .ranAfterTimeout || self == .skipped }
}

/// One admission as the journal keeps it in the attempt it preceded (`"admission": {…}`).
package struct JournalAdmission: Codable, Sendable, Equatable {
    package var outcome: AdmissionOutcome
    package var requestBytes: UInt64?
    /// Where the request came from.
    package var request: String?
    package var budgetBytes: UInt64?
    /// Where the budget came from.
    package var budget: String?
    package var ticket: UInt64?
    package var waitedSeconds: Double
    /// When it first asked: free memory of the budget, and the reservations that waited ahead of it.
    package var freeBytes: UInt64?
    package var ahead: Int?
    /// Why it was skipped or refused, or the warning it ran with.
    package var message: String?

    enum CodingKeys: String, CodingKey {
        case outcome, requestBytes = "request_bytes", request, budgetBytes = "budget_bytes", budget, ticket
        case waitedSeconds = "waited_seconds", freeBytes = "free_bytes", ahead, message
    }

    package init(
        outcome: AdmissionOutcome, requestBytes: UInt64? = nil, request: String? = nil, budgetBytes: UInt64? = nil,
        budget: String? = nil, ticket: UInt64? = nil, waitedSeconds: Double = 0, freeBytes: UInt64? = nil,
        ahead: Int? = nil, message: String? = nil
    ) {
        self.outcome = outcome
        self.requestBytes = requestBytes
        self.request = request
        self.budgetBytes = budgetBytes
        self.budget = budget
        self.ticket = ticket
        self.waitedSeconds = waitedSeconds
        self.freeBytes = freeBytes
        self.ahead = ahead
        self.message = message
    }

    /// Skipped, with why.
    package static func skipped(_ why: String) -> JournalAdmission { JournalAdmission(outcome: .skipped, message: why) }
}

/// What `SupervisionEffects.admit` answers: the journal's record of it, and the termination signal that ended the
/// wait, if one did.
package struct AdmissionResult: Sendable, Equatable {
    package var record: JournalAdmission
    package var interruptedBy: Int32?

    package init(record: JournalAdmission, interruptedBy: Int32? = nil) {
        self.record = record
        self.interruptedBy = interruptedBy
    }
}
