import Glibc
import Foundation
import Testing

@testable import SafebuildKit

/// Classification and remedies against the real engine (read-only for the shared engine: no prunes, no
/// drop_caches; those are covered with the recording fake in RemedyTests).
extension EngineSuites {
@Suite(.serialized)
struct FailureEngineTests {
    static let docker = ProcessInfo.processInfo.environment["SAFEBUILD_TEST_DOCKER"] ?? "/usr/bin/docker"
    static let image = ProcessInfo.processInfo.environment["SAFEBUILD_TEST_IMAGE"] ?? "safebuild-test/busybox:latest"
    /// Holds a 12 MB string: killed under -m 8m, fine under 32m (measured).
    static let hog = "x=$(head -c 12000000 /dev/zero | tr '\\0' a); echo ${#x}"

    func run(_ memory: String, name: String) throws -> (Classification, ContainerState?, Command.Result) {
        let result = try Command(
            Self.docker, ["run", "--name", name, "--network=none", "-m", memory, Self.image, "sh", "-c", Self.hog],
            timeout: 60
        ).run()
        let state = ContainerState.settled(
            inspect: { try? Command(Self.docker, ["inspect", name]).run().stdout }, sleep: { usleep(UInt32($0 * 1e6)) })
        _ = try Command(Self.docker, ["rm", "-f", name]).run()
        var classifier = Classifier(command: .run)
        classifier.observe(text: result.stdout, stream: .stdout)
        classifier.observe(text: result.stderr, stream: .stderr)
        return (classifier.verdict(exitStatus: result.status ?? .signaled(9), containerState: state), state, result)
    }

    @Test func oomKilledRunIsClassifiedAndSucceedsWithTheRaisedLimit() throws {
        let name = "sbf-oom-\(getpid())"
        let (first, state, result) = try run("8m", name: name)
        #expect(result.status == .exited(137))
        #expect(state?.oomKilled == true)
        #expect(first.failureClass == .oomContainer)
        var g = SplitMix64(seed: 1)
        let decision = RetryDecision.decide(first, attempt: 1, elapsed: 1, settings: RetrySettings(), random: &g)
        guard case .retry(_, let remedies) = decision else {
            Issue.record("not retried: \(decision)")
            return
        }
        #expect(remedies == [.raiseMemory])
        let raised = Remedies.raiseMemory(current: "8m", settings: RemedySettings(raiseFactor: 4, raiseCap: 1 << 30))
        #expect(raised.value == "32m")
        let (second, _, again) = try run(raised.value!, name: name)
        #expect(again.status == .exited(0))
        #expect(again.stdout == "12000000\n")
        #expect(second.failureClass == .notMemory && !second.retryable)
    }

    @Test func oomKilledBuildStepIsClassifiedAndSucceedsWithTheRaisedLimit() throws {
        let dir = "/tmp/safebuild-oom-build-\(getpid())"
        mkdir(dir, 0o755)
        defer { unlink(dir + "/Dockerfile"); rmdir(dir) }
        _ = FileManager.default.createFile(
            atPath: dir + "/Dockerfile", contents: Data("FROM \(Self.image)\nRUN \(Self.hog)\n".utf8))
        func build(_ memory: String) throws -> (Classification, Command.Result) {
            var env = ProcessInfo.processInfo.environment
            env["DOCKER_BUILDKIT"] = "0"
            let r = try Command(Self.docker, ["build", "--network=none", "--force-rm", "--no-cache", "-q", "--memory", memory, dir], environment: env, timeout: 120).run()
            var c = Classifier(command: .build(.docker))
            c.observe(text: r.stdout, stream: .stdout)
            c.observe(text: r.stderr, stream: .stderr)
            return (c.verdict(exitStatus: r.status ?? .signaled(9), containerState: nil), r)
        }
        let (first, r1) = try build("8m")
        #expect(r1.status == .exited(137))
        #expect(first.failureClass == .oomBuildStep)
        #expect(first.line?.hasSuffix("returned a non-zero code: 137") == true)
        let raised = Remedies.raiseMemory(current: "8m", settings: RemedySettings(raiseFactor: 4, raiseCap: 1 << 30))
        let (second, r2) = try build(raised.value!)
        #expect(r2.status == .exited(0))
        #expect(second.failureClass == .notMemory && !second.retryable)
        let id = r2.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if !id.isEmpty { _ = try? Command(Self.docker, ["rmi", id]).run() }
    }

    @Test func liveContextReadsTheRealHost() {
        let live = LiveRemedyContext(docker: Self.docker, globalFlags: [])
        #expect((live.availableMemory() ?? 0) > 16 << 20)
        let remedies = Remedies(context: live)
        #expect(remedies.diskUsage("Build Cache") != nil)  // `docker system df`, read-only
        #expect((remedies.highOrderFree() ?? -1) >= 0)  // /proc/buddyinfo
        let path = "/tmp/safebuild-live-\(getpid())"
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        defer { unlink(path) }
        #expect((try? live.writeFile(path, "1").get()) != nil)
        #expect((try? live.readFile(path).get()) == "1")
        if case .failure(let e) = live.writeFile("/proc/sys/vm/no-such-file", "1") {
            #expect(e.errno == ENOENT)
        } else {
            Issue.record("wrote a file that does not exist")
        }
    }
}
}
