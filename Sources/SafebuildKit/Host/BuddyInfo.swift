/// Free blocks per order and zone from `/proc/buddyinfo`: how fragmented free memory is.
package struct BuddyInfo: Codable, Sendable, Equatable {
    package struct Zone: Codable, Sendable, Equatable {
        package var node: Int
        package var zone: String
        /// Free blocks of order 0, 1, 2 … (a block of order n is 2^n pages).
        package var free: [UInt64]
    }

    package var zones: [Zone]

    package static let path = "/proc/buddyinfo"

    /// Free blocks of order `order` or higher over all zones, counted in blocks of exactly `order`
    /// (an order-6 block holds four order-4 blocks), which is what an order-`order` allocation can use.
    package func freeBlocks(atLeast order: Int) -> UInt64 {
        var count: UInt64 = 0
        for zone in zones {
            for (o, n) in zone.free.enumerated() where o >= order {
                let (sum, overflow) = count.addingReportingOverflow(n << UInt64(o - order))
                count = overflow ? .max : sum
            }
        }
        return count
    }

    /// The highest order with a free block in any zone, or nil when nothing is free.
    package var highestFreeOrder: Int? {
        zones.compactMap { $0.free.lastIndex { $0 > 0 } }.max()
    }

    package static func parse(_ text: String, source: String = path) throws(ProbeError) -> BuddyInfo {
        var zones: [Zone] = []
        for line in text.split(separator: "\n") {
            // "Node 0, zone   Normal      2      0 …"
            let words = line.split(separator: " ")
            guard words.count >= 5, words[0] == "Node", words[1].hasSuffix(","), words[2] == "zone",
                let node = Int(words[1].dropLast())
            else { throw ProbeError(source, "unexpected line \"\(line.prefix(60))\"") }
            var free: [UInt64] = []
            for word in words[4...] {
                guard let n = UInt64(word) else { throw ProbeError(source, "not a count: \"\(word)\"") }
                free.append(n)
            }
            zones.append(Zone(node: node, zone: String(words[3]), free: free))
        }
        guard !zones.isEmpty else { throw ProbeError(source, "no zones") }
        return BuddyInfo(zones: zones)
    }
}
