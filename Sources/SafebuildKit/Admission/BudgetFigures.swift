import Glibc

/// What `safebuild doctor` shows of memory admission: the budget and where it came from, the pool the engine's
/// containers share, what it holds now, and the ledger's reservations.
package struct BudgetFigures: Codable, Sendable, Equatable {
    /// `admission.enabled`.
    package var enabled: Bool
    package var budget: MemoryBudget?
    package var pool: EnginePool?
    /// Whether the pool came from the ledger's cache (no engine call).
    package var cached: Bool
    /// What the budget really holds now (`MemoryBudget.used`).
    package var usedBytes: UInt64?
    package var running: Int
    package var waiting: Int
    package var reservedBytes: UInt64
    /// The ledger file.
    package var ledger: String?
    /// Why a part could not be measured.
    package var problem: String?

    enum CodingKeys: String, CodingKey {
        case enabled, budget, pool, cached, usedBytes = "used_bytes", running, waiting, reservedBytes = "reserved_bytes"
        case ledger, problem
    }

    package init(
        enabled: Bool, budget: MemoryBudget? = nil, pool: EnginePool? = nil, cached: Bool = false,
        usedBytes: UInt64? = nil, running: Int = 0, waiting: Int = 0, reservedBytes: UInt64 = 0, ledger: String? = nil,
        problem: String? = nil
    ) {
        self.enabled = enabled
        self.budget = budget
        self.pool = pool
        self.cached = cached
        self.usedBytes = usedBytes
        self.running = running
        self.waiting = waiting
        self.reservedBytes = reservedBytes
        self.ledger = ledger
        self.problem = problem
    }

    /// Measures them for the engine at `socketPath` (nil: not a local engine) under `settings`.
    package static func measure(
        socketPath: String?, settings: AdmissionSettings, memTotal: UInt64, timeout: Double
    ) -> BudgetFigures {
        var figures = BudgetFigures(enabled: settings.enabled)
        guard let socketPath else {
            figures.problem = "the engine is not on a local unix socket: admission has no budget for it"
            return figures
        }
        let reader = EnginePoolReader()
        let daemon = reader.daemon(socketPath: socketPath)
        var ledger: LedgerFile?
        do throws(FileSafetyError) {
            ledger = try LedgerFile(
                directory: settings.stateDirectory, files: settings.files, environment: settings.runtimeEnvironment)
            figures.ledger = ledger?.path
        } catch {
            figures.problem = "the admission ledger cannot be used: \(error)"
        }
        var contents: Ledger?
        if let ledger { contents = try? ledger.read() }
        if let daemon, let cached = contents?.engine(daemon) {
            figures.pool = cached
            figures.cached = true
        } else {
            figures.pool = reader.detect(socketPath: socketPath, daemon: daemon, timeout: timeout)
        }
        guard let pool = figures.pool else {
            figures.problem = figures.problem ?? "no memory cgroup hierarchy is mounted"
            return figures
        }
        let override = settings.budget.map { ($0, settings.budgetText ?? Size.format($0)) }
        let budget = reader.budget(
            pool, memTotal: memTotal, reserve: (settings.hostReserve, settings.hostReserveText), override: override)
        figures.budget = budget
        figures.usedBytes = budget.used(poolUsage: reader.poolUsage(pool), memAvailable: reader.memAvailable())
        let mine = contents?.entries.filter { $0.pool == pool.directory } ?? []
        figures.running = mine.filter { $0.state == .running }.count
        figures.waiting = mine.filter { $0.state == .waiting }.count
        figures.reservedBytes = mine.filter { $0.state == .running }.reduce(0) { $0 + $1.bytes }
        return figures
    }

    /// `safebuild doctor`'s finding.
    package var finding: Doctor.Finding {
        let d = ByteSize.describe
        guard let budget, let pool else {
            return Doctor.Finding(
                "memory-budget", enabled ? .warning : .ok, "no memory budget: \(problem ?? "unknown")",
                fix: enabled ? "memory admission is skipped for this engine; see docs/admission.md" : nil)
        }
        var text = "\(d(budget.bytes)) for containers, from the \(budget.source)"
        if budget.origin != .host { text += " (host memory less host_reserve: \(d(budget.hostShare)))" }
        if budget.origin != .cgroup, let limit = budget.cgroupLimit, let path = budget.cgroupLimitPath {
            text += " (cgroup \(path) limit: \(d(limit)))"
        }
        text += "; containers go under \(pool.parent.path) (\(pool.parent.source); \(pool.driver.rawValue) driver, cgroup \(pool.version.rawValue), \(pool.driverSource)\(cached ? ", cached in the ledger" : ""))"
        if let usedBytes { text += "; in use now \(d(usedBytes))" }
        text += "; reservations: \(running) running (\(d(reservedBytes))), \(waiting) waiting"
        if let ledger { text += " in \(ledger)" }
        if !enabled { text += "; admission is off (admission.enabled: false)" }
        if let problem {
            return Doctor.Finding(
                "memory-budget", enabled ? .warning : .ok, text + "; " + problem,
                fix: "safebuild needs to read and write its state directory (remedies.lock_dir) to admit commands")
        }
        return Doctor.Finding("memory-budget", .ok, text)
    }
}
