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

    /// The most of a Dockerfile and of a `.dockerignore` safebuild reads (both are a repository's: a symlink to
    /// /dev/zero or a FIFO must not grow or stall safebuild; `BoundedFile` refuses what is not a regular file).
    package static let dockerfileLimit = 4 << 20
    package static let dockerignoreLimit = 1 << 20

    /// Measures the context on disk. `workingDirectory` resolves a relative `-f` (docker reads it from there). A
    /// probe: whatever it cannot read is a warning and the build goes on, so that docker gives its own error for a
    /// broken Dockerfile or `.dockerignore`, as without safebuild. The walk stops after `entryLimit` entries or
    /// `seconds` (the figures are then a lower bound), and holds one directory open at a time.
    package static func report(
        buildArguments: [String], workingDirectory: String = ".", entryLimit: Int = 200_000, seconds: Double = 2
    ) -> BuildContextReport? {
        let located = locate(buildArguments: buildArguments)
        guard let context = located.context else { return nil }
        let deadline = Clock.now() + seconds
        // `-f -`: the Dockerfile comes from stdin, and is not safebuild's to read.
        let dockerfile: String?
        if let file = located.dockerfile {
            dockerfile = file == "-" ? nil : file.hasPrefix("/") ? file : "\(workingDirectory)/\(file)"
        } else {
            dockerfile = "\(context)/Dockerfile"
        }
        var warnings: [String] = []
        var ignorePath: String?
        var ignore = DockerIgnore(patterns: [])
        var ignoreReadable = true
        for candidate in (dockerfile.map { ["\($0).dockerignore"] } ?? []) + ["\(context)/.dockerignore"] {
            let text: String
            switch BoundedFile.read(candidate, limit: dockerignoreLimit) {
            case .failure(.missing): continue
            case .failure(let failure):
                warnings.append("cannot read \(candidate): it \(failure.reason); the build context was not measured")
                ignoreReadable = false
                ignorePath = candidate
            case .success(let bytes):
                text = String(decoding: bytes, as: UTF8.self)
                ignorePath = candidate
                do throws(ProbeError) { ignore = try DockerIgnore.parse(text) } catch {
                    warnings.append("\(candidate): \(error.problem); docker will refuse it too")
                }
            }
            break
        }
        var walk = Walk(root: context, ignore: ignore, entryLimit: entryLimit, deadline: deadline)
        if ignoreReadable { walk.run() } else { walk.complete = false }
        var summary = DockerfileSummary()
        if let dockerfile {
            switch BoundedFile.read(dockerfile, limit: dockerfileLimit) {
            case .success(let bytes): summary = DockerfileSummary.parse(String(decoding: bytes, as: UTF8.self))
            case .failure(.missing): break  // docker says so itself
            case .failure(let failure):
                warnings.append("cannot read \(dockerfile): it \(failure.reason); its layers were not counted")
            }
        }
        let size = ByteSize.describe(walk.bytes)
        if ignorePath == nil {
            warnings.append(
                "no .dockerignore in \(context): all \(walk.complete ? "" : "at least ")\(walk.files) files (\(size)) go to the daemon; add one that leaves out .git, build output and dependencies"
            )
        }
        if walk.bytes >= largeContext {
            warnings.append("the build context is \(walk.complete ? "" : "at least ")\(size) after .dockerignore; the daemon holds it while the build runs")
        }
        let layers = summary.run + summary.copy + summary.add
        if layers >= manyLayers, let dockerfile {
            warnings.append("\(dockerfile) has \(layers) RUN/COPY/ADD instructions, each a layer; join RUN steps with && to build fewer")
        }
        return BuildContextReport(
            context: context, dockerfile: dockerfile ?? "-", dockerignore: ignorePath, bytes: walk.bytes,
            files: walk.files, ignored: walk.ignored, complete: walk.complete, run: summary.run, copy: summary.copy,
            add: summary.add, warnings: warnings)
    }

    /// The walk of a context: breadth by directory, from a list of the directories still to read (no recursion, so
    /// no depth can exhaust the stack or the descriptors), every entry counted against `entryLimit`, the clock read
    /// every 64 entries and inside long `.dockerignore` matches, symlinks not followed (lstat). The list of
    /// directories to read is bounded too (`pendingLimit` bytes of names).
    struct Walk {
        let root: String
        let ignore: DockerIgnore
        let entryLimit: Int
        let deadline: Double
        var pendingLimit = 16 << 20
        var bytes: UInt64 = 0
        var files = 0
        var ignored = 0
        var entries = 0
        var complete = true
        let hasExceptions: Bool
        var budget: DockerIgnore.Budget

        init(root: String, ignore: DockerIgnore, entryLimit: Int, deadline: Double) {
            self.root = root
            self.ignore = ignore
            self.entryLimit = entryLimit
            self.deadline = deadline
            self.hasExceptions = ignore.patterns.contains { $0.exclusion }
            budget = DockerIgnore.Budget(deadline: deadline)
        }

        mutating func run() {
            var pending = [""]
            var pendingBytes = 0
            while complete, let relative = pending.popLast() {
                pendingBytes -= relative.utf8.count
                let path = relative.isEmpty ? root : "\(root)/\(relative)"
                guard let dir = opendir(path) else { continue }
                defer { closedir(dir) }
                while complete, let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if name == "." || name == ".." { continue }
                    entries += 1
                    if entries >= entryLimit || (entries % 64 == 0 && Clock.now() > deadline) {
                        complete = false
                        break
                    }
                    let child = relative.isEmpty ? name : "\(relative)/\(name)"
                    var s = stat()
                    guard lstat("\(root)/\(child)", &s) == 0 else { continue }
                    let isDirectory = (s.st_mode & S_IFMT) == S_IFDIR
                    let excluded = ignore.excludes(child, budget: &budget)
                    if budget.exhausted {
                        complete = false
                        break
                    }
                    if excluded {
                        ignored += 1
                        // An excluded directory can still hold an exception (`!dir/keep`): walk it only then.
                        if !(isDirectory && hasExceptions) { continue }
                    } else if !isDirectory {
                        files += 1
                        if (s.st_mode & S_IFMT) == S_IFREG { bytes += UInt64(s.st_size) }
                        continue
                    }
                    pendingBytes += child.utf8.count
                    if pendingBytes > pendingLimit {
                        complete = false
                        break
                    }
                    pending.append(child)
                }
            }
        }
    }
}
