/// The attempt journal's records, schema 1. The journal is JSON Lines: one JSON object per line, UTF-8, each with
/// `"schema": 1` and a `"kind"`. Keys are snake_case; a key whose value is unknown is left out (never `null`).
/// Readers ignore keys they do not know, so new optional keys do not change the schema number; removing or
/// changing the meaning of a key does.
///
/// Order in the file: every attempt is written when it ends, the invocation when the last attempt has ended; so an
/// invocation's `attempt` lines come before its `invocation` line. An invocation whose safebuild was killed with
/// SIGKILL has attempt lines and no invocation line. `remedy` lines (the privileged entry's audit records) stand
/// alone.
package enum JournalSchema {
    /// The schema number written in every record.
    package static let version = 1
}

/// One line of the journal, decoded.
package enum JournalRecord: Sendable, Equatable {
    case invocation(InvocationRecord)
    case attempt(AttemptRecord)
    /// A root remedy run for a member of the group through the privileged entry.
    case remedy(RemedyAuditRecord)

    /// The invocation id the record belongs to (empty for a remedy's audit record, which belongs to none).
    package var invocationID: String {
        switch self {
        case .invocation(let r): return r.id
        case .attempt(let r): return r.invocation
        case .remedy: return ""
        }
    }

    /// When the record's invocation or attempt started.
    package var started: String {
        switch self {
        case .invocation(let r): return r.started
        case .attempt(let r): return r.started
        case .remedy(let r): return r.started
        }
    }
}
