import Foundation

@testable import SafebuildKit

/// One case of the failure corpus (Fixtures/corpus/NNN-slug.txt): a real failure output copied from a public source,
/// with the exit status docker gives for it and the class it should get. The format is described in
/// Fixtures/corpus/README.md.
struct CorpusCase: Sendable {
    enum Builder: String, Sendable { case classic, buildkit, none }
    enum Cgroup: String, Sendable { case v1, v2, unknown }
    enum Split: String, Sendable { case train, holdout }
    enum Stream: String, Sendable { case stderr, mixed }

    var file: String
    var number: Int
    var source: String
    var docker: String
    var builder: Builder
    var cgroup: Cgroup
    var command: ProtectedCommand
    var exit: Int32
    var oomKilled: Bool?
    var expected: FailureClass
    var proposedClass: String?
    var split: Split
    var stream: Stream
    var note: String
    /// What docker printed on stderr, then (classic builds, attached runs) on stdout, then the kernel's log lines the
    /// source showed for the same moment.
    var stderr: [String]
    var stdout: [String]
    var kernel: [String]

    /// The rule that chose the held-out fifth before any measurement: every case whose number is a multiple of 5.
    static func split(forNumber number: Int) -> Split { number % 5 == 0 ? .holdout : .train }

    /// Feeds the case to a classifier the way `Supervisor.attemptOnce` does (line by line while docker runs, then the
    /// kernel's records, then the verdict with the container's state for a run).
    func classify() -> Classification {
        var classifier = Classifier(command: command)
        func feed(_ lines: [String], _ stream: SafebuildKit.OutputStream) {
            for line in lines {
                var bytes = Array(line.utf8)
                bytes.withUnsafeMutableBytes { classifier.observe(line: UnsafeRawBufferPointer($0), stream: stream) }
            }
        }
        // A classic build and an attached run print their progress and the container's output on stdout before docker
        // reports the failure on stderr.
        feed(stdout, .stdout)
        feed(stderr, .stderr)
        for line in kernel {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { classifier.observeKernel(line: UnsafeRawBufferPointer($0)) }
        }
        let state = oomKilled.map { ContainerState(oomKilled: $0, exitCode: exit, status: "exited") }
        return classifier.verdict(exitStatus: .exited(exit), containerState: state)
    }
}

/// A malformed case: the file and the line (1-based) at fault.
struct CorpusError: Error, CustomStringConvertible, Equatable {
    var file: String
    var line: Int
    var message: String
    var description: String { "\(file):\(line): \(message)" }
}

enum FailureCorpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/corpus")

    static let requiredKeys = ["source", "docker", "builder", "cgroup", "command", "exit", "class", "split", "stream", "note"]
    static let optionalKeys = ["oom_killed", "proposed_class"]
    static let stdoutMarker = "--- stdout"
    static let kernelMarker = "--- kernel"

    /// Classes for which no real, quotable failure text was found (corpus README, "Gaps"): `page_allocation` needs
    /// docker's generic ENOMEM and a kernel `page allocation failure` from the same incident, and every public report
    /// found pairs the kernel line with a more specific signature (veth, /dev/console) or shows no docker text.
    static let classesWithoutARealCase: Set<FailureClass> = [.pageAllocation]

    /// Every case file of the corpus, in file-name order.
    static func load() throws -> [CorpusCase] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".txt") }.sorted()
        return try names.map { name in
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            return try parse(text, file: name)
        }
    }

    /// Parses one case; throws `CorpusError` naming the file and line of the first problem.
    static func parse(_ text: String, file: String) throws -> CorpusCase {
        func fail(_ line: Int, _ message: String) -> CorpusError { CorpusError(file: file, line: line, message: message) }

        guard let number = file.split(separator: "-", maxSplits: 1).first.flatMap({ Int($0) }),
            file.range(of: #"^[0-9]{3}-[a-z0-9]+(-[a-z0-9]+)*\.txt$"#, options: .regularExpression) != nil
        else { throw fail(1, "file name must be NNN-short-slug.txt (lower-case slug)") }

        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }  // the file's final newline

        var header: [String: (value: String, line: Int)] = [:]
        var index = 0
        while index < lines.count, lines[index] != "---" {
            let line = lines[index]
            guard let colon = line.range(of: ": ") else { throw fail(index + 1, "header line is not `key: value`") }
            let key = String(line[..<colon.lowerBound])
            let value = String(line[colon.upperBound...])
            guard requiredKeys.contains(key) || optionalKeys.contains(key) else {
                throw fail(index + 1, "unknown header key `\(key)`")
            }
            guard header[key] == nil else { throw fail(index + 1, "header key `\(key)` given twice") }
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(index + 1, "`\(key)` is empty") }
            header[key] = (value, index + 1)
            index += 1
        }
        guard index < lines.count else { throw fail(lines.count, "no `---` line ends the header") }
        let separator = index + 1
        for key in requiredKeys where header[key] == nil {
            throw fail(separator, "header lacks `\(key)`")
        }
        func value(_ key: String) -> String { header[key]!.value }
        func lineOf(_ key: String) -> Int { header[key]!.line }
        func parsed<T: RawRepresentable>(_ key: String, as type: T.Type) throws -> T where T.RawValue == String {
            guard let v = T(rawValue: value(key)) else { throw fail(lineOf(key), "`\(key): \(value(key))` is not allowed") }
            return v
        }

        let source = value("source")
        guard source.hasPrefix("https://"), !source.contains(" ") else {
            throw fail(lineOf("source"), "source must be one https URL")
        }
        let builder = try parsed("builder", as: CorpusCase.Builder.self)
        let cgroup = try parsed("cgroup", as: CorpusCase.Cgroup.self)
        let command: ProtectedCommand
        switch value("command") {
        case "build": command = .build(.docker)
        case "run": command = .run
        default: throw fail(lineOf("command"), "command must be build or run")
        }
        guard (command == .run) == (builder == .none) else {
            throw fail(lineOf("builder"), "builder is `none` exactly for run")
        }
        guard let exit = Int32(value("exit")), (1...255).contains(exit) else {
            throw fail(lineOf("exit"), "exit must be a failing status, 1...255")
        }
        var oomKilled: Bool?
        if let given = header["oom_killed"] {
            guard command == .run else { throw fail(given.line, "oom_killed is for run only") }
            guard given.value == "true" || given.value == "false" else { throw fail(given.line, "oom_killed is true or false") }
            oomKilled = given.value == "true"
        } else if command == .run {
            throw fail(separator, "a run needs oom_killed")
        }
        guard let expected = FailureClass(rawValue: value("class")) else {
            throw fail(lineOf("class"), "unknown class `\(value("class"))`")
        }
        let proposed = header["proposed_class"]?.value
        if let proposed, FailureClass(rawValue: proposed) != nil {
            throw fail(header["proposed_class"]!.line, "proposed_class names an existing class; use class")
        }
        let split = try parsed("split", as: CorpusCase.Split.self)
        guard split == CorpusCase.split(forNumber: number) else {
            throw fail(lineOf("split"), "split must follow the holdout rule (number % 5 == 0 is holdout)")
        }
        let stream = try parsed("stream", as: CorpusCase.Stream.self)

        var stderr: [String] = [], stdout: [String] = [], kernel: [String] = []
        var section = 0  // 0 stderr, 1 stdout, 2 kernel
        var hasStdoutPart = false
        for (offset, line) in lines[separator...].enumerated() {
            let lineNumber = separator + offset + 1
            if line == stdoutMarker {
                guard section == 0 else { throw fail(lineNumber, "`--- stdout` must come once, before `--- kernel`") }
                section = 1
                hasStdoutPart = true
            } else if line == kernelMarker {
                guard section < 2 else { throw fail(lineNumber, "`--- kernel` must come once") }
                section = 2
            } else {
                switch section {
                case 0: stderr.append(line)
                case 1: stdout.append(line)
                default: kernel.append(line)
                }
            }
        }
        guard (stream == .mixed) == hasStdoutPart else {
            throw fail(lineOf("stream"), "stream is `mixed` exactly when the output has a `--- stdout` part")
        }
        guard !hasStdoutPart || !stdout.isEmpty else { throw fail(lines.count, "the stdout part is empty") }
        if section == 2, kernel.isEmpty { throw fail(lines.count, "the kernel part is empty") }
        guard !(stderr + stdout).allSatisfy({ $0.isEmpty }) || command == .run else {
            throw fail(separator, "a build case needs docker's output")
        }

        return CorpusCase(
            file: file, number: number, source: source, docker: value("docker"), builder: builder, cgroup: cgroup,
            command: command, exit: exit, oomKilled: oomKilled, expected: expected, proposedClass: proposed, split: split,
            stream: stream, note: value("note"), stderr: stderr, stdout: stdout, kernel: kernel)
    }
}
