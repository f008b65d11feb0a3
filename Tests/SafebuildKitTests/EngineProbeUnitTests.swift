import Testing
import Foundation
@testable import SafebuildKit

@Suite struct EngineEndpointTests {
    static let home = "/home/ci"
    static func meta(_ name: String) -> String { "\(home)/.docker/contexts/meta/\(SHA256.hex(Array(name.utf8)))/meta.json" }
    static let files: [String: String] = [
        "\(home)/.docker/config.json": #"{"auths":{},"currentContext":"remote"}"#,
        meta("remote"): #"{"Name":"remote","Metadata":{},"Endpoints":{"docker":{"Host":"ssh://ci@build1","SkipTLSVerify":false}}}"#,
        meta("local"): #"{"Name":"local","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///run/user/1000/docker.sock","SkipTLSVerify":false}}}"#,
    ]

    static func resolve(_ flags: [String], _ env: [String: String], files: [String: String] = files) throws -> EngineEndpoint {
        var environment = env
        environment["HOME"] = home
        return try EngineEndpoint.resolve(DockerCommandLine(flags), environment: environment, read: { files[$0] })
    }

    @Test func sha256OfKnownVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array(String(repeating: "a", count: 1000).utf8)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func precedenceAsTheDockerCLI() throws {
        #expect(try Self.resolve(["-H", "unix:///a.sock", "--context", "local"], ["DOCKER_HOST": "tcp://x:2375"]).host == "unix:///a.sock")
        #expect(try Self.resolve(["--context=local"], ["DOCKER_HOST": "tcp://x:2375"]) ==
            EngineEndpoint(host: "unix:///run/user/1000/docker.sock", context: "local", origin: "--context local"))
        #expect(try Self.resolve([], ["DOCKER_HOST": "tcp://x:2375", "DOCKER_CONTEXT": "local"]).origin == "DOCKER_HOST")
        #expect(try Self.resolve([], ["DOCKER_CONTEXT": "local"]).host == "unix:///run/user/1000/docker.sock")
        let fromConfig = try Self.resolve([], [:])
        #expect(fromConfig.host == "ssh://ci@build1" && fromConfig.socketPath == nil && fromConfig.context == "remote")
        #expect(try Self.resolve([], [:], files: [:]) == EngineEndpoint(host: "unix:///var/run/docker.sock", context: nil, origin: "default"))
        #expect(try Self.resolve(["-c", "default"], ["DOCKER_CONTEXT": "local"]).host == "unix:///var/run/docker.sock")
    }

    /// Every spelling docker's flag parser reads: `-Hx`, `-H=x`, `-cname`, combined with a bool (`-Dcname`).
    @Test func shortFlagsAsTheDockerCLI() throws {
        #expect(try Self.resolve(["-Hunix:///b.sock"], ["DOCKER_HOST": "tcp://x:2375"]).host == "unix:///b.sock")
        #expect(try Self.resolve(["-H=unix:///b.sock"], [:]).host == "unix:///b.sock")
        #expect(try Self.resolve(["-Dclocal"], [:]).host == "unix:///run/user/1000/docker.sock")
        #expect(try Self.resolve(["--host", "unix:///a.sock", "-H", "unix:///b.sock"], [:]).host == "unix:///b.sock")
    }

    @Test func missingContextIsAUsageError() {
        #expect(throws: SafebuildError.self) { try Self.resolve(["--context", "nope"], [:]) }
        do {
            _ = try Self.resolve(["--context", "nope"], [:])
        } catch let error as SafebuildError {
            #expect(error.message.contains("docker context \"nope\" (--context nope) does not exist"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite struct EngineResponseTests {
    static func raw(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: HostFixture.path("engine/\(name)")) ?? Data())
    }

    @Test func contentLengthAndChunkedAnswersOfTheDevEngine() throws {
        let ping = try HTTPResponse.parse(Self.raw("ping-response.http"), source: "GET /_ping")
        #expect(ping.status == 200 && String(decoding: ping.body, as: UTF8.self) == "OK")
        let infoRaw = Self.raw("info-response.http")
        let info = try HTTPResponse.parse(infoRaw, source: "GET /info")
        #expect(HTTPResponse.completeLength(infoRaw) == infoRaw.count)
        let json = try #require(DockerJSON.decode(DockerJSON.Info.self, from: info.body))
        #expect(json.rootDir == "/tmp/sb-dev/root")
        var figures = EngineFigures(endpoint: EngineEndpoint(host: "unix:///x", context: nil, origin: "test"), reachable: true)
        EngineProbes.apply(info: json, to: &figures)
        #expect(figures.cgroupVersion == "1" && figures.noSwapLimit == false)
        let version = try #require(
            DockerJSON.decode(DockerJSON.Version.self, from: try HTTPResponse.parse(Self.raw("version-response.http"), source: "v").body))
        #expect(version.version == "20.10.24+dfsg1" && version.apiVersion == "1.41")
        let images = try HTTPResponse.parse(Self.raw("images-dangling-response.http"), source: "i")
        #expect(DockerJSON.decode([DockerJSON.ImageSummary].self, from: images.body)?.count == 0)
    }

    @Test func truncatedAnswersAreErrorsNotCrashes() {
        let raw = Self.raw("system-df-response.http")
        #expect(throws: ProbeError.self) { try HTTPResponse.parse(Array(raw.prefix(raw.count - 10)), source: "GET /system/df") }
        #expect(throws: ProbeError("GET /x", "the daemon's answer ended inside the headers")) {
            try HTTPResponse.parse(Array("HTTP/1.1 200 OK\r\nContent-Length: 3".utf8), source: "GET /x")
        }
        #expect(throws: ProbeError("GET /x", "malformed chunked body")) {
            try HTTPResponse.parse(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8), source: "GET /x")
        }
        #expect(throws: ProbeError("GET /x", "chunked body cut short")) {
            try HTTPResponse.parse(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nab\r\n".utf8), source: "GET /x")
        }
        #expect(HTTPResponse.completeLength(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nab".utf8)) == nil)
        #expect(throws: ProbeError.self) {
            try HTTPResponse.parse(Array("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nab".utf8), source: "GET /x")
        }
        #expect(DockerJSON.decode(DockerJSON.Info.self, from: "{\"a\": [1, 2") == nil)
    }

    /// GET /system/df and `docker system df`, taken back to back on the dev engine: the CLI's Build Cache SIZE is
    /// the sum over records with Shared=false (the three shared 200 kB records are left out).
    @Test func buildCacheMatchesDockerSystemDf() throws {
        let json = try #require(
            DockerJSON.decode(DockerJSON.SystemDF.self, from: HostReader.read(HostFixture.path("engine/system-df-buildkit.json")) ?? ""))
        let cache = BuildCacheFigures.parse(json.buildCache ?? [])
        let cli = HostFixture.text("engine/system-df-cli.txt").split(separator: "\n").first { $0.hasPrefix("Build Cache") }
        let columns = try #require(cli).split(separator: " ", omittingEmptySubsequences: true)
        // Build Cache  TOTAL ACTIVE SIZE RECLAIMABLE
        #expect(String(columns[2]) == String(cache.records))
        #expect(String(columns[3]) == String(cache.inUse))
        #expect(String(columns[4]) == ByteSize.dockerHuman(cache.size))
        #expect(String(columns[5]) == ByteSize.dockerHuman(cache.reclaimable))
        #expect(cache.size == 300_257 && cache.shared == 600_093)
        #expect(EngineProbes.parseDockerHuman("300.3kB") == 300_300)
    }
}

@Suite struct DoctorTests {
    static func figures() throws -> HostFigures {
        let records = try KernelLog.records(HostFixture.text("kmsg-oom-this-machine.txt"))
        var engine = EngineFigures(endpoint: EngineEndpoint(host: "unix:///tmp/sb-dev/docker.sock", context: nil, origin: "DOCKER_HOST"), reachable: true)
        engine.version = "20.10.24+dfsg1"
        engine.apiVersion = "1.41"
        engine.buildCache = BuildCacheFigures(records: 400, inUse: 1, size: 23 << 30, reclaimable: 22 << 30, shared: 0)
        engine.danglingImages = 3
        engine.danglingBytes = 12_000_000
        engine.rootDir = "/var/lib/docker"
        engine.rootFree = 1 << 30
        engine.rootTotal = 100 << 30
        engine.noSwapLimit = true
        return HostFigures(
            memory: try MemInfo.parse(HostFixture.text("meminfo-this-machine.txt")),
            ownCgroup: try CgroupMemory.parse(
                membership: CgroupMembership(version: .v1, path: "/process_api/0a1f"), files: HostFixture.files("cgroup-v1-this-machine"), directory: "x"),
            pressure: try Pressure.parse(HostFixture.text("pressure-memory-this-machine.txt")), pressureSupported: true,
            buddy: try BuddyInfo.parse(HostFixture.text("buddyinfo-this-machine.txt")),
            sysctls: try VMSysctls.parse(["swappiness": "60", "min_free_kbytes": "16384", "overcommit_memory": "0", "overcommit_ratio": "50", "vfs_cache_pressure": "100"]),
            oomKills: KernelLog.oomKills(records, bootTime: 1_795_422_446), engine: engine)
    }

    @Test func reportNamesEveryArea() throws {
        let findings = Doctor.diagnose(try Self.figures(), now: 0, hours: 24)
        let areas = Set(findings.map(\.area))
        for area in ["memory", "swap", "cgroup.safebuild", "swap-limit", "psi", "fragmentation", "vm.swappiness", "vm.min_free_kbytes",
            "vm.overcommit_memory", "vm.vfs_cache_pressure", "oom-kill", "engine", "build-cache", "dangling-images", "docker-root-disk"] {
            #expect(areas.contains(area), "missing \(area)")
        }
        let text = Doctor.text(findings)
        #expect(text.contains("warning swap-limit: no swap limit support"))
        #expect(text.contains("fix: add 'cgroup_enable=memory swapaccount=1' to the kernel command line"))
        #expect(text.contains("warning oom-kill: 2026-11-23 "))
        #expect(text.contains("killed sh (pid 6166) in container 7b266634d1c6, over its cgroup's memory limit"))
        #expect(text.contains("fix: docker builder prune -f --keep-storage 2GB frees about"))
        #expect(text.contains("fix: sysctl -w vm.min_free_kbytes=246840 (1% of RAM)"))
        #expect(text.contains("ok      vm.swappiness: 60 (no effect without swap)"))
        #expect(text.contains("problem docker-root-disk: 1.0 GiB free of 100.0 GiB under /var/lib/docker"))
        #expect(Doctor.status(findings) == 2)
    }

    @Test func exitStatusIsTheWorstFinding() {
        #expect(Doctor.status([]) == 0)
        #expect(Doctor.status([.init("a", .ok, "x")]) == 0)
        #expect(Doctor.status([.init("a", .ok, "x"), .init("b", .warning, "y")]) == 1)
        #expect(Doctor.status([.init("a", .problem, "x"), .init("b", .warning, "y")]) == 2)
    }

    @Test func jsonCarriesFindingsAndFigures() throws {
        let figures = try Self.figures()
        let findings = Doctor.diagnose(figures, now: 0, hours: 24)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(Doctor.json(findings, figures: figures).utf8)) as? [String: Any])
        #expect((json["status"] as? NSNumber)?.intValue == 2)
        #expect((json["findings"] as? [Any])?.count == findings.count)
        let memory = (json["figures"] as? [String: Any])?["memory"] as? [String: Any]
        #expect((memory?["available"] as? NSNumber)?.doubleValue == Double(23_638_208 * 1024))
    }

    @Test func unknownOptionIsAUsageError() {
        #expect(throws: SafebuildError.self) { try runOwn(["doctor", "--frobnicate"]) }
    }
}

@Suite struct EngineCLIFallbackTests {
    /// A tcp:// or ssh:// engine is asked through the docker CLI; a CLI that hangs is killed at the timeout.
    @Test func hangingCLIIsBoundedByTheTimeout() throws {
        let script = NSTemporaryDirectory() + "sb-hanging-docker-\(getpid())"
        try "#!/bin/sh\necho \"$@\" > \(script).args\nexec sleep 30\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        defer {
            unlink(script)
            unlink(script + ".args")
        }
        let endpoint = EngineEndpoint(host: "ssh://ci@build1", context: "remote", origin: "DOCKER_CONTEXT=remote")
        let started = Clock.now()
        let figures = EngineProbes.gather(endpoint: endpoint, timeout: 0.3, docker: script, environment: [:])
        let took = Clock.now() - started
        #expect(!figures.reachable)
        #expect(figures.error == "docker version --format {{json .Server}}: no answer in time (engine_timeout)")
        #expect(took < 1, "took \(took) s")
        // The CLI is pointed at the same context the user's docker would use.
        #expect(HostReader.read(script + ".args")?.hasPrefix("--context remote version") == true)
    }

    @Test func noCLIForARemoteEngineIsReportedNotThrown() {
        let figures = EngineProbes.gather(
            endpoint: EngineEndpoint(host: "tcp://10.0.0.1:2376", context: nil, origin: "DOCKER_HOST"), timeout: 1, docker: nil, environment: [:])
        #expect(!figures.reachable && figures.error == "tcp://10.0.0.1:2376: not a unix socket and no docker CLI to ask")
    }
}
