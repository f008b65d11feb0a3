/// Where a policy file sits among the policies laid over each other, lowest first: each layer's values replace those
/// of the layers below it, within what the host allows (host-only keys, ceilings).
package enum PolicyLayer: Int, Equatable, Hashable, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    /// Config/default-policy.yml, compiled in.
    case builtIn
    /// The host policy (`HostPolicyLocation`), written by the administrator: the only layer that sets host-only keys.
    case host
    /// `./safebuild.yml` in the current directory: the repository's.
    case project
    /// `--sb-policy FILE` or `SAFEBUILD_POLICY`: the person's or the job's own.
    case user

    package static func < (a: PolicyLayer, b: PolicyLayer) -> Bool { a.rawValue < b.rawValue }

    /// `built-in`, `host`, `project`, `user`.
    package var description: String {
        switch self {
        case .builtIn: return "built-in"
        case .host: return "host"
        case .project: return "project"
        case .user: return "user"
        }
    }

    /// Whether values of this layer are held to what the host allows.
    package var isBelowHost: Bool { self > .host }
}
