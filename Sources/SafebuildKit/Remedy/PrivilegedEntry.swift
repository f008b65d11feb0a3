import Foundation
import Glibc

/// How a safebuild that is not root reaches the remedies that need root (drop_caches, compact_memory): the privileged
/// entry `sudo -n BIN remedy NAME`, which a sudoers rule (`Scripts/install.sh --with-sudo`: `%docker ALL=(root)
/// NOPASSWD: BIN remedy drop_caches, BIN remedy compact_memory`) lets the members of the host's group run without a
/// password, and nothing else. The entry takes only the remedy's name, reads nothing of the caller's, applies the
/// host policy, the host-wide lock and cooldown itself, and answers with the report as one JSON line on stdout; what
/// it says on stderr (a wait for the lock) reaches the user as it says it.
///
/// It is tried only when sudo says the rule is there (`sudo -n -l BIN remedy NAME` answers without a password);
/// otherwise the remedy is skipped with `needs root` and how to allow it.
package final class PrivilegedEntry {
    /// This binary (`/proc/self/exe`), as the sudoers rule names it.
    package let binary: String
    /// sudo, when installed.
    package let sudo: String?
    /// Ends the wait for the entry at once on SIGINT/SIGTERM.
    let signals: SignalInbox?
    /// The longest the entry may take (it may wait for the host-wide lock).
    let timeout: Double
    /// sudo's answer per remedy, asked once per process.
    private var allowed: [RemedyName: Bool] = [:]

    package init(binary: String, sudo: String?, signals: SignalInbox?, timeout: Double = 330) {
        self.binary = binary
        self.sudo = sudo
        self.signals = signals
        self.timeout = timeout
    }

    /// The entry of this binary, with the sudo on this host.
    package static func live(signals: SignalInbox?) -> PrivilegedEntry {
        PrivilegedEntry(
            binary: HostSettings.executablePath() ?? "/usr/local/bin/safebuild", sudo: locateSudo(), signals: signals)
    }

    static func locateSudo() -> String? {
        ["/usr/bin/sudo", "/bin/sudo", "/usr/local/bin/sudo"].first { access($0, X_OK) == 0 }
    }

    /// The words after sudo.
    package func command(_ name: RemedyName) -> [String] { [binary, "remedy", name.rawValue] }

    /// Whether sudo lets this user run the entry for `name` without a password.
    package func isAllowed(_ name: RemedyName) -> Bool {
        if let known = allowed[name] { return known }
        guard let sudo else { return false }
        let answer = (try? Command(sudo, ["-n", "-l"] + command(name), timeout: 10).run())?.succeeded ?? false
        allowed[name] = answer
        return answer
    }

    /// Runs `name` through the entry, or says why it cannot.
    package func run(_ name: RemedyName) -> RemedyReport {
        guard let sudo, isAllowed(name) else { return .skip(name, Self.needsRoot(name, binary: binary, sudo: sudo)) }
        let result: Command.Result
        do {
            result = try Command(sudo, ["-n"] + command(name), timeout: timeout, stderrThrough: true).run(signals: signals)
        } catch {
            return .skip(name, "cannot start sudo: \(error.message)")
        }
        if let signal = result.interruptedBy {
            var report = RemedyReport.skip(
                name, "interrupted by \(ConsoleReport.signalName(signal)) while the privileged entry ran it")
            report.interruptedBy = signal
            return report
        }
        guard result.succeeded, var report = Self.report(result.stdout), report.name == name else {
            let status = result.status.map { "exit status \($0.code)" } ?? "no answer within \(Int(timeout)) s"
            return .skip(name, "the privileged entry 'sudo -n \(ShellQuote.join(command(name)))' failed (\(status)); what it said is above")
        }
        report.via = "sudo"
        return report
    }

    /// The entry's answer: the last line of its stdout, a `RemedyReport` as JSON.
    package static func report(_ stdout: String) -> RemedyReport? {
        guard let line = stdout.split(separator: "\n").last(where: { !$0.isEmpty }) else { return nil }
        return try? JSONDecoder().decode(RemedyReport.self, from: Data(line.utf8))
    }

    /// The skip of a remedy that needs root when no sudoers rule allows it, and how to allow it (`name` is for the
    /// caller's record, not in the words).
    package static func needsRoot(_ name: RemedyName, binary: String, sudo: String?) -> String {
        // The same words for every remedy, so that the console line says them once for all that were skipped.
        let rule = sudo == nil ? "sudo is not installed" : "no sudoers rule lets this user run '\(binary) remedy' without a password"
        return "needs root, and \(rule): allow it with Scripts/install.sh --with-sudo"
    }

    /// One line of JSON for the caller.
    package static func line(_ report: RemedyReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }
}
