import Glibc
import PassThroughFront
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// The pass-through front (Sources/PassThroughFront, a C constructor that execs docker before Swift starts) held to
/// safebuild proper's answer: every command line it takes is one that `Invocation.parse` passes through, with the
/// docker `DockerLocator` would find and the SAFEBUILD_VIA it would hand on; what it leaves, safebuild proper decides.
/// The files are DockerLocatorTests' (`bed()`): "self" is a real file, a copy of /bin/true.
@Suite struct PassThroughFrontTests {
    let dir: TemporaryDirectory
    let me: String
    let realDocker: String

    init() throws {
        (dir, me, realDocker) = try DockerLocatorTests.bed()
        try dir.directory("other")
    }

    /// The front's answer: the docker and SAFEBUILD_VIA, or nil where it leaves the command to safebuild proper.
    func front(_ argv: [String], _ environment: [String: String]) -> (docker: String, via: String)? {
        let env = environment.map { "\($0.key)=\($0.value)" }
        var argvC = argv.map { strdup($0) }, envC = env.map { strdup($0) }
        defer { (argvC + envC).forEach { free($0) } }
        argvC.append(nil)
        envC.append(nil)
        var docker = [CChar](repeating: 0, count: Int(PATH_MAX)), via = [CChar](repeating: 0, count: 8192)
        let chose = sb_front_choose(Int32(argv.count), argvC, envC, me, &docker, docker.count, &via, via.count)
        guard chose == 1 else { return nil }
        func text(_ buffer: [CChar]) -> String {
            String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return (text(docker), text(via))
    }

    /// safebuild proper's answer for the same: nil unless it passes the command through.
    func proper(_ argv: [String], _ environment: [String: String]) -> (docker: String, via: String)? {
        guard case .docker(let commandLine, let options)? = try? Invocation.parse(
            argv0: argv[0], arguments: Array(argv.dropFirst()), environment: environment),
            commandLine.protected == nil || options.off,
            let docker = try? DockerLocator(selfExecutable: me).locate(explicit: options.dockerPath, environment: environment)
        else { return nil }
        return (docker, DockerLocator.via(adding: docker, to: environment))
    }

    var path: [String: String] { ["PATH": [dir.path + "/front", dir.path + "/real"].joined(separator: ":")] }

    /// Every docker command: where the front takes it, safebuild proper passes it through to the same docker with the
    /// same SAFEBUILD_VIA; it takes every one that is never protected, and none whose first word begins a protected
    /// spelling (`image build`, `container run`, `buildx build` …), is safebuild's own or a global flag.
    @Test func everyCommandItTakesSafebuildPassesThroughTheSameWay() throws {
        let words = DockerCommandLine.commandNames.union(Invocation.OwnCommand.allCases.map(\.rawValue))
            .union(["help", "-H", "--sb-dry-run", "--sb-off", "--context", ""])
        var taken: [String] = []
        for word in words.sorted() {
            let argv = ["docker", word, "x"]
            // A word that begins any protected spelling, whatever follows it.
            let beginsProtected = ["x", "build", "b", "run"].contains { next in
                if case .docker(let line, _)? = try? Invocation.parse(argv0: "docker", arguments: [word, next], environment: [:]) {
                    return line.protected != nil
                }
                return true
            }
            let chosen = front(argv, path)
            if let chosen {
                taken.append(word)
                let expected = try #require(proper(argv, path), "\(word)")
                #expect(chosen.docker == expected.docker && chosen.via == expected.via, "\(word)")
            }
            // A global flag before the command, an own command or `help` go the long way.
            let plainCommand = DockerCommandLine.commandNames.contains(word) && !beginsProtected
            #expect((chosen != nil) == plainCommand, "\(word): taken \(chosen != nil), a plain docker command \(plainCommand)")
        }
        #expect(taken.contains("ps") && taken.contains("push") && taken.contains("login"))
        #expect(!taken.contains("build") && !taken.contains("run") && !taken.contains("image") && !taken.contains("doctor"))
    }

    @Test func safebuildItselfOnPathIsSkippedAsSafebuildSkipsIt() throws {
        try dir.symlink("front/docker", to: me)
        let chosen = try #require(front(["docker", "ps"], path))
        #expect(chosen.docker == realDocker)
        #expect(chosen.docker == proper(["docker", "ps"], path)?.docker)
    }

    @Test func aFileOfSafebuildsSizeIsLeftToSafebuildToCompare() throws {
        try dir.copy(me, to: "front/docker")
        #expect(front(["docker", "ps"], path) == nil)
        #expect(proper(["docker", "ps"], path)?.docker == realDocker)
    }

    @Test func aDockerAlreadyVisitedIsSkippedAndTheNewVisitIsAppended() throws {
        let visited = try dir.write("other/docker", Array("#!/bin/sh\n# another\nexec /bin/true\n".utf8), mode: 0o755)
        let environment = [
            "PATH": [dir.path + "/other", dir.path + "/real"].joined(separator: ":"), "SAFEBUILD_VIA": visited,
        ]
        let chosen = try #require(front(["docker", "ps"], environment))
        #expect(chosen.docker == realDocker)
        #expect(chosen.via == visited + ":" + realDocker)
        let expected = try #require(proper(["docker", "ps"], environment))
        #expect(chosen.docker == expected.docker && chosen.via == expected.via)
    }

    @Test func safebuildDockerIsTakenAsSafebuildTakesIt() throws {
        var environment = path
        environment["SAFEBUILD_DOCKER"] = realDocker
        let chosen = try #require(front(["safebuild", "push", "img"], environment))
        #expect(chosen.docker == realDocker)
        #expect(chosen.via == proper(["safebuild", "push", "img"], environment)?.via)
    }

    /// Whatever could make safebuild proper warn, dry-run, refuse or read a policy is left to it: each of its option
    /// variables but SAFEBUILD_DOCKER, whatever the value, and a SAFEBUILD_DOCKER it would have to judge.
    @Test func safebuildsOptionVariablesAreLeftToSafebuild() throws {
        let variables = SafebuildOptions.declarations.map(\.variable).filter { $0 != "SAFEBUILD_DOCKER" }
        #expect(variables.count >= 6)
        for variable in variables {
            for value in ["1", "abc", " 1", ""] {
                var environment = path
                environment[variable] = value
                #expect(front(["docker", "ps"], environment) == nil, "\(variable)=\(value)")
            }
        }
        for value in ["", " " + realDocker, me, dir.path + "/missing"] {
            var environment = path
            environment["SAFEBUILD_DOCKER"] = value
            #expect(front(["docker", "ps"], environment) == nil, "SAFEBUILD_DOCKER=\(value)")
        }
    }

    /// A test bed's or a wrapper's SAFEBUILD_* names are no options: both ignore them.
    @Test func otherSafebuildNamesAreNoOptions() throws {
        var environment = path
        environment["SAFEBUILD_TEST_IMAGE"] = "busybox"
        environment["SAFEBUILD_ENGINE_DIR"] = "/tmp/x"
        let chosen = try #require(front(["docker", "ps"], environment))
        let expected = try #require(proper(["docker", "ps"], environment))
        #expect(chosen.docker == expected.docker && chosen.via == expected.via)
    }

    @Test func onlyUnderTheNamesDockerAndSafebuild() throws {
        #expect(front(["/usr/local/bin/docker", "ps"], path)?.docker == realDocker)
        #expect(front(["safebuildPackageTests.xctest", "ps"], path) == nil)
        #expect(front(["docker"], path) == nil)
    }

    @Test func noDockerOnPathIsLeftToSafebuildToSaySo() throws {
        #expect(front(["docker", "ps"], ["PATH": dir.path + "/front"]) == nil)
        #expect(throws: SafebuildError.self) {
            try DockerLocator(selfExecutable: me).locate(explicit: nil, environment: ["PATH": dir.path + "/front"])
        }
    }
}
