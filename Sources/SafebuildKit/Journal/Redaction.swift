/// Keeps secrets out of the journal. Pure: argv in, argv out.
///
/// docker's own options (before a `run`'s image):
/// - `-e`/`--env`/`--build-arg` `K=V`: the name is kept, the value never (`K=***`), unless the host policy names `K` in
///   `journal.keep_values`. `-e K` (the value taken from the environment) and an empty value stay as they are.
///   `--env-file` keeps its path: the file is never read.
/// - `--secret id=…,src=…`: the id is kept, every other field's value masked.
/// - `--label`/`-l` `K=V` and `--ssh`: masked when the name looks secret or the value looks like a token.
///
/// The container's own command line (after a `run`'s image), word by word and, inside a word such as `sh -c "…"`,
/// token by token: `-pSECRET` (mysql's attached password; digits alone, a port, stay), `--password=…`,
/// `--token …` and every `--flag` whose name looks secret, `KEY=VALUE` whose key looks secret (`secretKey`), and
/// an HTTP header whose name looks secret or `Authorization: Bearer …`.
///
/// Everywhere, in every string of a record (`text`): `scheme://user:password@` becomes `scheme://user:***@` (so do
/// connection strings: `postgres://`, `mongodb+srv://`), `scheme://TOKEN@` becomes `scheme://***@` when TOKEN looks like
/// a token, a Slack or Discord webhook keeps only its host and fixed path, and `Bearer TOKEN` becomes `Bearer ***`.
package enum Redaction {
    package static let mask = "***"

    static let valueFlags: Set<String> = ["--build-arg", "-e", "--env"]
    static let labelFlags: Set<String> = ["--label", "-l"]
    static let fieldFlags: Set<String> = ["--secret", "--ssh"]

    /// argv with secrets masked, and whether anything was masked (then `safebuild retry` cannot run it again).
    /// `keepValues`: the variables whose values the host lets the journal keep.
    package static func argv(_ words: [String], keepValues: Set<String> = []) -> (argv: [String], redacted: Bool) {
        let commandLine = DockerCommandLine(words)
        let image = commandLine.protected == .run ? SubcommandOptions(commandLine).positional : nil
        var out: [String] = []
        out.reserveCapacity(words.count)
        var changed = false
        var pending: String?  // docker's flag whose value is the next word
        var container = ContainerCommand()
        for (index, word) in words.enumerated() {
            var result: String
            if let image, index > image {
                result = container.word(word)
            } else if let flag = pending {
                result = value(word, of: flag, keepValues: keepValues)
                pending = nil
            } else if allFlags.contains(word) {
                pending = word
                result = word
            } else if let eq = word.firstIndex(of: "="), word.hasPrefix("--"), allFlags.contains(String(word[..<eq])) {
                let flag = String(word[..<eq])
                result = flag + "=" + value(String(word[word.index(after: eq)...]), of: flag, keepValues: keepValues)
            } else if let short = ["-e", "-l"].first(where: { word.hasPrefix($0) && word.count > 2 && !word.hasPrefix("--") }) {
                // `-eKEY=VALUE` (pflag's attached short form) and `-e=KEY=VALUE`.
                var rest = Substring(word.dropFirst(2))
                let equals = rest.first == "="
                if equals { rest = rest.dropFirst() }
                result = short + (equals ? "=" : "") + value(String(rest), of: short, keepValues: keepValues)
            } else {
                result = text(word)
            }
            if result != word { changed = true }
            out.append(result)
        }
        return (out, changed)
    }

    static let allFlags = valueFlags.union(labelFlags).union(fieldFlags)

    static func value(_ value: String, of flag: String, keepValues: Set<String>) -> String {
        if fieldFlags.contains(flag) {
            return value.split(separator: ",", omittingEmptySubsequences: false).map { field -> String in
                guard let eq = field.firstIndex(of: "=") else { return String(field) }
                let name = field[..<eq].lowercased()
                let v = String(field[field.index(after: eq)...])
                if flag == "--secret" { return name == "id" ? String(field) : String(field[..<eq]) + "=" + mask }
                return looksLikeToken(v) ? String(field[..<eq]) + "=" + mask : text(String(field))
            }.joined(separator: ",")
        }
        guard let eq = value.firstIndex(of: "=") else { return text(value) }
        let key = String(value[..<eq])
        let v = String(value[value.index(after: eq)...])
        if v.isEmpty { return value }
        if valueFlags.contains(flag) {
            return keepValues.contains(key) ? key + "=" + text(v) : key + "=" + mask
        }
        if isSensitive(key: key) || looksLikeToken(v) { return key + "=" + mask }
        return key + "=" + text(v)
    }

    // MARK: Names that look secret

    /// Whether a variable, flag or header name names a credential: one of its parts (split at `_`, `-`, `.`)
    /// contains PASS (PASSWORD, PASSWD, MY_PASS), ends in PWD (DB_PWD, MYSQL_PWD; not the shell's PWD and OLDPWD)
    /// or KEY (API_KEY, APIKEY), is or ends in AUTH (AUTH, OAUTH) or starts with AUTHORIZ, or contains TOKEN,
    /// SECRET, CREDENTIAL, PRIVATE, COOKIE, SESSION or SIGNATURE, in any case.
    package static func isSensitive(key: String) -> Bool {
        let upper = key.uppercased()
        if upper == "PWD" || upper == "OLDPWD" { return false }
        let parts = upper.split(whereSeparator: { $0 == "_" || $0 == "-" || $0 == "." })
        return parts.contains { part in
            part.contains("PASS") || part.hasSuffix("PWD") || part.hasSuffix("KEY") || part.hasSuffix("AUTH")
                || part.hasPrefix("AUTHORIZ")
                || ["TOKEN", "SECRET", "CREDENTIAL", "PRIVATE", "COOKIE", "SESSION", "SIGNATURE"].contains { part.contains($0) }
        }
    }

    static let tokenPrefixes = [
        "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "xoxa-", "xoxs-", "npm_",
        "sk-", "AKIA", "ASIA", "eyJ", "AIza", "hf_", "pypi-",
    ]

    /// Whether a value looks like a credential: a well-known token prefix with at least 16 characters, or 24 or more
    /// characters of [A-Za-z0-9+/=_-], not a path, with a run of 16 or more letters and digits mixing both, and not
    /// plain hexadecimal (commit ids and digests stay readable).
    package static func looksLikeToken(_ value: String) -> Bool {
        let scalars = value.unicodeScalars
        if scalars.count >= 16, tokenPrefixes.contains(where: { value.hasPrefix($0) }),
            !value.contains(" "), !value.contains("/")
        {
            return true
        }
        guard scalars.count >= 24, !value.hasPrefix("/"), !value.hasPrefix("."), !value.hasPrefix("~") else {
            return false
        }
        var letters = false, digits = false, nonHex = false
        for s in scalars {
            switch s {
            case "0"..."9": digits = true
            case "a"..."f", "A"..."F": letters = true
            case "g"..."z", "G"..."Z":
                letters = true
                nonHex = true
            case "+", "/", "=", "_", "-": nonHex = true
            default: return false
            }
        }
        // A path or a dashed name is not a token: one run of 16 or more letters and digits, mixing both, is needed.
        let longRun = value.split(whereSeparator: { "/-_+=.".contains($0) }).contains { run in
            run.count >= 16 && run.contains(where: \.isLetter) && run.contains(where: \.isNumber)
        }
        return letters && digits && nonHex && longRun
    }

    // MARK: Any text

    /// `text` with what is recognisably a secret masked wherever it appears: URL credentials, webhook URLs and bearer
    /// tokens. For every string a record holds (tags, image, matched lines, decisions).
    package static func text(_ text: String) -> String {
        var result = url(in: text)
        result = webhooks(in: result)
        result = bearer(in: result)
        return result
    }

    /// Masks the password of every `scheme://user:password@host` in `text` (and a token used as the user name).
    package static func url(in text: String) -> String {
        guard text.contains("://"), text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let end = schemeEnd(in: rest) {
            result += rest[..<end]
            rest = rest[end...]
            // userinfo ends at '@' before any '/', '?', '#' or whitespace.
            guard let at = rest.firstIndex(of: "@"),
                !rest[..<at].contains(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == " " })
            else { continue }
            let userinfo = rest[..<at]
            if let colon = userinfo.firstIndex(of: ":") {
                result += userinfo[..<colon] + ":" + mask
            } else if looksLikeToken(String(userinfo)) {
                result += mask
            } else {
                result += userinfo
            }
            rest = rest[at...]
        }
        return result + rest
    }

    /// The index just after the first `://` in `text`.
    static func schemeEnd(in text: Substring) -> Substring.Index? {
        var i = text.startIndex
        while i < text.endIndex {
            if text[i...].hasPrefix("://") { return text.index(i, offsetBy: 3) }
            i = text.index(after: i)
        }
        return nil
    }

    /// Incoming-webhook URLs carry their secret in the path: Slack's `hooks.slack.com/services/T…/B…/SECRET` and
    /// `/workflows/…`, Discord's `discord.com/api/webhooks/ID/TOKEN`. The path after the fixed part is masked.
    static let webhookPrefixes = [
        "hooks.slack.com/services/", "hooks.slack.com/workflows/", "hooks.slack.com/triggers/",
        "discord.com/api/webhooks/", "discordapp.com/api/webhooks/", "ptb.discord.com/api/webhooks/",
        "canary.discord.com/api/webhooks/",
    ]

    static func webhooks(in text: String) -> String {
        guard text.contains("hooks") else { return text }
        var result = text
        for prefix in webhookPrefixes {
            var from = result.startIndex
            while let found = result[from...].firstRange(of: prefix) {
                let end = result[found.upperBound...].firstIndex { " \t\n\"'".contains($0) } ?? result.endIndex
                let secret = result[found.upperBound..<end]
                let done: String.Index
                if secret.isEmpty || secret == Substring(mask) {
                    done = end
                } else {
                    let offset = result.distance(from: result.startIndex, to: found.upperBound)
                    result.replaceSubrange(found.upperBound..<end, with: mask)
                    done = result.index(result.startIndex, offsetBy: offset + mask.count)
                }
                guard done < result.endIndex else { break }
                from = done
            }
        }
        return result
    }

    /// `Bearer TOKEN`, and `Authorization: Basic|Token|Digest CREDENTIALS`: the credentials masked.
    static func bearer(in text: String) -> String {
        let lower = text.lowercased()
        guard lower.contains("bearer") || lower.contains("authorization:") else { return text }
        var tokens = Tokens(text)
        let indices = tokens.indices
        for n in indices.indices where n > 0 {
            let previous = Quoted(tokens[indices[n - 1]]).core.lowercased()
            let beforePrevious = n > 1 ? Quoted(tokens[indices[n - 2]]).core.lowercased() : ""
            if previous == "bearer" || (beforePrevious == "authorization:" && ["basic", "token", "digest"].contains(previous)) {
                var quoted = Quoted(tokens[indices[n]])
                if !quoted.core.isEmpty, quoted.core != mask {
                    quoted.core = mask
                    tokens[indices[n]] = quoted.text
                }
            }
        }
        return tokens.text
    }

    // MARK: The container's command line

    /// The words after a `run`'s image, read in order: a flag whose value is the next token carries over.
    struct ContainerCommand {
        /// A secret-looking flag (`--password`) or header name (`X-Api-Key:`) was the previous token: this one is its
        /// value, unless it is a flag itself.
        var pending = false

        mutating func word(_ word: String) -> String {
            var tokens = Tokens(word)
            for i in tokens.indices {
                var quoted = Quoted(tokens[i])
                quoted.core = token(quoted.core)
                tokens[i] = quoted.text
            }
            return text(tokens.text)
        }

        mutating func token(_ token: String) -> String {
            let isFlag = token.hasPrefix("-") && token.count > 1
            if pending {
                pending = false
                if !isFlag { return token.isEmpty ? token : mask }
            }
            // `-pSECRET`: mysql's password, attached. Digits alone are a port (`-p8080`).
            if token.hasPrefix("-p"), !token.hasPrefix("--"), token.count > 2 {
                return token.dropFirst(2).allSatisfy(\.isNumber) ? token : "-p" + mask
            }
            if isFlag {
                let body = token.drop { $0 == "-" }
                if let eq = body.firstIndex(of: "=") {
                    guard isSensitive(key: String(body[..<eq])), body.index(after: eq) < body.endIndex else { return token }
                    return String(token[...eq]) + mask
                }
                // A long flag (`--token`) or a short one spelled out (`-password`); `-X` short flags are not read.
                if body.count > 1, isSensitive(key: String(body)) { pending = true }
                return token
            }
            // `X-Api-Key:` or `PRIVATE-TOKEN:`, the value next (`Authorization: SCHEME CREDENTIALS` is `bearer`'s).
            if token.hasSuffix(":"), token.count > 1, isSensitive(key: String(token.dropLast())),
                !token.lowercased().hasSuffix("authorization:")
            {
                pending = true
                return token
            }
            // `KEY=VALUE` whose key looks secret (env assignments, `PGPASSWORD=… psql`); an empty value stays.
            if let eq = token.firstIndex(of: "="), eq != token.startIndex, token.index(after: eq) < token.endIndex,
                isSensitive(key: String(token[..<eq]))
            {
                return String(token[...eq]) + mask
            }
            return token
        }
    }

    /// A token with its surrounding quotes (`"--password=x"` inside `sh -c '…'`) apart, so that the core is read and
    /// the quotes put back.
    struct Quoted {
        var lead: Substring
        var core: String
        var trail: Substring

        init(_ token: String) {
            let isQuote: (Character) -> Bool = { $0 == "\"" || $0 == "'" }
            let start = token.firstIndex { !isQuote($0) } ?? token.endIndex
            let end = token[start...].lastIndex { !isQuote($0) }.map { token.index(after: $0) } ?? start
            lead = token[..<start]
            core = String(token[start..<end])
            trail = token[end...]
        }

        var text: String { lead + core + trail }
    }

    /// A text split at runs of blanks, the blanks kept, so that it can be put back together unchanged.
    struct Tokens {
        private var parts: [(token: String, blank: Bool)]

        init(_ text: String) {
            parts = []
            var current = ""
            var blank: Bool?
            for c in text {
                let isBlank = c == " " || c == "\t" || c == "\n"
                if blank != nil, isBlank != blank {
                    parts.append((current, blank!))
                    current = ""
                }
                current.append(c)
                blank = isBlank
            }
            if let blank { parts.append((current, blank)) }
        }

        /// The positions of the non-blank tokens.
        var indices: [Int] { parts.indices.filter { !parts[$0].blank } }

        subscript(_ i: Int) -> String {
            get { parts[i].token }
            set { parts[i].token = newValue }
        }

        var text: String { parts.map(\.token).joined() }
    }
}


extension InvocationRecord {
    /// The record with every string that can carry what a user typed through `Redaction.text` (its argv went
    /// through `Redaction.argv`): the image, the tags, the directory, the decisions, the CI fields.
    package var textRedacted: InvocationRecord {
        var r = self
        r.cwd = Redaction.text(cwd)
        r.policySource = policySource.map(Redaction.text)
        r.image = image.map(Redaction.text)
        r.tags = tags?.map(Redaction.text)
        r.decisions = decisions?.map(Redaction.text)
        r.preflight = preflight?.map(\.textRedacted)
        if var ci {
            ci.jobName = ci.jobName.map(Redaction.text)
            ci.buildURL = ci.buildURL.map(Redaction.text)
            ci.nodeName = ci.nodeName.map(Redaction.text)
            r.ci = ci
        }
        return r
    }
}

extension AttemptRecord {
    /// The record with docker's matched line, the decisions and the remedies' words through `Redaction.text`.
    package var textRedacted: AttemptRecord {
        var r = self
        r.matchedLine = matchedLine.map(Redaction.text)
        r.preflight = preflight.map(\.textRedacted)
        r.remedies = remedies.map { remedy in
            var remedy = remedy
            remedy.skippedReason = remedy.skippedReason.map(Redaction.text)
            remedy.error = remedy.error.map(Redaction.text)
            return remedy
        }
        r.decision = Redaction.text(decision)
        return r
    }
}

extension JournalDecision {
    var textRedacted: JournalDecision {
        var d = self
        d.message = message.map(Redaction.text)
        return d
    }
}
