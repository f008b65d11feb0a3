import Glibc
import Foundation
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// Pre-flight whose cost does not grow with the engine (issue 13, item 1), against the real engine (docker 20.10,
/// API 1.41: `/system/df` sizes everything, so the build cache comes from the host-shared figure).
extension EngineSuites {
@Suite(.serialized) struct PreflightCostEngineTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
        try directory.directory("state")
    }

    var runtime: RuntimeState { RuntimeState(directory: directory.path + "/state", isRoot: geteuid() == 0, warn: { _ in }) }

    func settings(maxAge: Double, refreshes: Refreshes) throws -> EngineGlance.Settings {
        EngineGlance.Settings(state: try EngineStateFile(state: runtime), maxAge: maxAge) { _, engine, socket, _ in
            refreshes.started.append((engine, socket))
            return true
        }
    }

    final class Refreshes { var started: [(engine: String, socket: String)] = [] }

    func glance(_ settings: EngineGlance.Settings) -> EngineFigures {
        EngineGlance.gather(
            endpoint: Engine.endpoint, socket: Engine.endpoint.socketPath!, timeout: 20, withBuildCache: true, settings: settings)
    }

    @Test func thePingNamesTheAPIVersionTheEngineSpeaks() throws {
        let client = EngineClient(socketPath: try #require(Engine.endpoint.socketPath))
        let ping = try client.request("/_ping", deadline: Clock.now() + 10)
        let version = try #require(DockerJSON.decode(DockerJSON.Version.self, from: try client.request("/version", deadline: Clock.now() + 10).body))
        #expect(ping.apiVersion != nil && ping.apiVersion == version.apiVersion)
    }

    @Test func aKnownEngineIsAskedOnlyForAPing() throws {
        let refreshes = Refreshes()
        let first = glance(try settings(maxAge: 600, refreshes: refreshes))
        #expect(first.error == nil)
        let full = EngineProbes.gather(endpoint: Engine.endpoint, timeout: 20, docker: nil, environment: Engine.environment)
        // The first command on this host measured it: the figure of `/system/df` itself, no age, written down.
        #expect(first.buildCache?.records == full.buildCache?.records)
        #expect(first.buildCacheAge == nil)
        #expect(first.rootDir == full.rootDir && first.rootFree != nil)
        #expect(Set(first.milliseconds.keys) == ["_ping", "info", "system/df"])
        let text = String(decoding: directory.read("state/engine.state"), as: UTF8.self)
        #expect(text.hasPrefix("safebuild-engine-state 1\ndaemon "), "\(text)")
        #expect(text.contains("\nbuild-cache root:" + (full.rootDir ?? "?")), "\(text)")

        // The next: one ping; free disk from statvfs of the data root it remembered; the shared figure with its age.
        let second = glance(try settings(maxAge: 600, refreshes: refreshes))
        #expect(Set(second.milliseconds.keys) == ["_ping"])
        #expect(second.rootDir == full.rootDir && second.rootFree != nil)
        #expect(second.buildCache == first.buildCache)
        let age = try #require(second.buildCacheAge)
        #expect(age >= 0 && age < 60)
        #expect(refreshes.started.isEmpty)
    }

    /// After a remedy (a prune) the shared figure is stale: pre-flight's second look measures it, and writes it.
    @Test func aFreshLookMeasuresWhateverTheFiguresAge() throws {
        let refreshes = Refreshes()
        _ = glance(try settings(maxAge: 600, refreshes: refreshes))
        let fresh = EngineGlance.gather(
            endpoint: Engine.endpoint, socket: Engine.endpoint.socketPath!, timeout: 20, withBuildCache: true,
            settings: try settings(maxAge: 600, refreshes: refreshes), fresh: true)
        #expect(fresh.buildCacheAge == nil && fresh.buildCache != nil)
        #expect(fresh.milliseconds["system/df"] != nil)
        let after = glance(try settings(maxAge: 600, refreshes: refreshes))
        #expect(try #require(after.buildCacheAge) < 5)
        #expect(refreshes.started.isEmpty)
    }

    @Test func aStaleFigureIsUsedAndOneCommandRefreshesIt() throws {
        let refreshes = Refreshes()
        _ = glance(try settings(maxAge: 600, refreshes: refreshes))
        usleep(20_000)
        let holder = try settings(maxAge: 0, refreshes: refreshes)
        let stale = glance(holder)
        #expect(stale.buildCacheAge != nil && stale.buildCache != nil)
        #expect(Set(stale.milliseconds.keys) == ["_ping"], "the refresh is not on the command's path")
        #expect(refreshes.started.count == 1)
        #expect(refreshes.started.first?.socket == Engine.endpoint.socketPath)
        // It holds the lock (as its refresher would): the next command uses the old figure and starts none.
        let other = glance(try settings(maxAge: 0, refreshes: refreshes))
        #expect(other.buildCache == stale.buildCache && other.buildCacheAge != nil)
        #expect(refreshes.started.count == 1)
        #expect(try EngineStateFile(state: runtime).tryLock() == false)
        _ = holder
    }

    @Test func withoutAFigureTheOthersDoNotWaitForTheOneMeasuring() throws {
        let refreshes = Refreshes()
        let measuring = try EngineStateFile(state: runtime)
        #expect(measuring.tryLock())
        let figures = glance(try settings(maxAge: 600, refreshes: refreshes))
        #expect(figures.buildCache == nil && figures.error == nil)
        #expect(figures.buildCacheNote == "no build-cache figure yet for this engine: another safebuild is measuring it now")
        #expect(figures.milliseconds["system/df"] == nil)
        measuring.unlock()
    }

    /// The whole path through the binary: a protected run with a stale figure journals its age, and the refresher it
    /// starts in the background writes a newer figure after the command has ended.
    @Test func aProtectedRunJournalsTheAgeAndItsRefresherUpdatesTheFigure() throws {
        let engine = try TestEngine.current()
        let installed = try InstalledSafebuild()
        try installed.writeHostPolicy(
            """
            version: 1
            run: {memory: 64m}
            preflight:
              min_available: off
              max_pressure: off
              max_build_cache: {value: 1p, action: warn}
              min_free_disk: {value: 1k, action: warn}
              min_free_blocks: off
              build_cache_max_age: 0s
            remedies:
              lock_dir: \(directory.path)/state
            """)
        let journal = directory.path + "/journal.jsonl"
        try installed.useHostJournal(journal)
        func run() throws -> ProcessResult {
            try ProcessRunner.run(
                installed.binary, ["run", "--rm", "--network=none", engine.image, "true"],
                environment: engine.environment(["SAFEBUILD_JOURNAL": journal]), timeout: 120)
        }
        #expect(try run().status == .exited(0))
        let statePath = directory.path + "/state/engine.state"
        func measuredAt() -> Double? {
            EngineState.parse(String(decoding: directory.read("state/engine.state"), as: UTF8.self)).samples.first?.measuredAt
        }
        let firstMeasured = try #require(measuredAt(), "\(statePath) holds no figure")
        usleep(50_000)
        #expect(try run().status == .exited(0))
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        let attempts = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["kind"] as? String == "attempt" }
        let last = try #require(attempts.last?["preflight"] as? [[String: Any]])
        let cache = try #require(last.first { $0["check"] as? String == "max_build_cache" })
        let age = try #require(cache["age_seconds"] as? Double, "\(cache)")
        #expect(age >= 0.05 && age < 60)
        #expect((cache["message"] as? String)?.contains("ago)") == true)
        let disk = try #require(last.first { $0["check"] as? String == "min_free_disk" })
        #expect(disk["action"] as? String == "ok" && disk["age_seconds"] == nil)
        // The refresher outlives the command: within a few seconds the figure is newer than the first.
        #expect(ProcessRunner.waitUntil(timeout: 30) { (measuredAt() ?? 0) > firstMeasured })
    }
}
}
