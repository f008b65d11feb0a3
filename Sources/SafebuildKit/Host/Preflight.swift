import Glibc

/// Pre-flight: measure the host before a protected build or run, and per policy threshold warn, remediate first,
/// wait for memory to come back, or refuse. `decide` is pure; `run` adds the measuring, remedies and waiting.
package enum Preflight {
    /// One line of the policy's `preflight:` section.
    package struct Threshold: Codable, Sendable, Equatable {
        package enum Measure: Codable, Sendable, Equatable {
            /// Memory a build can use (MemAvailable, or a limited cgroup's headroom if lower) at least this.
            case minAvailable(bytes: UInt64)
            /// `/proc/pressure/memory` some avg10 (percent of time stalled) at most this.
            case maxPressure(percent: Double)
            /// Build cache (not shared with images, as `docker system df` counts it) at most this.
            case maxBuildCache(bytes: UInt64)
            /// Free disk under the daemon's DockerRootDir at least this.
            case minFreeDisk(bytes: UInt64)
            /// At least `count` free blocks of order `order` or higher (`/proc/buddyinfo`), counted in order-`order` blocks.
            case minFreeBlocks(order: Int, count: UInt64)
        }

        package var what: Measure
        package var action: PreflightAction

        package init(_ what: Measure, _ action: PreflightAction) {
            self.what = what
            self.action = action
        }

        /// The policy key (`min_available`, …).
        package var key: String {
            switch what {
            case .minAvailable: return "min_available"
            case .maxPressure: return "max_pressure"
            case .maxBuildCache: return "max_build_cache"
            case .minFreeDisk: return "min_free_disk"
            case .minFreeBlocks: return "min_free_blocks"
            }
        }

        /// Whether measuring it needs the engine.
        package var needsEngine: Bool {
            switch what {
            case .maxBuildCache, .minFreeDisk: return true
            default: return false
            }
        }
    }

    /// What pre-flight concluded for one threshold: a value for the journal.
    package struct Decision: Codable, Sendable, Equatable {
        package enum Verdict: String, Codable, Sendable {
            /// Within the threshold.
            case ok
            case warn, remediate, wait, refuse
            /// The figure could not be measured (no PSI, engine unreachable): nothing decided, nothing blocked.
            case unmeasured
        }

        package var threshold: Threshold
        package var verdict: Verdict
        /// The measured value: bytes, percent or blocks, as the threshold counts; nil when unmeasured.
        package var measured: Double?
        package var sentence: String
        /// How old the measured figure is, in seconds, when it was not measured by this command (the host-shared
        /// build-cache figure); nil when it was.
        package var ageSeconds: Double?
    }

    /// Applies the thresholds to the figures. Pure.
    package static func decide(figures: HostFigures, thresholds: [Threshold]) -> [Decision] {
        thresholds.map { threshold in
            func verdict(_ breached: Bool) -> Decision.Verdict {
                guard breached else { return .ok }
                switch threshold.action {
                case .warn: return .warn
                case .remediate: return .remediate
                case .wait: return .wait
                case .refuse: return .refuse
                }
            }
            func unmeasured(_ why: String) -> Decision {
                Decision(threshold: threshold, verdict: .unmeasured, measured: nil, sentence: "\(threshold.key): not checked, \(why)")
            }
            switch threshold.what {
            case .minAvailable(let limit):
                guard let available = figures.effectiveAvailable else { return unmeasured("/proc/meminfo unreadable") }
                let breached = available < limit
                var detail = ""
                if let memory = figures.memory, memory.available != available {
                    detail = " (MemAvailable \(ByteSize.describe(memory.available)), lowered by a cgroup limit)"
                }
                return Decision(
                    threshold: threshold, verdict: verdict(breached), measured: Double(available),
                    sentence: "available memory \(ByteSize.describe(available))\(detail) is \(breached ? "below" : "at or above") min_available \(ByteSize.describe(limit))")
            case .maxPressure(let limit):
                guard figures.pressureSupported else { return unmeasured("this kernel has no /proc/pressure/memory (PSI)") }
                guard let pressure = figures.pressure else { return unmeasured("/proc/pressure/memory unreadable") }
                let value = pressure.some.avg10
                let breached = value > limit
                return Decision(
                    threshold: threshold, verdict: verdict(breached), measured: value,
                    sentence: "memory pressure (some avg10) \(format(value))% is \(breached ? "above" : "within") max_pressure \(format(limit))%")
            case .maxBuildCache(let limit):
                guard let cache = figures.engine?.buildCache else {
                    return unmeasured(
                        figures.engine?.error.map { "the engine did not answer: \($0)" } ?? figures.engine?.buildCacheNote
                            ?? "the engine was not asked")
                }
                let size = UInt64(max(cache.size, 0))
                let breached = size > limit
                let age = figures.engine?.buildCacheAge
                let when = age.map { ", measured \(TimeSpan(seconds: $0.rounded()).description) ago" } ?? ""
                return Decision(
                    threshold: threshold, verdict: verdict(breached), measured: Double(size),
                    sentence: "build cache \(ByteSize.describe(size)) (\(ByteSize.describe(UInt64(max(cache.reclaimable, 0)))) reclaimable\(when)) is \(breached ? "above" : "within") max_build_cache \(ByteSize.describe(limit))",
                    ageSeconds: age)
            case .minFreeDisk(let limit):
                guard let free = figures.engine?.rootFree else {
                    if let error = figures.engine?.error { return unmeasured("the engine did not answer: \(error)") }
                    if let root = figures.engine?.rootDir {
                        return unmeasured("docker's data root \(root) is not visible from here (a remote engine, or another mount namespace)")
                    }
                    return unmeasured("the docker root dir is not on this machine")
                }
                let breached = free < limit
                return Decision(
                    threshold: threshold, verdict: verdict(breached), measured: Double(free),
                    sentence: "free disk under \(figures.engine?.rootDir ?? "the docker root") \(ByteSize.describe(free)) is \(breached ? "below" : "at or above") min_free_disk \(ByteSize.describe(limit))")
            case .minFreeBlocks(let order, let count):
                guard let buddy = figures.buddy else { return unmeasured("/proc/buddyinfo unreadable") }
                let free = buddy.freeBlocks(atLeast: order)
                let breached = free < count
                return Decision(
                    threshold: threshold, verdict: verdict(breached), measured: Double(free),
                    sentence: "\(free) free blocks of order \(order) or more (\(ByteSize.describe(4096 << UInt64(order))) each) is \(breached ? "below" : "at or above") min_free_blocks \(count)")
            }
        }
    }

    /// What pre-flight did, for the journal and the caller.
    package struct Outcome: Codable, Sendable, Equatable {
        /// The first measurement's decisions.
        package var initial: [Decision]
        /// The decisions that stand after remedies and waiting.
        package var decisions: [Decision]
        /// The thresholds remedies were asked for.
        package var remediated: [String]
        package var waitedSeconds: Double
        /// The termination signal that ended a wait, if one did.
        package var interruptedBy: Int32?
        /// What that wait was for: `interrupted by SIGTERM while waiting for available memory to reach …`.
        package var interruption: String?
        package var figures: HostFigures

        /// The refusals that stand.
        package var refusals: [Decision] { decisions.filter { $0.verdict == .refuse } }

        /// The error to end with when pre-flight refused (exit 75), nil to go ahead.
        package var error: SafebuildError? {
            guard !refusals.isEmpty else { return nil }
            let reasons = refusals.map(\.sentence).joined(separator: "; ")
            return SafebuildError(
                .preflightRefused,
                "pre-flight refused to start: \(reasons). Free memory or disk (see 'safebuild doctor'), or change the policy's preflight thresholds")
        }

        /// Warnings to print (warn verdicts and remedies that did not help).
        package var warnings: [Decision] { decisions.filter { $0.verdict == .warn } }
    }

    /// Seconds between measurements while waiting.
    package static let waitStep = 0.5

    /// What a wait for `threshold` waits for: `available memory to reach min_available 7.6 GiB`.
    package static func waitingFor(_ threshold: Threshold) -> String {
        switch threshold.what {
        case .minAvailable(let limit): return "available memory to reach min_available \(ByteSize.describe(limit))"
        case .maxPressure(let limit): return "memory pressure (some avg10) to fall to max_pressure \(format(limit))%"
        case .maxBuildCache(let limit): return "the build cache to shrink to max_build_cache \(ByteSize.describe(limit))"
        case .minFreeDisk(let limit): return "free disk to reach min_free_disk \(ByteSize.describe(limit))"
        case .minFreeBlocks(let order, let count): return "\(count) free blocks of order \(order) or more (min_free_blocks)"
        }
    }

    /// The loop, with its edges given: `measure(withEngine)` takes the figures, `remediate` runs a remedy for a
    /// remediate decision, `sleep` sleeps and returns a termination signal if one arrived, `progress` writes what a
    /// wait says on stderr (`AdmissionProgress`: once when it starts; on a `terminal`, one line with the seconds).
    package static func run(
        thresholds: [Threshold], waitTimeout: Double,
        measure: (_ withEngine: Bool) -> HostFigures,
        remediate: (Decision) -> Void,
        sleep: (Double) -> Int32?,
        terminal: Bool = false,
        progress: (String) -> Void = { _ in }
    ) -> Outcome {
        let needsEngine = thresholds.contains { $0.needsEngine }
        var figures = measure(needsEngine)
        let initial = decide(figures: figures, thresholds: thresholds)
        var decisions = initial
        var outcome = Outcome(initial: initial, decisions: initial, remediated: [], waitedSeconds: 0, interruptedBy: nil, figures: figures)

        let toRemedy = decisions.filter { $0.verdict == .remediate }
        if !toRemedy.isEmpty {
            for decision in toRemedy {
                remediate(decision)
                outcome.remediated.append(decision.threshold.key)
            }
            figures = measure(toRemedy.contains { $0.threshold.needsEngine } || needsEngine)
            decisions = decide(figures: figures, thresholds: thresholds).map { after in
                guard after.verdict == .remediate else { return after }
                var still = after
                still.verdict = .warn
                still.sentence += " even after the remedy"
                return still
            }
        }

        let waits = decisions.filter { $0.verdict == .wait }
        if !waits.isEmpty {
            let what = waits.map { waitingFor($0.threshold) }.joined(separator: " and ")
            let sentence = "pre-flight: \(waits.map(\.sentence).joined(separator: "; ")); waiting for \(what), at most "
                + "\(ConsoleReport.seconds(waitTimeout)) (preflight.wait_timeout), Ctrl-C or SIGTERM ends the wait"
            var said = AdmissionProgress(terminal: terminal)
            let started = Clock.now()
            while true {
                let elapsed = Clock.now() - started
                if let text = said.waiting(sentence, elapsed: elapsed, now: Clock.now()) { progress(text) }
                let left = waitTimeout - elapsed
                if left <= 0 { break }
                if let signal = sleep(min(waitStep, left)) {
                    outcome.interruptedBy = signal
                    break
                }
                let again = measure(false)
                // Keep the engine's figures from the last full measurement: waiting is for memory to come back.
                var merged = again
                merged.engine = figures.engine
                figures = merged
                let now = decide(figures: figures, thresholds: thresholds)
                decisions = zip(decisions, now).map { old, new in old.verdict == .wait ? new : old }
                if !decisions.contains(where: { $0.verdict == .wait }) { break }
            }
            if let text = said.done(nil) { progress(text) }
            outcome.waitedSeconds = Clock.now() - started
            if let signal = outcome.interruptedBy {
                outcome.interruption = "interrupted by \(ConsoleReport.signalName(signal)) while waiting for \(what)"
                    + " after \(ConsoleReport.seconds(outcome.waitedSeconds))"
            }
            decisions = decisions.map { d in
                guard d.verdict == .wait else { return d }
                var refused = d
                refused.verdict = .refuse
                if let signal = outcome.interruptedBy {
                    refused.sentence += "; interrupted by \(ConsoleReport.signalName(signal)) while waiting for "
                        + "\(waitingFor(d.threshold)) after \(ConsoleReport.seconds(outcome.waitedSeconds))"
                } else {
                    refused.sentence += " after waiting \(format(outcome.waitedSeconds)) s (wait_timeout)"
                }
                return refused
            }
        }
        outcome.decisions = decisions
        outcome.figures = figures
        return outcome
    }

    /// `run` with the real edges: /proc probes, the engine within `engineTimeout`, `inbox` for signals (a wait ends
    /// at once on SIGINT or SIGTERM), and stderr for what a wait says. A local engine is looked at through
    /// `EngineGlance` with `glance` (its cost does not grow with the engine); one reached through the docker CLI
    /// (tcp://, ssh://) is probed as `doctor` probes it.
    package static func run(
        thresholds: [Threshold], waitTimeout: Double, engineTimeout: Double, endpoint: EngineEndpoint, docker: String?,
        environment: [String: String], inbox: SignalInbox, glance: EngineGlance.Settings, remediate: (Decision) -> Void
    ) -> Outcome {
        let reader = HostReader()
        var daemonPID: Int32?
        let withBuildCache = thresholds.contains { if case .maxBuildCache = $0.what { return true } else { return false } }
        // The engine is measured again only after remedies ran (a prune): then the shared build-cache figure is stale.
        var engineMeasurements = 0
        return run(
            thresholds: thresholds, waitTimeout: waitTimeout,
            measure: { withEngine in
                var engine: EngineFigures?
                if withEngine {
                    if let socket = endpoint.socketPath {
                        engine = EngineGlance.gather(
                            endpoint: endpoint, socket: socket, timeout: engineTimeout, withBuildCache: withBuildCache,
                            settings: glance, fresh: engineMeasurements > 0)
                        engineMeasurements += 1
                    } else {
                        engine = EngineProbes.gather(
                            endpoint: endpoint, timeout: engineTimeout, docker: docker, environment: environment,
                            withBuildCache: withBuildCache)
                    }
                    daemonPID = engine?.daemonPID ?? daemonPID
                }
                var figures = reader.gather(oomSince: nil, daemonPID: daemonPID)
                figures.engine = engine
                return figures
            },
            remediate: remediate,
            sleep: { inbox.sleep(seconds: $0) },
            terminal: isatty(2) == 1,
            progress: { text in if !Console.quiet { Output.write(2, text) } })
    }

    static func format(_ value: Double) -> String {
        ByteSize.formatFixed(value, decimals: value == value.rounded() ? 0 : 2)
    }
}
