/// A host or engine file that safebuild could not make sense of: which file, and what was wrong with it.
package struct ProbeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or endpoint, as a user would look for it (`/proc/meminfo`, `GET /system/df`).
    package let source: String
    package let problem: String

    package init(_ source: String, _ problem: String) {
        self.source = source
        self.problem = problem
    }

    package var description: String { "\(source): \(problem)" }
}
