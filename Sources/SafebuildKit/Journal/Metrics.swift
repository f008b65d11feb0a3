#if canImport(Glibc)
import Glibc
#endif

/// Prometheus text-format metrics for node_exporter's textfile collector, computed from the journal.
///
/// Counters count what the journal (with its rotated files) holds, so they drop when the oldest rotated file is
/// dropped; Prometheus's `rate()`/`increase()` treat a drop as a counter reset.
public enum Metrics {
    /// The metrics text for the journal's contents. Pure.
    public static func render(_ contents: JournalContents) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [([(String, String)], Double)]) {
            out += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples {
                let text = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(text) \(number(value))\n"
            }
        }
        let invocations = contents.invocations
        let attempts = contents.attempts

        var byCommandOutcome: [String: [JournalOutcome: Int]] = [:]
        for inv in invocations { byCommandOutcome[inv.command, default: [:]][inv.outcome, default: 0] += 1 }
        family(
            "safebuild_invocations_total", "counter", "Protected docker commands run by safebuild, by command and outcome.",
            byCommandOutcome.keys.sorted().flatMap { command in
                JournalOutcome.allCases.map { o in
                    ([("command", command), ("outcome", o.rawValue)], Double(byCommandOutcome[command]?[o] ?? 0))
                }
            })
        family("safebuild_attempts_total", "counter", "Starts of docker for protected commands.", [([], Double(attempts.count))])
        family(
            "safebuild_retries_total", "counter", "Attempts after the first (retries).",
            [([], Double(attempts.filter { $0.attempt > 1 }.count))])
        var classes: [String: Int] = [:]
        for a in attempts { if let c = a.failureClass { classes[c, default: 0] += 1 } }
        family(
            "safebuild_failures_total", "counter", "Failed attempts by failure class.",
            classes.keys.sorted().map { ([("class", $0)], Double(classes[$0]!)) })
        var remedies: [String: [String: Int]] = [:]
        var reclaimed: Int64 = 0
        for r in attempts.flatMap(\.remedies) {
            let result = !r.ran ? "skipped" : r.error == nil ? "ran" : "failed"
            remedies[r.name, default: [:]][result, default: 0] += 1
            if r.ran { reclaimed += r.reclaimed }
        }
        family(
            "safebuild_remedies_total", "counter", "Remedies considered between attempts, by remedy and result (ran, failed, skipped).",
            remedies.keys.sorted().flatMap { name in
                remedies[name]!.keys.sorted().map { ([("remedy", name), ("result", $0)], Double(remedies[name]![$0]!)) }
            })
        family(
            "safebuild_reclaimed_bytes_total", "counter", "Bytes freed by remedies (build cache, images).",
            [([], Double(reclaimed))])

        // The last pre-flight figures.
        if let last = attempts.last(where: { !$0.preflight.isEmpty }) {
            let measured = last.preflight.filter { $0.measured != nil }
            family(
                "safebuild_preflight_measured", "gauge", "The last pre-flight measurement of each check, in its unit.",
                measured.map { ([("check", $0.check), ("unit", $0.unit ?? "")], $0.measured!) })
            let limits = last.preflight.filter { $0.limit != nil }
            family(
                "safebuild_preflight_limit", "gauge", "The policy threshold of each check at the last pre-flight, in its unit.",
                limits.map { ([("check", $0.check), ("unit", $0.unit ?? "")], $0.limit!) })
            if let t = JournalTime.parse(last.started) {
                family(
                    "safebuild_preflight_timestamp_seconds", "gauge", "When the last pre-flight ran (Unix time).",
                    [([], t)])
            }
        }
        if let last = invocations.last, let t = JournalTime.parse(last.ended) {
            family(
                "safebuild_last_invocation_timestamp_seconds", "gauge", "When the last protected command ended (Unix time).",
                [([], t)])
        }
        family(
            "safebuild_journal_unparsable_lines", "gauge", "Lines of the journal that could not be read.",
            [([], Double(contents.unparsable))])
        return out
    }

    /// Reads the journal and writes its metrics to `metricsPath` atomically (temporary file, fsync, rename).
    /// Returns nil, or why it failed (the caller warns once; a build never fails for it).
    public static func write(journalPath: String, to metricsPath: String) -> String? {
        let contents: JournalContents
        do {
            contents = try JournalReader.read(path: journalPath)
        } catch {
            return error.message
        }
        return writeAtomically(render(contents), to: metricsPath)
    }

    /// Writes `text` to a temporary file beside `path` (not ending in `.prom`, so the collector skips it), fsyncs it,
    /// and renames it over `path`.
    static func writeAtomically(_ text: String, to path: String) -> String? {
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "cannot create \(temporary): \(JournalWriter.errorText())" }
        var text = text
        let written = text.withUTF8 { Output.writeAll(fd, UnsafeRawBufferPointer($0)) }
        if !written || fsync(fd) != 0 {
            let problem = "cannot write \(temporary): \(JournalWriter.errorText())"
            close(fd)
            unlink(temporary)
            return problem
        }
        _ = fchmod(fd, 0o644)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let problem = "cannot rename \(temporary) to \(path): \(JournalWriter.errorText())"
            unlink(temporary)
            return problem
        }
        return nil
    }

    /// Label values escape `\`, `"` and newline.
    static func escapeLabel(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// HELP text escapes `\` and newline.
    static func escapeHelp(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
