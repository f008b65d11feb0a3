/// A shell-style glob for image names, paths and job names: `*` (any characters but `/`), `**` (any characters,
/// `/` included; `**/` also matches nothing), `?` (one character but `/`), `[abc]`, `[a-z]`, `[!a-z]` / `[^a-z]`, and
/// `\x` for a literal `x`.
package struct Glob: Equatable, Hashable, Sendable, CustomStringConvertible {
    package let pattern: String
    let tokens: [Token]

    enum Token: Equatable, Hashable, Sendable {
        case literal(Character)
        case one
        case star
        /// `**`; `slash` when written `**/`, which also matches the empty string.
        case globstar(slash: Bool)
        case set(negated: Bool, items: [ClassItem])
    }

    enum ClassItem: Equatable, Hashable, Sendable {
        case char(Character)
        case range(Character, Character)
    }

    /// Why a pattern is not a glob, or can never match.
    package struct Problem: Error, Equatable, Sendable {
        package let message: String
    }

    package init(_ pattern: String) throws(Problem) {
        self.pattern = pattern
        guard !pattern.isEmpty else { throw Problem(message: "an empty glob matches nothing") }
        let chars = Array(pattern)
        var tokens: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "\\":
                guard i + 1 < chars.count else { throw Problem(message: "glob '\(pattern)' ends with a lone '\\'") }
                tokens.append(.literal(chars[i + 1]))
                i += 2
            case "?":
                tokens.append(.one)
                i += 1
            case "*":
                if i + 1 < chars.count, chars[i + 1] == "*" {
                    let before = i == 0 || chars[i - 1] == "/"
                    let afterIndex = i + 2
                    let after = afterIndex == chars.count || chars[afterIndex] == "/"
                    guard before, after else {
                        throw Problem(
                            message: "'**' in glob '\(pattern)' must be a whole path component, as in 'ml/**' or '**/Dockerfile'")
                    }
                    if afterIndex < chars.count {
                        tokens.append(.globstar(slash: true))
                        i = afterIndex + 1
                    } else {
                        tokens.append(.globstar(slash: false))
                        i = afterIndex
                    }
                } else {
                    tokens.append(.star)
                    i += 1
                }
            case "[":
                var j = i + 1
                var negated = false
                if j < chars.count, chars[j] == "!" || chars[j] == "^" {
                    negated = true
                    j += 1
                }
                var items: [ClassItem] = []
                var first = true
                var closed = false
                while j < chars.count {
                    var ch = chars[j]
                    if ch == "]" && !first {
                        closed = true
                        break
                    }
                    first = false
                    if ch == "\\", j + 1 < chars.count {
                        j += 1
                        ch = chars[j]
                    }
                    if j + 2 < chars.count, chars[j + 1] == "-", chars[j + 2] != "]" {
                        let upper = chars[j + 2]
                        guard ch <= upper else {
                            throw Problem(message: "range '\(ch)-\(upper)' in glob '\(pattern)' is reversed and matches nothing")
                        }
                        items.append(.range(ch, upper))
                        j += 3
                    } else {
                        items.append(.char(ch))
                        j += 1
                    }
                }
                guard closed else { throw Problem(message: "'[' in glob '\(pattern)' is never closed with ']'") }
                tokens.append(.set(negated: negated, items: items))
                i = j + 1
            default:
                tokens.append(.literal(c))
                i += 1
            }
        }
        self.tokens = tokens
    }

    package var description: String { pattern }

    /// Whether the whole of `text` matches.
    package func matches(_ text: String) -> Bool {
        let chars = Array(text)
        return Self.match(tokens[...], chars, 0)
    }

    /// The literal characters of the pattern (for checks such as "an image name is lower case").
    var literals: [Character] {
        tokens.compactMap { if case .literal(let c) = $0 { return c } else { return nil } }
    }

    private static func match(_ tokens: ArraySlice<Token>, _ text: [Character], _ start: Int) -> Bool {
        var i = start
        var t = tokens.startIndex
        while t < tokens.endIndex {
            switch tokens[t] {
            case .literal(let c):
                guard i < text.count, text[i] == c else { return false }
                i += 1
            case .one:
                guard i < text.count, text[i] != "/" else { return false }
                i += 1
            case .set(let negated, let items):
                guard i < text.count, text[i] != "/" else { return false }
                let c = text[i]
                let inSet = items.contains { item in
                    switch item {
                    case .char(let x): return x == c
                    case .range(let lo, let hi): return lo <= c && c <= hi
                    }
                }
                guard inSet != negated else { return false }
                i += 1
            case .star:
                let rest = tokens[(t + 1)...]
                var k = i
                while true {
                    if match(rest, text, k) { return true }
                    guard k < text.count, text[k] != "/" else { return false }
                    k += 1
                }
            case .globstar(let slash):
                let rest = tokens[(t + 1)...]
                if !slash { return rest.isEmpty || (i...text.count).contains { match(rest, text, $0) } }
                if match(rest, text, i) { return true }
                var k = i
                while k < text.count {
                    if text[k] == "/", match(rest, text, k + 1) { return true }
                    k += 1
                }
                return false
            }
            t += 1
        }
        return i == text.count
    }
}

/// The spellings of one image reference that a policy glob is tried against: as written, and with and without
/// docker's defaults (`docker.io/`, `docker.io/library/`, `:latest`), so `busybox`, `busybox:latest` and
/// `docker.io/library/busybox:latest` are matched by the same globs.
enum ImageReference {
    static func spellings(_ reference: String) -> [String] {
        var name = reference
        var suffix = ""
        if let at = name.firstIndex(of: "@") {
            suffix = String(name[at...])
            name = String(name[..<at])
        }
        var tag: String?
        if let colon = name.lastIndex(of: ":"), !name[name.index(after: colon)...].contains("/") {
            tag = String(name[name.index(after: colon)...])
            name = String(name[..<colon])
        }
        // Short (familiar) and fully qualified names.
        var short = name
        for prefix in ["docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"]
        where short.hasPrefix(prefix) {
            short = String(short.dropFirst(prefix.count))
            break
        }
        let firstComponent = short.split(separator: "/", maxSplits: 1).first.map(String.init) ?? short
        let hasRegistry = short.contains("/") && (firstComponent.contains(".") || firstComponent.contains(":") || firstComponent == "localhost")
        var names = [short]
        if !hasRegistry {
            names.append(short.contains("/") ? "docker.io/" + short : "docker.io/library/" + short)
            if !short.contains("/") { names.append("library/" + short) }
        }
        var result: [String] = []
        func add(_ s: String) { if !result.contains(s) { result.append(s) } }
        add(reference)
        for n in names {
            if let tag {
                add(n + ":" + tag + suffix)
                if tag == "latest", suffix.isEmpty { add(n) }
            } else {
                add(n + suffix)
                if suffix.isEmpty { add(n + ":latest") }
            }
        }
        return result
    }
}
