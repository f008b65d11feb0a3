/// What one start of safebuild is asked to do, decided from argv[0], safebuild's own leading options and the
/// environment. Pure: tested as argv in, decision out.
public enum Invocation: Equatable, Sendable {
    /// One of safebuild's own commands (`doctor`, `policy`, `journal`, `retry`, `--version`, `--sb-help`).
    case own(OwnCommand, arguments: [String], options: SafebuildOptions)
    /// A docker command line to run: passed through, or supervised when `docker.protected` is set.
    case docker(DockerCommandLine, options: SafebuildOptions)

    /// safebuild's own commands. None of them is a docker subcommand.
    public enum OwnCommand: String, Sendable, CaseIterable {
        case doctor, policy, journal, retry, version, help
    }

    /// The name of the program as invoked decides only one thing: under the name `docker`, `--version` is docker's.
    public static func parse(
        argv0: String, arguments: [String], environment: [String: String]
    ) throws(SafebuildError) -> Invocation {
        var options = try SafebuildOptions(environment: environment)
        var rest = arguments[...]
        while let word = rest.first, word.hasPrefix(SafebuildOptions.prefix) {
            rest = rest.dropFirst()
            if word == "--sb-help" { return .own(.help, arguments: Array(rest), options: options) }
            try options.take(word, from: &rest)
        }
        let invokedAsDocker = baseName(argv0) == "docker"
        if let first = rest.first {
            if first == "--version", !invokedAsDocker, rest.count == 1 {
                return .own(.version, arguments: [], options: options)
            }
            if let own = OwnCommand(rawValue: first), own != .version, own != .help {
                return .own(own, arguments: Array(rest.dropFirst()), options: options)
            }
        }
        return .docker(DockerCommandLine(Array(rest)), options: options)
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
    }
}

/// safebuild's own options. Each is given as a leading `--sb-…` option or as a `SAFEBUILD_…` variable, so that it can
/// be set where safebuild is only reachable as `docker`. The option wins over the variable.
public struct SafebuildOptions: Equatable, Sendable {
    public static let prefix = "--sb-"

    /// `--sb-policy FILE`, `SAFEBUILD_POLICY`: the policy file, ahead of every other place.
    public var policyPath: String?
    /// `--sb-docker PATH`, `SAFEBUILD_DOCKER`: the real docker.
    public var dockerPath: String?
    /// `--sb-journal FILE`, `SAFEBUILD_JOURNAL`: the attempt journal.
    public var journalPath: String?
    /// `--sb-dry-run`, `SAFEBUILD_DRY_RUN=1`: print what would run and why, run nothing.
    public var dryRun = false
    /// `--sb-quiet`, `SAFEBUILD_QUIET=1`: only warnings and errors on stderr.
    public var quiet = false
    /// `--sb-off`, `SAFEBUILD_OFF=1`: pass every command through, protected or not.
    public var off = false
    /// `--sb-max-attempts N`, `SAFEBUILD_MAX_ATTEMPTS`: overrides the policy's attempt limit (1 = never retry).
    public var maxAttempts: Int?

    /// The options, their variables and what they take, for `--sb-help` and README.
    public static let table: [(option: String, variable: String, help: String)] = [
        ("--sb-policy FILE", "SAFEBUILD_POLICY", "policy file to use, ahead of ./safebuild.yml and /etc/safebuild/policy.yml"),
        ("--sb-docker PATH", "SAFEBUILD_DOCKER", "the real docker executable (default: first docker on PATH that is not safebuild)"),
        ("--sb-journal FILE", "SAFEBUILD_JOURNAL", "attempt journal file (JSON Lines)"),
        ("--sb-dry-run", "SAFEBUILD_DRY_RUN=1", "print the command line that would run and the decisions behind it; run nothing"),
        ("--sb-quiet", "SAFEBUILD_QUIET=1", "print only warnings and errors"),
        ("--sb-off", "SAFEBUILD_OFF=1", "pass every command straight to docker, unprotected"),
        ("--sb-max-attempts N", "SAFEBUILD_MAX_ATTEMPTS", "at most N attempts per protected command (1: never retry)"),
    ]

    public init() {}

    public init(environment: [String: String]) throws(SafebuildError) {
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
