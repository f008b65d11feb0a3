/// The options of a protected `run` or `build`, read the way docker's flag parser reads them, without a full model
/// of docker's flags: only which flags take no value must be known, to tell a flag's value from the image (`run`) or
/// the context (`build`). A flag safebuild does not know is taken to have a value (`--x v` or `--x=v`).
package struct SubcommandOptions: Equatable, Sendable {
    package typealias Use = FlagUse

    package let uses: [Use]
    /// Index of the image (`run`) or the build context (`build`), if present.
    package let positional: Int?

    /// The last value given for `name` (docker keeps the last of a repeated scalar flag).
    package func value(_ name: String) -> String? {
        uses.last(where: { $0.name == name })?.value
    }

    package func values(_ name: String) -> [String] {
        uses.filter { $0.name == name }.compactMap(\.value)
    }

    package func has(_ name: String) -> Bool {
        uses.contains { $0.name == name }
    }

    // MARK: - docker's flags (docker 20.10 to 28, `docker run --help`, `docker build --help`)

    struct Table {
        let boolLong: Set<String>
        let shortNames: [Character: String]
        let boolShort: Set<Character>
        /// `run` stops at the image (everything after it is the container's); `build` reads flags anywhere.
        let stopsAtPositional: Bool
    }

    static let run = Table(
        boolLong: [
            "--detach", "--disable-content-trust", "--help", "--init", "--interactive", "--no-healthcheck",
            "--oom-kill-disable", "--privileged", "--publish-all", "--quiet", "--read-only", "--rm", "--sig-proxy",
            "--tty", "--use-api-socket",
        ],
        shortNames: [
            "d": "--detach", "i": "--interactive", "t": "--tty", "P": "--publish-all", "q": "--quiet",
            "a": "--attach", "c": "--cpu-shares", "e": "--env", "h": "--hostname", "l": "--label", "m": "--memory",
            "p": "--publish", "u": "--user", "v": "--volume", "w": "--workdir",
        ],
        boolShort: ["d", "i", "t", "P", "q"],
        stopsAtPositional: true)

    static let build = Table(
        boolLong: [
            "--compress", "--disable-content-trust", "--force-rm", "--no-cache", "--pull", "--quiet", "--rm",
            "--squash", "--stream", "--load", "--push", "--check", "--help",
        ],
        shortNames: [
            "q": "--quiet", "h": "--help", "c": "--cpu-shares", "f": "--file", "m": "--memory", "t": "--tag",
            "o": "--output",
        ],
        boolShort: ["q", "h"],
        stopsAtPositional: false)

    package init(_ commandLine: DockerCommandLine) {
        self.init(
            commandLine.arguments, from: commandLine.commandArgumentsIndex,
            table: Self.table(for: commandLine.protected ?? .run))
    }

    static func table(for command: ProtectedCommand) -> Table {
        command == .run ? run : build
    }

    init(_ args: [String], from start: Int, table: Table) {
        var uses: [Use] = []
        var positional: Int?
        var i = start
        while i < args.count {
            let word = args[i]
            if word == "--" {
                if positional == nil, i + 1 < args.count { positional = i + 1 }
                break
            }
            if word.hasPrefix("--"), word.count > 2 {
                if let eq = word.firstIndex(of: "=") {
                    uses.append(Use(name: String(word[..<eq]), value: String(word[word.index(after: eq)...]), range: i..<(i + 1)))
                    i += 1
                } else if table.boolLong.contains(word) {
                    uses.append(Use(name: word, value: nil, range: i..<(i + 1)))
                    i += 1
                } else {
                    let value = i + 1 < args.count ? args[i + 1] : nil
                    uses.append(Use(name: word, value: value, range: i..<min(i + 2, args.count)))
                    i += 2
                }
                continue
            }
            if word.hasPrefix("-"), word.count > 1 {
                // Combined short flags: bools, then at most one flag that takes the rest or the next word.
                var chars = Substring(word.dropFirst())
                var end = i + 1
                while let c = chars.first {
                    chars = chars.dropFirst()
                    let name = table.shortNames[c] ?? "-\(c)"
                    if table.boolShort.contains(c) {
                        uses.append(Use(name: name, value: nil, range: i..<(i + 1)))
                        continue
                    }
                    if !chars.isEmpty {
                        let value = chars.hasPrefix("=") ? String(chars.dropFirst()) : String(chars)
                        uses.append(Use(name: name, value: value, range: i..<(i + 1)))
                    } else {
                        let value = i + 1 < args.count ? args[i + 1] : nil
                        end = min(i + 2, args.count)
                        uses.append(Use(name: name, value: value, range: i..<end))
                    }
                    break
                }
                i = end
                continue
            }
            if positional == nil { positional = i }
            if table.stopsAtPositional { break }
            i += 1
        }
        self.uses = uses
        self.positional = positional
    }
}
