/// How much swap a container may use beyond its memory, as docker's `--memory-swap` (memory plus swap) expresses it.
package enum SwapRule: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// `--memory-swap` of this size (memory plus swap; never below the memory limit).
    case size(Size)
    /// No swap: `--memory-swap` equal to `--memory` (spelled `none`, `no` or `off`).
    case noSwap
    /// Unlimited swap: `--memory-swap -1` (spelled `-1` or `unlimited`).
    case unlimited

    package var description: String {
        switch self {
        case .size(let size): return size.description
        case .noSwap: return "none"
        case .unlimited: return "unlimited"
        }
    }

    /// The `--memory-swap` value for a container limited to `memory` bytes: bytes, or -1 for unlimited.
    package func memorySwap(memory: UInt64, hostMemory: UInt64) -> Int64 {
        switch self {
        case .noSwap: return Int64(clamping: memory)
        case .unlimited: return -1
        case .size(let size): return Int64(clamping: max(size.bytes(hostMemory: hostMemory), memory))
        }
    }
}
