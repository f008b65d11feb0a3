import Testing
import Foundation
@testable import SafebuildKit

@Suite struct PreflightTests {
    /// This machine's figures (captured fixtures) with an engine answer built from the captured /system/df.
    static func figures(available: UInt64? = nil, avg10: Double = 0, cache: Int64 = 300_257, rootFree: UInt64 = 50 << 30) throws -> HostFigures {
        var memory = try MemInfo.parse(HostFixture.text("meminfo-this-machine.txt"))
        if let available { memory.available = available }
        var engine = EngineFigures(endpoint: EngineEndpoint(host: "unix:///x.sock", context: nil, origin: "DOCKER_HOST"), reachable: true)
        engine.buildCache = BuildCacheFigures(records: 9, inUse: 0, size: cache, reclaimable: cache, shared: 600_093)
        engine.rootFree = rootFree
        engine.rootTotal = 100 << 30
        engine.rootDir = "/var/lib/docker"
        return HostFigures(
            memory: memory,
            pressure: Pressure(some: .init(avg10: avg10, avg60: 0, avg300: 0, total: 1), full: nil), pressureSupported: true,
            buddy: try BuddyInfo.parse(HostFixture.text("buddyinfo-this-machine.txt")), engine: engine)
    }

    @Test func withinEveryThresholdAllOK() throws {
        let decisions = Preflight.decide(figures: try Self.figures(), thresholds: [
            .init(.minAvailable(bytes: 2 << 30), .refuse), .init(.maxPressure(percent: 20), .wait),
            .init(.maxBuildCache(bytes: 10 << 30), .remediate), .init(.minFreeDisk(bytes: 5 << 30), .refuse),
            .init(.minFreeBlocks(order: 4, count: 100), .warn),
        ])
        #expect(decisions.map(\.verdict) == [.ok, .ok, .ok, .ok, .ok])
        #expect(decisions[0].sentence == "available memory 22.5 GiB is at or above min_available 2.0 GiB")
        #expect(decisions[0].measured == Double(23_638_208 * 1024))
        #expect(decisions[4].measured == Double(try BuddyInfo.parse(HostFixture.text("buddyinfo-this-machine.txt")).freeBlocks(atLeast: 4)))
    }

    @Test(arguments: PreflightAction.allCases)
    func breachedThresholdTakesItsAction(action: PreflightAction) throws {
        let decision = try #require(Preflight.decide(
            figures: try Self.figures(available: 512 << 20), thresholds: [.init(.minAvailable(bytes: 2 << 30), action)]).first)
        #expect(decision.verdict.rawValue == action.rawValue)
        #expect(decision.sentence == "available memory 512.0 MiB is below min_available 2.0 GiB")
    }

    @Test func cgroupHeadroomLowersAvailableMemory() throws {
        var figures = try Self.figures()
        figures.daemonCgroup = CgroupMemory(
            membership: .init(version: .v2, path: "/system.slice/docker.service"), limit: 2 << 30, usage: (2 << 30) - (256 << 20),
            swapLimit: nil, swapAccounting: true)
        let decision = Preflight.decide(figures: figures, thresholds: [.init(.minAvailable(bytes: 1 << 30), .refuse)])[0]
        #expect(decision.verdict == .refuse)
        #expect(decision.measured == Double(256 << 20))
        #expect(decision.sentence.contains("lowered by a cgroup limit"))
    }

    @Test func unmeasurableFiguresBlockNothing() throws {
        var figures = try Self.figures()
        figures.pressureSupported = false
        figures.pressure = nil
        figures.engine?.reachable = false
        figures.engine?.buildCache = nil
        figures.engine?.rootFree = nil
        figures.engine?.error = "GET /_ping: no answer from /x.sock in time (engine_timeout)"
        let decisions = Preflight.decide(figures: figures, thresholds: [
            .init(.maxPressure(percent: 1), .refuse), .init(.maxBuildCache(bytes: 1), .refuse), .init(.minFreeDisk(bytes: 1 << 40), .refuse),
        ])
        #expect(decisions.map(\.verdict) == [.unmeasured, .unmeasured, .unmeasured])
        #expect(decisions[0].sentence == "max_pressure: not checked, this kernel has no /proc/pressure/memory (PSI)")
        #expect(decisions[1].sentence.contains("engine_timeout"))
    }

    @Test func remedyRunsThenTheBuildGoesOn() throws {
        var cache: Int64 = 20 << 30
        var asked: [String] = []
        let outcome = Preflight.run(
            thresholds: [.init(.maxBuildCache(bytes: 10 << 30), .remediate)], waitTimeout: 5,
            measure: { _ in (try? Self.figures(cache: cache)) ?? HostFigures() },
            remediate: { decision in
                asked.append(decision.threshold.key)
                cache = 1 << 30  // the prune freed 19 GiB
            },
            sleep: { _ in nil })
        #expect(asked == ["max_build_cache"])
        #expect(outcome.initial.map(\.verdict) == [.remediate])
        #expect(outcome.decisions.map(\.verdict) == [.ok])
        #expect(outcome.remediated == ["max_build_cache"])
        #expect(outcome.error == nil)
    }

    @Test func remedyThatDoesNotHelpLeavesAWarning() throws {
        let outcome = Preflight.run(
            thresholds: [.init(.maxBuildCache(bytes: 10 << 30), .remediate)], waitTimeout: 5,
            measure: { _ in (try? Self.figures(cache: 20 << 30)) ?? HostFigures() }, remediate: { _ in }, sleep: { _ in nil })
        #expect(outcome.decisions.map(\.verdict) == [.warn])
        #expect(outcome.decisions[0].sentence.hasSuffix("even after the remedy"))
    }

    @Test func waitEndsWhenMemoryComesBack() throws {
        var measurements = 0
        let outcome = Preflight.run(
            thresholds: [.init(.minAvailable(bytes: 2 << 30), .wait)], waitTimeout: 30,
            measure: { _ in
                measurements += 1
                return (try? Self.figures(available: measurements < 3 ? 1 << 30 : 4 << 30)) ?? HostFigures()
            },
            remediate: { _ in }, sleep: { _ in nil })
        #expect(measurements == 3)
        #expect(outcome.decisions.map(\.verdict) == [.ok])
        #expect(outcome.error == nil)
    }

    @Test func waitThatTimesOutRefusesWithExit75() throws {
        let outcome = Preflight.run(
            thresholds: [.init(.minAvailable(bytes: 2 << 30), .wait)], waitTimeout: 0.2,
            measure: { _ in (try? Self.figures(available: 1 << 30)) ?? HostFigures() }, remediate: { _ in },
            sleep: { seconds in
                var ts = timespec(tv_sec: 0, tv_nsec: Int(seconds * 1e9))
                nanosleep(&ts, nil)
                return nil
            })
        #expect(outcome.decisions.map(\.verdict) == [.refuse])
        #expect(outcome.waitedSeconds >= 0.2 && outcome.waitedSeconds < 1)
        let error = try #require(outcome.error)
        #expect(error.status == .preflightRefused && error.status.rawValue == 75)
        #expect(error.message.hasPrefix("pre-flight refused to start: available memory 1.0 GiB is below min_available 2.0 GiB after waiting"))
    }

    @Test func signalEndsTheWait() throws {
        var said: [String] = []
        let outcome = Preflight.run(
            thresholds: [.init(.maxPressure(percent: 10), .wait)], waitTimeout: 60,
            measure: { _ in (try? Self.figures(avg10: 55)) ?? HostFigures() }, remediate: { _ in }, sleep: { _ in SIGTERM },
            progress: { said.append($0) })
        #expect(outcome.interruptedBy == SIGTERM)
        #expect(outcome.decisions[0].verdict == .refuse)
        let why = "interrupted by SIGTERM while waiting for memory pressure (some avg10) to fall to max_pressure 10%"
        #expect(outcome.decisions[0].sentence.hasPrefix("memory pressure (some avg10) 55% is above max_pressure 10%; \(why) after "))
        #expect(outcome.interruption?.hasPrefix(why + " after ") == true)
        #expect(said == [
            "safebuild: pre-flight: memory pressure (some avg10) 55% is above max_pressure 10%; waiting for memory pressure (some avg10) to fall to max_pressure 10%, at most 1m (preflight.wait_timeout), Ctrl-C or SIGTERM ends the wait\n"
        ])
        #expect(outcome.waitedSeconds < 1)
    }

    @Test func decisionsRoundTripForTheJournal() throws {
        let outcome = Preflight.run(
            thresholds: [.init(.minFreeBlocks(order: 4, count: 1_000_000), .warn)], waitTimeout: 1,
            measure: { _ in (try? Self.figures()) ?? HostFigures() }, remediate: { _ in }, sleep: { _ in nil })
        let data = try JSONEncoder().encode(outcome)
        let back = try JSONDecoder().decode(Preflight.Outcome.self, from: data)
        #expect(back == outcome)
        #expect(back.warnings.count == 1)
    }
}
