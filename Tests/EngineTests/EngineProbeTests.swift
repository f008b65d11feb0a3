import Testing
import Foundation
@testable import SafebuildKit

/// Against the real engine: DOCKER_HOST (unix://), SAFEBUILD_TEST_IMAGE, SAFEBUILD_TEST_DOCKER (Scripts/engine.sh env).
enum Engine {
    static let environment = ProcessInfo.processInfo.environment
    static var docker: String { environment["SAFEBUILD_TEST_DOCKER"] ?? "/usr/bin/docker" }
    static var image: String { environment["SAFEBUILD_TEST_IMAGE"] ?? "safebuild-test/busybox:latest" }
    static var endpoint: EngineEndpoint {
        (try? EngineEndpoint.resolve(DockerCommandLine([]), environment: environment, read: HostReader.read))
            ?? EngineEndpoint(host: EngineEndpoint.defaultHost, context: nil, origin: "default")
    }

    @discardableResult
    static func run(_ arguments: [String], environment extra: [String: String] = [:], timeout: Double = 120) throws -> Command.Result {
        var env = environment
        for (k, v) in extra { env[k] = v }
        return try Command(docker, arguments, environment: env, timeout: timeout).run()
    }
}

extension EngineSuites {
@Suite(.serialized)
struct EngineProbeTests {
    /// Fills the cache with a few builds whose RUN steps are unique, classic and BuildKit.
    func fillBuildCache() throws {
        let dir = NSTemporaryDirectory() + "sb-cache-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (i, buildkit) in [(0, "0"), (1, "0"), (2, "1"), (3, "1")] {
            let unique = "\(getpid())-\(i)-\(Clock.wall())"
            try "FROM \(Engine.image)\nRUN echo \(unique) > /stamp && head -c \(100_000 * (i + 1)) /dev/urandom > /blob\n"
                .write(toFile: dir + "/Dockerfile", atomically: true, encoding: .utf8)
            let result = try Engine.run(["build", "--network=none", "-q", dir], environment: ["DOCKER_BUILDKIT": buildkit])
            #expect(result.succeeded, "build failed: \(result.stderr)")
        }
    }

    /// `docker system df`'s Build Cache row as {"Type":…,"TotalCount":…,"Active":…,"Size":…,"Reclaimable":…}.
    func cliBuildCacheRow() throws -> [String: String]? {
        let out = try Engine.run(["system", "df", "--format", "{{json .}}"], timeout: 30).stdout
        return out.split(separator: "\n").compactMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
            .first { $0["Type"] == "Build Cache" }
    }

    @Test func buildCacheMatchesDockerSystemDf() throws {
        try fillBuildCache()
        // Other sessions share this engine: compare only when the API answered the same before and after the CLI.
        var matched = false
        for _ in 0..<5 {
            let before = EngineProbes.gather(endpoint: Engine.endpoint, timeout: 10, docker: nil, environment: Engine.environment)
            let row = try cliBuildCacheRow()
            let after = EngineProbes.gather(endpoint: Engine.endpoint, timeout: 10, docker: nil, environment: Engine.environment)
            guard let cache = before.buildCache, cache == after.buildCache, let row else { continue }
            #expect(cache.records >= 4)
            #expect(row["TotalCount"] == String(cache.records))
            #expect(row["Active"] == String(cache.inUse))
            #expect(row["Size"] == ByteSize.dockerHuman(cache.size))
            #expect(row["Reclaimable"] == ByteSize.dockerHuman(cache.reclaimable))
            matched = true
            break
        }
        #expect(matched, "the build cache kept changing under the comparison")
    }

    @Test func cliFallbackAgreesWithTheAPI() throws {
        for _ in 0..<5 {
            let api = EngineProbes.gather(endpoint: Engine.endpoint, timeout: 10, docker: nil, environment: Engine.environment)
            let cli = EngineProbes.viaCLI(endpoint: Engine.endpoint, docker: Engine.docker, environment: Engine.environment, deadline: Clock.now() + 20)
            let again = EngineProbes.gather(endpoint: Engine.endpoint, timeout: 10, docker: nil, environment: Engine.environment)
            guard api.buildCache == again.buildCache else { continue }
            #expect(cli.reachable && cli.error == nil)
            #expect(cli.version == api.version && cli.rootDir == api.rootDir)
            #expect(cli.buildCache?.records == api.buildCache?.records)
            // The CLI prints each record's size rounded to 4 digits: the sum agrees within a fraction of a percent.
            let apiSize = Double(api.buildCache?.size ?? 0), cliSize = Double(cli.buildCache?.size ?? 0)
            #expect(abs(apiSize - cliSize) <= max(apiSize, 1) * 0.005, "CLI \(cliSize) vs API \(apiSize)")
            return
        }
        Issue.record("the build cache kept changing")
    }

    @Test func everyProbeAnswersAndIsTimed() {
        let figures = EngineProbes.gather(endpoint: Engine.endpoint, timeout: 10, docker: nil, environment: Engine.environment)
        #expect(figures.reachable && figures.error == nil)
        #expect(figures.version?.hasPrefix("20.10") == true)
        #expect(figures.rootDir != nil && figures.rootFree != nil && (figures.rootFree ?? 0) <= (figures.rootTotal ?? 0))
        #expect(figures.danglingImages != nil && figures.noSwapLimit == false)
        #expect(figures.daemonPID != nil)
        #expect(Set(figures.milliseconds.keys) == ["_ping", "version", "info", "system/df", "images"])
        print("engine call times (ms):", figures.milliseconds.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }

    @Test func daemonThatNeverAnswersIsCutOffAtTheTimeout() throws {
        // A unix socket that accepts connections (the kernel's backlog) and never answers.
        let path = NSTemporaryDirectory() + "sb-mute-\(getpid()).sock"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0 && listen(fd, 8) == 0)
        defer {
            close(fd)
            unlink(path)
        }
        let endpoint = EngineEndpoint(host: "unix://" + path, context: nil, origin: "test")
        let started = Clock.now()
        let figures = EngineProbes.gather(endpoint: endpoint, timeout: 0.3, docker: nil, environment: [:])
        let took = Clock.now() - started
        #expect(!figures.reachable)
        #expect(figures.error?.contains("in time (engine_timeout)") == true)
        #expect(took >= 0.3 && took < 0.5, "took \(took) s")
        // And pre-flight leaves the engine's thresholds unmeasured instead of waiting longer.
        let outcome = Preflight.run(
            thresholds: [.init(.maxBuildCache(bytes: 1), .refuse)], waitTimeout: 5, engineTimeout: 0.3, endpoint: endpoint,
            docker: nil, environment: [:], inbox: try SignalInbox(), glance: EngineGlance.Settings(state: nil, maxAge: 600),
            remediate: { _ in })
        #expect(outcome.decisions.map(\.verdict) == [.unmeasured])
    }

    @Test func doctorListsARealOOMKill() throws {
        let name = "sb-oom-\(getpid())"
        let started = Clock.wall()
        let result = try Engine.run([
            "run", "--name", name, "--network=none", "-m", "16m", Engine.image, "sh", "-c",
            "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived",
        ])
        defer { _ = try? Engine.run(["rm", "-f", name]) }
        #expect(result.status == .exited(137))
        let id = try Engine.run(["inspect", "--format", "{{.Id}}", name]).stdout.split(separator: "\n").first.map(String.init)
        let oomKilled = try Engine.run(["inspect", "--format", "{{.State.OOMKilled}}", name]).stdout
        #expect(oomKilled.hasPrefix("true"))

        let figures = try Doctor.measure(environment: Engine.environment, options: SafebuildOptions(), hours: 1, timeout: 10)
        let kills = try #require(figures.oomKills)
        let ours = kills.filter { $0.containerID == id }
        #expect(!ours.isEmpty, "no OOM kill for container \(id ?? "?") among \(kills.map(\.containerID))")
        if let kill = ours.last {
            #expect(kill.cgroupLimit)
            #expect((kill.wallTime ?? 0) > started - 5 && (kill.wallTime ?? 0) < Clock.wall() + 5)
        }
        let text = Doctor.text(Doctor.diagnose(figures, now: Clock.wall(), hours: 1))
        #expect(text.contains("in container \(id?.prefix(12) ?? "?"), over its cgroup's memory limit"))
        for line in text.split(separator: "\n") where line.contains("oom-kill") || line.contains("build-cache") { print(line) }
    }

    @Test func doctorCommandOnThisMachine() throws {
        let figures = try Doctor.measure(environment: Engine.environment, options: SafebuildOptions(), hours: 24, timeout: 10)
        let findings = Doctor.diagnose(figures, now: Clock.wall(), hours: 24)
        let areas = Set(findings.map(\.area))
        for area in ["memory", "swap", "cgroup.safebuild", "cgroup.dockerd", "psi", "fragmentation", "vm.swappiness", "vm.min_free_kbytes",
            "oom-kill", "engine", "build-cache", "docker-root-disk"] {
            #expect(areas.contains(area), "missing \(area)")
        }
        print(Doctor.text(findings))
    }
}
}
