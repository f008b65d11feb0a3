/// safebuild's own options. Each is given as a leading `--sb-…` option or as a `SAFEBUILD_…` variable, so that it can
/// be set where safebuild is only reachable as `docker`. The option wins over the variable.
package struct SafebuildOptions: Equatable, Sendable {
    package static let prefix = "--sb-"

    /// `--sb-policy FILE`, `SAFEBUILD_POLICY`: the policy file, ahead of every other place.
    package var policyPath: String?
    /// `--sb-docker PATH`, `SAFEBUILD_DOCKER`: the real docker.
    package var dockerPath: String?
    /// `--sb-journal FILE`, `SAFEBUILD_JOURNAL`: the attempt journal.
    package var journalPath: String?
    /// `--sb-dry-run`, `SAFEBUILD_DRY_RUN=1`: print what would run and why, run nothing.
    package var dryRun = false
    /// `--sb-quiet`, `SAFEBUILD_QUIET=1`: only warnings and errors on stderr.
    package var quiet = false
    /// `--sb-off`, `SAFEBUILD_OFF=1`: pass every command through, protected or not.
    package var off = false
    /// `--sb-max-attempts N`, `SAFEBUILD_MAX_ATTEMPTS`: overrides the policy's attempt limit (1 = never retry).
    package var maxAttempts: Int?

    /// The options, their variables and what they take, for `--sb-help` and README.
    package static let table: [(option: String, variable: String, help: String)] = [
        ("--sb-policy FILE", "SAFEBUILD_POLICY", "policy file to use, ahead of ./safebuild.yml and /etc/safebuild/policy.yml"),
        ("--sb-docker PATH", "SAFEBUILD_DOCKER", "the real docker executable (default: first docker on PATH that is not safebuild)"),
        ("--sb-journal FILE", "SAFEBUILD_JOURNAL", "attempt journal file (JSON Lines)"),
        ("--sb-dry-run", "SAFEBUILD_DRY_RUN=1", "print the command line that would run and the decisions behind it; run nothing"),
        ("--sb-quiet", "SAFEBUILD_QUIET=1", "print only warnings and errors"),
        ("--sb-off", "SAFEBUILD_OFF=1", "pass every command straight to docker, unprotected"),
        ("--sb-max-attempts N", "SAFEBUILD_MAX_ATTEMPTS", "at most N attempts per protected command (1: never retry)"),
    ]

    package init() {}

    package init(environment: [String: String]) throws(SafebuildError) {
        func nonEmpty(_ key: String) -> String? {
            guard let value = environment[key], !value.isEmpty else { return nil }
            return value
        }
        func flag(_ key: String) throws(SafebuildError) -> Bool {
            guard let value = nonEmpty(key) else { return false }
            switch value.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default:
                throw SafebuildError(.usage, "\(key)=\(value) is not a boolean; use 1 or 0")
            }
        }
        policyPath = nonEmpty("SAFEBUILD_POLICY")
        dockerPath = nonEmpty("SAFEBUILD_DOCKER")
        journalPath = nonEmpty("SAFEBUILD_JOURNAL")
        dryRun = try flag("SAFEBUILD_DRY_RUN")
        quiet = try flag("SAFEBUILD_QUIET")
        off = try flag("SAFEBUILD_OFF")
        if let value = nonEmpty("SAFEBUILD_MAX_ATTEMPTS") {
            maxAttempts = try Self.attempts(value, from: "SAFEBUILD_MAX_ATTEMPTS")
        }
    }

    /// Takes one `--sb-…` option (and its value, given as `--sb-x=value` or as the next word).
    mutating func take(_ word: String, from rest: inout ArraySlice<String>) throws(SafebuildError) {
        let parts = word.split(separator: "=", maxSplits: 1)
        let name = String(parts[0])
        var inline = parts.count == 2 ? String(parts[1]) : nil
        func value() throws(SafebuildError) -> String {
            if let inline { return inline }
            guard let next = rest.first else {
                throw SafebuildError(.usage, "option \(name) needs a value; see safebuild --sb-help")
            }
            rest = rest.dropFirst()
            return next
        }
        switch name {
        case "--sb-policy": policyPath = try value()
        case "--sb-docker": dockerPath = try value()
        case "--sb-journal": journalPath = try value()
        case "--sb-max-attempts": maxAttempts = try Self.attempts(try value(), from: name)
        case "--sb-dry-run", "--sb-quiet", "--sb-off":
            if let given = inline {
                throw SafebuildError(.usage, "option \(name) takes no value (got '\(given)')")
            }
            inline = nil
            if name == "--sb-dry-run" { dryRun = true }
            if name == "--sb-quiet" { quiet = true }
            if name == "--sb-off" { off = true }
        default:
            let known = Self.table.map { String($0.option.split(separator: " ")[0]) }
            let hint = Suggestion.closest(to: name, among: known).map { "; did you mean \($0)?" } ?? "; see safebuild --sb-help"
            throw SafebuildError(.usage, "unknown option \(name)\(hint)")
        }
    }

    static func attempts(_ text: String, from source: String) throws(SafebuildError) -> Int {
        guard let n = Int(text), n >= 1, n <= 100 else {
            throw SafebuildError(.usage, "\(source) takes a whole number from 1 to 100 (got '\(text)')")
        }
        return n
    }
}
