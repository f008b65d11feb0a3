/// What a protected command reserves in the admission ledger (`admission.reserve`).
package enum AdmissionReserve: String, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// Its memory limit: the user's `-m` or the policy's (`admission.default_request` when it has none).
    case limit
    /// The p95 peak the journal learned for its CI job or image, with `admission.learned_headroom`; its limit while
    /// the journal knows too few runs. The container's `-m` stays what the policy says.
    case learned

    package var description: String { rawValue }
}

/// What happens when a reservation has waited `admission.wait_timeout` (`admission.on_timeout`).
package enum AdmissionTimeoutAction: String, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// Start docker anyway, with a warning; the reservation counts from then on.
    case run
    /// Do not start docker: exit 75.
    case refuse

    package var description: String { rawValue }
}

/// What happens to a reservation larger than the whole budget (`admission.oversize`).
package enum AdmissionOversize: String, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// It waits until nothing else holds a reservation, then runs while every later command waits.
    case alone
    /// It is refused at once: exit 75.
    case refuse

    package var description: String { rawValue }
}
