import Foundation

/// The work of `safebuild journal` (list), `summary` and `show ID` (their command lines are CLI/SafebuildJournal*).
/// Reads the rotated files too.
package enum JournalCommand {
    /// The invocations that pass `filter`, oldest first, the last `limit` of them (0: all): a table, or one JSON
    /// object per line.
    static func list(
        _ filter: JournalFilter, limit: Int, json: Bool, journalPath: String, print: (String) -> Void
    ) throws(SafebuildError) -> Int32 {
        let contents = try readOrExplain(journalPath)
        var selected = contents.invocations.filter(filter.matches)
        selected.sort { $0.started < $1.started }
        if limit > 0, selected.count > limit { selected = Array(selected.suffix(limit)) }
        if json {
            print(jsonLines(selected.map { .invocation($0) }))
        } else {
            var memory: [String: AttemptMemory] = [:]
            for attempt in contents.attempts { if let m = attempt.memory { memory[attempt.invocation] = m } }
            print(table(selected, memory: memory))
            if contents.unparsable > 0 {
                Console.warn("\(contents.unparsable) line(s) of the journal could not be read and were skipped")
            }
        }
        return 0
    }

    /// Counts of outcomes, classes and remedies over the invocations that pass `filter`.
    static func summary(
        _ filter: JournalFilter, json: Bool, journalPath: String, print: (String) -> Void
    ) throws(SafebuildError) -> Int32 {
        let contents = try readOrExplain(journalPath)
        let summary = JournalSummary(contents, filter: filter)
        print(json ? encode(summary) + "\n" : summaryText(summary, path: journalPath))
        return 0
    }

    /// One invocation (by its id or a unique prefix of it) and its attempts.
    static func show(id: String, json: Bool, journalPath: String, print: (String) -> Void) throws(SafebuildError) -> Int32 {
        let contents = try JournalReader.read(path: journalPath)
        let invocation = try Journal.find(id: id, path: journalPath)
        // The invocation first, then its attempts in order (the file has them the other way round).
        let records = [JournalRecord.invocation(invocation)]
            + contents.records.filter {
                if case .attempt(let a) = $0 { return a.invocation == invocation.id } else { return false }
            }
        print(json ? jsonLines(records) : show(records))
        return 0
    }

    static func readOrExplain(_ path: String) throws(SafebuildError) -> JournalContents {
        let contents = try JournalReader.read(path: path)
        if contents.files.isEmpty { Console.say("no journal at \(path) yet: nothing has been recorded") }
        return contents
    }

    // MARK: - Text

    /// TIME, ID, OUTCOME, ATTEMPTS, CLASS, PEAK/LIMIT (the last attempt's, from its memory cgroups), COMMAND, JOB.
    static func table(_ invocations: [InvocationRecord], memory: [String: AttemptMemory] = [:]) -> String {
        var rows = [["TIME", "ID", "OUTCOME", "ATTEMPTS", "CLASS", "PEAK/LIMIT", "COMMAND", "JOB"]]
        for inv in invocations {
            let what = [inv.command] + (inv.image.map { [$0] } ?? inv.tags ?? [])
            let job = inv.ci.flatMap { ci in ci.jobName.map { $0 + (ci.buildNumber.map { " #\($0)" } ?? "") } }
            rows.append([
                String(inv.started.prefix(19)).replacingOccurrences(of: "T", with: " "), inv.id, inv.outcome.rawValue,
                String(inv.attempts), inv.failureClass ?? "-", memory[inv.id].map(peakAndLimit) ?? "-",
                what.joined(separator: " "), job ?? "-",
            ])
        }
        return columns(rows)
    }

    /// Per image or job: runs, peaks of the successful attempts (p50, p95, max) and OOM kills (own limit / pool).
    static func memoryTable(_ title: String, _ profiles: [MemoryProfile]) -> String {
        func mib(_ n: UInt64?) -> String { n.map { "\(($0 + (1 << 19)) >> 20)M" } ?? "-" }
        return columns([[title, "RUNS", "PEAKS", "P50", "P95", "MAX", "OOM KILLS", "OWN/POOL"]]
            + profiles.map {
                [$0.name, String($0.runs), String($0.peaks.count), mib($0.p50), mib($0.p95), mib($0.max), String($0.oomKills),
                 "\($0.ownLimitKills)/\($0.poolKills)"]
            })
    }

    /// `602M/800M`: the peak and the limit in MiB (`-` for what is unknown, `none` for no limit).
    static func peakAndLimit(_ m: AttemptMemory) -> String {
        func mib(_ n: UInt64) -> String { "\((n + (1 << 19)) >> 20)M" }
        guard m.peakBytes != nil || m.limitBytes != nil else { return "-" }
        return (m.peakBytes.map(mib) ?? "-") + "/" + (m.limitBytes.map(mib) ?? (m.containers > 0 ? "none" : "-"))
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
        for (title, profiles) in [("IMAGE", s.images), ("JOB", s.jobs)] where !profiles.isEmpty {
            lines.append("")
            lines.append(memoryTable(title, profiles).dropLast().description)
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
                if let admission = a.admission { out += "  admission: \(admissionText(admission))\n" }
                if let memory = a.memory { out += "  memory: \(memoryText(memory))\n" }
                if let diagnosis = a.memory?.diagnosis, let cause = a.memory?.oomCause {
                    out += "  oom cause: \(cause.rawValue): \(diagnosis)\n"
                }
                for r in a.remedies {
                    out += r.isPreflight ? "  pre-flight remedy \(r.name): " : "  remedy \(r.name): "
                    out += r.ran ? "\(ConsoleReport.phrase(r)) in \(ConsoleReport.seconds(r.seconds))"
                        : "skipped" + (r.skippedReason.map { " (\($0))" } ?? "")
                    out += "\n"
                }
                out += "  decision: \(a.decision)\n"
            case .remedy(let r):
                out += "remedy \(r.remedy.name) for \(r.requestedBy ?? "root") via \(r.via): \(r.started)"
                out += r.remedy.ran ? ", ran in \(ConsoleReport.seconds(r.remedy.seconds))\n"
                    : ", skipped" + (r.remedy.skippedReason.map { " (\($0))" } ?? "") + "\n"
            }
        }
        return out
    }

    /// `admitted after 12s: 839 MB (its memory limit 800m) of the 1.07 GB budget (memory limit of cgroup /sbadm)`.
    static func admissionText(_ a: JournalAdmission) -> String {
        let b = AdmissionProgress.bytes
        var text = a.outcome.rawValue.replacingOccurrences(of: "_", with: " ")
        if a.waitedSeconds >= 0.05 { text += " after \(ConsoleReport.seconds(a.waitedSeconds))" }
        if let request = a.requestBytes {
            text += ": \(b(request))" + (a.request.map { " (\($0))" } ?? "")
            if let budget = a.budgetBytes { text += " of the \(b(budget)) budget" + (a.budget.map { " (\($0))" } ?? "") }
        }
        if let ahead = a.ahead, ahead > 0 { text += "; \(ahead) waiting ahead" }
        if let message = a.message { text += "; \(message)" }
        return text
    }

    /// `peak 602 MiB of its limit 800 MiB, 0 OOM kills; pool /sbadm: peak 1.0 GiB of 1.0 GiB, 0 OOM kills`.
    static func memoryText(_ m: AttemptMemory) -> String {
        let d = AdmissionProgress.bytes
        var parts: [String] = []
        if m.containers > 0 || m.peakBytes != nil {
            var own = "peak " + (m.peakBytes.map(d) ?? "unknown")
            own += m.limitBytes.map { " of its limit \(d($0))" } ?? ", no limit"
            if let kills = m.oomKills { own += ", \(kills) OOM kill(s)" }
            if m.containers > 1 { own += " over \(m.containers) containers" }
            parts.append(own)
        }
        if let notMeasured = m.notMeasured { parts.append("not measured: \(notMeasured)") }
        var pool = "pool \(m.pool ?? "?")"
        if let peak = m.poolPeakBytes { pool += ": peak \(d(peak))" + (m.poolLimitBytes.map { " of \(d($0))" } ?? "") }
        if let kills = m.poolOOMKills { pool += ", \(kills) OOM kill(s) counted" }
        parts.append(pool)
        return parts.joined(separator: "; ")
    }

    // MARK: - JSON

    static func jsonLines(_ records: [JournalRecord]) -> String {
        records.map { record -> String in
            let line = try? JournalCoding.line(record)
            return line.map { String(decoding: $0, as: UTF8.self) } ?? ""
        }.joined()
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
