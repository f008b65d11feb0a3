/// The memory limit a policy sets: a size, or explicitly none.
package enum MemoryRule: Equatable, Hashable, Sendable, CustomStringConvertible {
    case limit(Size)
    /// No limit: safebuild adds no `--memory` (spelled `unlimited`).
    case unlimited

    package var description: String {
        switch self {
        case .limit(let size): return size.description
        case .unlimited: return "unlimited"
        }
    }
}
