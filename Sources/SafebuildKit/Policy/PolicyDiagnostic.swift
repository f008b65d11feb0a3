/// One problem in a policy file, as a person reads it: `FILE:LINE:COL: error: <what is wrong>; expected <what>`, and
/// `; did you mean 'x'?` for a misspelt key or name.
public struct PolicyDiagnostic: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var problem: String
    public var expected: String?
    public var suggestion: String?

    public var description: String {
        var text = "\(file):\(line):\(column): error: \(problem)"
        if let expected { text += "; expected \(expected)" }
        if let suggestion { text += "; did you mean '\(suggestion)'?" }
        return text
    }
}

/// A policy file that cannot be used: every problem found in it, not just the first.
public struct PolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var diagnostics: [PolicyDiagnostic]

    /// One diagnostic per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }

    /// The error a protected command stops with (exit 78): a first line that says what to do, then the diagnostics.
    public var safebuildError: SafebuildError {
        let count = diagnostics.count == 1 ? "1 error" : "\(diagnostics.count) errors"
        return SafebuildError(
            .policy,
            "policy \(file) is invalid (\(count)); fix it (check with 'safebuild policy check \(file)') or choose another with --sb-policy; nothing ran\n"
                + description)
    }
}
