import Glibc

/// The privileged entry's own side: `safebuild remedy NAME`, run as root (through `sudo -n`) for a member of the
/// host's group whose safebuild needs a remedy that only root may apply.
///
/// It takes nothing from the caller but the remedy's name: no `SAFEBUILD_*` variable, no `--sb-` option, no working
/// directory (so no project policy); only the host policy decides whether the remedy is allowed
/// (`remedies.drop_caches`, `remedies.compact_memory`), where the host-wide lock is and how long its cooldown lasts.
/// Who asked comes from sudo's own `SUDO_USER` and `SUDO_UID`. Every request, run or skipped, leaves an audit record
/// (`"kind": "remedy"`) in the host journal.
package enum PrivilegedRemedy {
    /// The remedies the entry runs.
    package static let names = RemedyName.allCases.filter(\.needsRoot)

    /// Who asked for the remedy.
    package struct Requester: Equatable, Sendable {
        package var user: String?
        package var uid: UInt32?
        /// `sudo`, or `root` when root ran the entry itself.
        package var via: String

        package init(user: String?, uid: UInt32?, via: String) {
            self.user = user
            self.uid = uid
            self.via = via
        }

        /// From the variables sudo sets for the command it runs (and only those).
        package static func from(environment: [String: String]) -> Requester {
            let uid = environment["SUDO_UID"].flatMap { UInt32($0) }
            let user = environment["SUDO_USER"].flatMap { $0.isEmpty ? nil : $0 }
            return Requester(user: user, uid: uid, via: uid == nil && user == nil ? "root" : "sudo")
        }
    }

    /// The host's side of one request: skipped when the host policy turns the remedy off, else run under the
    /// host-wide lock and cooldown; the audit record goes to `journal`. Returns the report for the caller.
    package static func run(
        _ name: RemedyName, policy: Policy, policySource: String, requester: Requester, remedies: Remedies,
        lock: HostLock, waiting: LockWaiting, journal: JournalWriter, host: String,
        wallClock: () -> Double = Clock.wall
    ) -> RemedyReport {
        let started = wallClock()
        var report: RemedyReport
        if let off = policy.disabledRemedies[name] {
            report = .skip(name, off)
        } else {
            report = lock.perform(name, waiting: waiting) { remedies.run(name) }
        }
        let ended = wallClock()
        if report.duration == 0 { report.duration = ended - started }
        journal.append(
            RemedyAuditRecord(
                started: JournalTime.format(started), ended: JournalTime.format(ended),
                durationSeconds: ended - started, host: host, requestedBy: requester.user,
                requestedUID: requester.uid, via: requester.via, policySource: policySource,
                remedy: AttemptLoop.journalRemedy(report)))
        return report
    }

    /// One line for the console of the entry (stderr; the caller's user sees it).
    package static func summary(_ report: RemedyReport, requester: Requester) -> String {
        let who = requester.user.map { " for \($0)" + (requester.uid.map { " (uid \($0))" } ?? "") } ?? ""
        guard report.ran else { return "\(report.name.rawValue)\(who): skipped, \(report.skipped ?? "no reason given")" }
        let phrase = ConsoleReport.phrase(AttemptLoop.journalRemedy(report))
        let key = JournalRemedy.Figure.memAvailable
        let gained = report.before[key].flatMap { b in report.after[key].map { a in a - b } }
            .map { " (\($0 >= 0 ? "+" : "-")\(ConsoleReport.bytes(abs($0))) available)" } ?? ""
        return "\(report.name.rawValue)\(who): \(phrase)\(gained) in \(ConsoleReport.seconds(report.duration))"
    }
}
