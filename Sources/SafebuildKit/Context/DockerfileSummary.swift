/// Counts of the instructions in a Dockerfile.
package struct DockerfileSummary: Sendable, Equatable {
    package var run = 0, copy = 0, add = 0, from = 0

    /// Reads instructions the way BuildKit's parser does at the level needed here: `# escape=` directive, comments,
    /// line continuations, heredoc bodies (`<<EOF` … `EOF`) skipped, keywords case-insensitive.
    package static func parse(_ text: String) -> DockerfileSummary {
        var summary = DockerfileSummary()
        var escape: Character = "\\"
        var continuing = false
        var heredocEnds: [String] = []
        var directivesOpen = true
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if !heredocEnds.isEmpty {
                if line.trimmingWhitespace == heredocEnds[0] { heredocEnds.removeFirst() }
                continue
            }
            let trimmed = line.trimmingWhitespace
            if trimmed.hasPrefix("#") {
                if directivesOpen, let eq = trimmed.firstIndex(of: "=") {
                    let key = trimmed.dropFirst()[..<eq].trimmingWhitespace.lowercased()
                    let value = trimmed[trimmed.index(after: eq)...].trimmingWhitespace
                    if key == "escape", let c = value.first { escape = c }
                } else {
                    directivesOpen = false
                }
                continue
            }
            if trimmed.isEmpty { continue }
            directivesOpen = false
            if !continuing {
                let keyword = trimmed.prefix { !$0.isWhitespace }.uppercased()
                switch keyword {
                case "RUN": summary.run += 1
                case "COPY": summary.copy += 1
                case "ADD": summary.add += 1
                case "FROM": summary.from += 1
                default: break
                }
                // Heredocs: `RUN <<EOF`, `COPY <<-"EOT" /x`.
                for word in trimmed.split(separator: " ") where word.hasPrefix("<<") && word.count > 2 {
                    var marker = word.dropFirst(2)
                    if marker.first == "-" { marker = marker.dropFirst() }
                    marker = marker.drop { $0 == "\"" || $0 == "'" }
                    while marker.last == "\"" || marker.last == "'" { marker = marker.dropLast() }
                    if !marker.isEmpty, marker.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                        heredocEnds.append(String(marker))
                    }
                }
            }
            continuing = trimmed.last == escape
        }
        return summary
    }
}
