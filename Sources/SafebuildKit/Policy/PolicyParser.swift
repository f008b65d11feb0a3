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
            if let root = try compose(text), !isNull(root) {
                parser.read(PolicySchema.policy, root, "", into: &policy)
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

    /// `retry.ladders` of `retry.ladders.oom_container`: where a key's problem is reported as "in".
    static func parent(of path: String) -> String {
        guard let dot = path.lastIndex(of: ".") else { return path }
        return String(path[..<dot])
    }

    // MARK: Walking the schema

    /// Reads a mapping by its section of the schema: each key the section knows into `root`, others reported; then
    /// the section's checks. Returns the value node of each key given. `path` is the section's (empty: the policy).
    @discardableResult
    func read<Root>(_ section: PolicySection<Root>, _ node: Node, _ path: String, into root: inout Root) -> [String: Node] {
        var given: [String: Node] = [:]
        mapping(node, path.isEmpty ? "the policy" : path, known: section.names, hints: section.hints) { name, _, value in
            given[name] = value
            guard let key = section.keys.first(where: { $0.name == name }) else { return }
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            switch key.shape {
            case .value(let read, _): read(self, value, keyPath, &root)
            case .section(let inner): read(inner, value, keyPath, into: &root)
            }
        }
        section.check?(self, node, given, &root, path)
        return given
    }

    /// A list's items, each read by the list's section and, when it read without a problem, finished; an item with a
    /// problem is left out (and reported). Empty is an empty list.
    func list<E>(_ node: Node, _ path: String, _ list: PolicyList<E>) -> [E] {
        if Self.isNull(node) { return [] }
        guard case .sequence(let items) = node else {
            report(node, "\(path) is \(Self.kind(node))", expected: list.expected)
            return []
        }
        var result: [E] = []
        for (index, item) in items.enumerated() {
            let label = list.label(index + 1)
            var element = list.start(index + 1, source(item))
            let before = diagnostics.count
            let given = read(list.section, item, label, into: &element)
            guard item.mapping != nil, diagnostics.count == before else { continue }
            list.finish?(self, item, given, &element, label)
            if diagnostics.count == before { result.append(element) }
        }
        return result
    }

    /// A mapping from names of `K` to values, each replacing the one in `table` (with its own source).
    func table<K, V>(
        _ node: Node, _ path: String, key: String, _ grammar: PolicyGrammar<V>, expected: String,
        into table: inout [K: Sourced<V>]
    ) where K: RawRepresentable & CaseIterable & Hashable, K.RawValue == String {
        guard let map = node.mapping else {
            report(node, "\(path) is \(Self.kind(node))", expected: expected)
            return
        }
        for (keyNode, value) in map {
            guard let text = keyNode.scalar?.string, let name: K = named(text, keyNode, key, in: path) else { continue }
            if let v = grammar.read(self, value, "\(path).\(text)") { table[name] = Sourced(v, source(value)) }
        }
    }

    /// `key: {value: V, action: A}`, `key: V` (action kept), or `key: off` (check disabled).
    func threshold<V>(_ node: Node, _ path: String, _ t: inout Policy.ThresholdSetting<V>, _ grammar: PolicyGrammar<V>) {
        if let text = node.scalar?.string, text == "off" || Self.isNull(node) {
            t.value = Sourced(nil, source(node))
            return
        }
        guard node.mapping != nil else {
            if let v = grammar.read(self, node, path) { t.value = Sourced(v, source(node)) }
            return
        }
        mapping(node, path, known: ["value", "action"]) { key, _, value in
            if key == "action" {
                set(&t.action, value, choice(value, "\(path).action", PreflightAction.self))
            } else if let text = value.scalar?.string, text == "off" {
                t.value = Sourced(nil, source(value))
            } else if let v = grammar.read(self, value, "\(path).value") {
                t.value = Sourced(v, source(value))
            }
        }
    }

    func set<V>(_ target: inout Sourced<V>, _ node: Node, _ value: V?) {
        if let value { target = Sourced(value, source(node)) }
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

    /// A name of `E` (a failure class, a remedy) at `node`; an unknown one is reported as "unknown `what` … in
    /// `place`", with the closest name.
    func named<E: RawRepresentable & CaseIterable>(_ text: String, _ node: Node, _ what: String, in place: String) -> E?
    where E.RawValue == String {
        if let value = E(rawValue: text) { return value }
        let known = E.allCases.map(\.rawValue).sorted()
        let hint = Suggestion.closest(to: text, among: known)
        report(node, "unknown \(what) '\(text)' in \(place)", expected: hint == nil ? "one of \(Self.list(known))" : nil, suggestion: hint)
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

    func signatureText(_ node: Node, _ path: String) -> String? {
        guard let text = scalar(node, path, expected: "the text docker prints") else { return nil }
        if text.isEmpty {
            report(node, "\(path) is empty, so it would match every line", expected: "the text docker prints")
            return nil
        }
        return text
    }

    func regex(_ node: Node, _ path: String) -> String? {
        guard let text = scalar(node, path, expected: "a regular expression") else { return nil }
        do {
            _ = try Regex(text)
            return text
        } catch {
            report(node, "\(path) '\(text)' is not a valid regular expression", expected: "a regular expression such as 'cannot allocate memory.*overlay'")
            return nil
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

    /// A glob; with `image`, one that can never match an image name is reported (and kept).
    func glob(_ node: Node, _ path: String, image: Bool) -> Glob? {
        guard let pattern = scalar(node, path, expected: "a glob such as 'ml/*' or '**/ml/**'") else { return nil }
        do throws(Glob.Problem) {
            let glob = try Glob(pattern)
            if image, let problem = Self.imageGlobProblem(glob) {
                report(node, "\(path) '\(pattern)' can never match: \(problem)", expected: "an image glob such as 'ml/*' or 'python:3.*'")
            }
            return glob
        } catch {
            report(node, "\(path): \(error.message)", expected: "a glob with *, **, ?, [a-z]")
            return nil
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

    static let ladderWords = "a list of steps, each a list of remedies, such as [[prune_build_cache], [drop_caches, compact_memory]]"

    /// Steps of remedy names (a step may be one name); empty is no step at all (never retried).
    func ladder(_ node: Node, _ path: String) -> Ladder? {
        guard case .sequence(let steps) = node else {
            if Self.isNull(node) { return Ladder([]) }
            report(node, "\(path) is \(Self.kind(node))", expected: Self.ladderWords)
            return nil
        }
        var result: [[RemedyName]] = []
        var ok = true
        for step in steps {
            let items: [Node]
            switch step {
            case .sequence(let s): items = Array(s)
            case .scalar: items = [step]
            default:
                report(step, "a step of \(path) is \(Self.kind(step))", expected: Self.ladderWords)
                ok = false
                continue
            }
            var names: [RemedyName] = []
            for item in items {
                guard let text = scalar(item, "a remedy in \(path)", expected: "a remedy name"),
                    let remedy: RemedyName = named(text, item, "remedy", in: path)
                else {
                    ok = false
                    continue
                }
                names.append(remedy)
            }
            result.append(names)
        }
        return ok ? Ladder(result) : nil
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

    /// Checks across keys, on the layered result: swap against memory for run and build.
    func crossChecks(_ policy: Policy) {
        swapBelowMemory(policy.run.memory, policy.run.swap, "run")
        swapBelowMemory(policy.build.memory, policy.build.swap, "build")
    }
}
