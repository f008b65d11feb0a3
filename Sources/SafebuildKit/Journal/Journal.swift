import Glibc
import Foundation

/// Where the journal is, how to read it, and the look-ups `safebuild retry` needs.
package enum Journal {
    /// The system journal directory, used when it is (or can be made) writable.
    package static let systemDirectory = "/var/log/safebuild"
    package static let fileName = "journal.jsonl"

    /// The journal a reading command (`safebuild journal …`, `retry`, `policy suggest`) reads: `--sb-journal` /
    /// `SAFEBUILD_JOURNAL` (an operator may read any journal file they can read), else the host policy's
    /// `journal.path`, else `defaultPath`.
    package static func path(options: SafebuildOptions, policyPath: String?, environment: [String: String]) -> String {
        if let given = options.journalPath, !given.isEmpty { return given }
        return forWriting(
            hostPath: policyPath, hostPolicy: nil, options: SafebuildOptions(), environment: [:],
            orElse: defaultPath(environment: environment)
        ).path
    }

    /// Where a protected command writes, and what to say once about an option or variable that named another file.
    package struct Choice: Sendable, Equatable {
        package var path: String
        /// For `Console.warn`; nil when nothing named another file.
        package var warning: String?

        package init(path: String, warning: String?) {
            self.path = path
            self.warning = warning
        }
    }

    /// The journal a protected command writes: the host's alone (`journal.path` is a host-only key, and
    /// `--sb-journal` / `SAFEBUILD_JOURNAL` are a job's ways of choosing it), that is `hostPath` (the host layer's
    /// `journal.path`, set by the host policy file `hostPolicy` or, when that is nil, the built-in default), else
    /// `defaultPath`. When the option or the variable names another file, the warning says that it only chooses the
    /// journal the reading commands read, and where this run is recorded.
    package static func forWriting(
        hostPath: String?, hostPolicy: String?, options: SafebuildOptions, environment: [String: String],
        orElse defaultPath: @autoclosure () -> String
    ) -> Choice {
        let path: String
        let why: String
        if let hostPath, !hostPath.isEmpty {
            path = hostPath
            why = hostPolicy.map { "journal.path of the host policy \($0)" } ?? "the built-in journal.path; the host policy sets none"
        } else {
            path = defaultPath()
            why = "the default place"
        }
        let variable = environment["SAFEBUILD_JOURNAL"].flatMap { $0.isEmpty || $0 == path ? nil : $0 }
        guard let given = options.journalPath, !given.isEmpty, given != path || variable != nil else {
            return Choice(path: path, warning: nil)
        }
        let names: String
        if given == variable || given == path {
            names = "SAFEBUILD_JOURNAL only chooses"
        } else if variable != nil {
            names = "--sb-journal and SAFEBUILD_JOURNAL only choose"
        } else {
            names = "--sb-journal only chooses"
        }
        return Choice(
            path: path,
            warning: "\(names) the journal that safebuild journal/retry read; this run is recorded in \(path) (\(why))")
    }

    /// `/var/log/safebuild/journal.jsonl` when that directory is writable or can be made (by root), else
    /// `$XDG_STATE_HOME/safebuild/journal.jsonl` (default `~/.local/state/safebuild/journal.jsonl`). Creates nothing.
    package static func defaultPath(environment: [String: String], systemDirectory: String = Journal.systemDirectory)
        -> String
    {
        var st = stat()
        if stat(systemDirectory, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR, access(systemDirectory, W_OK) == 0 {
                return systemDirectory + "/" + fileName
            }
        } else if errno == ENOENT, access(JournalWriter.parent(of: systemDirectory), W_OK) == 0 {
            return systemDirectory + "/" + fileName
        }
        return stateDirectory(environment: environment) + "/safebuild/" + fileName
    }

    /// `$XDG_STATE_HOME`, else `$HOME/.local/state` (HOME from the password database when unset).
    static func stateDirectory(environment: [String: String]) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state }
        var home = environment["HOME"] ?? ""
        if home.isEmpty, let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { home = String(cString: dir) }
        return (home.isEmpty ? "/tmp" : home) + "/.local/state"
    }

    /// A new invocation id: UTC time to the second, then 24 random bits, e.g. `20261123-094236-3f9a2c`. Sorts by time
    /// as text.
    package static func newID(now: Double = JournalTime.now()) -> String {
        let stamp = JournalTime.format(now)  // 2026-11-23T09:42:36.123Z
        let digits = stamp.prefix(19).filter { $0 != "-" && $0 != ":" }  // 20261123T094236
        var random: UInt32 = 0
        arc4random_buf(&random, 4)
        let hex = String(random & 0xFF_FFFF, radix: 16)
        return digits.replacingOccurrences(of: "T", with: "-") + "-"
            + String(repeating: "0", count: 6 - hex.count) + hex
    }

    /// The invocation with this id (or the only one whose id starts with it).
    package static func find(id: String, path: String) throws(SafebuildError) -> InvocationRecord {
        let invocations = try JournalReader.read(path: path).invocations
        if let exact = invocations.last(where: { $0.id == id }) { return exact }
        let matches = invocations.filter { $0.id.hasPrefix(id) }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty {
            throw SafebuildError(
                .noInput, "no invocation \(id) in the journal \(path); 'safebuild journal' lists the recorded ones")
        }
        throw SafebuildError(
            .usage, "'\(id)' matches \(matches.count) invocations in \(path); give more of the id")
    }

    /// The most recent invocation that did not succeed (failed, refused or aborted).
    package static func lastFailed(path: String) throws(SafebuildError) -> InvocationRecord {
        let invocations = try JournalReader.read(path: path).invocations
        guard let last = invocations.last(where: { !$0.outcome.isSuccess }) else {
            throw SafebuildError(
                .noInput,
                "the journal \(path) records no failed invocation; give an id ('safebuild journal' lists them)")
        }
        return last
    }

    /// host, user, uid and working directory of this process, and the CI context of `environment`.
    package struct Context: Sendable, Equatable {
        package var host: String
        package var user: String
        package var uid: UInt32
        package var cwd: String
        package var ci: JournalCI?

        package init(host: String, user: String, uid: UInt32, cwd: String, ci: JournalCI?) {
            self.host = host
            self.user = user
            self.uid = uid
            self.cwd = cwd
            self.ci = ci
        }

        /// This host's name, as the records give it.
        package static func hostName() -> String {
            var name = [CChar](repeating: 0, count: 256)
            return gethostname(&name, name.count) == 0 ? Self.text(name) : "unknown"
        }

        package static func current(environment: [String: String]) -> Context {
            let host = hostName()
            let uid = getuid()
            var user = environment["USER"] ?? environment["LOGNAME"] ?? ""
            if let pw = getpwuid(uid), let n = pw.pointee.pw_name { user = String(cString: n) }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let cwd = getcwd(&buffer, buffer.count) != nil ? Self.text(buffer) : (environment["PWD"] ?? "")
            return Context(
                host: host, user: user.isEmpty ? String(uid) : user, uid: uid, cwd: cwd,
                ci: JournalCI(environment: environment))
        }

        static func text(_ buffer: [CChar]) -> String {
            String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

extension Journal {
    /// The `-t`/`--tag` names of a `build` command line (`-t x`, `-tx`, `-t=x`, `--tag x`, `--tag=x`), for
    /// `InvocationRecord.tags`; nil when there are none, and for a `run` (whose `-t` is `--tty`).
    package static func tags(in commandLine: DockerCommandLine) -> [String]? {
        guard case .build = commandLine.protected else { return nil }
        let tags = commandLine.options.values("--tag")
        return tags.isEmpty ? nil : tags
    }
}
