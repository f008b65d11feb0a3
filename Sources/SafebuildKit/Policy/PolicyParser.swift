import Yams

/// Reads one policy file's YAML over a base policy (the layers below it): every key the file sets replaces the base's
/// value (with the file's line and layer as its source), keys it does not set keep the base's, and list items (rules)
/// are added after the base's. Collects every problem instead of stopping at the first (up to `maximumErrors`).
///
/// A file of a layer below the host's (a project's or a user's) is held to what the host allows: a key the schema
/// does not open to those layers is ignored with a warning, and the values it may set are checked against `host`, the
/// policy as the built-in and host layers left it (thresholds only stricter, ladders only weaker, attempts clamped).
final class PolicyParser {
    let file: String?
    let name: String
    let layer: PolicyLayer
    /// The policy of the built-in and host layers: what a layer below the host's is held to; nil for those two.
    let host: Policy?
    /// The host's memory, to compare a share of it with a size; nil when unknown.
    let hostMemory: UInt64?
    private(set) var diagnostics: [PolicyDiagnostic] = []
    private(set) var warnings: [PolicyDiagnostic] = []
    /// Errors not kept past `maximumErrors`.
    private(set) var dropped = 0

    /// A file with more problems than this is not worth reading further: the rest are counted, not kept, so that a
    /// large broken file cannot make a large message.
    static let maximumErrors = 50
    /// The longest problem text kept: a value quoted in it is cut short.
    static let maximumProblemLength = 300
    /// The most items a list (rules, signatures) may have: each is tried on every protected command, and a file of
    /// tens of thousands of rules is a mistake, not a policy.
    static let maximumItems = 1000

    init(file: String?, layer: PolicyLayer? = nil, host: Policy? = nil, hostMemory: UInt64? = nil) {
        self.file = file
        self.name = file ?? PolicySource.builtInName
        self.layer = layer ?? (file == nil ? .builtIn : .host)
        self.host = self.layer.isBelowHost ? host : nil
        self.hostMemory = hostMemory
    }

    /// What reading a file gave: the policy or its errors, and the warnings either way.
    struct Outcome {
        var result: Result<Policy, PolicyError>
        var warnings: [PolicyDiagnostic]
    }

    /// Parses `text` over `base` as a file of `layer` (default: the host's for a file, the built-in for none). Pure:
    /// no file access.
    static func read(
        _ text: String, file: String?, layer: PolicyLayer? = nil, over base: Policy, host: Policy? = nil,
        hostMemory: UInt64? = nil
    ) -> Outcome {
        let parser = PolicyParser(file: file, layer: layer, host: host ?? base, hostMemory: hostMemory)
        var policy = base
        if let alias = YAMLAliases.first(in: text) {
            parser.report(
                line: alias.line, column: alias.column,
                "a YAML alias ('*…') is not accepted in a policy: an alias can make a small file expand without bound",
                expected: "the value written out; a glob that starts with * is quoted, as in \"**/models/**\"")
        } else {
            do {
                if let root = try compose(text), !isNull(root) {
                    parser.read(PolicySchema.policy, root, "", into: &policy)
                }
            } catch let error as YamlError {
                parser.yamlError(error, text: text)
            } catch {
                parser.report(line: 1, column: 1, "cannot read the YAML: \(error)", expected: "valid YAML")
            }
        }
        if parser.diagnostics.isEmpty { parser.crossChecks(policy) }
        parser.warnings.sort { ($0.line, $0.column) < ($1.line, $1.column) }
        guard parser.diagnostics.isEmpty else {
            var diagnostics = parser.diagnostics
            if parser.dropped > 0 {
                diagnostics.append(
                    PolicyDiagnostic(
                        file: parser.name, line: diagnostics.last?.line ?? 1, column: diagnostics.last?.column ?? 1,
                        problem: "\(parser.dropped) more problem(s) not listed"))
            }
            return Outcome(result: .failure(PolicyError(file: parser.name, diagnostics: diagnostics)), warnings: parser.warnings)
        }
        return Outcome(result: .success(policy), warnings: parser.warnings)
    }

    /// `read`, without the warnings.
    static func parse(
        _ text: String, file: String?, layer: PolicyLayer? = nil, over base: Policy, host: Policy? = nil,
        hostMemory: UInt64? = nil
    ) -> Result<Policy, PolicyError> {
        read(text, file: file, layer: layer, over: base, host: host, hostMemory: hostMemory).result
    }

    /// The YAML node tree, every scalar a plain string (the basic resolver: no implicit typing, no regexes).
    /// libyaml stops nesting deeper than 1000 levels with an error ("Maximum nesting level reached").
    static func compose(_ text: String) throws -> Node? {
        try Yams.compose(yaml: text, Resolver.basic)
    }

    // MARK: Reporting

    func report(line: Int, column: Int, _ problem: String, expected: String? = nil, suggestion: String? = nil) {
        guard diagnostics.count < Self.maximumErrors else {
            dropped += 1
            return
        }
        diagnostics.append(
            PolicyDiagnostic(
                file: name, line: line, column: column, problem: Self.shortened(problem), expected: expected,
                suggestion: suggestion.map(Self.shortened)))
    }

    func report(_ node: Node, _ problem: String, expected: String? = nil, suggestion: String? = nil) {
        report(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, problem, expected: expected, suggestion: suggestion)
    }

    /// A setting that is ignored or adjusted, or advice: the policy is still used.
    func warn(line: Int, column: Int, _ problem: String) {
        guard warnings.count < Self.maximumErrors else { return }
        warnings.append(
            PolicyDiagnostic(file: name, line: line, column: column, problem: Self.shortened(problem), severity: .warning))
    }

    func warn(_ node: Node, _ problem: String) {
        warn(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, problem)
    }

    /// `text`, cut at `maximumProblemLength` characters.
    static func shortened(_ text: String) -> String {
        guard text.utf8.count > maximumProblemLength else { return text }
        return String(text.prefix(maximumProblemLength)) + "…"
    }

    func source(_ node: Node) -> PolicySource {
        PolicySource(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, layer: layer)
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
            } else if diagnostics.count >= Self.maximumErrors {
                // No suggestion is worked out for a problem that will not be listed.
                dropped += 1
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
    /// the section's checks. Returns the value node of each key given (by its name, also when given by an alias).
    /// `path` is the section's (empty: the policy). With `layers`, a key this file's layer may not set is ignored
    /// with a warning (list items are read without: their list decides).
    @discardableResult
    func read<Root>(
        _ section: PolicySection<Root>, _ node: Node, _ path: String, into root: inout Root, layers: Bool = true
    ) -> [String: Node] {
        var given: [String: Node] = [:]
        mapping(node, path.isEmpty ? "the policy" : path, known: section.spellings, hints: section.hints) { word, keyNode, value in
            guard let key = section.keys.first(where: { $0.name == word || $0.aliases.contains(word) }) else { return }
            // Diagnostics name the key as written (an old name too).
            let keyPath = path.isEmpty ? word : "\(path).\(word)"
            if given[key.name] != nil {
                report(keyNode, "\(keyPath) is given twice (once as \(key.name), once by its old name)", expected: "each key once; remove one of them")
                return
            }
            given[key.name] = value
            if layers, layer.isBelowHost, !key.belowHost {
                warn(keyNode, "\(keyPath) can be set only in the host policy; ignored here")
                return
            }
            switch key.shape {
            case .value(let read, _): read(self, value, keyPath, &root)
            case .section(let inner): read(inner, value, keyPath, into: &root, layers: layers)
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
        guard items.count <= Self.maximumItems else {
            report(node, "\(path) has \(items.count) items, more than the \(Self.maximumItems) safebuild reads", expected: list.expected)
            return []
        }
        var result: [E] = []
        for (index, item) in items.enumerated() {
            let label = list.label(index + 1)
            var element = list.start(index + 1, source(item))
            let before = diagnostics.count
            let given = read(list.section, item, label, into: &element, layers: false)
            guard item.mapping != nil, diagnostics.count == before else { continue }
            list.finish?(self, item, given, &element, label)
            if diagnostics.count == before { result.append(element) }
        }
        return result
    }

    /// A mapping from names of `K` to values, each replacing the one in `table` (with its own source) when `keep`
    /// says so.
    func table<K, V>(
        _ node: Node, _ path: String, key: String, _ grammar: PolicyGrammar<V>, expected: String,
        into table: inout [K: Sourced<V>], keep: (K, V, Node, String) -> Bool = { _, _, _, _ in true }
    ) where K: RawRepresentable & CaseIterable & Hashable, K.RawValue == String {
        guard let map = node.mapping else {
            report(node, "\(path) is \(Self.kind(node))", expected: expected)
            return
        }
        for (keyNode, value) in map {
            guard let text = keyNode.scalar?.string, let name: K = named(text, keyNode, key, in: path) else { continue }
            let valuePath = "\(path).\(text)"
            if let v = grammar.read(self, value, valuePath), keep(name, v, value, valuePath) {
                table[name] = Sourced(v, source(value))
            }
        }
    }

    /// `key: {value: V, action: A}`, `key: V` (action kept), or `key: off` (check disabled).
    ///
    /// Below the host's layer, the action stays the host's, and the value is taken only when it is at least as strict
    /// as `host`'s (`stricter` says; `off` is looser than any value) and the host's action is not `remediate`: a
    /// stricter threshold there would run host-wide remedies (drop_caches, compact_memory, prune) more often for
    /// everyone, which only the host decides. A stricter `warn`, `wait` or `refuse` threshold holds back only the
    /// command that asked for it.
    func threshold<V>(
        _ node: Node, _ path: String, _ t: inout Policy.ThresholdSetting<V>, _ grammar: PolicyGrammar<V>,
        host: Policy.ThresholdSetting<V>? = nil, stricter: (V, V, UInt64?) -> Bool? = { _, _, _ in true }
    ) {
        var read = t
        var actionNode: Node?
        var valueNode: Node?
        if let text = node.scalar?.string, text == "off" || Self.isNull(node) {
            read.value = Sourced(nil, source(node))
            valueNode = node
        } else if node.mapping == nil {
            if let v = grammar.read(self, node, path) {
                read.value = Sourced(v, source(node))
                valueNode = node
            }
        } else {
            mapping(node, path, known: ["value", "action"]) { key, _, value in
                if key == "action" {
                    set(&read.action, value, choice(value, "\(path).action", PreflightAction.self))
                    actionNode = value
                } else if let text = value.scalar?.string, text == "off" {
                    read.value = Sourced(nil, source(value))
                    valueNode = value
                } else if let v = grammar.read(self, value, "\(path).value") {
                    read.value = Sourced(v, source(value))
                    valueNode = value
                }
            }
        }
        guard layer.isBelowHost, let host else {
            t = read
            return
        }
        if let actionNode {
            warn(actionNode, "\(path).action can be set only in the host policy; ignored here")
        }
        guard let valueNode else { return }
        let shown = read.value.value.map(grammar.yaml) ?? "off"
        let hostShown = host.value.value.map(grammar.yaml) ?? "off"
        let asStrict: Bool?
        switch (read.value.value, host.value.value) {
        case (_, nil): asStrict = true
        case (nil, _?): asStrict = false
        case (let mine?, let theirs?): asStrict = stricter(mine, theirs, hostMemory)
        }
        switch asStrict {
        case false?:
            warn(valueNode, "\(path) \(shown) would loosen the host's check (\(hostShown) at \(host.value.source)); ignored here")
        case nil:
            warn(valueNode, "\(path) \(shown) cannot be compared with the host's \(hostShown) here, so it may loosen the host's check; ignored here")
        case true? where host.action.value == .remediate && read.value.value != host.value.value:
            warn(
                valueNode,
                "\(path) \(shown) would run the host-wide remedies of the host's action 'remediate' more often than the host's \(hostShown); ignored here")
        case true?:
            t.value = read.value
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
                node, "\(path) is '\(text)', larger than \(Size.format(Size.maximum)) (2^53 bytes), the most safebuild takes",
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
    func seconds(_ node: Node, _ path: String, positive: Bool = false, max: TimeSpan = TimeSpan.maximum) -> Double? {
        let expected = "a duration such as 30, 30s, 5m or 1h30m" + (positive ? ", more than 0" : "")
            + (max < TimeSpan.maximum ? ", at most \(max)" : "")
        guard let text = scalar(node, path, expected: expected) else { return nil }
        switch TimeSpan.parse(text) {
        case .failure(.negative):
            report(node, "\(path) is negative ('\(text)')", expected: expected)
            return nil
        case .failure(.notADuration):
            report(node, "\(path) is '\(text)', not a duration", expected: expected)
            return nil
        case .failure(.tooLong):
            report(node, "\(path) is '\(text)', \(Self.longer(than: max))", expected: expected)
            return nil
        case .success(let span):
            if positive, span == .zero {
                report(node, "\(path) is \(text)", expected: expected)
                return nil
            }
            if span > max {
                report(node, "\(path) is '\(text)', \(Self.longer(than: max))", expected: expected)
                return nil
            }
            return span.seconds
        }
    }

    /// `longer than 1m, the most it may be`; `longer than 10 years (87600h)` for the most any duration may be.
    static func longer(than max: TimeSpan) -> String {
        max == TimeSpan.maximum ? "longer than 10 years (\(max))" : "longer than \(max), the most it may be"
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

    /// A list of environment variable names: letters, digits and `_`, not starting with a digit.
    func variableNames(_ node: Node, _ path: String) -> [String]? {
        let expected = "a list of variable names, such as [HTTP_PROXY, NPM_CONFIG_REGISTRY]"
        if Self.isNull(node) { return [] }
        guard case .sequence(let items) = node else {
            report(node, "\(path) is \(Self.kind(node))", expected: expected)
            return nil
        }
        var names: [String] = []
        var ok = true
        for item in items {
            guard let text = scalar(item, "a name in \(path)", expected: "a variable name") else {
                ok = false
                continue
            }
            let bytes = Array(text.utf8)
            let valid = !bytes.isEmpty && !(48...57).contains(bytes[0])
                && bytes.allSatisfy { (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
            guard valid else {
                report(item, "'\(text)' in \(path) is not a variable name", expected: "letters, digits and _, such as HTTP_PROXY")
                ok = false
                continue
            }
            names.append(text)
        }
        return ok ? names : nil
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
            if key == "count" { count = integer(value, "\(path).count", range: 1...(1 << 40)) }
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

    /// Whether a ladder of a layer below the host's only does less than the host's ladder for the class, retry by
    /// retry: at each retry its remedies are among the host's for that retry, and a class the host does not retry
    /// (`[]`) stays unretried. A project may drop remedies or steps, not add host-wide ones (drop_caches,
    /// compact_memory, pruning everyone's cache) that the host does not run at that point. Reported when not.
    func ladderWithinHost(_ failureClass: FailureClass, _ ladder: Ladder, host: Ladder?, _ node: Node, _ path: String) -> Bool {
        let host = host ?? Ladder([])
        if host.steps.isEmpty {
            guard ladder.steps.isEmpty else {
                warn(node, "\(path) would retry \(failureClass.rawValue), which the host's policy does not retry; ignored here")
                return false
            }
            return true
        }
        for retry in 1...max(ladder.steps.count, host.steps.count) {
            let allowed = Set(host.remedies(forRetry: retry))
            if let extra = ladder.remedies(forRetry: retry).first(where: { !allowed.contains($0) }) {
                let theirs = host.remedies(forRetry: retry).map(\.rawValue).joined(separator: ", ")
                warn(
                    node,
                    "\(path) runs \(extra.rawValue) before retry \(retry), where the host's ladder runs only [\(theirs)]; ignored here")
                return false
            }
        }
        return true
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
