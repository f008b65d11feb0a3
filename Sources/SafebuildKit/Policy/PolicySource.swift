/// Where a policy value came from: the built-in default or a line of a policy file, and that file's layer.
package struct PolicySource: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The policy file, or `nil` for the built-in default (Config/default-policy.yml, compiled in).
    package var file: String?
    package var line: Int
    package var column: Int
    package var layer: PolicyLayer

    /// `layer` defaults to the built-in layer for no file and to the host's for a file (the parser's default: a file
    /// read on its own, as `PolicyParser.parse` does, may set every key).
    package init(file: String?, line: Int, column: Int, layer: PolicyLayer? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.layer = layer ?? (file == nil ? .builtIn : .host)
    }

    package static let builtInName = "built-in default"

    /// `built-in default:12` or `/etc/safebuild/policy.yml:14`.
    package var description: String { "\(file ?? Self.builtInName):\(line)" }
    /// `built-in default:12` or `host /etc/safebuild/policy.yml:14`: the source with its layer, as `policy show`
    /// writes it.
    package var withLayer: String { file == nil ? description : "\(layer) \(description)" }
    package var isBuiltIn: Bool { file == nil }
}
