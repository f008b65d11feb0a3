/// The effective policy as text (YAML with the layer and source of every value as a comment) or JSON, for
/// `safebuild policy show`.
enum PolicyShow {
    indirect enum Item {
        /// `yaml`: the value as YAML flow text; `json`: the value as JSON.
        case value(yaml: String, json: String, source: PolicySource, note: String?)
        case map([(String, Item)], source: PolicySource?)
        case list([Item])
    }

    /// What showing a value needs besides the value.
    struct Context {
        /// The host's memory, for the notes on shares (`= 4g on this host`); nil: no notes.
        var hostMemory: UInt64?
        /// The source of the list item being shown, for its keys that have none of their own.
        var source = PolicySource(file: nil, line: 0, column: 0)
        /// The host's ceilings, to mark a memory limit held to one.
        var ceilings: [Policy.CommandKind: Sourced<MemoryRule>] = [:]

        func item<V>(_ value: V, _ source: PolicySource, _ grammar: PolicyGrammar<V>, notes: [String?] = []) -> Item {
            let all = ([grammar.note(value, hostMemory)] + notes).compactMap { $0 }
            return .value(
                yaml: grammar.yaml(value), json: grammar.json(value), source: source,
                note: all.isEmpty ? nil : all.joined(separator: "; "))
        }

        func item<V>(_ value: Sourced<V>, _ grammar: PolicyGrammar<V>) -> Item {
            item(value.value, value.source, grammar, notes: [value.note])
        }

        /// A memory limit, marked when it is above the host's ceiling for any of `commands` (and so lowered to it).
        func memory(_ value: Sourced<MemoryRule>, commands: [Policy.CommandKind]) -> Item {
            let above = commands.compactMap { command -> String? in
                guard let ceiling = ceilings[command], Policy.isAbove(value, ceiling, hostMemory: hostMemory) else { return nil }
                return "\(command.rawValue).max_memory \(ceiling.value)"
            }
            let mark = above.isEmpty ? nil : "above the host's ceiling: lowered to " + above.joined(separator: ", ")
            return item(value.value, value.source, .memory, notes: [value.note, mark])
        }
    }

    // MARK: Building the tree

    /// The policy as items, by walking the schema: the same keys, in the same order, as the parser reads.
    static func tree(_ p: Policy, hostMemory: UInt64?) -> [(String, Item)] {
        var ceilings: [Policy.CommandKind: Sourced<MemoryRule>] = [:]
        for command in Policy.CommandKind.allCases { ceilings[command] = p.ceiling(for: command) }
        return fields(PolicySchema.policy, p, Context(hostMemory: hostMemory, ceilings: ceilings))
    }

    /// The items of a section's keys; keys with nothing to show are left out.
    static func fields<Root>(_ section: PolicySection<Root>, _ root: Root, _ context: Context) -> [(String, Item)] {
        section.keys.compactMap { key in
            switch key.shape {
            case .value(_, let show): return show(root, context).map { (key.name, $0) }
            case .section(let inner): return (key.name, .map(fields(inner, root, context), source: nil))
            }
        }
    }

    /// `= 4g on this host` for a share of host memory.
    static func note(_ size: Size, _ hostMemory: UInt64?) -> String? {
        guard case .share = size, let hostMemory else { return nil }
        return "= \(Size.format(size.bytes(hostMemory: hostMemory))) on this host"
    }

    // MARK: Rendering

    /// The layers in effect, lowest first: `built-in default < host /etc/safebuild/policy.yml < project …`.
    static func layers(_ loaded: LoadedPolicy) -> String {
        ([PolicySource.builtInName] + loaded.files.map { "\($0.layer) \($0.path)" }).joined(separator: " < ")
    }

    static func yaml(_ loaded: LoadedPolicy, hostMemory: UInt64?, hostPath: String = PolicyLoader.hostPath) -> String {
        var out = "# effective policy: " + layers(loaded) + "\n"
        if loaded.files.isEmpty {
            out += "# (no host policy at \(hostPath), no ./\(PolicyLoader.projectFileName), no --sb-policy or SAFEBUILD_POLICY)\n"
        }
        out += "# each value's layer and source follow it as a comment\n"
        for warning in loaded.warnings { out += "# warning: \(warning)\n" }
        out += "version: 1\n"
        for (key, item) in tree(loaded.policy, hostMemory: hostMemory) { render(key, item, indent: 0, into: &out) }
        return out
    }

    static let commentColumn = 40

    static func render(_ key: String, _ item: Item, indent: Int, into out: inout String, dash: Bool = false) {
        let pad = String(repeating: " ", count: indent)
        switch item {
        case .value(let yaml, _, let source, let note):
            var line = "\(pad)\(key):" + (yaml.isEmpty ? "" : " \(yaml)")
            line = line.count < commentColumn ? line + String(repeating: " ", count: commentColumn - line.count) : line + "  "
            out += line + "# \(source.withLayer)" + (note.map { " (\($0))" } ?? "") + "\n"
        case .map(let fields, _):
            if fields.isEmpty {
                out += "\(pad)\(key): {}\n"
                return
            }
            out += "\(pad)\(key):\n"
            for (k, v) in fields { render(k, v, indent: indent + 2, into: &out) }
        case .list(let items):
            if items.isEmpty {
                out += "\(pad)\(key): []\n"
                return
            }
            out += "\(pad)\(key):\n"
            for entry in items {
                guard case .map(let fields, let source) = entry else { continue }
                var first = true
                if let source { out += "\(pad)  # \(source.withLayer)\n" }
                for (k, v) in fields {
                    var text = ""
                    render(k, v, indent: indent + 4, into: &text)
                    if first {
                        text = pad + "  - " + text.dropFirst(indent + 4)
                        first = false
                    }
                    out += text
                }
            }
        }
    }

    static func json(_ loaded: LoadedPolicy, hostMemory: UInt64?) -> String {
        var out = "{\"file\":" + (loaded.file.map(json) ?? "null") + ",\"origin\":" + json(loaded.origin.rawValue)
        out += ",\"layers\":[" + loaded.files.map {
            "{\"layer\":\(json($0.layer.description)),\"path\":\(json($0.path)),\"origin\":\(json($0.origin.rawValue))}"
        }.joined(separator: ",") + "]"
        out += ",\"warnings\":[" + loaded.warnings.map(json).joined(separator: ",") + "]"
        out += ",\"policy\":"
        renderJSON(.map(tree(loaded.policy, hostMemory: hostMemory), source: nil), into: &out)
        return out + "}\n"
    }

    static func renderJSON(_ item: Item, into out: inout String) {
        switch item {
        case .value(_, let value, let source, let note):
            out += "{\"value\":\(value),\"source\":\(json(source.description)),\"layer\":\(json(source.layer.description))"
            if let note { out += ",\"note\":\(json(note))" }
            out += "}"
        case .map(let fields, _):
            out += "{"
            for (i, (k, v)) in fields.enumerated() {
                if i > 0 { out += "," }
                out += json(k) + ":"
                renderJSON(v, into: &out)
            }
            out += "}"
        case .list(let items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                renderJSON(v, into: &out)
            }
            out += "]"
        }
    }

    // MARK: Scalars

    static func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func yamlString(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
            && !["true", "false", "yes", "no", "on", "off", "null", "~"].contains(text.lowercased())
        return plain ? text : json(text)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
    }
}
