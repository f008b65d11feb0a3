/// What the host's policy does with a `-m`/`--memory` given on the command line above its ceiling
/// (`run.max_memory`, `build.max_memory`): `protection.memory_flag`.
package enum MemoryFlagAction: String, Equatable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Keep it, as docker would (the default).
    case allow
    /// Lower it to the ceiling.
    case clamp
    /// Run nothing: exit 77 with a one-line error naming the flag and the ceiling.
    case refuse

    package var description: String { rawValue }
}
