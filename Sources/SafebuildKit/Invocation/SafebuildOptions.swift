import Glibc

/// safebuild's own options. Each is given as a leading `--sb-…` option or as a `SAFEBUILD_…` variable, so that it can
/// be set where safebuild is only reachable as `docker`. The option wins over the variable.
///
/// Every option is declared once, in `declarations`: its name gives both spellings (`--sb-max-attempts`,
/// `SAFEBUILD_MAX_ATTEMPTS`), its kind the grammar of both, and its help the line of `--sb-help`. To add one, add a
/// property and a line there.
package struct SafebuildOptions: Equatable, Sendable {
    package static let prefix = "--sb-"
    package static let variablePrefix = "SAFEBUILD_"

    /// `--sb-policy FILE`, `SAFEBUILD_POLICY`: the user's policy, the top layer (within what the host allows).
    package var policyPath: String?
    /// `--sb-docker PATH`, `SAFEBUILD_DOCKER`: the real docker (for protected commands, the host's `docker.path` wins).
    package var dockerPath: String?
    /// `--sb-journal FILE`, `SAFEBUILD_JOURNAL`: the journal the reading commands read (never where a protected
    /// command writes: `Journal.forWriting`).
    package var journalPath: String?
    /// `--sb-dry-run`, `SAFEBUILD_DRY_RUN=1`: print what would run and why, run nothing.
    package var dryRun = false
    /// `--sb-quiet`, `SAFEBUILD_QUIET=1`: only warnings and errors on stderr.
    package var quiet = false
    /// `--sb-off`, `SAFEBUILD_OFF=1`: pass every command through, protected or not.
    package var off = false
    /// `--sb-max-attempts N`, `SAFEBUILD_MAX_ATTEMPTS`: overrides the policy's attempt limit (1 = never retry), up to
    /// the host policy's.
    package var maxAttempts: Int?
    /// The `SAFEBUILD_*` variables whose value could not be read, each as the sentence that says so; they are left
    /// unset. A pass-through command warns and goes on (a typo in a job's environment must not break `docker push`);
    /// a protected command refuses (`refusal(for:)`).
    package var invalidVariables: [String] = []

    /// The options, in the order `--sb-help` lists them.
    package static let declarations: [Declaration] = [
        Declaration(
            "policy", .text(placeholder: "FILE") { $0.policyPath = $1 },
            help: "your own policy, laid over ./safebuild.yml and the host policy (within what the host allows)"),
        Declaration(
            "docker", .text(placeholder: "PATH") { $0.dockerPath = $1 },
            help: "the real docker executable (default: first docker on PATH that is not safebuild; for protected commands the host policy's docker.path wins)"),
        Declaration(
            "journal", .text(placeholder: "FILE") { $0.journalPath = $1 },
            help: "the journal that safebuild journal/retry read (protected commands write the host's journal.path)"),
        Declaration(
            "dry-run", .toggle { $0.dryRun = $1 },
            help: "print the command line that would run and the decisions behind it; run nothing"),
        Declaration("quiet", .toggle { $0.quiet = $1 }, help: "print only warnings and errors"),
        Declaration(
            "off", .toggle { $0.off = $1 },
            help: "pass every command straight to docker, unprotected (unless the host policy forbids it)"),
        Declaration(
            "max-attempts", .count(placeholder: "N", 1...100) { $0.maxAttempts = $1 },
            help: "at most N attempts per protected command (1: never retry; no more than the host policy's)"),
    ]

    /// One option: `--sb-NAME` on the command line, `SAFEBUILD_NAME` (upper case, `_` for `-`) in the environment.
    package struct Declaration: Sendable {
        package let name: String
        let kind: Kind
        package let help: String

        init(_ name: String, _ kind: Kind, help: String) {
            self.name = name
            self.kind = kind
            self.help = help
        }

        /// What the option takes, and where its value goes.
        enum Kind: Sendable {
            /// Any text, kept as given (`--sb-policy p.yml`).
            case text(placeholder: String, @Sendable (inout SafebuildOptions, String) -> Void)
            /// A switch: no value on the command line; 1/true/yes/on or 0/false/no/off in the variable.
            case toggle(@Sendable (inout SafebuildOptions, Bool) -> Void)
            /// A whole number in a range.
            case count(placeholder: String, ClosedRange<Int>, @Sendable (inout SafebuildOptions, Int) -> Void)
        }

        package var option: String { SafebuildOptions.prefix + name }
        /// Upper case, `_` for `-`. Over the UTF-8 bytes: iterating Characters would page in the grapheme tables,
        /// and this runs at every start (measured: +380 KB peak RSS).
        package var variable: String {
            let bytes = name.utf8.map { byte -> UInt8 in
                byte == UInt8(ascii: "-") ? UInt8(ascii: "_") : (0x61...0x7A).contains(byte) ? byte - 0x20 : byte
            }
            return SafebuildOptions.variablePrefix + String(decoding: bytes, as: UTF8.self)
        }

        /// `--sb-policy FILE`, `--sb-quiet`.
        package var synopsis: String {
            switch kind {
            case .text(let placeholder, _), .count(let placeholder, _, _): return option + " " + placeholder
            case .toggle: return option
            }
        }

        /// `SAFEBUILD_POLICY`, `SAFEBUILD_QUIET=1`.
        package var variableSynopsis: String {
            if case .toggle = kind { return variable + "=1" }
            return variable
        }

        /// Applies a value from the variable. A switch or a number is read without the blanks around it
        /// (`SAFEBUILD_OFF=' 1'`, a stray space in a Jenkins `environment {}`); text is kept as given.
        func apply(variable given: String, to options: inout SafebuildOptions) throws(SafebuildError) {
            let value = given.trimmingWhitespace()
            switch kind {
            case .text(_, let set): set(&options, given)
            case .toggle(let set):
                switch value.lowercased() {
                case "1", "true", "yes", "on": set(&options, true)
                case "0", "false", "no", "off": set(&options, false)
                default: throw SafebuildError(.usage, "\(variable)=\(given) is not a boolean; use 1 or 0")
                }
            case .count(_, let range, let set): set(&options, try Self.count(value, in: range, from: variable))
            }
        }

        /// Applies the option, with its value given inline (`--sb-x=v`) or as the next word of `rest`.
        func apply(
            option inline: String?, rest: inout ArraySlice<String>, to options: inout SafebuildOptions
        ) throws(SafebuildError) {
            func value() throws(SafebuildError) -> String {
                if let inline { return inline }
                guard let next = rest.popFirst() else {
                    throw SafebuildError(.usage, "option \(option) needs a value; see safebuild --sb-help")
                }
                return next
            }
            switch kind {
            case .text(let placeholder, let set):
                let given = try value()
                // `safebuild --sb-policy run --rm img`: the file was left out, and `run` would be read as the file and
                // `--rm img` handed to docker as its command.
                if inline == nil, DockerCommandLine.commandNames.contains(given), !exists(given) {
                    let what = placeholder == "FILE" ? "a file" : "a " + placeholder.lowercased()
                    throw SafebuildError(
                        .usage,
                        "\(option) needs \(what): \"\(given)\" looks like the docker command; write \(option) \(placeholder) \(given) …")
                }
                set(&options, given)
            case .toggle(let set):
                if let inline { throw SafebuildError(.usage, "option \(option) takes no value (got '\(inline)')") }
                set(&options, true)
            case .count(_, let range, let set): set(&options, try Self.count(try value(), in: range, from: option))
            }
        }

        /// Whether a file (of any kind) is at `path`, relative to the working directory.
        func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

        static func count(_ text: String, in range: ClosedRange<Int>, from source: String) throws(SafebuildError) -> Int {
            guard let n = Int(text), range.contains(n) else {
                throw SafebuildError(
                    .usage,
                    "\(source) takes a whole number from \(range.lowerBound) to \(range.upperBound) (got '\(text)')")
            }
            return n
        }
    }

    /// The options, their variables and what they take, for `--sb-help` and README.
    package static var table: [(option: String, variable: String, help: String)] {
        declarations.map { ($0.synopsis, $0.variableSynopsis, $0.help) }
    }

    /// The `--sb-help` lines, laid out as ArgumentParser lays out options: `option, VARIABLE`, then the help wrapped
    /// under it, within 80 columns.
    package static var helpText: String {
        let indent = String(repeating: " ", count: 26)
        return table.map { row in
            var text = "  \(row.option), \(row.variable)\n"
            var line = indent
            for word in row.help.split(separator: " ") {
                if line.count > indent.count, line.count + 1 + word.count > 80 {
                    text += line + "\n"
                    line = indent
                }
                line += (line.count > indent.count ? " " : "") + word
            }
            return text + line + "\n"
        }.joined()
    }

    package init() {}

    /// The options set by `SAFEBUILD_*` variables; an empty (or blank) variable counts as unset. A value that cannot
    /// be read leaves its option unset and is listed in `invalidVariables`: whether that stops the command is the
    /// command's to decide, not the reading's.
    package init(environment: [String: String]) {
        for declaration in Self.declarations {
            guard let value = environment[declaration.variable], !value.trimmingWhitespace().isEmpty else { continue }
            do {
                try declaration.apply(variable: value, to: &self)
            } catch {
                invalidVariables.append(error.message)
            }
        }
    }

    /// Why a protected `command` is not run, when a `SAFEBUILD_*` variable could not be read. Such a variable was
    /// meant to change how safebuild runs exactly this command (`SAFEBUILD_MAX_ATTEMPTS=abc`, `SAFEBUILD_DRY_RUN=ture`:
    /// going on with the default would run a build that was meant only to be shown), so a clear error naming the
    /// variable (exit 64) beats guessing; every other command only warns.
    package func refusal(for command: ProtectedCommand) -> SafebuildError? {
        guard let first = invalidVariables.first else { return nil }
        return SafebuildError(
            .usage, "\(first): docker \(command.name) was not run; fix or unset the variable (commands that safebuild"
                + " does not protect only warn about it)")
    }

    /// Takes one `--sb-…` option (and its value, given as `--sb-x=value` or as the next word).
    mutating func take(_ word: String, from rest: inout ArraySlice<String>) throws(SafebuildError) {
        let parts = word.split(separator: "=", maxSplits: 1)
        let name = String(parts[0])
        guard let declaration = Self.declarations.first(where: { $0.option == name }) else {
            let known = Self.declarations.map(\.option)
            let hint = Suggestion.closest(to: name, among: known).map { "; did you mean \($0)?" } ?? "; see safebuild --sb-help"
            throw SafebuildError(.usage, "unknown option \(name)\(hint)")
        }
        try declaration.apply(option: parts.count == 2 ? String(parts[1]) : nil, rest: &rest, to: &self)
    }
}
