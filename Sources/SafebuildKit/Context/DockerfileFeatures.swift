/// What a Dockerfile uses that only BuildKit builds, so that safebuild never moves it to the classic builder. Read
/// the way BuildKit's parser reads a Dockerfile, at the level needed here: parser directives at the top (`# escape=`,
/// `# syntax=`), comments, line continuations, heredoc bodies, keywords case-insensitive, the flags before an
/// instruction's arguments.
///
/// What the classic builder does with each (moby/moby builder/dockerfile, docker 20.10 to 28):
/// - `# syntax=` picks BuildKit's Dockerfile frontend image; the classic builder ignores the directive and parses the
///   file with its own (older) syntax.
/// - any `RUN` flag (`--mount`, `--network`, `--security`): refused, "the --mount option requires BuildKit"
///   (dispatchers.go dispatchRun).
/// - `COPY`/`ADD --chmod`: refused, "the --chmod option requires BuildKit" (dispatchers.go dispatchCopy, dispatchAdd).
/// - `COPY`/`ADD --link`, `ADD --checksum`, `ADD --keep-git-dir`, `COPY --parents`, `COPY --exclude`: unknown flags
///   to docker 20.10's parser; parsed and ignored by 23+'s classic builder (dispatchCopy reads only --from, --chown,
///   --chmod), so the image differs from what the Dockerfile asks for.
/// - heredocs (`RUN <<EOF`, `COPY <<EOF /x`, Dockerfile syntax 1.4): docker 20.10's parser reads the body as
///   instructions; 23+'s parses the body and the classic builder's dispatchRun does not use it.
/// - `FROM --platform=$BUILDPLATFORM` (or `$TARGETPLATFORM`, `$TARGETOS`, …): BuildKit defines these arguments
///   (moby/buildkit frontend/dockerfile/dockerfile2llb); the classic builder does not, so the platform expands to
///   nothing and `FROM` fails ("failed to parse platform", dispatchers.go initializeStage) — unless a global `ARG`
///   gives it a default.
package struct DockerfileFeatures: Sendable, Equatable {
    package enum Feature: String, Sendable, Equatable, CaseIterable {
        case syntaxDirective = "# syntax="
        case runFlag = "RUN --flag"
        case heredoc = "heredoc"
        case copyChmod = "--chmod"
        case copyLink = "--link"
        case copyFlag = "COPY/ADD flag"
        case platformArgument = "FROM --platform=$BUILDPLATFORM"
    }

    /// One use: the feature, the line it starts on (1-based) and the words that show it (`RUN --mount`).
    package struct Use: Sendable, Equatable {
        package var feature: Feature
        package var line: Int
        package var words: String
    }

    package var uses: [Use] = []

    package var needsBuildKit: Bool { !uses.isEmpty }

    /// `Dockerfile:3 RUN --mount, :7 heredoc` for a decision or a warning (at most three).
    package var summary: String {
        let shown = uses.prefix(3).map { "line \($0.line): \($0.words)" }
        return shown.joined(separator: ", ") + (uses.count > 3 ? " and \(uses.count - 3) more" : "")
    }

    static let copyFlags: Set<String> = ["--checksum", "--keep-git-dir", "--parents", "--exclude"]
    static let platformArguments = [
        "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT", "TARGETPLATFORM", "TARGETOS", "TARGETARCH",
        "TARGETVARIANT",
    ]

    package static func parse(_ text: String) -> DockerfileFeatures {
        var features = DockerfileFeatures()
        var escape: Character = "\\"
        var directives = true
        var heredocEnds: [(marker: String, stripTabs: Bool)] = []
        var logical = ""
        var logicalStart = 0
        var globalArgs: Set<String> = []
        var seenFrom = false

        func instruction(_ text: String, line: Int) {
            var words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard !words.isEmpty else { return }
            let keyword = words.removeFirst().uppercased()
            var flags: [String] = []
            while let first = words.first, first.hasPrefix("--") {
                flags.append(first)
                words.removeFirst()
            }
            func flagName(_ flag: String) -> String { String(flag.prefix { $0 != "=" }) }
            switch keyword {
            case "RUN":
                if let flag = flags.first {
                    features.uses.append(Use(feature: .runFlag, line: line, words: "RUN \(flagName(flag))"))
                }
            case "COPY", "ADD":
                for flag in flags {
                    let name = flagName(flag)
                    if name == "--chmod" {
                        features.uses.append(Use(feature: .copyChmod, line: line, words: "\(keyword) --chmod"))
                    } else if name == "--link" {
                        features.uses.append(Use(feature: .copyLink, line: line, words: "\(keyword) --link"))
                    } else if Self.copyFlags.contains(name) {
                        features.uses.append(Use(feature: .copyFlag, line: line, words: "\(keyword) \(name)"))
                    }
                }
            case "ARG" where !seenFrom:
                for word in words {
                    let parts = word.split(separator: "=", maxSplits: 1)
                    if parts.count == 2 { globalArgs.insert(String(parts[0])) }
                }
            case "FROM":
                seenFrom = true
                for flag in flags where flagName(flag) == "--platform" {
                    let used = Self.platformArguments.filter { name in
                        !globalArgs.contains(name) && (flag.contains("$" + name) || flag.contains("${" + name))
                    }
                    if !used.isEmpty {
                        features.uses.append(Use(feature: .platformArgument, line: line, words: "FROM \(flag)"))
                    }
                }
            default:
                break
            }
            if ["RUN", "COPY", "ADD"].contains(keyword) {
                for word in words + flags {
                    guard let heredoc = Self.heredoc(word) else { continue }
                    heredocEnds.append(heredoc)
                    if !features.uses.contains(where: { $0.feature == .heredoc && $0.line == line }) {
                        features.uses.append(Use(feature: .heredoc, line: line, words: "\(keyword) \(word)"))
                    }
                }
            }
        }

        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, rawLine) in lines.enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if let end = heredocEnds.first {
                let candidate = end.stripTabs ? String(line.drop { $0 == "\t" }) : String(line)
                if candidate == end.marker { heredocEnds.removeFirst() }
                continue
            }
            let trimmed = line.trimmingWhitespace
            if directives {
                if trimmed.hasPrefix("#"), let eq = trimmed.firstIndex(of: "=") {
                    let key = trimmed.dropFirst()[..<eq].trimmingWhitespace.lowercased()
                    let value = trimmed[trimmed.index(after: eq)...].trimmingWhitespace
                    if key == "escape", let c = value.first {
                        escape = c
                        continue
                    }
                    if key == "syntax" {
                        features.uses.append(Use(feature: .syntaxDirective, line: index + 1, words: "# syntax=\(value)"))
                        continue
                    }
                    if key == "check" { continue }
                }
                directives = false
            }
            if trimmed.hasPrefix("#") || (trimmed.isEmpty && !logical.isEmpty) { continue }
            if trimmed.isEmpty { continue }
            if logical.isEmpty { logicalStart = index + 1 }
            if trimmed.last == escape {
                logical += String(trimmed.dropLast()) + " "
                continue
            }
            logical += String(trimmed)
            instruction(logical, line: logicalStart)
            logical = ""
        }
        if !logical.isEmpty { instruction(logical, line: logicalStart) }
        return features
    }

    /// The end marker of a heredoc word (`<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`), BuildKit's
    /// `^(\d*)<<(-?)\s*([^<]*)$` (frontend/dockerfile/parser/parser.go reHeredoc) for a word that starts the heredoc.
    static func heredoc(_ word: String) -> (marker: String, stripTabs: Bool)? {
        var rest = Substring(word).drop { $0.isNumber }
        guard rest.hasPrefix("<<") else { return nil }
        rest = rest.dropFirst(2)
        let stripTabs = rest.first == "-"
        if stripTabs { rest = rest.dropFirst() }
        var marker = String(rest)
        if let q = marker.first, q == "\"" || q == "'", marker.count >= 2, marker.last == q {
            marker = String(marker.dropFirst().dropLast())
        }
        guard !marker.isEmpty, !marker.contains("<"),
            marker.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." })
        else { return nil }
        return (marker, stripTabs)
    }
}
