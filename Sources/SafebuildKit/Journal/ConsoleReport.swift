import Glibc

/// The short, factual lines safebuild prints on stderr about its attempts, built from journal records. Pure: the
/// caller prints them with `Console.say`/`Console.warn` (which add the `safebuild:` prefix).
package enum ConsoleReport {
    /// The line after an attempt, for example `attempt 2/3 failed: cannot allocate memory while creating the network
    /// endpoint; pruned 1.2 GB of build cache, dropped caches (+840 MB available); retrying in 4 s`.
    /// `reason` is the failure class described in words (nil: the exit status is given instead).
    package static func attemptLine(_ attempt: AttemptRecord, reason: String? = nil, decision: AttemptDecision) -> String {
        let number = attempt.maxAttempts.map { "\(attempt.attempt)/\($0)" } ?? "\(attempt.attempt)"
        if case .succeeded = decision {
            return "attempt \(number) succeeded" + (attempt.attempt > 1 ? " after \(attempt.attempt - 1) failed" : "")
        }
        if case .aborted(let signal) = decision {
            return "attempt \(number) aborted by \(signalName(signal)); docker stopped"
                + (attempt.exitStatus.map { ", exit status \($0)" } ?? "")
        }
        var parts = ["attempt \(number) failed: \(reason ?? failure(attempt))"]
        // Before a retry, what was skipped is said too; giving up, the reason says it. Pre-flight's remedies were
        // said before the attempt.
        var considered = attempt.remedies.filter { !$0.isPreflight }
        if case .giveUp = decision { considered = considered.filter(\.ran) }
        if let remedies = remedies(considered) { parts.append(remedies) }
        switch decision {
        case .retry(let s): parts.append("retrying in \(spaced(seconds(s)))")
        case .giveUp(let why): parts.append("giving up: \(why)")
        case .succeeded, .aborted: break
        }
        return parts.joined(separator: "; ")
    }

    /// `exit status 137 (killed by SIGKILL)` and the like, when no reason in words is known.
    package static func failure(_ attempt: AttemptRecord) -> String {
        if let signal = attempt.signal {
            return "killed by \(signalName(signal))" + (attempt.exitStatus.map { " (exit status \($0))" } ?? "")
        }
        if let status = attempt.exitStatus {
            return "exit status \(status)" + (status == 137 ? " (killed: out of memory or SIGKILL)" : "")
        }
        return "docker did not start"
    }

    /// What the remedies did, then what was skipped and why, so that a retry is never reported as if skipped
    /// remedies had run: `pruned 1.2 GB of build cache, dropped caches (+840 MB available); skipped compact_memory
    /// (ran 3 s ago for another build)`, or `no remedy ran: skipped drop_caches, compact_memory (needs root …)`.
    /// nil when there were no remedies.
    package static func remedies(_ remedies: [JournalRemedy]) -> String? {
        guard !remedies.isEmpty else { return nil }
        var parts: [String] = []
        let ran = remedies.filter(\.ran)
        if !ran.isEmpty {
            var text = ran.map(phrase).joined(separator: ", ")
            let key = JournalRemedy.Figure.memAvailable
            if let first = ran.first(where: { $0.before[key] != nil })?.before[key],
                let last = ran.last(where: { $0.after[key] != nil })?.after[key]
            {
                let delta = last - first
                text += " (\(delta >= 0 ? "+" : "-")\(bytes(abs(delta))) available)"
            }
            parts.append(text)
        }
        // Skipped ones by reason, in the order they came.
        var skipped: [(reason: String, names: [String])] = []
        for remedy in remedies where !remedy.ran {
            let reason = remedy.skippedReason ?? "no reason recorded"
            if let i = skipped.firstIndex(where: { $0.reason == reason }) {
                skipped[i].names.append(remedy.name)
            } else {
                skipped.append((reason, [remedy.name]))
            }
        }
        if !skipped.isEmpty {
            let text = "skipped " + skipped.map { "\($0.names.joined(separator: ", ")) (\($0.reason))" }
                .joined(separator: " and ")
            parts.append(ran.isEmpty ? "no remedy ran: " + text : text)
        }
        return parts.joined(separator: "; ")
    }

    /// One remedy in words.
    package static func phrase(_ remedy: JournalRemedy) -> String {
        let freed = remedy.reclaimed
        let what: String
        switch remedy.name {
        case RemedyName.pruneBuildCache.rawValue: what = "pruned \(bytes(freed)) of build cache"
        case RemedyName.pruneDanglingImages.rawValue: what = "pruned \(bytes(freed)) of dangling images"
        case RemedyName.freeDisk.rawValue:
            let key = JournalRemedy.Figure.diskFree
            if let from = remedy.before[key], let to = remedy.after[key] {
                let steps = remedy.steps?.count ?? 0
                what = "pruned in \(steps) step(s), free disk \(bytes(from)) → \(bytes(to))"
            } else {
                what = "pruned to free disk"
            }
        case RemedyName.dropCaches.rawValue: what = "dropped caches"
        case RemedyName.compactMemory.rawValue: what = "compacted memory"
        case RemedyName.waitForMemory.rawValue: what = "waited \(seconds(remedy.seconds)) for memory"
        case RemedyName.raiseMemory.rawValue:
            let key = "memory_limit_bytes"
            if let from = remedy.before[key], let to = remedy.after[key] {
                what = "raised the memory limit from \(Size.format(UInt64(from))) to \(Size.format(UInt64(to)))"
            } else {
                what = "raised the memory limit"
            }
        default:
            let name = remedy.name.replacingOccurrences(of: "_", with: " ")
            what = freed > 0 ? "\(name) (\(bytes(freed)) freed)" : name
        }
        return remedy.error.map { "\(what) (failed: \($0))" } ?? what
    }

    /// `pre-flight refused: mem_available 310 MB, below the 512 MB required`; one line per refusing check.
    package static func refusal(_ decisions: [JournalDecision]) -> String {
        let refusing = decisions.filter { $0.action == "refuse" }
        let text = (refusing.isEmpty ? decisions : refusing).map(decisionText).joined(separator: "; ")
        return "pre-flight refused to start docker: " + (text.isEmpty ? "no reason recorded" : text)
    }

    /// A pre-flight decision in words: its message when it has one, else `check measured (limit L): action`.
    package static func decisionText(_ decision: JournalDecision) -> String {
        if let message = decision.message, !message.isEmpty { return message }
        var text = decision.check.replacingOccurrences(of: "_", with: " ")
        if let measured = decision.measured { text += " " + figure(measured, unit: decision.unit) }
        if let limit = decision.limit { text += " (limit \(figure(limit, unit: decision.unit)))" }
        return text + ": " + decision.action
    }

    static func figure(_ value: Double, unit: String?) -> String {
        switch unit {
        case "bytes": return bytes(Int64(value))
        case "percent": return number(value) + "%"
        case "seconds": return number(value) + " s"
        case let unit?: return number(value) + " " + unit
        case nil: return number(value)
        }
    }

    /// Byte counts the way docker prints them, in decimal units: `512 B`, `3.4 kB`, `840 MB`, `1.2 GB`, `12 GB`.
    package static func bytes(_ n: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        if n < 1000 { return "\(n) B" }
        var value = Double(n)
        var unit = 0
        while value >= 999.95 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return number(value < 9.95 ? (value * 10).rounded() / 10 : value.rounded()) + " " + units[unit]
    }

    /// `4s`, `1.5s`, `2m30s`.
    package static func seconds(_ s: Double) -> String {
        if s >= 60 {
            let whole = Int(s.rounded())
            return "\(whole / 60)m" + (whole % 60 == 0 ? "" : "\(whole % 60)s")
        }
        return number((s * 10).rounded() / 10) + "s"
    }

    /// `4 s` for prose.
    static func spaced(_ text: String) -> String {
        guard text.hasSuffix("s"), !text.contains("m") else { return text }
        return String(text.dropLast()) + " s"
    }

    /// `SIGTERM` for 15.
    package static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM",
            SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGPIPE: "SIGPIPE", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2",
            SIGBUS: "SIGBUS",
        ]
        return names[signal] ?? "signal \(signal)"
    }

    /// A number without a trailing `.0`.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let tenths = (value * 10).rounded() / 10
        return tenths == tenths.rounded() ? String(Int64(tenths)) : String(tenths)
    }
}
