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

    /// `90s`, `30m`, `2h`, `1d`, `2w`, `1h30m` before `now` (a `TimeSpan`, as the policy writes durations), or a time
    /// `2026-11-23T10:00` (UTC unless it has an offset). A number without a unit is refused: as a time it would be
    /// read as seconds (`--since 2026` is not the year), and docker's own `--since` reads it as a Unix timestamp.
    package static func since(_ text: String, now: Double) throws(SafebuildError) -> Double {
        switch TimeSpan.parse(text) {
        case .success(let span):
            guard text.contains(where: { $0.isLetter }) else {
                throw SafebuildError(
                    .usage, "--since \(text) has no unit: give a duration such as \(text)s, 30m, 2h or 1d, or a time (2026-11-23T10:00)")
            }
            return now - span.seconds
        case .failure(.tooLong):
            throw SafebuildError(
                .usage, "--since \(text) is longer than 10 years (\(TimeSpan.maximum)): give a shorter duration or a time (2026-11-23T10:00)")
        case .failure(.negative), .failure(.notADuration):
            if let time = JournalTime.parse(text) { return time }
            throw SafebuildError(
                .usage, "--since \(text): give a duration (90s, 30m, 2h, 1d, 2w) or a time (2026-11-23T10:00)")
        }
    }
}
