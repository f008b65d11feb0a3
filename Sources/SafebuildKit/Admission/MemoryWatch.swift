import Glibc

/// Follows the memory cgroups of one attempt's containers while docker runs, and the engine's pool around them:
/// the figures `AttemptMemory` records. A container's cgroup disappears as soon as it stops, so it is read on every
/// tick of the supervision loop (every 100 ms) and the last reading stands.
///
/// The supervision loop hands it the containers as it learns them (`observe(container:)`); the watch reads no file
/// of docker's and no output line itself:
/// - `run`: the container named by the attempt's `--cidfile`, once docker has written it (`CIDFileFollower`, its one
///   reader);
/// - classic build: each RUN step's container, named by the ` ---> Running in ID` line the builder prints
///   (`DockerExit.buildContainer`); `build -q` prints none, so its steps are not measured.
/// - BuildKit: nothing. Its steps run in `/docker/buildkit/ID` (docker 20.10's embedded BuildKit ignores
///   `--cgroup-parent`) and the build's output does not name them, so they cannot be told from another build's.
package final class MemoryWatch {
    struct Watched {
        /// The id as seen (a build prints 12 characters), and the cgroup directory once found.
        var id: String
        var directory: String?
        var cgroupPath: String?
        var last: CgroupCounters?
        var peak: UInt64 = 0
    }

    let pool: EnginePool
    let poolLimit: UInt64?
    let notMeasured: String?
    var watched: [Watched] = []
    var poolBefore: CgroupCounters?
    var poolPeak: UInt64 = 0
    var ticks = 0

    /// - Parameters:
    ///   - poolLimit: the smallest limit on the pool's path (the budget's `cgroupLimit`).
    ///   - notMeasured: why this attempt's containers cannot be followed (BuildKit, `build -q`), if so.
    package init(pool: EnginePool, poolLimit: UInt64?, notMeasured: String?) {
        self.pool = pool
        self.poolLimit = poolLimit
        self.notMeasured = notMeasured
        poolBefore = CgroupCounters.read(pool.directory, version: pool.version)
    }

    /// The cgroup paths of the containers found (as the kernel log names them: `/sbbench/ID`).
    package var cgroupPaths: [String] { watched.compactMap(\.cgroupPath) }

    /// One of the attempt's containers: a run's full id, or a build step's id as printed (12 characters).
    package func observe(container id: String) {
        if !watched.contains(where: { $0.id == id }) { watched.append(Watched(id: id)) }
    }

    /// One reading of every container found so far and of the pool.
    package func tick() {
        ticks += 1
        for i in watched.indices {
            if watched[i].directory == nil { locate(&watched[i]) }
            guard let directory = watched[i].directory,
                let counters = CgroupCounters.read(directory, version: pool.version)
            else { continue }
            watched[i].last = counters
            watched[i].peak = max(watched[i].peak, counters.peak ?? 0, counters.usage ?? 0)
        }
        if let usage = CgroupCounters.read(pool.directory, version: pool.version)?.usage {
            poolPeak = max(poolPeak, usage)
        }
    }

    /// The figures of the attempt, after a last reading.
    package func finish() -> AttemptMemory {
        tick()
        let poolAfter = CgroupCounters.read(pool.directory, version: pool.version)
        let seen = watched.filter { $0.last != nil }
        var memory = AttemptMemory(pool: pool.parent.path, containers: seen.count)
        if !seen.isEmpty {
            memory.peakBytes = seen.map(\.peak).max()
            memory.limitBytes = seen.compactMap { $0.last?.limit }.max()
            memory.oomKills = seen.reduce(UInt64(0)) { $0 + ($1.last?.oomKills ?? 0) }
            let hits = seen.compactMap { $0.last?.limitHits }
            memory.limitHits = hits.isEmpty ? nil : hits.reduce(0, +)
        }
        func rise(_ key: KeyPath<CgroupCounters, UInt64?>) -> UInt64? {
            guard let before = poolBefore?[keyPath: key], let after = poolAfter?[keyPath: key] else { return nil }
            return after > before ? after - before : 0
        }
        memory.poolOOMKills = rise(\.oomKills)
        memory.poolLimitHits = rise(\.limitHits)
        memory.poolPeakBytes = poolPeak > 0 ? poolPeak : nil
        memory.poolLimitBytes = poolLimit
        if let notMeasured {
            memory.notMeasured = notMeasured
        } else if seen.isEmpty {
            memory.notMeasured = watched.isEmpty
                ? "no container of this attempt was seen"
                : "the container's cgroup was gone before it could be read (it ran under 100 ms)"
        }
        return memory
    }

    /// Finds a container's cgroup directory: directly from a full id, else by listing the pool's directory for the
    /// entry that starts with the short id.
    func locate(_ w: inout Watched) {
        if w.id.count == 64 {
            let directory = pool.containerDirectory(id: w.id)
            if access(directory, F_OK) == 0 { found(&w, directory: directory, id: w.id) }
            return
        }
        guard let dir = opendir(pool.directory) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let id = pool.containerID(inEntry: name), id.hasPrefix(w.id) else { continue }
            found(&w, directory: pool.directory + "/" + name, id: id)
            return
        }
    }

    func found(_ w: inout Watched, directory: String, id: String) {
        w.directory = directory
        let name = pool.containerDirectoryName(id: id)
        w.cgroupPath = (pool.parent.path == "/" ? "" : pool.parent.path) + "/" + name
    }
}
