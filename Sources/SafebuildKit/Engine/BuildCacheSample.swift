/// One measurement of an engine's build cache, kept in the engine state file for every safebuild on the host.
package struct BuildCacheSample: Sendable, Equatable {
    /// The engine it describes: `root:DATA_ROOT` for a local engine (`EngineFacts.buildCacheKey`), `host:HOST` for
    /// one reached through the docker CLI.
    package var engine: String
    package var figures: BuildCacheFigures
    /// When it was measured (wall-clock seconds since the epoch).
    package var measuredAt: Double
    /// How long the engine took to answer, in seconds.
    package var seconds: Double

    package init(engine: String, figures: BuildCacheFigures, measuredAt: Double, seconds: Double) {
        self.engine = engine
        self.figures = figures
        self.measuredAt = measuredAt
        self.seconds = seconds
    }
}

/// A refresh of a build-cache figure that failed: the next one waits `EngineState.retryAfter` seconds, so that an
/// engine that cannot answer in time is not asked again by every command.
package struct BuildCacheRefreshFailure: Sendable, Equatable {
    package var engine: String
    /// When the failed refresh started (wall clock).
    package var at: Double
    package var error: String

    package init(engine: String, at: Double, error: String) {
        self.engine = engine
        self.at = at
        self.error = error
    }
}
