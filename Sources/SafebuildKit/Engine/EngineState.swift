/// What safebuild keeps about the engines of this host between commands: per daemon (pid and start time) its API
/// version and data root, per engine the last build-cache figure and when it was measured, a refresh that failed, and
/// per docker CLI binary (its file's identity) what `docker --version` printed.
/// `engine.state` in the runtime state directory (`EngineStateFile`), one record per line, every field
/// percent-escaped as in the admission ledger (`Ledger.escape`):
///
///     safebuild-engine-state 1
///     daemon PID START API_VERSION ROOT_DIR
///     build-cache ENGINE MEASURED_AT SECONDS RECORDS IN_USE SIZE RECLAIMABLE SHARED
///     refresh-failed ENGINE AT ERROR
///     client PATH DEVICE INODE SIZE MTIME_NS CTIME_NS AT VERSION_LINE
///
/// Parsing is tolerant: a line it cannot read is dropped (the next write leaves it out), so a damaged file costs at
/// most one engine call.
package struct EngineState: Sendable, Equatable {
    package static let header = "safebuild-engine-state 1"
    /// A failed refresh is not tried again for this long (seconds).
    package static let retryAfter = 60.0
    /// Figures older than this are dropped at the next write (their engine is gone, or nobody asked for a week).
    package static let forgetAfter = 7 * 86_400.0

    package var daemons: [EngineFacts] = []
    package var samples: [BuildCacheSample] = []
    package var failures: [BuildCacheRefreshFailure] = []
    package var clients: [DockerClientRecord] = []

    package init(
        daemons: [EngineFacts] = [], samples: [BuildCacheSample] = [], failures: [BuildCacheRefreshFailure] = [],
        clients: [DockerClientRecord] = []
    ) {
        self.daemons = daemons
        self.samples = samples
        self.failures = failures
        self.clients = clients
    }

    // MARK: Lookups and changes

    package func facts(_ daemon: ProcessIdentity) -> EngineFacts? { daemons.first { $0.daemon == daemon } }

    package func sample(_ engine: String) -> BuildCacheSample? { samples.first { $0.engine == engine } }

    package func failure(_ engine: String) -> BuildCacheRefreshFailure? { failures.first { $0.engine == engine } }

    /// What `docker --version` printed for this very file (same path, device, inode, size and times).
    package func client(_ binary: DockerClientBinary) -> DockerClientRecord? { clients.first { $0.binary == binary } }

    package mutating func remember(_ facts: EngineFacts) {
        daemons.removeAll { $0.daemon == facts.daemon || $0.rootDir == facts.rootDir }
        daemons.append(facts)
    }

    /// Keeps `sample` for its engine and forgets a failed refresh of it.
    package mutating func remember(_ sample: BuildCacheSample) {
        samples.removeAll { $0.engine == sample.engine }
        samples.append(sample)
        failures.removeAll { $0.engine == sample.engine }
    }

    package mutating func remember(_ failure: BuildCacheRefreshFailure) {
        failures.removeAll { $0.engine == failure.engine }
        failures.append(failure)
    }

    /// Keeps `client` in place of whatever was known of the binary at its path.
    package mutating func remember(_ client: DockerClientRecord) {
        clients.removeAll { $0.binary.path == client.binary.path }
        clients.append(client)
    }

    /// Drops the daemons that are gone (`alive` says) and the figures and failures older than `forgetAfter`.
    package mutating func reclaim(now: Double, alive: (ProcessIdentity) -> Bool) {
        daemons.removeAll { !alive($0.daemon) }
        samples.removeAll { now - $0.measuredAt > Self.forgetAfter }
        failures.removeAll { now - $0.at > Self.forgetAfter }
        clients.removeAll { now - $0.at > Self.forgetAfter }
    }

    // MARK: Text

    package static func parse(_ text: String) -> EngineState {
        var state = EngineState()
        for line in text.utf8.split(separator: 10) {
            let f = line.split(separator: 32).map { Ledger.unescape(Substring(String(decoding: $0, as: UTF8.self))) }
            guard let kind = f.first else { continue }
            switch kind {
            case "daemon" where f.count == 5:
                guard let pid = Int32(f[1]), let start = UInt64(f[2]), !f[3].isEmpty, f[4].hasPrefix("/") else { continue }
                state.daemons.append(EngineFacts(
                    daemon: ProcessIdentity(pid: pid, startTime: start), apiVersion: f[3], rootDir: f[4]))
            case "build-cache" where f.count == 9:
                guard !f[1].isEmpty, let at = Double(f[2]), let seconds = Double(f[3]), let records = Int(f[4]),
                    let inUse = Int(f[5]), let size = Int64(f[6]), let reclaimable = Int64(f[7]), let shared = Int64(f[8])
                else { continue }
                state.samples.append(BuildCacheSample(
                    engine: f[1],
                    figures: BuildCacheFigures(records: records, inUse: inUse, size: size, reclaimable: reclaimable, shared: shared),
                    measuredAt: at, seconds: seconds))
            case "refresh-failed" where f.count == 4:
                guard !f[1].isEmpty, let at = Double(f[2]) else { continue }
                state.failures.append(BuildCacheRefreshFailure(engine: f[1], at: at, error: f[3]))
            case "client" where f.count == 9:
                guard f[1].hasPrefix("/"), let device = UInt64(f[2]), let inode = UInt64(f[3]), let size = Int64(f[4]),
                    let modified = Int64(f[5]), let changed = Int64(f[6]), let at = Double(f[7]), !f[8].isEmpty
                else { continue }
                state.clients.append(DockerClientRecord(
                    binary: DockerClientBinary(
                        path: f[1], device: device, inode: inode, size: size, modified: modified, changed: changed),
                    versionLine: f[8], at: at))
            default:
                continue
            }
        }
        return state
    }

    package var text: String {
        var lines = [Self.header]
        for d in daemons {
            lines.append(fields(["daemon", "\(d.daemon.pid)", "\(d.daemon.startTime)", d.apiVersion, d.rootDir]))
        }
        for s in samples {
            let f = s.figures
            lines.append(fields([
                "build-cache", s.engine, Self.number(s.measuredAt), Self.number(s.seconds), "\(f.records)", "\(f.inUse)",
                "\(f.size)", "\(f.reclaimable)", "\(f.shared)",
            ]))
        }
        for x in failures { lines.append(fields(["refresh-failed", x.engine, Self.number(x.at), x.error])) }
        for c in clients {
            let b = c.binary
            lines.append(fields([
                "client", b.path, "\(b.device)", "\(b.inode)", "\(b.size)", "\(b.modified)", "\(b.changed)",
                Self.number(c.at), c.versionLine,
            ]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func fields(_ values: [String]) -> String { values.map(Ledger.escape).joined(separator: " ") }

    /// Seconds with millisecond precision.
    static func number(_ value: Double) -> String { String((value * 1000).rounded() / 1000) }
}
