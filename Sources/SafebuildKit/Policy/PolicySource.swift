/// Where a policy value came from: the built-in default or a line of a policy file.
package struct PolicySource: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The policy file, or `nil` for the built-in default (Config/default-policy.yml, compiled in).
    package var file: String?
    package var line: Int
    package var column: Int

    package init(file: String?, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    package static let builtInName = "built-in default"

    /// `built-in default:12` or `/etc/safebuild/policy.yml:14`.
    package var description: String { "\(file ?? Self.builtInName):\(line)" }
    package var isBuiltIn: Bool { file == nil }
}
