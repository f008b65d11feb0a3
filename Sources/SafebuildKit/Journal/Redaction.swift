/// Keeps secrets out of the journal. Pure: argv in, argv out.
///
/// - `--build-arg`, `-e`/`--env`, `--label`/`-l` values `K=V`: `K=***` when the key names a credential (it contains
///   TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, KEY, CREDENTIAL, AUTH, PRIVATE, COOKIE, SESSION or SIGNATURE, in
///   any case) or the value looks like a token.
/// - `--secret id=…,src=…` (and `--ssh`): each `k=v` field is kept unless its value looks like a token.
/// - Everywhere: `scheme://user:password@` becomes `scheme://user:***@`, and `scheme://TOKEN@` becomes
///   `scheme://***@` when TOKEN looks like a token.
package enum Redaction {
    package static let mask = "***"

    static let keyValueFlags: Set<String> = ["--build-arg", "-e", "--env", "--label", "-l"]
    static let fieldFlags: Set<String> = ["--secret", "--ssh"]
    static let sensitiveWords = [
        "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "KEY", "CREDENTIAL", "AUTH", "PRIVATE", "COOKIE",
        "SESSION", "SIGNATURE",
    ]

    /// argv with secrets masked, and whether anything was masked.
    package static func argv(_ words: [String]) -> (argv: [String], redacted: Bool) {
        var out: [String] = []
        out.reserveCapacity(words.count)
        var changed = false
        var pending: String?  // the flag whose value is the next word
        for word in words {
            var result = word
            if let flag = pending {
                result = value(word, of: flag)
                pending = nil
            } else if keyValueFlags.contains(word) || fieldFlags.contains(word) {
                pending = word
            } else if let eq = word.firstIndex(of: "="), word.hasPrefix("--"),
                keyValueFlags.contains(String(word[..<eq])) || fieldFlags.contains(String(word[..<eq]))
            {
                let flag = String(word[..<eq])
                result = flag + "=" + value(String(word[word.index(after: eq)...]), of: flag)
            } else if word.hasPrefix("-e"), word.count > 2, !word.hasPrefix("--") {
                // `-eKEY=VALUE`, pflag's attached short form.
                result = "-e" + value(String(word.dropFirst(2)), of: "-e")
            } else {
                result = url(in: word)
            }
            if result != word { changed = true }
            out.append(result)
        }
        return (out, changed)
    }

    static func value(_ value: String, of flag: String) -> String {
        if fieldFlags.contains(flag) {
            return value.split(separator: ",", omittingEmptySubsequences: false).map { field -> String in
                guard let eq = field.firstIndex(of: "=") else { return String(field) }
                let v = String(field[field.index(after: eq)...])
                return looksLikeToken(v) ? String(field[..<eq]) + "=" + mask : url(in: String(field))
            }.joined(separator: ",")
        }
        guard let eq = value.firstIndex(of: "=") else { return url(in: value) }
        let key = String(value[..<eq])
        let v = String(value[value.index(after: eq)...])
        if v.isEmpty { return value }
        if isSensitive(key: key) || looksLikeToken(v) { return key + "=" + mask }
        return key + "=" + url(in: v)
    }

    /// Whether a variable name names a credential.
    package static func isSensitive(key: String) -> Bool {
        let upper = key.uppercased()
        return sensitiveWords.contains { upper.contains($0) }
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
}
