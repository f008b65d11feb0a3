/// A policy file that cannot be used: every problem found in it, not just the first.
package struct PolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    package var file: String
    package var diagnostics: [PolicyDiagnostic]

    /// One diagnostic per line.
    package var description: String { diagnostics.map(\.description).joined(separator: "\n") }

    /// The error a protected command stops with (exit 78): a first line that says what to do, then the diagnostics.
    package var safebuildError: SafebuildError {
        let count = diagnostics.count == 1 ? "1 error" : "\(diagnostics.count) errors"
        return SafebuildError(
            .policy,
            "policy \(file) is invalid (\(count)); fix it (check with 'safebuild policy check \(file)') or choose another with --sb-policy; nothing ran\n"
                + description)
    }
}
