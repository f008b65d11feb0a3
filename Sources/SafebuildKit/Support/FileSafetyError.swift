/// A file or directory safebuild refused to use, and why: `PATH: REASON`.
package struct FileSafetyError: Error, Equatable, Sendable, CustomStringConvertible {
    package var path: String
    package var reason: String
    package init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    package var description: String { "\(path): \(reason)" }
}
