/// One problem in a policy file, as a person reads it: `FILE:LINE:COL: error: <what is wrong>; expected <what>`, and
/// `; did you mean 'x'?` for a misspelt key or name.
package struct PolicyDiagnostic: Equatable, Sendable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int
    package var problem: String
    package var expected: String?
    package var suggestion: String?

    package var description: String {
        var text = "\(file):\(line):\(column): error: \(problem)"
        if let expected { text += "; expected \(expected)" }
        if let suggestion { text += "; did you mean '\(suggestion)'?" }
        return text
    }
}
