import Foundation
import Glibc

/// Which invocations `safebuild journal` looks at. Pure.
package struct JournalFilter: Sendable, Equatable {
    /// Only invocations started at or after this time (seconds since the epoch).
    package var since: Double?
    package var outcomes: Set<JournalOutcome> = []
    package var classes: Set<String> = []
    /// Shell pattern matched against the image (`run`) and each tag (`build`).
    package var image: String?
    /// Shell pattern matched against the CI job name.
    package var job: String?

    package init() {}

    package func matches(_ invocation: InvocationRecord) -> Bool {
        if let since, let started = JournalTime.parse(invocation.started), started < since { return false }
        if !outcomes.isEmpty, !outcomes.contains(invocation.outcome) { return false }
        if !classes.isEmpty, !classes.contains(invocation.failureClass ?? "") { return false }
        if let image {
            let names = (invocation.image.map { [$0] } ?? []) + (invocation.tags ?? [])
            if !names.contains(where: { Self.glob(image, $0) }) { return false }
        }
        if let job, !Self.glob(job, invocation.ci?.jobName ?? "") { return false }
        return true
    }

    /// Whether the filter looks at more than time.
    var narrowsBeyondTime: Bool { !outcomes.isEmpty || !classes.isEmpty || image != nil || job != nil }

    static func glob(_ pattern: String, _ text: String) -> Bool { fnmatch(pattern, text, 0) == 0 }

    /// `90s`, `30m`, `2h`, `1d`, `2w` before `now`, or a time `2026-11-23T10:00` (UTC unless it has an offset).
    package static func since(_ text: String, now: Double) -> Double? {
        if let last = text.last, let n = Double(text.dropLast()), n >= 0 {
            let unit: Double? = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800][last]
            if let unit { return now - n * unit }
        }
        return JournalTime.parse(text)
    }
}
