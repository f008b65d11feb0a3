/// The effective policy as text (YAML with the source of every value as a comment) or JSON, for
/// `safebuild policy show`.
enum PolicyShow {
    indirect enum Item {
        /// `yaml`: the value as YAML flow text; `json`: the value as JSON.
        case value(yaml: String, json: String, source: PolicySource, note: String?)
        case map([(String, Item)], source: PolicySource?)
        case list([Item])
    }

    // MARK: Building the tree

    static func tree(_ p: Policy, hostMemory: UInt64?) -> [(String, Item)] {
        func note(_ size: Size?) -> String? {
            guard let size, case .share = size, let hostMemory else { return nil }
            return "= \(Size.format(size.bytes(hostMemory: hostMemory))) on this host"
        }
        func size(_ s: Sourced<Size>) -> Item { .value(yaml: s.value.description, json: json(s.value.description), source: s.source, note: note(s.value)) }
        func optionalSize(_ s: Sourced<Size?>) -> Item {
            .value(yaml: s.value?.description ?? "", json: s.value.map { json($0.description) } ?? "null", source: s.source, note: note(s.value))
        }
        func memory(_ s: Sourced<MemoryRule>) -> Item {
            var n: String?
            if case .limit(let size) = s.value { n = note(size) }
            return .value(yaml: s.value.description, json: json(s.value.description), source: s.source, note: n)
        }
        func swap(_ s: Sourced<SwapRule>) -> Item {
            var n: String?
            if case .size(let size) = s.value { n = note(size) }
            return .value(yaml: s.value.description, json: json(s.value.description), source: s.source, note: n)
        }
        func seconds(_ s: Sourced<Double>) -> Item { .value(yaml: TimeSpan(seconds: s.value).description, json: Self.number(s.value), source: s.source, note: nil) }
        func number(_ s: Sourced<Double>) -> Item { .value(yaml: Self.number(s.value), json: Self.number(s.value), source: s.source, note: nil) }
        func int(_ s: Sourced<Int>) -> Item { .value(yaml: "\(s.value)", json: "\(s.value)", source: s.source, note: nil) }
        func bool(_ s: Sourced<Bool>) -> Item { .value(yaml: "\(s.value)", json: "\(s.value)", source: s.source, note: nil) }
        func text(_ s: Sourced<String>) -> Item { .value(yaml: yamlString(s.value), json: json(s.value), source: s.source, note: nil) }
        func optionalText(_ s: Sourced<String?>) -> Item {
            .value(yaml: s.value.map(yamlString) ?? "", json: s.value.map(json) ?? "null", source: s.source, note: nil)
        }
        func word<W: CustomStringConvertible & Equatable & Sendable>(_ s: Sourced<W>) -> Item {
            .value(yaml: s.value.description, json: json(s.value.description), source: s.source, note: nil)
        }
        func threshold<V>(_ t: Threshold<V>, _ render: (V) -> (String, String), _ n: (V) -> String?) -> Item {
            let value: Item
            if let v = t.value.value {
                let (y, j) = render(v)
                value = .value(yaml: y, json: j, source: t.value.source, note: n(v))
            } else {
                value = .value(yaml: "off", json: "null", source: t.value.source, note: nil)
            }
            return .map([("value", value), ("action", word(t.action))], source: nil)
        }
        func limits(_ l: Policy.Limits) -> [(String, Item)] {
            [("memory", memory(l.memory)), ("swap", swap(l.swap)), ("shm_size", optionalSize(l.shmSize))]
        }
        let sizeRender: (Size) -> (String, String) = { ($0.description, json($0.description)) }

        var rules: [Item] = []
        for rule in p.rules {
            var fields: [(String, Item)] = []
            if let name = rule.name { fields.append(("name", .value(yaml: yamlString(name), json: json(name), source: rule.source, note: nil))) }
            var match: [(String, Item)] = []
            let m = rule.match
            for (key, glob) in [("image", m.image), ("context", m.context), ("dockerfile", m.dockerfile), ("job", m.job)] {
                if let glob { match.append((key, .value(yaml: yamlString(glob.pattern), json: json(glob.pattern), source: rule.source, note: nil))) }
            }
            if let c = m.command { match.append(("command", .value(yaml: c.rawValue, json: json(c.rawValue), source: rule.source, note: nil))) }
            fields.append(("match", .map(match, source: nil)))
            if let v = rule.memory { fields.append(("memory", memory(v))) }
            if let v = rule.swap { fields.append(("swap", swap(v))) }
            if let v = rule.shmSize { fields.append(("shm_size", size(v))) }
            if let v = rule.enforce { fields.append(("enforce", word(v))) }
            rules.append(.map(fields, source: rule.source))
        }

        var ladders: [(String, Item)] = []
        for name in p.retry.ladders.keys.sorted() {
            let s = p.retry.ladders[name]!
            let yaml = "[" + s.value.map { "[" + $0.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
            let js = "[" + s.value.map { "[" + $0.map(json).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
            ladders.append((name, .value(yaml: yaml, json: js, source: s.source, note: nil)))
        }

        let signatures: [Item] = p.signatures.map { sig in
            let (key, value): (String, String)
            switch sig.text {
            case .contains(let t): (key, value) = ("contains", t)
            case .pattern(let t): (key, value) = ("pattern", t)
            }
            return .map(
                [("class", .value(yaml: sig.failureClass, json: json(sig.failureClass), source: sig.source, note: nil)),
                 (key, .value(yaml: yamlString(value), json: json(value), source: sig.source, note: nil))],
                source: nil)
        }

        let pf = p.preflight
        let r = p.retry
        return [
            ("run", .map(limits(p.run), source: nil)),
            ("build", .map(limits(p.build) + [("enforce", word(p.buildEnforce))], source: nil)),
            ("rules", .list(rules)),
            ("preflight", .map([
                ("min_available", threshold(pf.minAvailable, sizeRender, note)),
                ("max_pressure", threshold(pf.maxPressure, { (Self.number($0), Self.number($0)) }, { _ in nil })),
                ("max_build_cache", threshold(pf.maxBuildCache, sizeRender, { _ in nil })),
                ("min_free_disk", threshold(pf.minFreeDisk, sizeRender, { _ in nil })),
                ("min_free_blocks", threshold(pf.minFreeBlocks, { ($0.description, "{\"order\":\($0.order),\"count\":\($0.count)}") }, { _ in nil })),
                ("wait_timeout", seconds(pf.waitTimeout)),
                ("engine_timeout", seconds(pf.engineTimeout)),
            ], source: nil)),
            ("retry", .map([
                ("max_attempts", int(r.maxAttempts)),
                ("backoff", .map([("initial", seconds(r.backoff.initial)), ("max", seconds(r.backoff.max)), ("jitter", number(r.backoff.jitter))], source: nil)),
                ("deadline", seconds(r.deadline)),
                ("raise_memory", .map([("factor", number(r.raiseMemory.factor)), ("cap", size(r.raiseMemory.cap))], source: nil)),
                ("cooldown", seconds(r.cooldown)),
                ("ladders", .map(ladders, source: nil)),
            ], source: nil)),
            ("remedies", .map([
                ("keep_storage", size(p.remedies.keepStorage)),
                ("prune_until", text(p.remedies.pruneUntil)),
                ("drop_caches", bool(p.remedies.dropCaches)),
                ("compact_memory", bool(p.remedies.compactMemory)),
                ("lock_dir", text(p.remedies.lockDirectory)),
            ], source: nil)),
            ("journal", .map([
                ("path", text(p.journal.path)),
                ("max_size", size(p.journal.maxSize)),
                ("keep", int(p.journal.keep)),
                ("metrics_path", optionalText(p.journal.metricsPath)),
            ], source: nil)),
            ("signatures", .list(signatures)),
            ("docker", .map([("path", optionalText(p.docker.path)), ("stop_grace", seconds(p.docker.stopGrace))], source: nil)),
        ]
    }

    // MARK: Rendering

    static func yaml(_ loaded: LoadedPolicy, hostMemory: UInt64?) -> String {
        var out = "# effective policy: "
        if let file = loaded.file {
            out += "\(file) (chosen by \(loaded.origin.rawValue)) over the built-in default\n"
        } else {
            out += "the built-in default (no --sb-policy or SAFEBUILD_POLICY, no ./\(PolicyLoader.projectFileName), no \(PolicyLoader.hostPath))\n"
        }
        out += "# each value's source follows it as a comment\nversion: 1\n"
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
            out += line + "# \(source)" + (note.map { " (\($0))" } ?? "") + "\n"
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
                if let source { out += "\(pad)  # \(source)\n" }
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
        out += ",\"policy\":"
        renderJSON(.map(tree(loaded.policy, hostMemory: hostMemory), source: nil), into: &out)
        return out + "}\n"
    }

    static func renderJSON(_ item: Item, into out: inout String) {
        switch item {
        case .value(_, let value, let source, _):
            out += "{\"value\":\(value),\"source\":\(json(source.description))}"
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
