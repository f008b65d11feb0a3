/// The lines of `/proc/meminfo` that matter for a build, in bytes.
package struct MemInfo: Codable, Sendable, Equatable {
    package var total: UInt64
    /// The kernel's estimate of memory a new workload can use without swapping (`MemAvailable`).
    package var available: UInt64
    package var free: UInt64
    package var cached: UInt64
    /// Page cache waiting to be written back; a lot of it makes reclaim slow.
    package var dirty: UInt64
    package var swapTotal: UInt64
    package var swapFree: UInt64
    package var commitLimit: UInt64
    package var committed: UInt64

    package var hasSwap: Bool { swapTotal > 0 }

    package static let path = "/proc/meminfo"

    /// Parses `/proc/meminfo` text (`Key:   123 kB` lines).
    package static func parse(_ text: String, source: String = path) throws(ProbeError) -> MemInfo {
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
