/// Pressure stall information from `/proc/pressure/memory` (kernel 4.20+, `CONFIG_PSI`, `psi=1`).
package struct Pressure: Codable, Sendable, Equatable {
    package struct Line: Codable, Sendable, Equatable {
        /// Percent of wall time over the last 10, 60 and 300 seconds.
        package var avg10: Double
        package var avg60: Double
        package var avg300: Double
        /// Microseconds stalled since boot.
        package var total: UInt64
    }

    /// Some task stalled on memory.
    package var some: Line
    /// All non-idle tasks stalled at once (absent on the system-wide file of old kernels for cpu only; here optional).
    package var full: Line?

    package static let path = "/proc/pressure/memory"

    package static func parse(_ text: String, source: String = path) throws(ProbeError) -> Pressure {
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
