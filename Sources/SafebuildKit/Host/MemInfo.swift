/// The lines of `/proc/meminfo` that matter for a build, in bytes.
public struct MemInfo: Codable, Sendable, Equatable {
    public var total: UInt64
    /// The kernel's estimate of memory a new workload can use without swapping (`MemAvailable`).
    public var available: UInt64
    public var free: UInt64
    public var cached: UInt64
    /// Page cache waiting to be written back; a lot of it makes reclaim slow.
    public var dirty: UInt64
    public var swapTotal: UInt64
    public var swapFree: UInt64
    public var commitLimit: UInt64
    public var committed: UInt64

    public var hasSwap: Bool { swapTotal > 0 }

    public static let path = "/proc/meminfo"

    /// Parses `/proc/meminfo` text (`Key:   123 kB` lines).
    public static func parse(_ text: String, source: String = path) throws(ProbeError) -> MemInfo {
        var values: [Substring: UInt64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else {
                throw ProbeError(source, "line without a colon: \"\(line.prefix(60))\"")
            }
            let key = line[..<colon]
            let fields = line[line.index(after: colon)...].split(separator: " ")
            guard let first = fields.first, let number = UInt64(first) else {
                throw ProbeError(source, "\(key) has no number: \"\(line.prefix(60))\"")
            }
            let scale: UInt64 = fields.count > 1 && fields[1] == "kB" ? 1024 : 1
            let (bytes, overflow) = number.multipliedReportingOverflow(by: scale)
            guard !overflow else { throw ProbeError(source, "\(key) is out of range: \"\(line.prefix(60))\"") }
            values[key] = bytes
        }
        func need(_ key: Substring) throws(ProbeError) -> UInt64 {
            guard let value = values[key] else { throw ProbeError(source, "no \(key) line") }
            return value
        }
        return MemInfo(
            total: try need("MemTotal"), available: try need("MemAvailable"), free: try need("MemFree"),
            cached: try need("Cached"), dirty: values["Dirty"] ?? 0, swapTotal: values["SwapTotal"] ?? 0,
            swapFree: values["SwapFree"] ?? 0, commitLimit: values["CommitLimit"] ?? 0,
            committed: values["Committed_AS"] ?? 0)
    }
}

/// Pressure stall information from `/proc/pressure/memory` (kernel 4.20+, `CONFIG_PSI`, `psi=1`).
public struct Pressure: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        /// Percent of wall time over the last 10, 60 and 300 seconds.
        public var avg10: Double
        public var avg60: Double
        public var avg300: Double
        /// Microseconds stalled since boot.
        public var total: UInt64
    }

    /// Some task stalled on memory.
    public var some: Line
    /// All non-idle tasks stalled at once (absent on the system-wide file of old kernels for cpu only; here optional).
    public var full: Line?

    public static let path = "/proc/pressure/memory"

    public static func parse(_ text: String, source: String = path) throws(ProbeError) -> Pressure {
        var some: Line?, full: Line?
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let kind = words.first else { continue }
            var fields: [Substring: Substring] = [:]
            for word in words.dropFirst() {
                guard let eq = word.firstIndex(of: "=") else {
                    throw ProbeError(source, "field without '=': \"\(word)\"")
                }
                fields[word[..<eq]] = word[word.index(after: eq)...]
            }
            func number(_ key: Substring) throws(ProbeError) -> Double {
                guard let text = fields[key], let value = Double(text) else {
                    throw ProbeError(source, "\(kind) line has no number for \(key)")
                }
                return value
            }
            guard let totalText = fields["total"], let total = UInt64(totalText) else {
                throw ProbeError(source, "\(kind) line has no total")
            }
            let parsed = Line(avg10: try number("avg10"), avg60: try number("avg60"), avg300: try number("avg300"), total: total)
            switch kind {
            case "some": some = parsed
            case "full": full = parsed
            default: throw ProbeError(source, "unknown line \"\(kind)\"")
            }
        }
        guard let some else { throw ProbeError(source, "no \"some\" line") }
        return Pressure(some: some, full: full)
    }
}

/// Free blocks per order and zone from `/proc/buddyinfo`: how fragmented free memory is.
public struct BuddyInfo: Codable, Sendable, Equatable {
    public struct Zone: Codable, Sendable, Equatable {
        public var node: Int
        public var zone: String
        /// Free blocks of order 0, 1, 2 … (a block of order n is 2^n pages).
        public var free: [UInt64]
    }

    public var zones: [Zone]

    public static let path = "/proc/buddyinfo"

    /// Free blocks of order `order` or higher over all zones, counted in blocks of exactly `order`
    /// (an order-6 block holds four order-4 blocks), which is what an order-`order` allocation can use.
    public func freeBlocks(atLeast order: Int) -> UInt64 {
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
    public var highestFreeOrder: Int? {
        zones.compactMap { $0.free.lastIndex { $0 > 0 } }.max()
    }

    public static func parse(_ text: String, source: String = path) throws(ProbeError) -> BuddyInfo {
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

/// The `vm.*` sysctls that decide how the kernel reclaims memory under a build.
public struct VMSysctls: Codable, Sendable, Equatable {
    public var swappiness: Int?
    public var minFreeKbytes: Int?
    public var overcommitMemory: Int?
    public var overcommitRatio: Int?
    public var vfsCachePressure: Int?

    public static let directory = "/proc/sys/vm"
    public static let names = ["swappiness", "min_free_kbytes", "overcommit_memory", "overcommit_ratio", "vfs_cache_pressure"]

    /// Builds the value from each file's text (nil: file absent).
    public static func parse(_ files: [String: String]) throws(ProbeError) -> VMSysctls {
        func value(_ name: String) throws(ProbeError) -> Int? {
            guard let text = files[name] else { return nil }
            let trimmed = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first ?? ""
            guard let n = Int(trimmed) else {
                throw ProbeError("\(directory)/\(name)", "not a number: \"\(text.prefix(40))\"")
            }
            return n
        }
        return VMSysctls(
            swappiness: try value("swappiness"), minFreeKbytes: try value("min_free_kbytes"),
            overcommitMemory: try value("overcommit_memory"), overcommitRatio: try value("overcommit_ratio"),
            vfsCachePressure: try value("vfs_cache_pressure"))
    }
}
