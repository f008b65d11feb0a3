@testable import SafebuildKit
import Testing

/// The one duration grammar: the policy's durations and `journal --since`.
@Suite struct TimeSpanTests {
    static let second: Int64 = 1_000_000_000

    static let valid: [(String, Int64)] = [
        ("0", 0), ("30", 30 * second), ("2.5", 2_500_000_000), ("90s", 90 * second), ("5m", 300 * second),
        ("1h30m", 5400 * second), ("1.5h", 5400 * second), ("1h0m0s", 3600 * second), ("500ms", 500_000_000),
        (".5s", 500_000_000), ("250us", 250_000), ("250µs", 250_000), ("250μs", 250_000), ("10ns", 10),
        ("1d", 86400 * second), ("2w", 1_209_600 * second), ("1d12h", 129_600 * second), ("0.1s", 100_000_000),
        ("3650d", 315_360_000 * second), ("87600h", 315_360_000 * second),
    ]

    @Test(arguments: valid)
    func reads(text: String, nanoseconds: Int64) {
        #expect(TimeSpan.parse(text) == .success(TimeSpan(nanoseconds: nanoseconds)))
    }

    @Test(arguments: ["", "soon", "1x", "1h30", "h", "1 h", " 1h", "+1h", "1e3", "1e3s", "1h 30m", "1.2.3s", ".s", "1H"])
    func notADuration(text: String) {
        #expect(TimeSpan.parse(text) == .failure(.notADuration))
    }

    @Test(arguments: ["-5", "-1h", "-"])
    func negative(text: String) {
        #expect(TimeSpan.parse(text) == .failure(.negative))
    }

    /// Past 10 years, and past what 64 bits of nanoseconds hold (2^63 s, 10^23 h): refused, never a trap.
    @Test(arguments: ["3651d", "87601h", "315360001", "9223372036854775808", "99999999999999999999999h", "1w99999999999999999999d"])
    func tooLong(text: String) {
        #expect(TimeSpan.parse(text) == .failure(.tooLong))
    }

    static let spellings: [(Int64, String)] = [
        (0, "0s"), (90 * second, "1m30s"), (86400 * second, "24h"), (3661 * second, "1h1m1s"), (500_000_000, "0.5s"),
        (90_250_000_000, "90.25s"), (1, "0.000000001s"), (315_360_000 * second, "87600h"),
    ]

    /// The shortest text, as `policy show` prints it and docker's `until` filter (Go's `time.ParseDuration`) reads it;
    /// read back, it is the same span.
    @Test(arguments: spellings)
    func spelling(nanoseconds: Int64, text: String) {
        let span = TimeSpan(nanoseconds: nanoseconds)
        #expect(span.description == text)
        #expect(TimeSpan.parse(text) == .success(span))
    }

    /// Any Double converts without trapping (values made in code, not read from a policy).
    @Test func secondsAreClamped() {
        #expect(TimeSpan(seconds: 9_223_372_036_854_775_808).nanoseconds == Int64.max)
        #expect(TimeSpan(seconds: 1e300).nanoseconds == Int64.max)
        #expect(TimeSpan(seconds: .infinity).nanoseconds == Int64.max)
        #expect(TimeSpan(seconds: .nan) == .zero)
        #expect(TimeSpan(seconds: -5) == .zero)
        #expect(TimeSpan(seconds: 0.1).nanoseconds == 100_000_000)
    }

    /// The same text means the same length of time in the policy and in `journal --since`.
    @Test(arguments: [
        ("90s", 90.0), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("2w", 1_209_600), ("1h30m", 5400), ("1.5h", 5400),
        ("500ms", 0.5), ("365d", 31_536_000),
    ])
    func sharedByPolicyAndJournal(text: String, seconds: Double) throws {
        let policy = try PolicyParser.parse("remedies:\n  prune_until: \(text)\n", file: "p.yml", over: PolicyLoader.builtIn).get()
        #expect(policy.remedies.pruneUntil.value == seconds)
        let now = 2_000_000_000.0
        #expect(try JournalFilter.since(text, now: now) == now - seconds)
    }

    /// What `journal --since` says about what it refuses.
    @Test(arguments: [
        ("90", "--since 90 has no unit: give a duration such as 90s, 30m, 2h or 1d, or a time (2026-11-23T10:00)"),
        ("3651d", "--since 3651d is longer than 10 years (87600h): give a shorter duration or a time (2026-11-23T10:00)"),
        ("1700000000s", "--since 1700000000s is longer than 10 years (87600h): give a shorter duration or a time (2026-11-23T10:00)"),
        ("yesterday", "--since yesterday: give a duration (90s, 30m, 2h, 1d, 2w) or a time (2026-11-23T10:00)"),
        ("-5m", "--since -5m: give a duration (90s, 30m, 2h, 1d, 2w) or a time (2026-11-23T10:00)"),
    ])
    func journalRefuses(text: String, message: String) {
        do throws(SafebuildError) {
            var options = SafebuildOptions()
            options.journalPath = "/nonexistent/journal.jsonl"
            _ = try runOwn(["journal", "--since=\(text)"], options: options)
            Issue.record("--since \(text) was accepted")
        } catch {
            #expect(error.status == .usage)
            #expect(error.message == message)
        }
    }

    /// A time is still a time, and a duration with a unit still a duration.
    @Test func journalTimesAndDurations() throws {
        let now = JournalTime.parse("2026-11-23T10:00:00Z")!
        #expect(try JournalFilter.since("2026-11-23T09:15", now: now) == now - 45 * 60)
        #expect(try JournalFilter.since("2026-11-23", now: now) == now - 10 * 3600)
        #expect(try JournalFilter.since("35m", now: now) == now - 35 * 60)
    }
}
