import Yams

/// Reads one policy file's YAML over a base policy: every key the file sets replaces the base's value (with the file's
/// line as its source); keys it does not set keep the base's. Collects every problem instead of stopping at the first.
final class PolicyParser {
    let file: String?
    let name: String
    private(set) var diagnostics: [PolicyDiagnostic] = []

    init(file: String?) {
        self.file = file
        self.name = file ?? PolicySource.builtInName
    }

    /// Parses `text` over `base`. Pure: no file access.
    static func parse(_ text: String, file: String?, over base: Policy) -> Result<Policy, PolicyError> {
        let parser = PolicyParser(file: file)
        var policy = base
        do {
            if let root = try compose(text) {
                parser.root(root, into: &policy)
            }
        } catch let error as YamlError {
            parser.yamlError(error, text: text)
        } catch {
            parser.report(line: 1, column: 1, "cannot read the YAML: \(error)", expected: "valid YAML")
        }
        if parser.diagnostics.isEmpty { parser.crossChecks(policy) }
        if !parser.diagnostics.isEmpty { return .failure(PolicyError(file: parser.name, diagnostics: parser.diagnostics)) }
        return .success(policy)
    }

    /// The YAML node tree, every scalar a plain string (the basic resolver: no implicit typing, no regexes).
    static func compose(_ text: String) throws -> Node? {
        try Yams.compose(yaml: text, Resolver.basic)
    }

    // MARK: Reporting

    func report(line: Int, column: Int, _ problem: String, expected: String? = nil, suggestion: String? = nil) {
        diagnostics.append(
            PolicyDiagnostic(
                file: name, line: line, column: column, problem: problem, expected: expected, suggestion: suggestion))
    }

    func report(_ node: Node, _ problem: String, expected: String? = nil, suggestion: String? = nil) {
        report(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, problem, expected: expected, suggestion: suggestion)
    }

    func source(_ node: Node) -> PolicySource {
        PolicySource(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
    }

    func yamlError(_ error: YamlError, text: String) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var what = "invalid YAML: \(problem)"
            if let context, !context.text.isEmpty, context.text != text {
                what += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            report(line: mark.line, column: mark.column, what, expected: "valid YAML (check indentation, ':' and quotes)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let first = context.mark
            let second = Self.findRepeat(of: key, line: first.line, column: first.column, in: text)
            report(
                line: second?.line ?? first.line, column: second?.column ?? first.column,
                "key '\(key)' is given twice in the same mapping (first at line \(first.line))",
                expected: "each key once; remove one of them")
        case .reader(let problem, let offset, _, _):
            var line = 1
            var column = 1
            if let offset {
                for c in text.prefix(offset) {
                    if c == "\n" { line += 1; column = 1 } else { column += 1 }
                }
            }
            report(line: line, column: column, "cannot read the file: \(problem)", expected: "UTF-8 text")
        default:
            report(line: 1, column: 1, "invalid YAML: \(error)", expected: "valid YAML")
        }
    }

    /// Yams reports a repeated key at its first occurrence; the repeat is what the user wants to see. Looks for the
    /// next line at the same indentation that starts with the same key, within the same block.
    static func findRepeat(of key: String, line: Int, column: Int, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = column - 1
        var number = line
        while number < lines.count {
            let line = Array(lines[number])
            number += 1
            let leading = line.prefix { $0 == " " }.count
            if leading == line.count || line[leading] == "#" { continue }
            if leading < indent { return nil }
            guard leading == indent else { continue }
            let rest = String(line[leading...])
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where rest.hasPrefix(spelling) {
                let after = rest.dropFirst(spelling.count).drop { $0 == " " }
                if after.first == ":" { return (number, column) }
            }
        }
        return nil
    }

    // MARK: Structure

    /// Calls `body` for each key of a mapping; reports keys not in `known`, with a suggestion.
    func mapping(
        _ node: Node, _ path: String, known: [String], hints: [String: String] = [:], _ body: (String, Node, Node) -> Void
    ) {
        guard let map = node.mapping else {
            report(node, "\(path) is \(Self.kind(node))", expected: "a mapping with keys \(Self.list(known))")
            return
        }
        for (keyNode, value) in map {
            guard let key = keyNode.scalar?.string else {
                report(keyNode, "a key in \(path) is \(Self.kind(keyNode))", expected: "a plain key such as \(known[0])")
                continue
            }
            if known.contains(key) {
                body(key, keyNode, value)
            } else if let hint = hints[key] {
                report(keyNode, "unknown key '\(key)' in \(path)", expected: hint)
            } else {
                let hint = Suggestion.closest(to: key, among: known)
                report(
                    keyNode, "unknown key '\(key)' in \(path)", expected: hint == nil ? "one of \(Self.list(known))" : nil,
                    suggestion: hint)
            }
        }
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s): return isNull(node) ? "empty" : "'\(s.string)'"
        case .alias: return "an alias"
        }
    }

    static func list(_ words: [String]) -> String { words.joined(separator: ", ") }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return s.string.isEmpty || s.string == "~" || s.string == "null" || s.string == "Null" || s.string == "NULL"
    }

    /// The text of a scalar; reports anything else.
    func scalar(_ node: Node, _ path: String, expected: String) -> String? {
        guard case .scalar(let s) = node, !Self.isNull(node) else {
            report(node, Self.isNull(node) ? "\(path) has no value" : "\(path) is \(Self.kind(node))", expected: expected)
            return nil
        }
        return s.string
    }

    // MARK: Typed values

    static let sizeWords = "a size such as 512m, 4g or 25% (of host memory)"
    static let diskWords = "a size such as 512m or 10g"

    func size(_ node: Node, _ path: String, share: Bool) -> Size? {
        let expected = share ? Self.sizeWords : Self.diskWords
        guard let text = scalar(node, path, expected: expected) else { return nil }
        if text.hasPrefix("-") {
            report(node, "\(path) is negative ('\(text)')", expected: expected)
            return nil
        }
        if text.hasSuffix("%") {
            guard share else {
                report(node, "\(path) is '\(text)', but a share of host memory does not apply here", expected: expected)
                return nil
            }
            guard let size = Size.parse(text) else {
                report(node, "\(path) is '\(text)', not a share of host memory", expected: "a share such as 25% (more than 0%, at most 100%)")
                return nil
            }
            return size
        }
        let size = Size.parse(text)
        if Size.isTooLarge(text) || size.map({ $0.bytes(hostMemory: 0) > Size.maximum }) == true {
            report(
                node, "\(path) is '\(text)', larger than \(Size.format(Size.maximum)) (1 EiB), the most safebuild takes",
                expected: expected)
            return nil
        }
        guard let size else {
            report(node, "\(path) is '\(text)', not a size", expected: expected + "; units b, k, m, g (binary)")
            return nil
        }
        return size
    }

    func memory(_ node: Node, _ path: String) -> MemoryRule? {
        let expected = Self.sizeWords + ", or unlimited"
        if let text = node.scalar?.string, text == "unlimited" { return .unlimited }
        guard scalar(node, path, expected: expected) != nil, let size = size(node, path, share: true) else { return nil }
        if case .bytes(let n) = size, n < Size.dockerMinimumMemory {
            report(
                node, "\(path) \(size) is below docker's minimum memory limit of 6m (\"Minimum memory limit allowed is 6MB\")",
                expected: "at least 6m, or unlimited")
            return nil
        }
        return .limit(size)
    }

    func swap(_ node: Node, _ path: String) -> SwapRule? {
        let expected = "none (no swap), unlimited (or -1), or a --memory-swap size such as 8g"
        guard let text = scalar(node, path, expected: expected) else { return nil }
        switch text.lowercased() {
        case "none", "no", "off", "false": return SwapRule.noSwap
        case "-1", "unlimited": return .unlimited
        default:
            guard let size = size(node, path, share: true) else { return nil }
            return .size(size)
        }
    }

    /// Seconds, read as a `TimeSpan` (the grammar `journal --since` reads too).
    func seconds(_ node: Node, _ path: String, positive: Bool = false) -> Double? {
        let expected = "a duration such as 30, 30s, 5m or 1h30m" + (positive ? ", more than 0" : "")
        guard let text = scalar(node, path, expected: expected) else { return nil }
        switch TimeSpan.parse(text) {
        case .failure(.negative):
            report(node, "\(path) is negative ('\(text)')", expected: expected)
            return nil
        case .failure(.notADuration):
            report(node, "\(path) is '\(text)', not a duration", expected: expected)
            return nil
        case .failure(.tooLong):
            report(node, "\(path) is '\(text)', longer than 10 years (\(TimeSpan.maximum))", expected: expected)
            return nil
        case .success(let span):
            if positive, span == .zero {
                report(node, "\(path) is \(text)", expected: expected)
                return nil
            }
            return span.seconds
        }
    }

    func integer(_ node: Node, _ path: String, range: ClosedRange<Int>) -> Int? {
        let expected = range.upperBound == Int.max ? "a whole number of at least \(range.lowerBound)"
            : "a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard let text = scalar(node, path, expected: expected) else { return nil }
        guard let n = Int(text) else {
            report(node, "\(path) is '\(text)', not a whole number", expected: expected)
            return nil
        }
        guard range.contains(n) else {
            report(node, n < 0 ? "\(path) is negative (\(n))" : "\(path) is \(n), out of range", expected: expected)
            return nil
        }
        return n
    }

    func number(_ node: Node, _ path: String, range: ClosedRange<Double>, expected: String) -> Double? {
        guard let text = scalar(node, path, expected: expected) else { return nil }
        guard let n = Double(text), n.isFinite else {
            report(node, "\(path) is '\(text)', not a number", expected: expected)
            return nil
        }
        guard range.contains(n) else {
            report(node, n < 0 ? "\(path) is negative (\(text))" : "\(path) is \(text), out of range", expected: expected)
            return nil
        }
        return n
    }

    func percent(_ node: Node, _ path: String) -> Double? {
        let expected = "a percentage from 0 to 100, such as 20 or 20%"
        guard var text = scalar(node, path, expected: expected) else { return nil }
        if text.hasSuffix("%") { text.removeLast() }
        guard let n = Double(text), n.isFinite else {
            report(node, "\(path) is '\(node.scalar?.string ?? text)', not a percentage", expected: expected)
            return nil
        }
        guard n >= 0, n <= 100 else {
            report(node, n < 0 ? "\(path) is negative (\(text))" : "\(path) is \(text)%, above 100%", expected: expected)
            return nil
        }
        return n
    }

    func bool(_ node: Node, _ path: String) -> Bool? {
        guard let text = scalar(node, path, expected: "true or false") else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(node, "\(path) is '\(text)', not true or false", expected: "true or false")
            return nil
        }
    }

    func choice<E: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, _: E.Type) -> E? where E.RawValue == String {
        let names = E.allCases.map(\.rawValue)
        guard let text = scalar(node, path, expected: "one of \(Self.list(names))") else { return nil }
        if let value = E(rawValue: text) { return value }
        let hint = Suggestion.closest(to: text, among: names)
        report(node, "\(path) is '\(text)'", expected: hint == nil ? "one of \(Self.list(names))" : nil, suggestion: hint)
        return nil
    }

    func text(_ node: Node, _ path: String, absolutePath: Bool = false) -> String? {
        let expected = absolutePath ? "an absolute path" : "text"
        guard let text = scalar(node, path, expected: expected) else { return nil }
        if absolutePath, !text.hasPrefix("/") {
            report(node, "\(path) is '\(text)', a relative path", expected: expected)
            return nil
        }
        return text
    }

    func set<V>(_ target: inout Sourced<V>, _ node: Node, _ value: V?) {
        if let value { target = Sourced(value, source(node)) }
    }

    // MARK: Sections

    static let topKeys = ["version", "run", "build", "rules", "preflight", "retry", "remedies", "journal", "signatures", "docker"]

    func root(_ node: Node, into policy: inout Policy) {
        if Self.isNull(node) { return }
        let inSection = "it under run: or build: (or in a rule)"
        let hints = ["memory": inSection, "swap": inSection, "shm_size": inSection, "enforce": "it under build: (or in a rule)"]
        mapping(node, "the policy", known: Self.topKeys, hints: hints) { key, _, value in
            switch key {
            case "version":
                if let text = scalar(value, "version", expected: "1"), text != "1" {
                    report(value, "version is '\(text)'; this safebuild reads version 1", expected: "1")
                }
            case "run":
                var unused = policy.buildEnforce
                limits(value, "run", &policy.run, enforce: &unused, allowEnforce: false)
            case "build": limits(value, "build", &policy.build, enforce: &policy.buildEnforce, allowEnforce: true)
            case "rules": policy.rules = rules(value)
            case "preflight": preflight(value, &policy.preflight)
            case "retry": retry(value, &policy.retry)
            case "remedies": remedies(value, &policy.remedies)
            case "journal": journal(value, &policy.journal)
            case "signatures": policy.signatures = signatures(value)
            case "docker": docker(value, &policy.docker)
            default: break
            }
        }
    }

    func limits(
        _ node: Node, _ path: String, _ limits: inout Policy.Limits, enforce: inout Sourced<BuildEnforcement>,
        allowEnforce: Bool
    ) {
        var keys = ["memory", "swap", "shm_size"]
        if allowEnforce { keys.append("enforce") }
        let hints = allowEnforce ? [:] : ["enforce": "it under build: (only builds have a builder to choose)"]
        mapping(node, path, known: keys, hints: hints) { key, _, value in
            switch key {
            case "memory": set(&limits.memory, value, memory(value, "\(path).memory"))
            case "swap": set(&limits.swap, value, swap(value, "\(path).swap"))
            case "shm_size":
                if Self.isNull(value) {
                    limits.shmSize = Sourced(nil, source(value))
                } else if let size = size(value, "\(path).shm_size", share: true) {
                    limits.shmSize = Sourced(size, source(value))
                }
            case "enforce":
                set(&enforce, value, choice(value, "\(path).enforce", BuildEnforcement.self))
            default: break
            }
        }
    }

    static let ruleKeys = ["name", "match", "memory", "swap", "shm_size", "enforce"]
    static let matchKeys = ["image", "context", "dockerfile", "job", "command"]

    func rules(_ node: Node) -> [Policy.Rule] {
        if Self.isNull(node) { return [] }
        guard case .sequence(let items) = node else {
            report(node, "rules is \(Self.kind(node))", expected: "a list of rules, each '- match: {…}' with settings")
            return []
        }
        var result: [Policy.Rule] = []
        for (index, item) in items.enumerated() {
            if let rule = rule(item, number: index + 1) { result.append(rule) }
        }
        return result
    }

    func rule(_ node: Node, number: Int) -> Policy.Rule? {
        let path = "rule \(number)"
        var rule = Policy.Rule(number: number, name: nil, match: .init(), source: source(node))
        var matchNode: Node?
        let before = diagnostics.count
        mapping(node, path, known: Self.ruleKeys) { key, _, value in
            switch key {
            case "name": rule.name = text(value, "\(path).name")
            case "match":
                matchNode = value
                match(value, path, into: &rule.match)
            case "memory": if let m = memory(value, "\(path).memory") { rule.memory = Sourced(m, source(value)) }
            case "swap": if let s = swap(value, "\(path).swap") { rule.swap = Sourced(s, source(value)) }
            case "shm_size": if let s = size(value, "\(path).shm_size", share: true) { rule.shmSize = Sourced(s, source(value)) }
            case "enforce":
                if let e = choice(value, "\(path).enforce", BuildEnforcement.self) { rule.enforce = Sourced(e, source(value)) }
            default: break
            }
        }
        guard node.mapping != nil, diagnostics.count == before else { return nil }
        if matchNode == nil {
            report(
                node, "\(path) has no 'match', so it would apply to everything",
                expected: "match: with at least one of \(Self.list(Self.matchKeys)) (defaults for everything belong under run: or build:)")
            return nil
        }
        if rule.memory == nil, rule.swap == nil, rule.shmSize == nil, rule.enforce == nil {
            report(node, "\(path) sets nothing", expected: "at least one of memory, swap, shm_size, enforce")
            return nil
        }
        if rule.match.command == .run, let enforce = rule.enforce {
            report(
                line: enforce.source.line, column: enforce.source.column,
                "\(path).enforce applies only to builds, but the rule matches only 'run'",
                expected: "command: build, or no enforce")
        }
        if let memory = rule.memory, let swap = rule.swap { swapBelowMemory(memory, swap, path) }
        return diagnostics.count == before ? rule : nil
    }

    /// Reads a rule's `match:`; reports globs that are invalid or can never match.
    func match(_ node: Node, _ rulePath: String, into match: inout Policy.Rule.Match) {
        let path = "\(rulePath).match"
        var commandNode: Node?
        var pathGlobNode: Node?
        mapping(node, path, known: Self.matchKeys) { key, _, value in
            switch key {
            case "command":
                commandNode = value
                match.command = choice(value, "\(path).command", Policy.Command.self)
            default:
                guard let pattern = scalar(value, "\(path).\(key)", expected: "a glob such as 'ml/*' or '**/ml/**'") else { return }
                do throws(Glob.Problem) {
                    let glob = try Glob(pattern)
                    switch key {
                    case "image":
                        if let problem = Self.imageGlobProblem(glob) {
                            report(value, "\(path).image '\(pattern)' can never match: \(problem)", expected: "an image glob such as 'ml/*' or 'python:3.*'")
                        }
                        match.image = glob
                    case "context":
                        match.context = glob
                        pathGlobNode = value
                    case "dockerfile":
                        match.dockerfile = glob
                        pathGlobNode = value
                    case "job": match.job = glob
                    default: break
                    }
                } catch {
                    report(value, "\(path).\(key): \(error.message)", expected: "a glob with *, **, ?, [a-z]")
                }
            }
        }
        if let map = node.mapping, map.count == 0 {
            report(node, "\(path) is empty, so the rule would apply to everything", expected: "at least one of \(Self.list(Self.matchKeys))")
        }
        if match.command == .run, pathGlobNode != nil, let commandNode {
            report(
                commandNode, "\(rulePath) can never match: context and dockerfile belong to builds, but command is 'run'",
                expected: "command: build, or no context/dockerfile")
        }
    }

    /// Why an image glob cannot match any image name, or nil.
    static func imageGlobProblem(_ glob: Glob) -> String? {
        let pattern = glob.pattern
        if pattern.contains(where: { $0 == " " || $0 == "\t" }) { return "image names have no spaces" }
        var name = Substring(pattern)
        if let at = name.firstIndex(of: "@") { name = name[..<at] }
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") { name = name[..<colon] }
        var components = name.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, let first = components.first, first.contains(".") || first.contains(":") || first == "localhost" {
            components.removeFirst()
        }
        if components.contains(where: { $0.contains(where: { $0.isUppercase }) }) {
            return "repository names are lower case"
        }
        return nil
    }

    func swapBelowMemory(_ memory: Sourced<MemoryRule>, _ swap: Sourced<SwapRule>, _ path: String) {
        guard case .limit(let m) = memory.value, case .size(let s) = swap.value else { return }
        let below: Bool
        switch (m, s) {
        case (.bytes(let a), .bytes(let b)): below = b < a
        case (.share(let a), .share(let b)): below = b < a
        default: below = false
        }
        guard below else { return }
        // Point at whichever of the two this file set, preferring swap.
        let at = swap.source.file == file && swap.source.line > 0 ? swap.source : memory.source
        guard at.file == file else { return }
        let other = at == swap.source ? "memory \(m) (\(memory.source))" : "swap \(s) (\(swap.source))"
        let what = at == swap.source ? "\(path).swap \(s) is below \(other)" : "\(path).memory \(m) is above \(other)"
        report(
            line: at.line, column: at.column, "\(what); docker refuses a --memory-swap below --memory",
            expected: "swap of at least the memory limit (memory plus swap), none for no swap, or unlimited")
    }

    static let preflightKeys = ["min_available", "max_pressure", "max_build_cache", "min_free_disk", "min_free_blocks", "wait_timeout", "engine_timeout"]

    func preflight(_ node: Node, _ p: inout Policy.Preflight) {
        mapping(node, "preflight", known: Self.preflightKeys) { key, _, value in
            let path = "preflight.\(key)"
            switch key {
            case "min_available": threshold(value, path, &p.minAvailable) { size($0, $1, share: true) }
            case "max_pressure": threshold(value, path, &p.maxPressure) { percent($0, $1) }
            case "max_build_cache": threshold(value, path, &p.maxBuildCache) { size($0, $1, share: false) }
            case "min_free_disk": threshold(value, path, &p.minFreeDisk) { size($0, $1, share: false) }
            case "min_free_blocks": threshold(value, path, &p.minFreeBlocks) { freeBlocks($0, $1) }
            case "wait_timeout": set(&p.waitTimeout, value, seconds(value, path))
            case "engine_timeout": set(&p.engineTimeout, value, seconds(value, path, positive: true))
            default: break
            }
        }
    }

    /// `key: {value: V, action: A}`, `key: V` (action kept), or `key: off` (check disabled).
    func threshold<V>(_ node: Node, _ path: String, _ t: inout Threshold<V>, _ parse: (Node, String) -> V?) {
        if let text = node.scalar?.string, text == "off" || Self.isNull(node) {
            t.value = Sourced(nil, source(node))
            return
        }
        guard node.mapping != nil else {
            if let v = parse(node, path) { t.value = Sourced(v, source(node)) }
            return
        }
        mapping(node, path, known: ["value", "action"]) { key, _, value in
            if key == "action" {
                set(&t.action, value, choice(value, "\(path).action", PreflightAction.self))
            } else if let text = value.scalar?.string, text == "off" {
                t.value = Sourced(nil, source(value))
            } else if let v = parse(value, "\(path).value") {
                t.value = Sourced(v, source(value))
            }
        }
    }

    func freeBlocks(_ node: Node, _ path: String) -> FreeBlocks? {
        guard node.mapping != nil else {
            report(node, "\(path) is \(Self.kind(node))", expected: "{order: 0-10, count: N}")
            return nil
        }
        var order: Int?
        var count: Int?
        let before = diagnostics.count
        mapping(node, path, known: ["order", "count"]) { key, _, value in
            if key == "order" { order = integer(value, "\(path).order", range: 0...10) }
            if key == "count" { count = integer(value, "\(path).count", range: 1...Int.max) }
        }
        guard diagnostics.count == before else { return nil }
        guard let order, let count else {
            report(node, "\(path) needs both order and count", expected: "{order: 0-10, count: N}")
            return nil
        }
        return FreeBlocks(order: order, count: count)
    }

    static let retryKeys = ["max_attempts", "backoff", "deadline", "raise_memory", "cooldown", "ladders"]

    func retry(_ node: Node, _ r: inout Policy.Retry) {
        mapping(node, "retry", known: Self.retryKeys) { key, _, value in
            let path = "retry.\(key)"
            switch key {
            case "max_attempts": set(&r.maxAttempts, value, integer(value, path, range: 1...100))
            case "deadline": set(&r.deadline, value, seconds(value, path, positive: true))
            case "cooldown": set(&r.cooldown, value, seconds(value, path))
            case "backoff":
                mapping(value, path, known: ["initial", "max", "jitter"]) { k, _, v in
                    switch k {
                    case "initial": set(&r.backoff.initial, v, seconds(v, "\(path).initial"))
                    case "max": set(&r.backoff.max, v, seconds(v, "\(path).max"))
                    default:
                        set(&r.backoff.jitter, v, number(v, "\(path).jitter", range: 0...1, expected: "a fraction from 0 to 1, such as 0.2"))
                    }
                }
                if r.backoff.max.value < r.backoff.initial.value {
                    let at = r.backoff.max.source.file == file ? r.backoff.max.source : r.backoff.initial.source
                    if at.file == file {
                        report(
                            line: at.line, column: at.column,
                            "\(path).max \(TimeSpan(seconds: r.backoff.max.value)) is below \(path).initial \(TimeSpan(seconds: r.backoff.initial.value))",
                            expected: "max of at least initial")
                    }
                }
            case "raise_memory":
                mapping(value, path, known: ["factor", "cap"]) { k, _, v in
                    if k == "factor" {
                        set(&r.raiseMemory.factor, v, number(v, "\(path).factor", range: 1...16, expected: "a factor from 1 to 16, such as 1.5"))
                    } else if let s = size(v, "\(path).cap", share: true) {
                        r.raiseMemory.cap = Sourced(s, source(v))
                    }
                }
            case "ladders": ladders(value, path, &r.ladders)
            default: break
            }
        }
    }

    func ladders(_ node: Node, _ path: String, _ ladders: inout [String: Sourced<[[String]]>]) {
        let classes = Policy.knownClasses.sorted()
        guard let map = node.mapping else {
            report(node, "\(path) is \(Self.kind(node))", expected: "a mapping of failure class to a list of remedy steps")
            return
        }
        for (keyNode, value) in map {
            guard let name = keyNode.scalar?.string else { continue }
            guard Policy.knownClasses.contains(name) else {
                let hint = Suggestion.closest(to: name, among: classes)
                report(keyNode, "unknown failure class '\(name)' in \(path)", expected: hint == nil ? "one of \(Self.list(classes))" : nil, suggestion: hint)
                continue
            }
            let expected = "a list of steps, each a list of remedies, such as [[prune_build_cache], [drop_caches, compact_memory]]"
            guard case .sequence(let steps) = value else {
                if Self.isNull(value) { ladders[name] = Sourced([], source(value)); continue }
                report(value, "\(path).\(name) is \(Self.kind(value))", expected: expected)
                continue
            }
            var result: [[String]] = []
            var ok = true
            for step in steps {
                let items: [Node]
                switch step {
                case .sequence(let s): items = Array(s)
                case .scalar: items = [step]
                default:
                    report(step, "a step of \(path).\(name) is \(Self.kind(step))", expected: expected)
                    ok = false
                    continue
                }
                var names: [String] = []
                for item in items {
                    guard let remedy = scalar(item, "a remedy in \(path).\(name)", expected: "a remedy name") else { ok = false; continue }
                    guard Policy.knownRemedies.contains(remedy) else {
                        let known = Policy.knownRemedies.sorted()
                        let hint = Suggestion.closest(to: remedy, among: known)
                        report(item, "unknown remedy '\(remedy)' in \(path).\(name)", expected: hint == nil ? "one of \(Self.list(known))" : nil, suggestion: hint)
                        ok = false
                        continue
                    }
                    names.append(remedy)
                }
                result.append(names)
            }
            if ok { ladders[name] = Sourced(result, source(value)) }
        }
    }

    func remedies(_ node: Node, _ r: inout Policy.Remedies) {
        mapping(node, "remedies", known: ["keep_storage", "prune_until", "drop_caches", "compact_memory", "lock_dir"]) { key, _, value in
            let path = "remedies.\(key)"
            switch key {
            case "keep_storage": set(&r.keepStorage, value, size(value, path, share: false))
            case "prune_until":
                // Kept as Go's duration text, which docker's `until` filter reads (a bare number would be a timestamp
                // there, and Go has no d or w).
                if scalar(value, path, expected: "an age such as 24h or 30m") != nil, let s = seconds(value, path) {
                    r.pruneUntil = Sourced(TimeSpan(seconds: s).description, source(value))
                }
            case "drop_caches": set(&r.dropCaches, value, bool(value, path))
            case "compact_memory": set(&r.compactMemory, value, bool(value, path))
            case "lock_dir": set(&r.lockDirectory, value, text(value, path, absolutePath: true))
            default: break
            }
        }
    }

    func journal(_ node: Node, _ j: inout Policy.Journal) {
        mapping(node, "journal", known: ["path", "max_size", "keep", "metrics_path"]) { key, _, value in
            let path = "journal.\(key)"
            switch key {
            case "path": set(&j.path, value, text(value, path, absolutePath: true))
            case "max_size": set(&j.maxSize, value, size(value, path, share: false))
            case "keep": set(&j.keep, value, integer(value, path, range: 0...1000))
            case "metrics_path":
                if Self.isNull(value) || value.scalar?.string == "off" {
                    j.metricsPath = Sourced(nil, source(value))
                } else if let t = text(value, path, absolutePath: true) {
                    j.metricsPath = Sourced(t, source(value))
                }
            default: break
            }
        }
    }

    func signatures(_ node: Node) -> [PolicySignature] {
        if Self.isNull(node) { return [] }
        guard case .sequence(let items) = node else {
            report(node, "signatures is \(Self.kind(node))", expected: "a list of {class: …, contains: …} or {class: …, pattern: …}")
            return []
        }
        var result: [PolicySignature] = []
        for (index, item) in items.enumerated() {
            let path = "signature \(index + 1)"
            var failureClass: String?
            var text: PolicySignature.Text?
            var count = 0
            let before = diagnostics.count
            mapping(item, path, known: ["class", "contains", "pattern"]) { key, _, value in
                switch key {
                case "class":
                    guard let name = scalar(value, "\(path).class", expected: "a failure class name") else { return }
                    if Policy.knownClasses.contains(name) {
                        failureClass = name
                    } else {
                        let known = Policy.knownClasses.sorted()
                        let hint = Suggestion.closest(to: name, among: known)
                        report(value, "unknown failure class '\(name)' in \(path)", expected: hint == nil ? "one of \(Self.list(known))" : nil, suggestion: hint)
                    }
                case "contains":
                    count += 1
                    if let t = scalar(value, "\(path).contains", expected: "the text docker prints"), !t.isEmpty { text = .contains(t) }
                default:
                    count += 1
                    guard let t = scalar(value, "\(path).pattern", expected: "a regular expression") else { return }
                    do {
                        _ = try Regex(t)
                        text = .pattern(t)
                    } catch {
                        report(value, "\(path).pattern '\(t)' is not a valid regular expression", expected: "a regular expression such as 'cannot allocate memory.*overlay'")
                    }
                }
            }
            guard item.mapping != nil, diagnostics.count == before else { continue }
            if failureClass == nil || count != 1 {
                report(item, "\(path) needs a class and exactly one of contains or pattern", expected: "{class: storage_enomem, contains: \"…\"}")
                continue
            }
            if let failureClass, let text { result.append(PolicySignature(failureClass: failureClass, text: text, source: source(item))) }
        }
        return result
    }

    func docker(_ node: Node, _ d: inout Policy.Docker) {
        mapping(node, "docker", known: ["path", "stop_grace"]) { key, _, value in
            switch key {
            case "path":
                if Self.isNull(value) {
                    d.path = Sourced(nil, source(value))
                } else if let t = text(value, "docker.path", absolutePath: true) {
                    d.path = Sourced(t, source(value))
                }
            default: set(&d.stopGrace, value, seconds(value, "docker.stop_grace"))
            }
        }
    }

    /// Checks across keys, on the layered result: swap against memory for run and build.
    func crossChecks(_ policy: Policy) {
        swapBelowMemory(policy.run.memory, policy.run.swap, "run")
        swapBelowMemory(policy.build.memory, policy.build.swap, "build")
    }
}
