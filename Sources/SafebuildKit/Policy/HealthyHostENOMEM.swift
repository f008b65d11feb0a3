/// What happens to an ENOMEM on a host with plenty of memory, no pressure and no fragmentation
/// (`retry.healthy_host_enomem`): host-wide remedies are never run for it.
package enum HealthyHostENOMEM: String, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// Retried once without remedies (a passing shortage goes away); the same ENOMEM again ends the command.
    case once
    /// Not retried: the command's own limits (`--ulimit`, a seccomp profile) are the likelier cause.
    case never
    /// The host's figures are not used: the class's ladder runs as for any ENOMEM (for hosts whose ENOMEMs are
    /// injected, as the fault-injection tests do on a healthy host).
    case ladder

    package var description: String { rawValue }
}
