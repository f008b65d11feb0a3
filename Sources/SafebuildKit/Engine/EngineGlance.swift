import Glibc

/// Pre-flight's look at a local engine (a unix socket), at a cost that does not grow with the engine: one `/_ping`,
/// which names the daemon (the socket's peer) and its API version; `/info` only for a daemon not met before (its data
/// root is kept in the engine state under its pid and start time); the free disk by statvfs of that data root; and the
/// build cache from the cheapest source the engine offers (`BuildCacheChoice`): asked for alone from API 1.42, else
/// the host-shared figure in the engine state, refreshed in the background by one safebuild at a time. `GET
/// /system/df` without `type`, which sizes every image and container (670–870 ms at 300 images and 150 containers
/// here), is made only by that refresher, or once per engine when there is no figure at all.
package enum EngineGlance {
    /// What the glance needs beyond the engine.
    package struct Settings {
        /// The engine state file; nil when it cannot be opened (then every command measures for itself).
        package var state: EngineStateFile?
        /// `preflight.build_cache_max_age`, seconds.
        package var maxAge: Double
        /// Starts the background refresh of `engine`'s figure; the state file's lock is held and passes to it.
        package var startRefresh: (_ file: EngineStateFile, _ engine: String, _ socket: String, _ timeout: Double) -> Bool

        package init(
            state: EngineStateFile?, maxAge: Double,
            startRefresh: @escaping (EngineStateFile, String, String, Double) -> Bool = BuildCacheRefresher.start
        ) {
            self.state = state
            self.maxAge = maxAge
            self.startRefresh = startRefresh
        }
    }

    /// - Parameter fresh: measure the build cache now whatever the shared figure's age (after a remedy pruned it, the
    ///   figure is stale); the new figure is written when the lock is free.
    package static func gather(
        endpoint: EngineEndpoint, socket: String, timeout: Double, withBuildCache: Bool, settings: Settings,
        fresh: Bool = false
    ) -> EngineFigures {
        let client = EngineClient(socketPath: socket)
        let deadline = Clock.now() + timeout
        var figures = EngineFigures(endpoint: endpoint, reachable: false)
        do throws(ProbeError) {
            let ping = try client.request("/_ping", deadline: deadline)
            figures.milliseconds["_ping"] = milliseconds(ping.seconds)
            figures.daemonPID = ping.peerPID
            guard ping.status == 200 else { throw ProbeError("GET /_ping", "HTTP \(ping.status)") }
            figures.reachable = true
            figures.apiVersion = ping.apiVersion
            let daemon = ping.peerPID.flatMap { ProcessIdentity.of($0) }
            let known = settings.state?.peek()
            var facts = daemon.flatMap { known?.facts($0) }
            if facts == nil {
                let info = try client.request("/info", deadline: deadline)
                figures.milliseconds["info"] = milliseconds(info.seconds)
                guard info.status == 200 else { throw ProbeError("GET /info", "HTTP \(info.status)") }
                if let decoded = DockerJSON.decode(DockerJSON.Info.self, from: info.body) {
                    EngineProbes.apply(info: decoded, to: &figures)
                    if let daemon, let root = decoded.rootDir, let api = ping.apiVersion ?? info.apiVersion {
                        let learned = EngineFacts(daemon: daemon, apiVersion: api, rootDir: root)
                        facts = learned
                        settings.state?.updateIfFree { $0.remember(learned) }
                    }
                }
            } else if let facts {
                figures.rootDir = facts.rootDir
                if let disk = EngineProbes.diskFree(facts.rootDir) {
                    figures.rootFree = disk.free
                    figures.rootTotal = disk.total
                }
            }
            guard withBuildCache else { return figures }
            let engine = facts.map(\.buildCacheKey) ?? figures.rootDir.map { "root:" + $0 }
            let choice: BuildCacheChoice
            // Whether this command holds the state's lock for a `.measureNow` (it then writes the figure).
            var holdsLock = true
            if fresh, BuildCacheQuery.typed(apiVersion: figures.apiVersion) == nil {
                choice = .measureNow
                holdsLock = settings.state?.tryLock() ?? false
            } else if let file = settings.state, let engine {
                let state = known ?? file.peek()
                choice = BuildCacheChoice.choose(
                    apiVersion: figures.apiVersion, sample: state.sample(engine), failure: state.failure(engine),
                    now: Clock.wall(), maxAge: settings.maxAge, lock: file.tryLock)
            } else {
                // No shared state: the cheapest request this engine understands, made by this command.
                choice = BuildCacheQuery.typed(apiVersion: figures.apiVersion).map { .ask(path: $0) } ?? .measureNow
            }
            switch choice {
            case .ask(let path):
                let measured = try measure(client, path, deadline: deadline)
                figures.milliseconds["system/df"] = milliseconds(measured.seconds)
                figures.buildCache = measured.figures
            case .cached(let sample, let age, let refresh):
                figures.buildCache = sample.figures
                figures.buildCacheAge = age
                if refresh, let file = settings.state, let engine, !settings.startRefresh(file, engine, socket, timeout) {
                    file.unlock()
                }
            case .measureNow:
                let started = Clock.wall()
                do throws(ProbeError) {
                    let measured = try measure(client, BuildCacheQuery.fullPath, deadline: deadline)
                    figures.milliseconds["system/df"] = milliseconds(measured.seconds)
                    figures.buildCache = measured.figures
                    if holdsLock, let file = settings.state, let engine {
                        file.rewrite {
                            $0.remember(BuildCacheSample(engine: engine, figures: measured.figures, measuredAt: started, seconds: measured.seconds))
                        }
                    }
                } catch {
                    if holdsLock, let file = settings.state, let engine {
                        file.rewrite { $0.remember(BuildCacheRefreshFailure(engine: engine, at: started, error: error.description)) }
                        file.unlock()
                    }
                    throw error
                }
                if holdsLock { settings.state?.unlock() }
            case .none(let why):
                figures.buildCacheNote = why
            }
        } catch {
            figures.error = error.description
        }
        return figures
    }

    /// `GET path` answered with `BuildCache` records.
    static func measure(
        _ client: EngineClient, _ path: String, deadline: Double
    ) throws(ProbeError) -> (figures: BuildCacheFigures, seconds: Double) {
        let response = try client.request(path, deadline: deadline)
        guard response.status == 200 else {
            throw ProbeError("GET \(path)", "HTTP \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
        guard let df = DockerJSON.decode(DockerJSON.SystemDF.self, from: response.body) else {
            throw ProbeError("GET \(path)", "not the JSON of /system/df")
        }
        return (BuildCacheFigures.parse(df.buildCache ?? []), response.seconds)
    }

    static func milliseconds(_ seconds: Double) -> Double { (seconds * 10000).rounded() / 10 }
}
