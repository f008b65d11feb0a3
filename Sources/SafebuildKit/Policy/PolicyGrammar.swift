import Yams

/// How one kind of policy value is written: read from its YAML node (every problem reported with the key's path) and
/// shown back by `policy show` as YAML flow text and as JSON. The schema (`PolicySchema`) gives each key one of these.
struct PolicyGrammar<Value>: Sendable {
    /// What the value is, in a few words (`size`, `duration`): the schema's type column.
    var name: String
    /// The value of `node`, whose key is at `path`; nil (with a diagnostic) when it is not one.
    var read: @Sendable (PolicyParser, Node, String) -> Value?
    var yaml: @Sendable (Value) -> String
    var json: @Sendable (Value) -> String
    /// A remark `policy show` adds after the source, given the host's memory (`= 4g on this host`).
    var note: @Sendable (Value, UInt64?) -> String? = { _, _ in nil }
}

extension PolicyGrammar where Value == Size {
    /// `512m`, `4g`; with `share`, also a share of host memory (`25%`).
    static func size(share: Bool) -> PolicyGrammar {
        PolicyGrammar(
            name: share ? "size or share of host memory" : "size",
            read: { p, node, path in p.size(node, path, share: share) },
            yaml: { $0.description }, json: { PolicyShow.json($0.description) }, note: PolicyShow.note)
    }
}

extension PolicyGrammar where Value == MemoryRule {
    /// A size or share of at least docker's minimum, or `unlimited`.
    static var memory: PolicyGrammar {
        PolicyGrammar(
            name: "memory limit", read: { p, node, path in p.memory(node, path) }, yaml: { $0.description },
            json: { PolicyShow.json($0.description) },
            note: { rule, host in
                guard case .limit(let size) = rule else { return nil }
                return PolicyShow.note(size, host)
            })
    }
}

extension PolicyGrammar where Value == SwapRule {
    /// `none`, `unlimited`, or a `--memory-swap` size.
    static var swap: PolicyGrammar {
        PolicyGrammar(
            name: "swap rule", read: { p, node, path in p.swap(node, path) }, yaml: { $0.description },
            json: { PolicyShow.json($0.description) },
            note: { rule, host in
                guard case .size(let size) = rule else { return nil }
                return PolicyShow.note(size, host)
            })
    }
}

extension PolicyGrammar where Value == Double {
    /// Seconds, written as a `TimeSpan` (`30`, `30s`, `5m`, `1h30m`); with `positive`, more than 0; at most `max`.
    static func duration(positive: Bool = false, max: TimeSpan = TimeSpan.maximum) -> PolicyGrammar {
        PolicyGrammar(
            name: (positive ? "duration, more than 0" : "duration") + (max < TimeSpan.maximum ? ", at most \(max)" : ""),
            read: { p, node, path in p.seconds(node, path, positive: positive, max: max) },
            yaml: { TimeSpan(seconds: $0).description }, json: { PolicyShow.number($0) })
    }

    /// A decimal number in `range`.
    static func number(_ range: ClosedRange<Double>, expected: String) -> PolicyGrammar {
        PolicyGrammar(
            name: "number from \(PolicyShow.number(range.lowerBound)) to \(PolicyShow.number(range.upperBound))",
            read: { p, node, path in p.number(node, path, range: range, expected: expected) },
            yaml: { PolicyShow.number($0) }, json: { PolicyShow.number($0) })
    }

    /// A percentage from 0 to 100 (`20` or `20%`).
    static var percent: PolicyGrammar {
        PolicyGrammar(
            name: "percentage", read: { p, node, path in p.percent(node, path) }, yaml: { PolicyShow.number($0) },
            json: { PolicyShow.number($0) })
    }
}

extension PolicyGrammar where Value == Int {
    /// A whole number in `range`.
    static func integer(_ range: ClosedRange<Int>) -> PolicyGrammar {
        PolicyGrammar(
            name: "whole number from \(range.lowerBound) to \(range.upperBound)",
            read: { p, node, path in p.integer(node, path, range: range) }, yaml: { "\($0)" },
            json: { "\($0)" })
    }
}

extension PolicyGrammar where Value == Bool {
    static var bool: PolicyGrammar {
        PolicyGrammar(name: "true or false", read: { p, node, path in p.bool(node, path) }, yaml: { "\($0)" }, json: { "\($0)" })
    }
}

extension PolicyGrammar where Value == String {
    /// Any text; with `absolutePath`, a path that starts with `/`.
    static func text(absolutePath: Bool = false) -> PolicyGrammar {
        PolicyGrammar(
            name: absolutePath ? "absolute path" : "text",
            read: { p, node, path in p.text(node, path, absolutePath: absolutePath) },
            yaml: { PolicyShow.yamlString($0) }, json: { PolicyShow.json($0) })
    }

    /// The text a policy signature looks for in docker's output (not empty: that would match every line).
    static var signatureText: PolicyGrammar {
        PolicyGrammar(
            name: "text", read: { p, node, path in p.signatureText(node, path) }, yaml: { PolicyShow.yamlString($0) },
            json: { PolicyShow.json($0) })
    }

    /// A regular expression (Swift `Regex` syntax).
    static var regex: PolicyGrammar {
        PolicyGrammar(
            name: "regular expression", read: { p, node, path in p.regex(node, path) },
            yaml: { PolicyShow.yamlString($0) }, json: { PolicyShow.json($0) })
    }
}

extension PolicyGrammar where Value == [String] {
    /// A list of environment variable names (`[NPM_CONFIG_REGISTRY, HTTP_PROXY]`).
    static var variableNames: PolicyGrammar {
        PolicyGrammar(
            name: "list of variable names", read: { p, node, path in p.variableNames(node, path) },
            yaml: { "[" + $0.map(PolicyShow.yamlString).joined(separator: ", ") + "]" },
            json: { "[" + $0.map(PolicyShow.json).joined(separator: ",") + "]" })
    }
}

extension PolicyGrammar where Value: RawRepresentable & CaseIterable & Sendable, Value.RawValue == String {
    /// One of the enum's raw values (`warn`, `remediate`, …), with a suggestion for a misspelling.
    static var choice: PolicyGrammar {
        PolicyGrammar(
            name: "one of " + Value.allCases.map(\.rawValue).joined(separator: ", "),
            read: { p, node, path in p.choice(node, path, Value.self) }, yaml: { $0.rawValue },
            json: { PolicyShow.json($0.rawValue) })
    }
}

extension PolicyGrammar where Value == FailureClass {
    /// A failure class name, reported as unknown "in" the enclosing key (`signature 2`).
    static var failureClass: PolicyGrammar {
        PolicyGrammar(
            name: "failure class",
            read: { p, node, path in
                guard let text = p.scalar(node, path, expected: "a failure class name") else { return nil }
                return p.named(text, node, "failure class", in: PolicyParser.parent(of: path))
            },
            yaml: { $0.rawValue }, json: { PolicyShow.json($0.rawValue) })
    }
}

extension PolicyGrammar where Value == FreeBlocks {
    /// `{order: 0-10, count: N}`.
    static var freeBlocks: PolicyGrammar {
        PolicyGrammar(
            name: "{order, count}", read: { p, node, path in p.freeBlocks(node, path) }, yaml: { $0.description },
            json: { "{\"order\":\($0.order),\"count\":\($0.count)}" })
    }
}

extension PolicyGrammar where Value == Glob {
    /// A glob (`*`, `**`, `?`, `[a-z]`); with `image`, also checked against what an image name can be.
    static func glob(image: Bool = false) -> PolicyGrammar {
        PolicyGrammar(
            name: image ? "image glob" : "glob", read: { p, node, path in p.glob(node, path, image: image) },
            yaml: { PolicyShow.yamlString($0.pattern) }, json: { PolicyShow.json($0.pattern) })
    }
}

extension PolicyGrammar where Value == Ladder {
    /// A list of steps, each a list of remedy names (or one name).
    static var ladder: PolicyGrammar {
        PolicyGrammar(
            name: "list of remedy steps", read: { p, node, path in p.ladder(node, path) },
            yaml: { ladder in "[" + ladder.steps.map { "[" + $0.map(\.rawValue).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]" },
            json: { ladder in "[" + ladder.steps.map { "[" + $0.map { PolicyShow.json($0.rawValue) }.joined(separator: ",") + "]" }.joined(separator: ",") + "]" })
    }
}

extension PolicyGrammar {
    /// `wrapped`, or nothing: empty (and any of `off`, such as `off`) is nil. `policy show` prints nil as empty (JSON null).
    static func optional<Wrapped>(_ wrapped: PolicyGrammar<Wrapped>, off: [String] = []) -> PolicyGrammar where Value == Wrapped? {
        PolicyGrammar(
            name: wrapped.name + " or empty",
            read: { p, node, path in
                if PolicyParser.isNull(node) { return .some(nil) }
                if let text = node.scalar?.string, off.contains(text) { return .some(nil) }
                guard let value = wrapped.read(p, node, path) else { return nil }
                return .some(value)
            },
            yaml: { $0.map(wrapped.yaml) ?? "" }, json: { $0.map(wrapped.json) ?? "null" },
            note: { value, host in value.flatMap { wrapped.note($0, host) } })
    }
}
