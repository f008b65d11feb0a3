#if canImport(Glibc)
import Glibc
#endif

/// safebuild speaks on stderr, every line prefixed `safebuild:`; stdout belongs to docker. Colour only on a terminal
/// and never with NO_COLOR.
public enum Console {
    nonisolated(unsafe) public static var quiet = false

    static let colour: Bool = {
        isatty(2) == 1 && (getenv("NO_COLOR").map { String(cString: $0).isEmpty } ?? true)
            && (getenv("TERM").map { String(cString: $0) != "dumb" } ?? false)
    }()

    public static func say(_ text: String) {
        guard !quiet else { return }
        Output.write(2, "safebuild: \(text)\n")
    }

    public static func warn(_ text: String) {
        Output.write(2, colour ? "\u{1B}[33msafebuild: warning:\u{1B}[0m \(text)\n" : "safebuild: warning: \(text)\n")
    }

    public static func error(_ text: String) {
        Output.write(2, colour ? "\u{1B}[31msafebuild: error:\u{1B}[0m \(text)\n" : "safebuild: error: \(text)\n")
    }
}

/// POSIX shell quoting, so that a printed command line can be pasted back into a shell.
public enum ShellQuote {
    static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%^")

    public static func quote(_ word: String) -> String {
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: Character("'"), with: "'\\''") + "'"
    }

    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }
}

extension String {
    func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var out = ""
        for c in self {
            if c == target { out += replacement } else { out.append(c) }
        }
        return out
    }
}
