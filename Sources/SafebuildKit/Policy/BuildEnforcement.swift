/// How a `build` is treated when the policy sets a memory limit for it. BuildKit accepts `-m`, `--memory-swap` and
/// `--shm-size` and silently ignores them (moby/buildkit#593); the classic builder enforces them on `RUN` steps.
package enum BuildEnforcement: String, Equatable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Run the build with the classic builder (`DOCKER_BUILDKIT=0`) so the limit is enforced, unless the user asked
    /// for BuildKit themselves (`DOCKER_BUILDKIT=1`, `docker buildx build`): then keep it and record a notice.
    case classic
    /// Keep whichever builder docker picks, pass the limits, and record that BuildKit does not enforce them.
    case notice
    /// Add no memory flags to builds at all.
    case off

    package var description: String { rawValue }
}
