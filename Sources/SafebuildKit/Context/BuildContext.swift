import Glibc

package enum BuildContext {
    /// The context argument and `-f` value of `docker build` arguments (those after the subcommand words), read as
    /// docker reads its flags (`SubcommandOptions`). nil context: none given, `-` (stdin) or a URL — nothing local to
    /// measure.
    package static func locate(buildArguments: [String]) -> (context: String?, dockerfile: String?) {
        let options = SubcommandOptions(buildArguments, from: 0, table: SubcommandOptions.build)
        let dockerfile = options.value("--file")
        guard let index = options.positional else { return (nil, dockerfile) }
        let context = buildArguments[index]
        guard context != "-",
            !context.contains("://"), !context.hasPrefix("git@"), !context.hasPrefix("github.com/")
        else { return (nil, dockerfile) }
        return (context, dockerfile)
    }

    /// Warnings above these.
    package static let largeContext: UInt64 = 100 << 20
    package static let manyLayers = 50

    /// Measures the context on disk. `workingDirectory` resolves a relative `-f` (docker reads it from there).
    package static func report(
        buildArguments: [String], workingDirectory: String = ".", fileLimit: Int = 200_000, seconds: Double = 2
    ) -> BuildContextReport? {
        let located = locate(buildArguments: buildArguments)
        guard let context = located.context else { return nil }
        let dockerfile: String
        if let file = located.dockerfile, file != "-" {
            dockerfile = file.hasPrefix("/") ? file : "\(workingDirectory)/\(file)"
        } else {
            dockerfile = "\(context)/Dockerfile"
        }
        var warnings: [String] = []
        var ignorePath: String?
        var ignore = DockerIgnore(patterns: [])
        for candidate in ["\(dockerfile).dockerignore", "\(context)/.dockerignore"] {
            guard let text = HostReader.read(candidate) else { continue }
            ignorePath = candidate
            do throws(ProbeError) { ignore = try DockerIgnore.parse(text) } catch {
                warnings.append("\(candidate): \(error.problem); docker will refuse it too")
            }
            break
        }
        var walk = Walk(root: context, ignore: ignore, fileLimit: fileLimit, deadline: Clock.now() + seconds)
        walk.visit("")
        let summary = HostReader.read(dockerfile).map(DockerfileSummary.parse) ?? DockerfileSummary()
        let size = ByteSize.describe(walk.bytes)
        if ignorePath == nil {
            warnings.append(
                "no .dockerignore in \(context): all \(walk.files) files (\(size)) go to the daemon; add one that leaves out .git, build output and dependencies"
            )
        }
        if walk.bytes >= largeContext {
            warnings.append("the build context is \(walk.complete ? "" : "at least ")\(size) after .dockerignore; the daemon holds it while the build runs")
        }
        let layers = summary.run + summary.copy + summary.add
        if layers >= manyLayers {
            warnings.append("\(dockerfile) has \(layers) RUN/COPY/ADD instructions, each a layer; join RUN steps with && to build fewer")
        }
        return BuildContextReport(
            context: context, dockerfile: dockerfile, dockerignore: ignorePath, bytes: walk.bytes, files: walk.files,
            ignored: walk.ignored, complete: walk.complete, run: summary.run, copy: summary.copy, add: summary.add,
            warnings: warnings)
    }

    struct Walk {
        let root: String
        let ignore: DockerIgnore
        let fileLimit: Int
        let deadline: Double
        var bytes: UInt64 = 0
        var files = 0
        var ignored = 0
        var complete = true
        let hasExceptions: Bool

        init(root: String, ignore: DockerIgnore, fileLimit: Int, deadline: Double) {
            self.root = root
            self.ignore = ignore
            self.fileLimit = fileLimit
            self.deadline = deadline
            self.hasExceptions = ignore.patterns.contains { $0.exclusion }
        }

        mutating func visit(_ relative: String) {
            let path = relative.isEmpty ? root : "\(root)/\(relative)"
            guard let dir = opendir(path) else { return }
            defer { closedir(dir) }
            while complete, let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let child = relative.isEmpty ? name : "\(relative)/\(name)"
                var s = stat()
                guard lstat("\(root)/\(child)", &s) == 0 else { continue }
                let isDirectory = (s.st_mode & S_IFMT) == S_IFDIR
                if ignore.excludes(child) {
                    ignored += 1
                    // An excluded directory can still hold an exception (`!dir/keep`): walk it only then.
                    if isDirectory && hasExceptions { visit(child) }
                    continue
                }
                if isDirectory {
                    visit(child)
                } else {
                    files += 1
                    if (s.st_mode & S_IFMT) == S_IFREG { bytes += UInt64(s.st_size) }
                    if files >= fileLimit || (files % 1024 == 0 && Clock.now() > deadline) { complete = false }
                }
            }
        }
    }
}
