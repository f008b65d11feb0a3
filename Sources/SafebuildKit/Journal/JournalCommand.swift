import Foundation

/// `safebuild journal`: recent invocations as a table, `summary`, `show ID`, `path`. Reads the rotated files too.
package enum JournalCommand {
    package static let usage = """
        usage: safebuild journal [list] [--since 2h|2026-11-23T10:00] [--outcome O[,O…]] [--class C[,C…]]
                                 [--image GLOB] [--job GLOB] [--limit N] [--json]
               safebuild journal summary [the same filters] [--json]
               safebuild journal show ID [--json]
               safebuild journal path

        outcomes: succeeded, succeeded_after_retry, failed, refused, aborted. Times without an offset are UTC.
        --limit defaults to 20 (0: all). --json prints JSON (list: one invocation per line).

        """

    package static func run(
        arguments: [String], options: SafebuildOptions, environment: [String: String], journalPath: String
    ) throws(SafebuildError) -> Int32 {
        try run(arguments: arguments, journalPath: journalPath, now: JournalTime.now()) { Output.write(1, $0) }
    }

    /// The command with its clock and output given, for tests.
    static func run(
        arguments: [String], journalPath: String, now: Double, print: (String) -> Void
    ) throws(SafebuildError) -> Int32 {
        var words = arguments[...]
        var mode = "list"
        if let first = words.first, ["list", "summary", "show", "path", "help", "--help", "-h"].contains(first) {
            mode = first
            words = words.dropFirst()
        }
        var filter = JournalFilter()
        var limit = 20
        var json = false
        var id: String?
        while let word = words.popFirst() {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            let name = word.hasPrefix("--") ? parts[0] : word
            func value() throws(SafebuildError) -> String {
                if parts.count == 2, word.hasPrefix("--") { return parts[1] }
                guard let next = words.popFirst() else {
                    throw SafebuildError(.usage, "journal option \(name) needs a value; see 'safebuild journal --help'")
                }
                return next
            }
            switch name {
            case "--json": json = true
            case "--since":
                filter.since = try JournalFilter.since(try value(), now: now)
            case "--outcome":
                for o in try value().split(separator: ",") {
                    guard let outcome = JournalOutcome(rawValue: String(o)) else {
                        let known = JournalOutcome.allCases.map(\.rawValue).joined(separator: ", ")
                        throw SafebuildError(.usage, "--outcome \(o) is not an outcome; use one of \(known)")
                    }
                    filter.outcomes.insert(outcome)
                }
            case "--class": filter.classes.formUnion(try value().split(separator: ",").map(String.init))
            case "--image": filter.image = try value()
            case "--job": filter.job = try value()
            case "--limit":
                let text = try value()
                guard let n = Int(text), n >= 0 else {
                    throw SafebuildError(.usage, "--limit takes a whole number, 0 for all (got '\(text)')")
                }
                limit = n
            default:
                if mode == "show", id == nil, !word.hasPrefix("-") {
                    id = word
                } else {
                    throw SafebuildError(.usage, "journal: unknown argument '\(word)'; see 'safebuild journal --help'")
                }
            }
        }

        switch mode {
        case "help", "--help", "-h":
            print(usage)
            return 0
        case "path":
            print(journalPath + "\n")
            return 0
        case "show":
            guard let id else { throw SafebuildError(.usage, "journal show needs an invocation id") }
            let contents = try JournalReader.read(path: journalPath)
            let invocation = try Journal.find(id: id, path: journalPath)
            // The invocation first, then its attempts in order (the file has them the other way round).
            let records = [JournalRecord.invocation(invocation)]
                + contents.records.filter {
                    if case .attempt(let a) = $0 { return a.invocation == invocation.id } else { return false }
                }
            print(json ? jsonLines(records) : show(records))
            return 0
        case "summary":
            let contents = try readOrExplain(journalPath)
            let summary = JournalSummary(contents, filter: filter)
            print(json ? encode(summary) + "\n" : summaryText(summary, path: journalPath))
            return 0
        default:
            let contents = try readOrExplain(journalPath)
            var selected = contents.invocations.filter(filter.matches)
            selected.sort { $0.started < $1.started }
            if limit > 0, selected.count > limit { selected = Array(selected.suffix(limit)) }
            if json {
                print(jsonLines(selected.map { .invocation($0) }))
            } else {
                print(table(selected))
                if contents.unparsable > 0 {
                    Console.warn("\(contents.unparsable) line(s) of the journal could not be read and were skipped")
                }
            }
            return 0
        }
    }

    static func readOrExplain(_ path: String) throws(SafebuildError) -> JournalContents {
        let contents = try JournalReader.read(path: path)
        if contents.files.isEmpty { Console.say("no journal at \(path) yet: nothing has been recorded") }
        return contents
    }

    // MARK: - Text

    /// TIME, ID, OUTCOME, ATTEMPTS, CLASS, COMMAND, JOB.
    static func table(_ invocations: [InvocationRecord]) -> String {
        var rows = [["TIME", "ID", "OUTCOME", "ATTEMPTS", "CLASS", "COMMAND", "JOB"]]
        for inv in invocations {
            let what = [inv.command] + (inv.image.map { [$0] } ?? inv.tags ?? [])
            let job = inv.ci.flatMap { ci in ci.jobName.map { $0 + (ci.buildNumber.map { " #\($0)" } ?? "") } }
            rows.append([
                String(inv.started.prefix(19)).replacingOccurrences(of: "T", with: " "), inv.id, inv.outcome.rawValue,
                String(inv.attempts), inv.failureClass ?? "-", what.joined(separator: " "), job ?? "-",
            ])
        }
        return columns(rows)
    }

    static func columns(_ rows: [[String]]) -> String {
        guard let width = rows.first?.count else { return "" }
        let widths = (0..<width).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in c == width - 1 ? cell : cell.padding(widths[c] + 1) }.joined()
        }.joined(separator: "\n") + "\n"
    }

    static func summaryText(_ s: JournalSummary, path: String) -> String {
        var lines = [
            "invocations:      \(s.invocations)",
            "succeeded:        \(s.outcomes[JournalOutcome.succeeded.rawValue] ?? 0)",
            "saved by a retry: \(s.savedByRetry)",
            "failed for good:  \(s.failedForGood)",
            "refused:          \(s.outcomes[JournalOutcome.refused.rawValue] ?? 0)",
            "aborted:          \(s.outcomes[JournalOutcome.aborted.rawValue] ?? 0)",
            "attempts:         \(s.attempts) (\(s.retries) retries)",
        ]
        if s.unfinished > 0 { lines.append("unfinished:       \(s.unfinished) (attempts without an invocation record)") }
        if !s.byClass.isEmpty {
            lines.append("")
            lines.append(columns([["CLASS", "FAILED ATTEMPTS", "SAVED", "FAILED"]]
                + s.byClass.map { [$0.failureClass, String($0.failedAttempts), String($0.saved), String($0.failed)] })
                .dropLast().description)
        }
        lines.append("")
        lines.append("remedies run:     \(s.remediesRun), reclaimed \(ConsoleReport.bytes(s.reclaimedBytes))")
        if !s.remedies.isEmpty {
            lines.append(columns([["REMEDY", "RAN", "SKIPPED", "FAILED", "RECLAIMED"]]
                + s.remedies.map {
                    [$0.name, String($0.ran), String($0.skipped), String($0.failed), ConsoleReport.bytes($0.reclaimedBytes)]
                }).dropLast().description)
        }
        if s.unparsable > 0 { lines.append("unreadable lines skipped: \(s.unparsable)") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func show(_ records: [JournalRecord]) -> String {
        var out = ""
        for record in records {
            switch record {
            case .invocation(let inv):
                out += "invocation \(inv.id)" + (inv.retryOf.map { " (retry of \($0))" } ?? "") + "\n"
                out += "  \(inv.started) → \(inv.ended) (\(ConsoleReport.seconds(inv.durationSeconds)))\n"
                out += "  \(inv.user)@\(inv.host) in \(inv.cwd)\n"
                out += "  command:  docker \(ShellQuote.join(inv.argv))\n"
                if inv.executedArgv != inv.argv { out += "  executed: docker \(ShellQuote.join(inv.executedArgv))\n" }
                if let policy = inv.policySource { out += "  policy:   \(policy)\n" }
                for d in inv.preflight ?? [] { out += "  pre-flight: \(ConsoleReport.decisionText(d))\n" }
                out += "  outcome:  \(inv.outcome.rawValue) after \(inv.attempts) attempt(s), exit status \(inv.exitStatus)"
                out += (inv.failureClass.map { ", class \($0)" } ?? "") + "\n"
                if let ci = inv.ci {
                    let parts = [ci.jobName.map { "job \($0)" }, ci.buildNumber.map { "#\($0)" },
                                 ci.nodeName.map { "node \($0)" }, ci.gitCommit.map { "commit \($0)" },
                                 ci.buildURL].compactMap { $0 }
                    out += "  ci:       \(parts.joined(separator: " "))\n"
                }
            case .attempt(let a):
                let number = a.maxAttempts.map { "\(a.attempt)/\($0)" } ?? String(a.attempt)
                out += "attempt \(number): \(a.started) (\(ConsoleReport.seconds(a.durationSeconds)))"
                out += a.exitStatus.map { ", exit status \($0)" } ?? ""
                out += a.signal.map { ", \(ConsoleReport.signalName($0))" } ?? ""
                out += (a.failureClass.map { ", class \($0)" } ?? "") + "\n"
                for d in a.preflight { out += "  pre-flight: \(ConsoleReport.decisionText(d))\n" }
                if let line = a.matchedLine { out += "  matched: \(line)\n" }
                for r in a.remedies {
                    out += "  remedy \(r.name): "
                    out += r.ran ? "\(ConsoleReport.phrase(r)) in \(ConsoleReport.seconds(r.seconds))"
                        : "skipped" + (r.skippedReason.map { " (\($0))" } ?? "")
                    out += "\n"
                }
                out += "  decision: \(a.decision)\n"
            }
        }
        return out
    }

    // MARK: - JSON

    static func jsonLines(_ records: [JournalRecord]) -> String {
        records.map { record -> String in
            let line: [UInt8]?
            switch record {
            case .invocation(let r): line = try? JournalCoding.line(r)
            case .attempt(let r): line = try? JournalCoding.line(r)
            }
            return line.map { String(decoding: $0, as: UTF8.self) } ?? ""
        }.joined()
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
