/// POSIX shell quoting, so that a printed command line can be pasted back into a shell.
package enum ShellQuote {
    static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%^")

    package static func quote(_ word: String) -> String {
        if !word.isLosslessUTF8 { return ansiC(word) }
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: Character("'"), with: "'\\''") + "'"
    }

    package static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }

    /// A word whose bytes are not UTF-8 (`String(lossless:)`), in bash's `$'…'` quoting: each byte that is not UTF-8
    /// as `\xHH`, so that pasting it back gives the same bytes (`$'x\xffy'`); the rest as it is, `\` and `'`
    /// escaped.
    static func ansiC(_ word: String) -> String {
        var out = "$'"
        for scalar in word.unicodeScalars {
            if String.escapeRange.contains(scalar.value) {
                let byte = scalar.value - String.escapeBase
                out += "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            } else if scalar == "\\" || scalar == "'" {
                out += "\\" + String(scalar)
            } else if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }
}
