import Glibc

/// safebuild speaks on stderr, every line prefixed `safebuild:`; stdout belongs to docker. Colour only on a terminal
/// and never with NO_COLOR.
package enum Console {
    nonisolated(unsafe) package static var quiet = false

    static let colour: Bool = {
        isatty(2) == 1 && (getenv("NO_COLOR").map { String(cString: $0).isEmpty } ?? true)
            && (getenv("TERM").map { String(cString: $0) != "dumb" } ?? false)
    }()

    package static func say(_ text: String) {
        guard !quiet else { return }
        Output.write(2, "safebuild: \(text)\n")
    }

    package static func warn(_ text: String) {
        Output.write(2, colour ? "\u{1B}[33msafebuild: warning:\u{1B}[0m \(text)\n" : "safebuild: warning: \(text)\n")
    }

    package static func error(_ text: String) {
        Output.write(2, colour ? "\u{1B}[31msafebuild: error:\u{1B}[0m \(text)\n" : "safebuild: error: \(text)\n")
    }
}
