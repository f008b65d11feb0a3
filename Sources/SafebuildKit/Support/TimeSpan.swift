/// A length of time as safebuild reads it, in the policy (`wait_timeout: 5m`) and in `journal --since 2h`: one grammar
/// for both.
///
/// Grammar: a plain decimal number is seconds (`30`, `2.5`); otherwise one or more components, each a decimal number
/// and a unit, added up (`1h30m`, `1.5h`, `500ms`). Units: Go's `time.ParseDuration` units `ns`, `us` (`µs`, `μs`), `ms`,
/// `s`, `m`, `h`, and also `d` (24h) and `w` (7d). No sign, no spaces, no exponent. At most `maximum` (10 years):
/// longer is a mistake (a timestamp given for a duration), and refusing it keeps every conversion in range.
///
/// Kept as whole nanoseconds; `description` is the shortest text that Go's `time.ParseDuration` also reads (`1h30m`,
/// `0.5s`), so a span can be handed to docker (`--filter until=…`) as it is shown.
package struct TimeSpan: Equatable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Never negative, at most `Int64.max`.
    package let nanoseconds: Int64

    package static let zero = TimeSpan(nanoseconds: 0)
    /// 10 years of 365 days.
    package static let maximum = TimeSpan(nanoseconds: 3650 * day)

    static let second: Int64 = 1_000_000_000
    static let minute: Int64 = 60 * second
    static let hour: Int64 = 60 * minute
    static let day: Int64 = 24 * hour
    static let week: Int64 = 7 * day

    /// The units and their lengths in nanoseconds.
    static let units: [String: Int64] = [
        "ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 1_000_000, "s": second, "m": minute, "h": hour, "d": day,
        "w": week,
    ]

    /// `nanoseconds` below 0 count as 0.
    package init(nanoseconds: Int64) {
        self.nanoseconds = Swift.max(nanoseconds, 0)
    }

    /// Seconds, rounded to whole nanoseconds; anything outside 0…Int64.max nanoseconds (NaN included) is clamped, so that
    /// no value of a `Double` traps here.
    package init(seconds: Double) {
        let ns = (seconds * 1e9).rounded()
        if !(ns > 0) {
            nanoseconds = 0
        } else if ns >= 9.223372036854775807e18 {
            nanoseconds = Int64.max
        } else {
            nanoseconds = Int64(ns)
        }
    }

    package var seconds: Double { Double(nanoseconds) / 1e9 }

    package static func seconds(_ n: Int64) -> TimeSpan { TimeSpan(nanoseconds: n * second) }
    package static func minutes(_ n: Int64) -> TimeSpan { TimeSpan(nanoseconds: n * minute) }
    package static func hours(_ n: Int64) -> TimeSpan { TimeSpan(nanoseconds: n * hour) }
    package static func days(_ n: Int64) -> TimeSpan { TimeSpan(nanoseconds: n * day) }

    package static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Why a text is not a time span.
    package enum Problem: Error, Equatable, Sendable {
        /// Starts with `-`.
        case negative
        /// Not in the grammar (empty, an unknown unit, a number without a unit after the first component…).
        case notADuration
        /// In the grammar, but longer than `maximum`.
        case tooLong
    }

    /// Reads `text` in the grammar above.
    package static func parse(_ text: String) -> Result<TimeSpan, Problem> {
        if text.hasPrefix("-") { return .failure(.negative) }
        guard let components = components(text) else { return .failure(.notADuration) }
        var total: Int64 = 0
        for component in components {
            guard let ns = component.nanoseconds else { return .failure(.tooLong) }
            let (sum, overflow) = total.addingReportingOverflow(ns)
            if overflow { return .failure(.tooLong) }
            total = sum
        }
        guard total <= maximum.nanoseconds else { return .failure(.tooLong) }
        return .success(TimeSpan(nanoseconds: total))
    }

    /// A number and its unit: `1.5` and `h`.
    struct Component {
        var whole: Substring
        var fraction: Substring
        var unit: Int64

        /// The component's length; nil when it does not fit in 64 bits.
        var nanoseconds: Int64? {
            var n: Int64 = 0
            for digit in whole.utf8 {
                let (times, o1) = n.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(Int64(digit - 48))
                if o1 || o2 { return nil }
                n = plus
            }
            let (wholeNs, overflow) = n.multipliedReportingOverflow(by: unit)
            if overflow { return nil }
            guard !fraction.isEmpty else { return wholeNs }
            // The fraction of one unit, to the nanosecond: 18 digits are more than any unit needs.
            var digits: Int64 = 0
            var scale: Double = 1
            for digit in fraction.utf8.prefix(18) {
                digits = digits * 10 + Int64(digit - 48)
                scale *= 10
            }
            let part = Int64((Double(digits) / scale * Double(unit)).rounded())
            let (sum, o3) = wholeNs.addingReportingOverflow(part)
            return o3 ? nil : sum
        }
    }

    /// The components of `text`, or nil when it is not in the grammar.
    static func components(_ text: String) -> [Component]? {
        var rest = Substring(text)
        func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
        func number() -> (Substring, Substring)? {
            let whole = rest.prefix(while: isDigit)
            rest = rest.dropFirst(whole.count)
            var fraction = Substring()
            if rest.first == "." {
                rest = rest.dropFirst()
                fraction = rest.prefix(while: isDigit)
                rest = rest.dropFirst(fraction.count)
            }
            return whole.isEmpty && fraction.isEmpty ? nil : (whole, fraction)
        }
        guard !rest.isEmpty else { return nil }
        var result: [Component] = []
        while !rest.isEmpty {
            guard let (whole, fraction) = number() else { return nil }
            let unitText = rest.prefix { !isDigit($0) && $0 != "." }
            rest = rest.dropFirst(unitText.count)
            if unitText.isEmpty {
                // A plain number is seconds, but only on its own: `1h30` is a mistake, not 1h and 30 s.
                guard result.isEmpty, rest.isEmpty else { return nil }
                return [Component(whole: whole, fraction: fraction, unit: second)]
            }
            guard let unit = units[String(unitText)] else { return nil }
            result.append(Component(whole: whole, fraction: fraction, unit: unit))
        }
        return result
    }

    /// `0s`; whole seconds as hours, minutes and seconds (`1h30m`, `24h`, `45s`); otherwise seconds with a decimal
    /// fraction (`0.5s`, `90.25s`).
    package var description: String {
        if nanoseconds == 0 { return "0s" }
        let whole = nanoseconds / Self.second
        let fraction = nanoseconds % Self.second
        if fraction != 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 9 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            return "\(whole).\(digits)s"
        }
        var out = ""
        var rest = whole
        if rest >= 3600 {
            out += "\(rest / 3600)h"
            rest %= 3600
        }
        if rest >= 60 {
            out += "\(rest / 60)m"
            rest %= 60
        }
        if rest > 0 { out += "\(rest)s" }
        return out
    }
}
