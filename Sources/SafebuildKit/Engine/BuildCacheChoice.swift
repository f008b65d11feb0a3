/// Where pre-flight takes an engine's build-cache figure from. `choose` is pure: the lock is the caller's, asked
/// only when taking it would be acted on.
package enum BuildCacheChoice: Sendable, Equatable {
    /// Ask the engine for its build cache alone, now (`BuildCacheQuery.typed`, API 1.42 and later).
    case ask(path: String)
    /// Use the host-shared figure, `age` seconds old; with `refresh`, this command took the lock and refreshes the
    /// figure in the background of its run (it is older than the policy's `build_cache_max_age`).
    case cached(BuildCacheSample, age: Double, refresh: Bool)
    /// There is no figure for this engine yet and this command took the lock: measure it now (once per engine and
    /// host; nothing cheaper can be used).
    case measureNow
    /// No figure can be had without waiting: the sentence says why (another safebuild is measuring it, or the last
    /// attempt failed a moment ago).
    case none(String)

    /// - Parameters:
    ///   - apiVersion: the daemon's `Api-Version` header.
    ///   - sample, failure: what the engine state holds for this engine.
    ///   - now: wall-clock seconds.
    ///   - maxAge: the policy's `build_cache_max_age`, seconds.
    ///   - lock: takes the engine state's lock if it is free (never waits).
    package static func choose(
        apiVersion: String?, sample: BuildCacheSample?, failure: BuildCacheRefreshFailure?, now: Double, maxAge: Double,
        lock: () -> Bool
    ) -> BuildCacheChoice {
        if let path = BuildCacheQuery.typed(apiVersion: apiVersion) { return .ask(path: path) }
        // A failure newer than the figure holds off the next attempt for `retryAfter` seconds.
        let recentFailure = failure.flatMap { f -> BuildCacheRefreshFailure? in
            guard now - f.at < EngineState.retryAfter, f.at >= (sample?.measuredAt ?? -.infinity) else { return nil }
            return f
        }
        if let sample {
            let age = max(0, now - sample.measuredAt)
            guard age > maxAge, recentFailure == nil else { return .cached(sample, age: age, refresh: false) }
            return .cached(sample, age: age, refresh: lock())
        }
        if let recentFailure {
            return .none(
                "no build-cache figure yet for this engine: the last attempt to measure it, \(Int(max(0, now - recentFailure.at))) s ago, failed (\(recentFailure.error))")
        }
        return lock() ? .measureNow : .none("no build-cache figure yet for this engine: another safebuild is measuring it now")
    }
}
