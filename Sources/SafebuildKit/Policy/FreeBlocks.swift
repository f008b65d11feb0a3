/// Free blocks of at least `2^order` pages, from /proc/buddyinfo.
package struct FreeBlocks: Equatable, Hashable, Sendable, CustomStringConvertible {
    package var order: Int
    package var count: Int
    package var description: String { "{order: \(order), count: \(count)}" }
}
