/// What a pre-flight check does when the host crosses its threshold: the policy's `action:` and what `Preflight`
/// decides with. The raw value is the policy's and the journal's spelling.
package enum PreflightAction: String, Codable, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// Say so on stderr and in the journal, then go ahead.
    case warn
    /// Apply the remedies (prune, drop caches, compact), check again, go ahead either way.
    case remediate
    /// Wait (up to `wait_timeout`) for the host to recover, then go ahead with a warning.
    case wait
    /// Do not start docker; exit 75.
    case refuse

    package var description: String { rawValue }
}
