/// The verdict on one attempt.
package struct Classification: Codable, Sendable, Equatable {
    package var failureClass: FailureClass
    /// The line of docker's output (or the kernel's log) that decided it, if a signature matched.
    package var line: String?
    /// One sentence for the user and the journal.
    package var reason: String
    /// Whether the retry loop may try again at all (the ladder and the limits decide the rest).
    package var retryable: Bool
    /// A kernel `page allocation failure` line seen during the attempt, if any.
    package var kernelEvidence: String?
    /// How strong the evidence that decided it was; nil when nothing decided it (a user's own error by default).
    package var strength: EvidenceStrength? = nil

    enum CodingKeys: String, CodingKey {
        case failureClass = "class", line, reason, retryable, kernelEvidence = "kernel_evidence", strength
    }
}
