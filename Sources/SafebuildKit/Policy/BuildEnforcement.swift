/// How a `build` is treated when the policy sets a memory limit for it. BuildKit accepts `-m`, `--memory-swap` and
/// `--shm-size` and silently ignores them (moby/buildkit#593); the classic builder enforces them on `RUN` steps. A
/// build is never moved off BuildKit when BuildKit is docker's own choice or the build needs it
/// (`MemoryInjection.builderDecision`, docs/builders.md).
package enum BuildEnforcement: String, Equatable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Keep docker's builder: the classic builder enforces the limit; BuildKit is kept with a notice. Only where
    /// docker's choice cannot be told, and the build needs nothing BuildKit-only, select the classic builder
    /// (`DOCKER_BUILDKIT=0`).
    case classic
    /// Keep whichever builder docker picks, pass the limits, and record that BuildKit does not enforce them.
    case notice
    /// Add no memory flags to builds at all.
    case off

    package var description: String { rawValue }
}
