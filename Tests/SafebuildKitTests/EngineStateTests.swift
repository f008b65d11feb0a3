import Testing
@testable import SafebuildKit

/// The engine state shared by every safebuild on the host, and where pre-flight takes the build cache from (issue 13).
@Suite struct EngineStateTests {
    // moby api/server/router/system/system_routes.go (getDiskUsage), verbatim:
    //     typeStrs, ok := r.Form["type"]
    //     if versions.LessThan(version, "1.42") || !ok {
    //         getContainers, getImages, getVolumes, getBuildCache = true, true, true, true
    // https://github.com/moby/moby/blob/master/api/server/router/system/system_routes.go
    // and docs/api/version-history.md, v1.42: "`GET /system/df` now accepts query parameter `type` …"
    @Test(arguments: [
        ("1.41", nil), ("1.40", nil), ("1.9", nil), ("1.42", "/v1.42/system/df?type=build-cache"),
        ("1.43", "/v1.42/system/df?type=build-cache"), ("1.100", "/v1.42/system/df?type=build-cache"),
        ("2.0", "/v1.42/system/df?type=build-cache"), ("", nil), ("1.4x", nil), ("1", nil),
    ] as [(String, String?)])
    func typedQueryOnlyFrom142(version: String, path: String?) {
        #expect(BuildCacheQuery.typed(apiVersion: version) == path)
    }

    @Test func apiVersionsOrderNumberByNumber() {
        #expect(APIVersion("1.9")! < APIVersion("1.41")!)
        #expect(APIVersion("1.41")! < APIVersion("1.42")!)
        #expect(APIVersion("1.42")!.description == "1.42")
        #expect(APIVersion("v1.42") == nil)
    }

    static let figures = BuildCacheFigures(records: 79, inUse: 1, size: 4_000_000, reclaimable: 3_500_000, shared: 120)

    @Test func textRoundTripsAndEscapesPaths() {
        let state = EngineState(
            daemons: [EngineFacts(daemon: ProcessIdentity(pid: 812, startTime: 4455), apiVersion: "1.41", rootDir: "/srv/docker data")],
            samples: [BuildCacheSample(engine: "root:/srv/docker data", figures: Self.figures, measuredAt: 1_764_100_000.125, seconds: 0.731)],
            failures: [BuildCacheRefreshFailure(engine: "root:/other", at: 1_764_100_100, error: "GET /system/df: no answer in time")])
        let text = state.text
        #expect(text.hasPrefix("safebuild-engine-state 1\n"))
        #expect(text.split(separator: "\n").allSatisfy { $0.split(separator: " ").count >= 2 })
        #expect(!text.contains("docker data"), "a space inside a field is escaped")
        #expect(EngineState.parse(text) == state)
    }

    @Test func damagedLinesAreDroppedNotFatal() {
        let text = """
            safebuild-engine-state 1
            daemon 812 4455 1.41 /var/lib/docker
            daemon x 4455 1.41 /var/lib/docker
            build-cache root:/var/lib/docker 1764100000 0.7 79 1 4000000 3500000 120
            build-cache root:/var/lib/docker 1764100000 0.7 79 1 4000000
            refresh-failed root:/var/lib/docker notatime oops
            something-else 1 2 3

            """
        let state = EngineState.parse(text)
        #expect(state.daemons.count == 1 && state.daemons[0].rootDir == "/var/lib/docker")
        #expect(state.samples == [BuildCacheSample(engine: "root:/var/lib/docker", figures: Self.figures, measuredAt: 1_764_100_000, seconds: 0.7)])
        #expect(state.failures.isEmpty)
    }

    @Test func reclaimForgetsDeadDaemonsAndOldFigures() {
        var state = EngineState(
            daemons: [
                EngineFacts(daemon: ProcessIdentity(pid: 1, startTime: 1), apiVersion: "1.41", rootDir: "/a"),
                EngineFacts(daemon: ProcessIdentity(pid: 2, startTime: 2), apiVersion: "1.41", rootDir: "/b"),
            ],
            samples: [
                BuildCacheSample(engine: "root:/a", figures: Self.figures, measuredAt: 0, seconds: 1),
                BuildCacheSample(engine: "root:/b", figures: Self.figures, measuredAt: 8 * 86_400 - 10, seconds: 1),
            ])
        state.reclaim(now: 8 * 86_400) { $0.pid == 2 }
        #expect(state.daemons.map(\.rootDir) == ["/b"])
        #expect(state.samples.map(\.engine) == ["root:/b"])
    }

    @Test func aNewSampleClearsTheEnginesFailure() {
        var state = EngineState(failures: [BuildCacheRefreshFailure(engine: "root:/a", at: 5, error: "x")])
        state.remember(BuildCacheSample(engine: "root:/a", figures: Self.figures, measuredAt: 6, seconds: 1))
        #expect(state.failures.isEmpty && state.samples.count == 1)
    }

    // MARK: - Where the figure comes from

    /// `choose` with a lock that records whether it was asked.
    func choose(
        api: String? = "1.41", sample: BuildCacheSample?, failure: BuildCacheRefreshFailure? = nil, now: Double,
        maxAge: Double = 600, lockFree: Bool
    ) -> (BuildCacheChoice, askedLock: Bool) {
        var asked = false
        let choice = BuildCacheChoice.choose(apiVersion: api, sample: sample, failure: failure, now: now, maxAge: maxAge) {
            asked = true
            return lockFree
        }
        return (choice, asked)
    }

    func sample(at: Double) -> BuildCacheSample {
        BuildCacheSample(engine: "root:/var/lib/docker", figures: Self.figures, measuredAt: at, seconds: 0.8)
    }

    @Test func anEngineSpeaking142IsAskedForItsBuildCacheAlone() {
        let (choice, asked) = choose(api: "1.43", sample: sample(at: 0), now: 10_000, lockFree: true)
        #expect(choice == .ask(path: "/v1.42/system/df?type=build-cache"))
        #expect(!asked)
    }

    @Test func aFreshFigureIsUsedWithoutTheLock() {
        let (choice, asked) = choose(sample: sample(at: 1000), now: 1300, lockFree: true)
        #expect(choice == .cached(sample(at: 1000), age: 300, refresh: false))
        #expect(!asked)
    }

    @Test func aStaleFigureIsUsedAndRefreshedByWhoeverGetsTheLock() {
        #expect(choose(sample: sample(at: 1000), now: 1700, lockFree: true).0 == .cached(sample(at: 1000), age: 700, refresh: true))
        // Another safebuild refreshes it: the old figure is used, however old, and nothing waits.
        #expect(choose(sample: sample(at: 1000), now: 90_000, lockFree: false).0 == .cached(sample(at: 1000), age: 89_000, refresh: false))
    }

    @Test func aRecentFailureHoldsOffTheNextRefresh() {
        let failed = BuildCacheRefreshFailure(engine: "root:/var/lib/docker", at: 1690, error: "GET /system/df: no answer in time")
        let (soon, asked) = choose(sample: sample(at: 1000), failure: failed, now: 1700, lockFree: true)
        #expect(soon == .cached(sample(at: 1000), age: 700, refresh: false))
        #expect(!asked)
        #expect(choose(sample: sample(at: 1000), failure: failed, now: 1690 + EngineState.retryAfter + 1, lockFree: true).0
            == .cached(sample(at: 1000), age: 690 + EngineState.retryAfter + 1, refresh: true))
        guard case .none(let why) = choose(sample: nil, failure: failed, now: 1700, lockFree: true).0 else {
            Issue.record("expected no figure")
            return
        }
        #expect(why.contains("10 s ago") && why.contains("no answer in time"))
    }

    @Test func withoutAnyFigureOnlyTheLockHolderMeasuresNow() {
        #expect(choose(sample: nil, now: 1700, lockFree: true).0 == .measureNow)
        #expect(choose(sample: nil, now: 1700, lockFree: false).0
            == .none("no build-cache figure yet for this engine: another safebuild is measuring it now"))
    }

    // MARK: - What pre-flight says about it

    @Test func theDecisionAndTheJournalCarryTheFiguresAge() {
        var engine = EngineFigures(endpoint: EngineEndpoint(host: "unix:///x.sock", context: nil, origin: "test"), reachable: true)
        engine.buildCache = Self.figures
        engine.buildCacheAge = 754.4
        var figures = HostFigures()
        figures.engine = engine
        let decision = Preflight.decide(figures: figures, thresholds: [.init(.maxBuildCache(bytes: 10 << 30), .remediate)])[0]
        #expect(decision.verdict == .ok)
        #expect(decision.ageSeconds == 754.4)
        #expect(decision.sentence == "build cache 3.8 MiB (3.3 MiB reclaimable, measured 12m34s ago) is within max_build_cache 10.0 GiB")
        let journal = AttemptLoop.journalDecision(decision)
        #expect(journal.ageSeconds == 754.4)
    }

    @Test func aFigureNobodyHasYetIsNotChecked() {
        var engine = EngineFigures(endpoint: EngineEndpoint(host: "unix:///x.sock", context: nil, origin: "test"), reachable: true)
        engine.buildCacheNote = "no build-cache figure yet for this engine: another safebuild is measuring it now"
        var figures = HostFigures()
        figures.engine = engine
        let decision = Preflight.decide(figures: figures, thresholds: [.init(.maxBuildCache(bytes: 10 << 30), .refuse)])[0]
        #expect(decision.verdict == .unmeasured)
        #expect(decision.sentence == "max_build_cache: not checked, no build-cache figure yet for this engine: another safebuild is measuring it now")
    }
}
