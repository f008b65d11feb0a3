/// One problem in a policy file, as a person reads it: `FILE:LINE:COL: error: <what is wrong>; expected <what>`, and
/// `; did you mean 'x'?` for a misspelt key or name. A warning (`FILE:LINE:COL: warning: …`) is a setting that was
/// ignored or adjusted, or advice: the policy is still used.
package struct PolicyDiagnostic: Equatable, Sendable, CustomStringConvertible {
    package enum Severity: String, Equatable, Sendable {
        case error, warning
    }

    package var file: String
    package var line: Int
    package var column: Int
    package var problem: String
    package var expected: String?
    package var suggestion: String?
    package var severity: Severity = .error

    package init(
        file: String, line: Int, column: Int, problem: String, expected: String? = nil, suggestion: String? = nil,
        severity: Severity = .error
    ) {
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
        self.expected = expected
        self.suggestion = suggestion
        self.severity = severity
    }

    /// `FILE:LINE:COL`.
    package var location: String { "\(file):\(line):\(column)" }

    /// What follows the severity: the problem, what was expected, the suggestion.
    package var message: String {
        var text = problem
        if let expected { text += "; expected \(expected)" }
        if let suggestion { text += "; did you mean '\(suggestion)'?" }
        return text
    }

    package var description: String { "\(location): \(severity.rawValue): \(message)" }
}
