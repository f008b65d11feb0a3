/// POSIX shell quoting, so that a printed command line can be pasted back into a shell.
package enum ShellQuote {
    static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%^")

    package static func quote(_ word: String) -> String {
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: Character("'"), with: "'\\''") + "'"
    }

    package static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }
}
