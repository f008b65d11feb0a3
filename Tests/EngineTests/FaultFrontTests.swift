import Glibc
import Foundation
import Testing

@testable import SafebuildKit

/// docker-fault in front of the real engine: its first N matching calls fail with docker's verbatim text and
/// status, the rest are the real docker. Needs `Scripts/engine.sh env` in the environment and a built docker-fault.
extension EngineSuites {
@Suite(.serialized) struct FaultFrontTests {
    @Test func firstRunFailsLikeDockerThenTheRealDockerRuns() throws {
        let state = FaultFront.stateFile()
        let env = FaultFront.environment(state: state, ["DOCKER_FAULT_KIND": "veth", "DOCKER_FAULT_COUNT": "1"])
        let first = try FaultFront.docker(["run", "--rm", "--network=none", FaultFront.image, "echo", "hello"], env)
        #expect(first.status == .exited(125))
        #expect(first.stdout.isEmpty)
        #expect(first.stderr == "docker: Error response from daemon: failed to create endpoint sb_fault on network bridge: failed to add the host (veth3f2a1b0) <=> sandbox (veth9c8d7e6) pair interfaces: cannot allocate memory.\n")
        var classifier = Classifier(command: .run)
        classifier.observe(text: first.stderr, stream: .stderr)
        #expect(classifier.verdict(exitStatus: first.status!, containerState: nil).failureClass == .networkENOMEM)

        let second = try FaultFront.docker(["run", "--rm", "--network=none", FaultFront.image, "echo", "hello"], env)
        #expect(second.status == .exited(0))
        #expect(second.stdout == "hello\n")
    }

    @Test func injectedRuncENOMEMIsByteForByteTheRealOne() throws {
        // The real one was produced on this engine by `--ulimit data=1000000` (Fixtures/failure/*-ulimit-enomem).
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../SafebuildKitTests/Fixtures/failure")
        let realRun = try String(contentsOf: fixtures.appendingPathComponent("run-ulimit-enomem.stderr"), encoding: .utf8)
        let realBuild = try String(contentsOf: fixtures.appendingPathComponent("build-classic-ulimit-enomem.stderr"), encoding: .utf8)

        let env = FaultFront.environment(state: FaultFront.stateFile(), ["DOCKER_FAULT_KIND": "runc_seccomp", "DOCKER_FAULT_COUNT": "2"])
        let run = try FaultFront.docker(["run", "--rm", FaultFront.image, "true"], env)
        #expect(run.status == .exited(125))
        #expect(run.stderr == realRun)
        let build = try FaultFront.docker(["build", "-q", "/nonexistent"], env)
        #expect(build.status == .exited(1))
        #expect(build.stderr == realBuild)
    }

    @Test func injectedDaemonFailureIsTheRealOne() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../SafebuildKitTests/Fixtures/failure")
        let real = try String(contentsOf: fixtures.appendingPathComponent("run-daemon-unreachable.stderr"), encoding: .utf8)
        var env = FaultFront.environment(state: FaultFront.stateFile(), ["DOCKER_FAULT_KIND": "daemon"])
        env["DOCKER_HOST"] = "unix:///tmp/capf/dead.sock"
        let run = try FaultFront.docker(["run", FaultFront.image, "true"], env)
        #expect(run.status == .exited(125))
        #expect(run.stderr == real)
    }

    @Test func otherCommandsPassThroughUncounted() throws {
        let state = FaultFront.stateFile()
        let env = FaultFront.environment(state: state, ["DOCKER_FAULT_COMMANDS": "build", "DOCKER_FAULT_COUNT": "1"])
        let images = try FaultFront.docker(["image", "inspect", "-f", "{{.Id}}", FaultFront.image], env)
        #expect(images.status == .exited(0))
        #expect(images.stdout.hasPrefix("sha256:"))
        let run = try FaultFront.docker(["--log-level", "error", "container", "run", "--rm", "--network=none", FaultFront.image, "true"], env)
        #expect(run.status == .exited(0))
        #expect((try? String(contentsOfFile: state, encoding: .utf8)) == nil)  // never counted
    }

    @Test func concurrentCallsFailExactlyNTimes() throws {
        let state = FaultFront.stateFile()
        let env = FaultFront.environment(state: state, ["DOCKER_FAULT_COUNT": "3", "DOCKER_FAULT_KIND": "fork"])
        let lock = NSLock()
        nonisolated(unsafe) var statuses: [Int32] = []
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                let r = try? FaultFront.docker(["run", "--help"], env)
                lock.lock()
                statuses.append(r?.status?.code ?? -1)
                lock.unlock()
                group.leave()
            }
        }
        group.wait()
        #expect(statuses.filter { $0 == 125 }.count == 3)
        #expect(statuses.filter { $0 == 0 }.count == 5)
        #expect((try? String(contentsOfFile: state, encoding: .utf8)) == "3\n")
    }
}
}

enum FaultFront {
    static let environment = ProcessInfo.processInfo.environment
    static let image = environment["SAFEBUILD_TEST_IMAGE"] ?? "safebuild-test/busybox:latest"
    static let realDocker = environment["SAFEBUILD_TEST_DOCKER"] ?? "/usr/bin/docker"
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../.build/debug/docker-fault").standardized.path

    static func stateFile() -> String {
        "/tmp/safebuild-fault-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).count"
    }

    static func environment(state: String, _ extra: [String: String]) -> [String: String] {
        var env = environment.filter { !$0.key.hasPrefix("DOCKER_FAULT_") }
        env["DOCKER_FAULT_STATE"] = state
        env["DOCKER_FAULT_REAL"] = realDocker
        env["DOCKER_BUILDKIT"] = "0"
        env.merge(extra) { $1 }
        return env
    }

    static func docker(_ arguments: [String], _ env: [String: String]) throws -> Command.Result {
        try Command(binary, arguments, environment: env, timeout: 60).run()
    }
}
