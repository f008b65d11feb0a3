import Yams

/// A key path into `Root` that a static table can hold.
typealias PolicyPath<Root, Value> = WritableKeyPath<Root, Value> & Sendable

/// One key of the policy, declared once: its name, its help, its type, where its value lives, and how the parser
/// reads it and `policy show` prints it. `PolicySchema` is the table of them.
struct PolicyKey<Root>: Sendable {
    enum Shape: Sendable {
        /// A value: read from its node into `Root`; shown as one item (nil: not shown, such as an unset rule setting).
        case value(
            read: @Sendable (PolicyParser, Node, String, inout Root) -> Void,
            show: @Sendable (Root, PolicyShow.Context) -> PolicyShow.Item?)
        /// A mapping of further keys.
        case section(PolicySection<Root>)
    }

    var name: String
    /// One sentence for a person: what the key does.
    var help: String
    /// What the key takes (`duration`, `size`, `section`): the grammar's name.
    var type: String
    /// Where the value lives in `Root`; nil for a section or a key that is not kept (`version`).
    var location: (any PartialKeyPath<Root> & Sendable)?
    var shape: Shape
    /// Whether a project or user policy may set this value (false: only the host policy; the value's own checks
    /// then hold it to what the host allows). An allow-list: a new key is host-only until it is opened here.
    var lowerLayers = false
    /// Old names still read (`lock_dir` for `state_dir`); `policy show` writes the name.
    var aliases: [String] = []

    /// Whether a project or user policy may set the key: a section when it may set any key in it.
    var belowHost: Bool {
        if case .section(let inner) = shape { return inner.keys.contains { $0.belowHost } }
        return lowerLayers
    }

    /// The key, open to project and user policies.
    var belowHostToo: PolicyKey {
        var key = self
        key.lowerLayers = true
        return key
    }

    /// The key, also read under an old name.
    func alias(_ old: String) -> PolicyKey {
        var key = self
        key.aliases.append(old)
        return key
    }
}

extension PolicyKey {
    /// A value every policy has (the built-in default sets it): `Sourced<V>` at `at`.
    static func value<V>(_ name: String, _ at: any PolicyPath<Root, Sourced<V>>, _ grammar: PolicyGrammar<V>, help: String) -> PolicyKey {
        PolicyKey(
            name: name, help: help, type: grammar.name, location: at,
            shape: .value(
                read: { parser, node, path, root in
                    if let v = grammar.read(parser, node, path) { root[keyPath: at] = Sourced(v, parser.source(node)) }
                },
                show: { root, context in context.item(root[keyPath: at], grammar) }))
    }

    /// A value that may be unset (a rule's settings): `Sourced<V>?` at `at`, not shown when unset.
    static func optional<V>(_ name: String, _ at: any PolicyPath<Root, Sourced<V>?>, _ grammar: PolicyGrammar<V>, help: String) -> PolicyKey {
        PolicyKey(
            name: name, help: help, type: grammar.name, location: at,
            shape: .value(
                read: { parser, node, path, root in
                    if let v = grammar.read(parser, node, path) { root[keyPath: at] = Sourced(v, parser.source(node)) }
                },
                show: { root, context in root[keyPath: at].map { context.item($0, grammar) } }))
    }

    /// A memory limit that the host's ceiling holds for the commands `commands` gives (the section's, or a rule's):
    /// `policy show` marks it when it is above the ceiling.
    static func memory(
        _ name: String, _ at: any PolicyPath<Root, Sourced<MemoryRule>>,
        commands: @escaping @Sendable (Root) -> [Policy.CommandKind], help: String
    ) -> PolicyKey {
        var key = value(name, at, .memory, help: help)
        if case .value(let read, _) = key.shape {
            key.shape = .value(
                read: read, show: { root, context in context.memory(root[keyPath: at], commands: commands(root)) })
        }
        return key
    }

    /// The same for a rule's limit, which may be unset.
    static func memory(
        _ name: String, optional at: any PolicyPath<Root, Sourced<MemoryRule>?>,
        commands: @escaping @Sendable (Root) -> [Policy.CommandKind], help: String
    ) -> PolicyKey {
        var key = optional(name, at, .memory, help: help)
        if case .value(let read, _) = key.shape {
            key.shape = .value(
                read: read,
                show: { root, context in root[keyPath: at].map { context.memory($0, commands: commands(root)) } })
        }
        return key
    }

    /// A value of a list item whose keys share the item's source (a rule's name, a signature's text): `V?` at `at`,
    /// shown with the item's source, not shown when nil.
    static func part<V>(_ name: String, _ at: any PolicyPath<Root, V?>, _ grammar: PolicyGrammar<V>, help: String) -> PolicyKey {
        PolicyKey(
            name: name, help: help, type: grammar.name, location: at,
            shape: .value(
                read: { parser, node, path, root in
                    if let v = grammar.read(parser, node, path) { root[keyPath: at] = v }
                },
                show: { root, context in root[keyPath: at].map { context.item($0, context.source, grammar) } }))
    }

    /// The same for a value every item has (a signature's class): `V` at `at`, always shown.
    static func part<V>(_ name: String, always at: any PolicyPath<Root, V>, _ grammar: PolicyGrammar<V>, help: String) -> PolicyKey {
        PolicyKey(
            name: name, help: help, type: grammar.name, location: at,
            shape: .value(
                read: { parser, node, path, root in
                    if let v = grammar.read(parser, node, path) { root[keyPath: at] = v }
                },
                show: { root, context in context.item(root[keyPath: at], context.source, grammar) }))
    }

    /// A pre-flight threshold: `key: V` (action kept), `key: {value: V, action: A}`, or `key: off` (check disabled).
    /// Below the host's layer only a value at least as strict as the host's is taken (`stricter`: whether the first
    /// value is stricter than or as strict as the second, given the host's memory; nil: they cannot be compared), and
    /// never for a threshold whose action is `remediate` (see `PolicyParser.threshold`).
    static func threshold<V>(
        _ name: String, _ at: any PolicyPath<Root, Policy.ThresholdSetting<V>>, _ grammar: PolicyGrammar<V>,
        stricter: @escaping @Sendable (V, V, UInt64?) -> Bool?, help: String
    ) -> PolicyKey {
        PolicyKey(
            name: name, help: help, type: "threshold: \(grammar.name) or off, and an action", location: at,
            shape: .value(
                read: { parser, node, path, root in
                    let host = (parser.host as? Root)?[keyPath: at]
                    parser.threshold(node, path, &root[keyPath: at], grammar, host: host, stricter: stricter)
                },
                show: { root, context in
                    let t = root[keyPath: at]
                    let value: PolicyShow.Item
                    if let v = t.value.value {
                        value = context.item(v, t.value.source, grammar, notes: [t.value.note])
                    } else {
                        value = .value(yaml: "off", json: "null", source: t.value.source, note: nil)
                    }
                    return .map([("value", value), ("action", context.item(t.action, .choice))], source: nil)
                }))
    }

    /// A mapping of further keys.
    static func section(_ name: String, help: String, _ section: PolicySection<Root>) -> PolicyKey {
        PolicyKey(name: name, help: help, type: "section", location: nil, shape: .section(section))
    }

    /// A list whose items each policy file adds after those of the layers below it (rules, signatures): `[E]` at
    /// `at`.
    static func list<E>(_ name: String, _ at: any PolicyPath<Root, [E]>, _ list: PolicyList<E>, help: String) -> PolicyKey {
        PolicyKey(
            name: name, help: help, type: "list", location: at,
            shape: .value(
                read: { parser, node, path, root in root[keyPath: at] += parser.list(node, path, list) },
                show: { root, context in
                    .list(root[keyPath: at].map { element in
                        var inner = context
                        inner.source = list.source(element)
                        return .map(
                            PolicyShow.fields(list.section, element, inner), source: list.showsSource ? inner.source : nil)
                    })
                }))
    }

    /// A mapping from the cases of an enum to values, each replaced on its own by a policy file (retry.ladders):
    /// `[K: Sourced<V>]` at `at`.
    /// Below the host's layer, an entry is taken only when `allowed` (given the entry and the host's) says so.
    static func table<K, V>(
        _ name: String, _ at: any PolicyPath<Root, [K: Sourced<V>]>, key: String, _ grammar: PolicyGrammar<V>,
        expected: String, allowed: @escaping @Sendable (PolicyParser, K, V, V?, Node, String) -> Bool = { _, _, _, _, _, _ in true },
        help: String
    ) -> PolicyKey where K: RawRepresentable & CaseIterable & Hashable & Sendable, K.RawValue == String {
        PolicyKey(
            name: name, help: help, type: "\(key) → \(grammar.name)", location: at,
            shape: .value(
                read: { parser, node, path, root in
                    let host = (parser.host as? Root)?[keyPath: at]
                    parser.table(node, path, key: key, grammar, expected: expected, into: &root[keyPath: at]) {
                        name, value, valueNode, valuePath in
                        !parser.layer.isBelowHost
                            || allowed(parser, name, value, host?[name]?.value, valueNode, valuePath)
                    }
                },
                show: { root, context in
                    let entries = root[keyPath: at].sorted { $0.key.rawValue < $1.key.rawValue }
                    return .map(entries.map { ($0.key.rawValue, context.item($0.value, grammar)) }, source: nil)
                }))
    }
}
