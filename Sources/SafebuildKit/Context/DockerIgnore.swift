/// `.dockerignore` rules as docker applies them: moby/patternmatcher (patternmatcher.go, `MatchesOrParentMatches`)
/// over the lines read by moby/patternmatcher/ignorefile (`ReadAll`): `#` comments, blank lines skipped, `!`
/// exceptions, a leading `/` dropped, paths cleaned; `*` and `?` never cross `/`, `**` spans directories, `[…]`
/// classes and `\` escapes as in Go's filepath.Match. The last matching pattern wins.
package struct DockerIgnore: Sendable, Equatable {
    package struct Pattern: Sendable, Equatable {
        package var text: String
        package var exclusion: Bool
        let tokens: [Token]

        /// patternmatcher's "suffix match": a pattern starting with `**` followed only by plain characters is
        /// matched as a string suffix (`**foo` matches `barfoo`), not as `(.*/)?foo`.
        var suffix: String? {
            guard text.hasPrefix("**") else { return nil }
            let rest = text.dropFirst(2)
            guard !rest.contains(where: { "*?[]\\".contains($0) }) else { return nil }
            return String(rest)
        }

        func matches(_ path: String, _ budget: inout Budget) -> Bool {
            // Matching recurses once per token: a pattern longer than any path could be is not tried.
            if tokens.count > DockerIgnore.maxTokens {
                budget.exhaust()
                return false
            }
            if let suffix {
                return path.hasSuffix(suffix) || (suffix.first == "/" && path == String(suffix.dropFirst()))
            }
            return DockerIgnore.match(tokens[...], Array(path)[...], &budget)
        }
    }

    enum Token: Sendable, Equatable {
        case literal(Character)
        /// `*`: any run of characters except `/`.
        case star
        /// `?`: one character except `/`.
        case one
        /// `**/` inside a pattern: `(.*/)?`.
        case anyDirectories
        /// `**` at the end: anything, `/` included.
        case anything
        /// `[…]`: a character class, with negation.
        case set(negated: Bool, items: [SetItem])
    }

    enum SetItem: Sendable, Equatable {
        case char(Character)
        case range(Character, Character)
    }

    package var patterns: [Pattern]

    package init(patterns: [Pattern]) { self.patterns = patterns }

    /// Reads a `.dockerignore` file's text. A lone `!` or a broken `[` class is an error, as in docker.
    package static func parse(_ text: String) throws(ProbeError) -> DockerIgnore {
        var patterns: [Pattern] = []
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.hasPrefix("#") { continue }
            line = line.trimmingWhitespace
            if line.isEmpty { continue }
            var exclusion = false
            if line.first == "!" {
                exclusion = true
                line = line.dropFirst().trimmingWhitespace
            }
            var cleaned = line.isEmpty ? "" : cleanPath(String(line))
            if cleaned.count > 1, cleaned.first == "/" { cleaned.removeFirst() }
            if exclusion && cleaned.isEmpty {
                throw ProbeError(".dockerignore:\(number + 1)", "illegal exclusion pattern: \"!\"")
            }
            guard let tokens = compile(cleaned) else {
                throw ProbeError(".dockerignore:\(number + 1)", "syntax error in pattern \"\(line)\"")
            }
            patterns.append(Pattern(text: cleaned, exclusion: exclusion, tokens: tokens))
        }
        return DockerIgnore(patterns: patterns)
    }

    /// The longest pattern matched, in tokens (a path is at most PATH_MAX, 4,096 bytes).
    static let maxTokens = 4096

    /// How long matching may go on: a pattern with many `*` can take exponential time against a long name, and a
    /// `.dockerignore` is a repository's. The clock is read every 4,096 steps; once past `deadline`, every match
    /// answers false and `exhausted` is set.
    package struct Budget: Sendable {
        package var deadline: Double
        package var steps = 0
        package private(set) var exhausted = false

        package init(deadline: Double) { self.deadline = deadline }

        mutating func exhaust() { exhausted = true }

        /// One step of matching; false once the budget is spent.
        mutating func step() -> Bool {
            if exhausted { return false }
            steps += 1
            if steps & 4095 == 0, Clock.now() > deadline { exhausted = true }
            return !exhausted
        }
    }

    /// Whether docker leaves `path` (slash-separated, relative to the context) out of the build context.
    package func excludes(_ path: String) -> Bool {
        var budget = Budget(deadline: .infinity)
        return excludes(path, budget: &budget)
    }

    /// `excludes(_:)` within `budget` (false once it is spent: check `budget.exhausted`).
    package func excludes(_ path: String, budget: inout Budget) -> Bool {
        if patterns.isEmpty { return false }
        let file = Self.cleanPath(path)
        if file == "." { return false }
        let parts = file.split(separator: "/").map(String.init)
        var parents: [String] = []
        if parts.count > 1 {
            for i in 1..<parts.count { parents.append(parts[..<i].joined(separator: "/")) }
        }
        var matched = false
        for pattern in patterns where pattern.exclusion == matched {
            let match = pattern.matches(file, &budget) || parents.contains { pattern.matches($0, &budget) }
            if budget.exhausted { return false }
            if match { matched = !pattern.exclusion }
        }
        return matched
    }

    /// Go's filepath.Clean for slash paths.
    static func cleanPath(_ path: String) -> String {
        let rooted = path.hasPrefix("/")
        var out: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if let last = out.last, last != ".." {
                    out.removeLast()
                } else if !rooted {
                    out.append(part)
                }
                continue
            }
            out.append(part)
        }
        let joined = out.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    static func compile(_ pattern: String) -> [Token]? {
        var tokens: [Token] = []
        let chars = Array(pattern)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            i += 1
            switch c {
            case "*":
                if i < chars.count, chars[i] == "*" {
                    i += 1
                    if i < chars.count, chars[i] == "/" { i += 1 }
                    tokens.append(i == chars.count ? .anything : .anyDirectories)
                } else {
                    tokens.append(.star)
                }
            case "?": tokens.append(.one)
            case "\\":
                if i < chars.count {
                    tokens.append(.literal(chars[i]))
                    i += 1
                } else {
                    tokens.append(.literal("\\"))
                }
            case "[":
                var negated = false
                if i < chars.count, chars[i] == "^" || chars[i] == "!" {
                    negated = true
                    i += 1
                }
                var items: [SetItem] = []
                var closed = false
                while i < chars.count {
                    var lo = chars[i]
                    i += 1
                    if lo == "]" && !items.isEmpty {
                        closed = true
                        break
                    }
                    if lo == "\\" {
                        guard i < chars.count else { return nil }
                        lo = chars[i]
                        i += 1
                    }
                    if i + 1 < chars.count, chars[i] == "-", chars[i + 1] != "]" {
                        var hi = chars[i + 1]
                        i += 2
                        if hi == "\\" {
                            guard i < chars.count else { return nil }
                            hi = chars[i]
                            i += 1
                        }
                        items.append(.range(lo, hi))
                    } else {
                        items.append(.char(lo))
                    }
                }
                guard closed else { return nil }
                tokens.append(.set(negated: negated, items: items))
            default: tokens.append(.literal(c))
            }
        }
        return tokens
    }

    /// Anchored match of the whole name, by backtracking within `budget`.
    static func match(_ tokens: ArraySlice<Token>, _ name: ArraySlice<Character>, _ budget: inout Budget) -> Bool {
        guard budget.step() else { return false }
        guard let token = tokens.first else { return name.isEmpty }
        let rest = tokens.dropFirst()
        switch token {
        case .literal(let c):
            return name.first == c && match(rest, name.dropFirst(), &budget)
        case .one:
            guard let c = name.first, c != "/" else { return false }
            return match(rest, name.dropFirst(), &budget)
        case .set(let negated, let items):
            guard let c = name.first, c != "/" else { return false }
            let inSet = items.contains {
                switch $0 {
                case .char(let x): return x == c
                case .range(let lo, let hi): return lo <= c && c <= hi
                }
            }
            return inSet != negated && match(rest, name.dropFirst(), &budget)
        case .star:
            var n = name
            while true {
                if match(rest, n, &budget) { return true }
                guard let c = n.first, c != "/" else { return false }
                n = n.dropFirst()
            }
        case .anything:
            return true
        case .anyDirectories:
            // (.*/)? : nothing, or anything ending in a slash.
            if match(rest, name, &budget) { return true }
            var index = name.startIndex
            while index < name.endIndex {
                if name[index] == "/", match(rest, name[(index + 1)...], &budget) { return true }
                index += 1
            }
            return false
        }
    }
}
