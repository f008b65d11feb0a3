import Glibc
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// docker's command line as safebuild reads it: where the global flags end, which subcommand follows, and whether it is
/// protected. argv in, decision out.
@Suite struct DockerCommandLineTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let line: String
        let command: [String]
        let protected: ProtectedCommand?
        var testDescription: String { line }
        var arguments: [String] { line.split(separator: " ").map(String.init) }
    }

    /// Every form of every global flag, each followed by a protected `run` that must still be found.
    static let globalFlags: [Case] = [
        Case(line: "-H unix:///x.sock run img", command: ["run"], protected: .run),
        Case(line: "-Hunix:///x.sock run img", command: ["run"], protected: .run),
        Case(line: "-H=unix:///x.sock run img", command: ["run"], protected: .run),
        Case(line: "--host unix:///x.sock run img", command: ["run"], protected: .run),
        Case(line: "--host=unix:///x.sock run img", command: ["run"], protected: .run),
        Case(line: "-H a -H b run img", command: ["run"], protected: .run),
        Case(line: "-c default run img", command: ["run"], protected: .run),
        Case(line: "-cdefault run img", command: ["run"], protected: .run),
        Case(line: "--context default run img", command: ["run"], protected: .run),
        Case(line: "--context=default run img", command: ["run"], protected: .run),
        Case(line: "--config /tmp/cfg run img", command: ["run"], protected: .run),
        Case(line: "--config=/tmp/cfg run img", command: ["run"], protected: .run),
        Case(line: "-D run img", command: ["run"], protected: .run),
        Case(line: "--debug run img", command: ["run"], protected: .run),
        Case(line: "-Dl debug run img", command: ["run"], protected: .run),
        Case(line: "-D -l debug run img", command: ["run"], protected: .run),
        Case(line: "-l error run img", command: ["run"], protected: .run),
        Case(line: "-lerror run img", command: ["run"], protected: .run),
        Case(line: "--log-level error run img", command: ["run"], protected: .run),
        Case(line: "--log-level=error run img", command: ["run"], protected: .run),
        Case(line: "--tls run img", command: ["run"], protected: .run),
        Case(line: "--tlsverify run img", command: ["run"], protected: .run),
        Case(line: "--tlsverify=true run img", command: ["run"], protected: .run),
        Case(line: "--tlscacert ca.pem run img", command: ["run"], protected: .run),
        Case(line: "--tlscacert=ca.pem run img", command: ["run"], protected: .run),
        Case(line: "--tlscert cert.pem --tlskey key.pem run img", command: ["run"], protected: .run),
        Case(line: "--tlscert=cert.pem --tlskey=key.pem run img", command: ["run"], protected: .run),
        Case(line: "-H tcp://h:2376 --tlsverify --tlscacert ca.pem -D --context x build .", command: ["build"],
            protected: .build(.docker)),
        // A value that looks like a subcommand is still the flag's value.
        Case(line: "-H run ps", command: ["ps"], protected: nil),
        Case(line: "--context build images", command: ["images"], protected: nil),
        Case(line: "--config run run img", command: ["run"], protected: .run),
    ]

    /// Every spelling of the protected commands.
    static let spellings: [Case] = [
        Case(line: "build .", command: ["build"], protected: .build(.docker)),
        Case(line: "image build -t x .", command: ["image", "build"], protected: .build(.docker)),
        Case(line: "builder build .", command: ["builder", "build"], protected: .build(.docker)),
        Case(line: "buildx build .", command: ["buildx", "build"], protected: .build(.buildx)),
        Case(line: "buildx b .", command: ["buildx", "b"], protected: .build(.buildx)),
        Case(line: "run img", command: ["run"], protected: .run),
        Case(line: "container run --rm img", command: ["container", "run"], protected: .run),
        Case(line: "run -it --rm img sh", command: ["run"], protected: .run),
    ]

    /// Help for a protected command is docker's to print; everything else passes through.
    static let notProtected: [Case] = [
        Case(line: "build --help", command: ["build"], protected: nil),
        Case(line: "build -h", command: ["build"], protected: nil),
        Case(line: "build . --help", command: ["build"], protected: nil),
        Case(line: "image build --help", command: ["image", "build"], protected: nil),
        Case(line: "buildx build --help .", command: ["buildx", "build"], protected: nil),
        Case(line: "run --help", command: ["run"], protected: nil),
        Case(line: "container run --help", command: ["container", "run"], protected: nil),
        Case(line: "ps", command: ["ps"], protected: nil),
        Case(line: "ps -a", command: ["ps"], protected: nil),
        Case(line: "images", command: ["images"], protected: nil),
        Case(line: "version", command: ["version"], protected: nil),
        Case(line: "login -u me", command: ["login"], protected: nil),
        Case(line: "compose up -d", command: ["compose"], protected: nil),
        Case(line: "exec -it c bash", command: ["exec"], protected: nil),
        Case(line: "container ls", command: ["container"], protected: nil),
        Case(line: "image ls", command: ["image"], protected: nil),
        Case(line: "buildx ls", command: ["buildx"], protected: nil),
        Case(line: "builder prune -f", command: ["builder"], protected: nil),
        Case(line: "create img", command: ["create"], protected: nil),
        Case(line: "frobnicate run", command: ["frobnicate"], protected: nil),
        Case(line: "-H x ps", command: ["ps"], protected: nil),
    ]

    /// `run`'s `-h` is --hostname, and `--help` after the image is the container's own.
    static let stillProtected: [Case] = [
        Case(line: "run -h myhost img", command: ["run"], protected: .run),
        Case(line: "run img ls --help", command: ["run"], protected: .run),
        Case(line: "run img sh -h", command: ["run"], protected: .run),
    ]

    @Test(arguments: globalFlags + spellings + notProtected + stillProtected)
    func recognises(_ c: Case) {
        let line = DockerCommandLine(c.arguments)
        #expect(line.command == c.command)
        #expect(line.protected == c.protected)
        #expect(line.arguments == c.arguments, "arguments pass through unchanged")
        #expect(Array(line.arguments[line.commandIndex..<line.commandArgumentsIndex]) == c.command)
    }

    @Test func globalFlagsAreKeptForHelperCalls() {
        let line = DockerCommandLine(["-H", "unix:///x.sock", "--log-level=error", "run", "--rm", "img"])
        #expect(line.globalFlags == ["-H", "unix:///x.sock", "--log-level=error"])
        #expect(line.commandArgumentsIndex == 4)
    }

    /// The values of docker's global flags, by their long names, in every spelling pflag reads; the last one wins.
    @Test(arguments: [
        ("-H unix:///x.sock run img", "--host", "unix:///x.sock"),
        ("-Hunix:///x.sock run img", "--host", "unix:///x.sock"),
        ("-H=unix:///x.sock run img", "--host", "unix:///x.sock"),
        ("--host=a -H b ps", "--host", "b"),
        ("-c remote run img", "--context", "remote"),
        ("-Dcremote ps", "--context", "remote"),
        ("--context=remote ps", "--context", "remote"),
        ("--config /tmp/cfg --context=x ps", "--config", "/tmp/cfg"),
        ("-Dl debug ps", "--log-level", "debug"),
        ("-D -l=warn ps", "--log-level", "warn"),
        ("--tlsverify=false ps", "--tlsverify", "false"),
        ("ps -H x", "--host", nil),
        ("--badflag -H x ps", "--host", nil),
        ("-H", "--host", nil),
    ] as [(String, String, String?)])
    func globalFlagValues(_ line: String, _ name: String, _ value: String?) {
        #expect(DockerCommandLine(line.split(separator: " ").map(String.init)).global(name) == value)
    }

    @Test func globalFlagsAreReadWithTheWordsTheyTake() {
        let line = DockerCommandLine(["-D", "-Hx", "--config", "c", "-l", "info", "build", "-t", "a", "."])
        #expect(line.globals == [
            FlagUse(name: "--debug", value: nil, range: 0..<1), FlagUse(name: "--host", value: "x", range: 1..<2),
            FlagUse(name: "--config", value: "c", range: 2..<4), FlagUse(name: "--log-level", value: "info", range: 4..<6),
        ])
        #expect(line.options.values("--tag") == ["a"])
    }

    /// docker-fault fails a `run --help` too: the words still spell a protected command.
    @Test(arguments: [
        ("run --help", ProtectedCommand.run), ("container run --help", .run), ("build -h .", .build(.docker)),
        ("buildx b --help", .build(.buildx)),
    ])
    func helpStillSpellsItsCommand(_ line: String, _ spelled: ProtectedCommand) {
        let commandLine = DockerCommandLine(line.split(separator: " ").map(String.init))
        #expect(commandLine.protected == nil)
        #expect(commandLine.spelled == spelled)
    }

    /// No subcommand at all: docker prints its usage or version; safebuild passes it through.
    @Test(arguments: [[], ["-v"], ["--version"], ["--help"], ["-H", "x"], ["-D"]])
    func noSubcommand(_ arguments: [String]) {
        let line = DockerCommandLine(arguments)
        #expect(line.command == [])
        #expect(line.protected == nil)
    }

    /// An unknown global flag stops the scan: docker will reject it, safebuild passes it through untouched.
    @Test(arguments: ["--badflag run img", "-X run img"])
    func unknownGlobalFlagPassesThrough(_ text: String) {
        let line = DockerCommandLine(text.split(separator: " ").map(String.init))
        #expect(line.protected == nil)
    }
}

/// What one start of safebuild decides from argv[0], its own options and SAFEBUILD_* variables.
@Suite struct InvocationParseTests {
    func parse(_ line: String, argv0: String = "/usr/local/bin/safebuild", env: [String: String] = [:]) throws(SafebuildError)
        -> Invocation
    {
        try Invocation.parse(argv0: argv0, arguments: line.split(separator: " ").map(String.init), environment: env)
    }

    @Test(arguments: [
        ("doctor", Invocation.OwnCommand.doctor, [String]()),
        ("policy check x.yml", .policy, ["check", "x.yml"]),
        ("journal tail", .journal, ["tail"]),
        ("retry 12", .retry, ["12"]),
        ("--version", .version, []),
        ("--sb-help", .help, []),
        ("--sb-quiet --sb-help", .help, []),
        ("--generate-completion-script bash", .completionScript, ["bash"]),
        ("--sb-quiet --generate-completion-script", .completionScript, []),
        ("help journal show", .journal, ["show", "--help"]),
        ("help doctor", .doctor, ["--help"]),
    ])
    func ownCommands(_ line: String, _ command: Invocation.OwnCommand, _ rest: [String]) throws {
        guard case .own(let got, let arguments, _) = try parse(line) else {
            Issue.record("\(line) should be safebuild's own \(command)")
            return
        }
        #expect(got == command)
        #expect(arguments == rest)
    }

    /// Under the name docker, `--version` is docker's; `version` and `help` are always docker's.
    @Test(arguments: [
        ("--version", "/usr/local/bin/docker"),
        ("--version", "docker"),
        ("--version --format x", "safebuild"),
        ("version", "safebuild"),
        ("help", "safebuild"),
        ("-v", "safebuild"),
        ("ps --sb-dry-run", "safebuild"),
        ("--generate-completion-script bash", "docker"),
        ("completion bash", "safebuild"),
        ("help ps", "safebuild"),
        ("help run", "safebuild"),
        ("ps doctor", "safebuild"),
    ])
    func dockersOwn(_ line: String, _ argv0: String) throws {
        guard case .docker(let commandLine, _) = try parse(line, argv0: argv0) else {
            Issue.record("\(line) as \(argv0) should go to docker")
            return
        }
        #expect(commandLine.arguments == line.split(separator: " ").map(String.init))
    }

    func options(_ line: String, env: [String: String] = [:]) throws(SafebuildError) -> (SafebuildOptions, [String]) {
        switch try parse(line, env: env) {
        case .docker(let commandLine, let options): return (options, commandLine.arguments)
        case .own(_, let rest, let options): return (options, rest)
        }
    }

    @Test func optionsAreTakenBeforeTheDockerArguments() throws {
        let (o, rest) = try options(
            "--sb-docker /opt/docker --sb-policy=p.yml --sb-journal j.jsonl --sb-dry-run --sb-quiet --sb-off --sb-max-attempts 3 -H x run img")
        #expect(o.dockerPath == "/opt/docker")
        #expect(o.policyPath == "p.yml")
        #expect(o.journalPath == "j.jsonl")
        #expect(o.dryRun && o.quiet && o.off)
        #expect(o.maxAttempts == 3)
        #expect(rest == ["-H", "x", "run", "img"])
    }

    @Test func everyOptionHasAVariable() throws {
        let env = [
            "SAFEBUILD_DOCKER": "/opt/docker", "SAFEBUILD_POLICY": "p.yml", "SAFEBUILD_JOURNAL": "j.jsonl",
            "SAFEBUILD_DRY_RUN": "1", "SAFEBUILD_QUIET": "true", "SAFEBUILD_OFF": "yes", "SAFEBUILD_MAX_ATTEMPTS": "2",
        ]
        let (o, _) = try options("ps", env: env)
        #expect(o.dockerPath == "/opt/docker")
        #expect(o.policyPath == "p.yml")
        #expect(o.journalPath == "j.jsonl")
        #expect(o.dryRun && o.quiet && o.off)
        #expect(o.maxAttempts == 2)
        // The README table lists exactly these variables.
        let documented = Set(SafebuildOptions.table.map { String($0.variable.split(separator: "=")[0]) })
        #expect(documented == Set(env.keys))
    }

    @Test func theOptionWinsOverTheVariable() throws {
        let (o, _) = try options("--sb-max-attempts=5 --sb-docker /b ps", env: ["SAFEBUILD_MAX_ATTEMPTS": "2", "SAFEBUILD_DOCKER": "/a"])
        #expect(o.maxAttempts == 5)
        #expect(o.dockerPath == "/b")
    }

    @Test(arguments: ["0", "no", "false", "off", ""])
    func falseVariables(_ value: String) throws {
        let (o, _) = try options("ps", env: ["SAFEBUILD_DRY_RUN": value, "SAFEBUILD_OFF": value])
        #expect(!o.dryRun && !o.off)
    }

    @Test(arguments: [
        ("--sb-dryrun ps", [String: String](), "unknown option --sb-dryrun; did you mean --sb-dry-run?"),
        ("--sb-polcy x ps", [:], "unknown option --sb-polcy; did you mean --sb-policy?"),
        ("--sb-frobnicate ps", [:], "unknown option --sb-frobnicate; see safebuild --sb-help"),
        ("--sb-docker", [:], "option --sb-docker needs a value; see safebuild --sb-help"),
        ("--sb-quiet=1 ps", [:], "option --sb-quiet takes no value (got '1')"),
        ("--sb-max-attempts 0 ps", [:], "--sb-max-attempts takes a whole number from 1 to 100 (got '0')"),
        ("--sb-max-attempts=lots ps", [:], "--sb-max-attempts takes a whole number from 1 to 100 (got 'lots')"),
        // A value left out: the docker command would be read as the file (no file of that name here).
        ("--sb-policy run --rm img", [:], "--sb-policy needs a file: \"run\" looks like the docker command; write --sb-policy FILE run …"),
        ("--sb-journal buildx build .", [:], "--sb-journal needs a file: \"buildx\" looks like the docker command; write --sb-journal FILE buildx …"),
        ("--sb-docker container run img", [:], "--sb-docker needs a path: \"container\" looks like the docker command; write --sb-docker PATH container …"),
    ])
    func errors(_ line: String, _ env: [String: String], _ message: String) {
        #expect(throws: SafebuildError(.usage, message)) { try parse(line, env: env) }
        #expect(SafebuildError.ExitCode.usage.rawValue == 64)
    }

    /// A command name given with `=` is what the user meant: `--sb-policy=run` reads the file `run`.
    @Test func aCommandNameGivenInlineIsTheValue() throws {
        let (o, rest) = try options("--sb-policy=run --sb-journal=image ps")
        #expect(o.policyPath == "run")
        #expect(o.journalPath == "image")
        #expect(rest == ["ps"])
    }

    /// A variable that cannot be read never stops the reading: it is left unset and said, and only a protected
    /// command refuses over it.
    @Test(arguments: [
        (["SAFEBUILD_DRY_RUN": "maybe"], "SAFEBUILD_DRY_RUN=maybe is not a boolean; use 1 or 0"),
        (["SAFEBUILD_MAX_ATTEMPTS": "101"], "SAFEBUILD_MAX_ATTEMPTS takes a whole number from 1 to 100 (got '101')"),
        (["SAFEBUILD_MAX_ATTEMPTS": "abc"], "SAFEBUILD_MAX_ATTEMPTS takes a whole number from 1 to 100 (got 'abc')"),
    ] as [([String: String], String)])
    func invalidVariablesAreListedNotThrown(_ env: [String: String], _ message: String) throws {
        let (o, rest) = try options("ps", env: env)
        #expect(rest == ["ps"])
        #expect(o.invalidVariables == [message])
        #expect(!o.dryRun && o.maxAttempts == nil)
        #expect(o.refusal(for: .run) == SafebuildError(
            .usage, message + ": docker run was not run; fix or unset the variable (commands that safebuild does not protect only warn about it)"))
        #expect(SafebuildOptions(environment: [:]).refusal(for: .run) == nil)
    }

    /// A stray blank around a switch or a number is not an error; a blank variable is unset.
    @Test func blanksAroundAValueAreIgnored() throws {
        let (o, _) = try options("ps", env: ["SAFEBUILD_OFF": " 1", "SAFEBUILD_MAX_ATTEMPTS": "2 ", "SAFEBUILD_QUIET": "  "])
        #expect(o.off && o.maxAttempts == 2 && !o.quiet)
        #expect(o.invalidVariables.isEmpty)
    }
}

/// Lines out of a byte stream that arrives in arbitrary chunks.
@Suite struct LineSplitterTests {
    func split(_ chunks: [String], maxLine: Int = 16 * 1024) -> [String] {
        var splitter = LineSplitter(maxLine: maxLine)
        var lines: [String] = []
        for chunk in chunks {
            var bytes = Array(chunk.utf8)
            bytes.withUnsafeMutableBytes { splitter.feed(UnsafeRawBufferPointer($0)) { lines.append(String(decoding: $0, as: UTF8.self)) } }
        }
        splitter.finish { lines.append(String(decoding: $0, as: UTF8.self)) }
        return lines
    }

    @Test(arguments: [
        (["a\nb\n"], ["a", "b"]),
        (["ab", "c\nd", "e\n"], ["abc", "de"]),
        (["a", "", "b", "\n"], ["ab"]),
        (["one\r\ntwo\r\n"], ["one", "two"]),
        (["one\r", "\ntwo\r\n"], ["one", "two"]),
        (["\n\n"], ["", ""]),
        (["no newline at the end"], ["no newline at the end"]),
        (["x\ny"], ["x", "y"]),
        (["a\rb\n"], ["a\rb"]),
        ([], []),
    ])
    func lines(_ chunks: [String], _ expected: [String]) {
        #expect(split(chunks) == expected)
    }

    @Test(arguments: [
        (["0123456789abc\nxy\n"], ["01234567", "xy"]),
        (["0123", "4567", "89ab", "c\nxy\n"], ["01234567", "xy"]),
        (["012345", "6789\n"], ["01234567"]),
        (["01234567\n"], ["01234567"]),
        (["0123456789"], ["01234567"]),
    ])
    func longLinesAreCut(_ chunks: [String], _ expected: [String]) {
        #expect(split(chunks, maxLine: 8) == expected)
    }

    /// A 64 MiB line without a newline, fed in 64 KiB chunks, keeps at most maxLine bytes.
    @Test func memoryStaysBounded() {
        var splitter = LineSplitter(maxLine: 16 * 1024)
        let chunk = [UInt8](repeating: 0x41, count: 64 * 1024)
        var lines: [Int] = []
        var largestCarry = 0
        for _ in 0..<1024 {
            chunk.withUnsafeBytes { splitter.feed($0) { lines.append($0.count) } }
            let carry = Mirror(reflecting: splitter).children.first { $0.label == "carry" }?.value as? [UInt8]
            largestCarry = max(largestCarry, carry?.count ?? Int.max)
        }
        Array("\nend\n".utf8).withUnsafeBytes { splitter.feed($0) { lines.append($0.count) } }
        #expect(lines == [16 * 1024, 3])
        #expect(largestCarry <= 16 * 1024)
    }
}

/// Finding the real docker on PATH without ever finding safebuild itself. "Self" is a real file: a copy of /bin/true.
@Suite struct DockerLocatorTests {
    let dir: TemporaryDirectory
    let me: String
    let realDocker: String

    init() throws {
        (dir, me, realDocker) = try Self.bed()
    }

    /// The files both this suite and PassThroughFrontTests look for docker among: `bin/safebuild` (self, a copy of
    /// /bin/true), `real/docker` (a script) and an empty `front`.
    static func bed() throws -> (dir: TemporaryDirectory, me: String, realDocker: String) {
        let dir = try TemporaryDirectory()
        try dir.directory("bin")
        let me = try dir.copy("/bin/true", to: "bin/safebuild")
        try dir.directory("real")
        let realDocker = try dir.write("real/docker", Array("#!/bin/sh\nexec /bin/true \"$@\"\n".utf8), mode: 0o755)
        try dir.directory("front")
        return (dir, me, realDocker)
    }

    var locator: DockerLocator { DockerLocator(selfExecutable: me) }

    func path(_ dirs: String...) -> [String: String] {
        ["PATH": dirs.map { dir.path + "/" + $0 }.joined(separator: ":")]
    }

    @Test func aSymlinkToSelfFirstOnPathIsSkipped() throws {
        try dir.symlink("front/docker", to: me)
        #expect(try locator.locate(explicit: nil, environment: path("front", "real")) == realDocker)
    }

    @Test func aRelativeSymlinkToSelfIsSkipped() throws {
        try dir.symlink("front/docker", to: "../bin/safebuild")
        #expect(try locator.locate(explicit: nil, environment: path("front", "real")) == realDocker)
    }

    @Test func aChainOfSymlinksToSelfIsSkipped() throws {
        try dir.directory("chain")
        try dir.symlink("chain/one", to: me)
        try dir.symlink("chain/two", to: dir.path + "/chain/one")
        try dir.symlink("front/docker", to: dir.path + "/chain/two")
        #expect(try locator.locate(explicit: nil, environment: path("front", "real")) == realDocker)
    }

    @Test func aCopyOfSelfIsSkipped() throws {
        try dir.copy(me, to: "front/docker")
        #expect(try locator.locate(explicit: nil, environment: path("front", "real")) == realDocker)
    }

    @Test func aHardLinkToSelfIsSkipped() throws {
        #expect(link(me, dir.path + "/front/docker") == 0)
        #expect(try locator.locate(explicit: nil, environment: path("front", "real")) == realDocker)
    }

    /// A different program of the same size is not mistaken for safebuild (/bin/false is as long as /bin/true).
    @Test func aDifferentFileOfTheSameSizeIsDocker() throws {
        let other = try dir.copy("/bin/false", to: "front/docker")
        #expect(try locator.locate(explicit: nil, environment: path("front", "real")) == other)
    }

    @Test func theFirstRealDockerWins() throws {
        let first = try dir.write("front/docker", Array("#!/bin/sh\n".utf8), mode: 0o755)
        #expect(try locator.locate(explicit: nil, environment: path("front", "real")) == first)
    }

    @Test func notExecutableAndDirectoriesAreSkipped() throws {
        try dir.write("front/docker", Array("#!/bin/sh\n".utf8), mode: 0o644)
        try dir.directory("dirs")
        try dir.directory("dirs/docker")
        #expect(try locator.locate(explicit: nil, environment: path("front", "dirs", "real")) == realDocker)
    }

    /// The host policy's docker.path, the option or variable, whether it came from the variable → the docker of a
    /// protected command and the warning.
    @Test(arguments: [
        (nil, nil, false, nil, nil),
        (nil, "/opt/d/docker", true, nil, nil),
        ("/usr/bin/docker", nil, false, "/usr/bin/docker", nil),
        ("/usr/bin/docker", "/usr/bin/docker", true, "/usr/bin/docker", nil),
        ("/usr/bin/docker", "/opt/d/docker", true, "/usr/bin/docker",
         "SAFEBUILD_DOCKER names /opt/d/docker, but protected commands run the host's docker /usr/bin/docker (docker.path of the host policy /etc/safebuild/policy.yml); SAFEBUILD_DOCKER still chooses the docker of pass-through commands"),
        ("/usr/bin/docker", "/opt/d/docker", false, "/usr/bin/docker",
         "--sb-docker names /opt/d/docker, but protected commands run the host's docker /usr/bin/docker (docker.path of the host policy /etc/safebuild/policy.yml); --sb-docker still chooses the docker of pass-through commands"),
    ] as [(String?, String?, Bool, String?, String?)])
    func theHostsDockerWinsForProtectedCommands(
        host: String?, explicit: String?, fromVariable: Bool, path: String?, warning: String?
    ) {
        let choice = DockerLocator.hostChoice(
            hostPath: host, hostPolicy: "/etc/safebuild/policy.yml", explicit: explicit, fromVariable: fromVariable)
        #expect(choice.path == path)
        #expect(choice.warning == warning)
    }

    @Test("locateForHost runs the host's docker, checked like SAFEBUILD_DOCKER, and names the host policy when it is wrong")
    func locateForHostChecksTheHostsDocker() throws {
        try dir.directory("other")
        let other = try dir.write("other/docker", Array("#!/bin/sh\n".utf8), mode: 0o755)
        let source = PolicySource(file: "/etc/safebuild/policy.yml", line: 4, column: 9, layer: .host)
        var env = path("other")
        env["SAFEBUILD_DOCKER"] = other
        let found = try locator.locateForHost(Sourced(realDocker, source), explicit: other, environment: env)
        #expect(found.docker == realDocker)
        #expect(found.warning?.hasPrefix("SAFEBUILD_DOCKER names \(other), but protected commands run the host's docker \(realDocker)") == true)
        // No docker.path: SAFEBUILD_DOCKER, as for pass-through.
        let builtIn = PolicySource(file: nil, line: 1, column: 1, layer: .builtIn)
        #expect(try locator.locateForHost(Sourced(nil, builtIn), explicit: other, environment: env) == (other, nil))
        // A docker.path that is not there, or is safebuild itself.
        let missing = #expect(throws: SafebuildError.self) {
            try locator.locateForHost(Sourced(dir.path + "/none/docker", source), explicit: nil, environment: env)
        }
        #expect(missing?.message == "docker.path of the host policy /etc/safebuild/policy.yml names \(dir.path)/none/docker, which does not exist")
        let itself = #expect(throws: SafebuildError.self) {
            try locator.locateForHost(Sourced(me, source), explicit: nil, environment: env)
        }
        #expect(itself?.status == .noDocker)
    }

    /// A docker that an outer safebuild already handed over to (SAFEBUILD_VIA) is not called again.
    @Test func theViaLoopGuardSkipsWhatWasAlreadyVisited() throws {
        try dir.directory("other")
        let other = try dir.write("other/docker", Array("#!/bin/sh\n".utf8), mode: 0o755)
        var env = path("real", "other")
        env[DockerLocator.viaVariable] = "/somewhere/else:" + realDocker
        #expect(try locator.locate(explicit: nil, environment: env) == other)
    }

    @Test func onlySelfOnPathIsError127() throws {
        try dir.symlink("front/docker", to: me)
        #expect(throws: SafebuildError(.noDocker,
            "the only docker on PATH is safebuild itself; install docker or set SAFEBUILD_DOCKER to the real docker"))
        {
            try locator.locate(explicit: nil, environment: path("front"))
        }
        #expect(SafebuildError.ExitCode.noDocker.rawValue == 127)
    }

    @Test func onlyVisitedOnPathIsError127() throws {
        var env = path("real")
        env[DockerLocator.viaVariable] = realDocker
        #expect(throws: SafebuildError(.noDocker,
            "the only docker on PATH is safebuild itself; install docker or set SAFEBUILD_DOCKER to the real docker"))
        {
            try locator.locate(explicit: nil, environment: env)
        }
    }

    @Test func noDockerOnPathIsError127() throws {
        let env = path("bin")
        #expect(throws: SafebuildError(.noDocker,
            "no docker on PATH (\(env["PATH"]!)); install docker or set SAFEBUILD_DOCKER to the real docker"))
        {
            try locator.locate(explicit: nil, environment: env)
        }
    }

    @Test func anExplicitDockerIsUsedAsGiven() throws {
        try dir.symlink("front/docker", to: me)
        #expect(try locator.locate(explicit: realDocker, environment: path("front")) == realDocker)
    }

    @Test func anExplicitDockerThatIsSelfIsRefused() throws {
        let link = try dir.symlink("front/docker", to: me)
        #expect(throws: SafebuildError(.noDocker,
            "SAFEBUILD_DOCKER/--sb-docker names \(link), which is safebuild itself; point it at the real docker"))
        {
            try locator.locate(explicit: link, environment: path("real"))
        }
    }

    @Test func anExplicitDockerThatIsMissingIsRefused() throws {
        #expect(throws: SafebuildError(.noDocker, "SAFEBUILD_DOCKER/--sb-docker names /no/such/docker, which does not exist")) {
            try locator.locate(explicit: "/no/such/docker", environment: path("real"))
        }
    }

    @Test func anExplicitDockerThatIsNotExecutableIs126() throws {
        let file = try dir.write("front/docker", Array("#!/bin/sh\n".utf8), mode: 0o644)
        #expect(throws: SafebuildError(.notExecutable, "\(file) is not executable")) {
            try locator.locate(explicit: file, environment: path("real"))
        }
    }

    @Test func viaRecordsEveryHandOverResolved() throws {
        let link = try dir.symlink("front/docker", to: realDocker)
        #expect(DockerLocator.via(adding: link, to: [:]) == realDocker)
        #expect(DockerLocator.via(adding: link, to: [DockerLocator.viaVariable: "/a"]) == "/a:" + realDocker)
    }
}
