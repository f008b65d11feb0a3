
/// The remedies. None removes anything in use: docker's own prune commands keep cache records in use and images any
/// container (running or stopped) uses; the /proc writes only drop clean caches and move pages.
package struct Remedies {
    package var context: any RemedyContext
    package var settings: RemedySettings

    package init(context: any RemedyContext, settings: RemedySettings = RemedySettings()) {
        self.context = context
        self.settings = settings
    }

    /// Runs one remedy (not `raise_memory`, which rewrites argv: see `raiseMemory`).
    package func run(_ name: RemedyName) -> RemedyReport {
        let start = context.now()
        var report: RemedyReport
        switch name {
        case .pruneBuildCache: report = pruneBuildCache()
        case .pruneDanglingImages: report = pruneDanglingImages()
        case .dropCaches: report = dropCaches()
        case .compactMemory: report = compactMemory()
        case .waitForMemory: report = waitForMemory()
        case .freeDisk: report = freeDisk()
        case .raiseMemory: return .skip(.raiseMemory, "raise_memory rewrites the command line: the retry loop applies it")
        }
        report.duration = context.now() - start
        return report
    }

    // MARK: docker prunes

    func pruneBuildCache() -> RemedyReport {
        var arguments = ["builder", "prune", "-f"]
        if let keep = settings.keepStorage { arguments += ["--keep-storage", keep] }
        if let until = settings.pruneUntil { arguments += ["--filter", "until=\(until)"] }
        if settings.keepStorage == nil && settings.pruneUntil == nil {
            return .skip(.pruneBuildCache, "the policy sets neither keep_storage nor an age: nothing would be kept")
        }
        return prune(.pruneBuildCache, arguments, figure: "build_cache_bytes", type: "Build Cache")
    }

    func pruneDanglingImages() -> RemedyReport {
        prune(.pruneDanglingImages, ["image", "prune", "-f"], figure: "image_bytes", type: "Images")
    }

    private func prune(_ name: RemedyName, _ arguments: [String], figure: String, type: String) -> RemedyReport {
        var before: [String: Int64] = [:], after: [String: Int64] = [:]
        if let size = diskUsage(type) { before[figure] = size }
        guard let result = context.docker(arguments, timeout: 120) else {
            return .skip(name, "docker could not be started")
        }
        guard result.succeeded else {
            let why = result.stderr.split(separator: "\n").last.map(String.init) ?? "\(result.status.map { "\($0)" } ?? "timed out")"
            return RemedyReport(name: name, ran: false, skipped: "docker \(arguments.prefix(2).joined(separator: " ")) failed: \(why)")
        }
        if let size = diskUsage(type) { after[figure] = size }
        if let reclaimed = Self.reclaimed(result.stdout) { after["reclaimed_bytes"] = reclaimed }
        return RemedyReport(
            name: name, ran: true, detail: "docker " + arguments.joined(separator: " "), before: before, after: after)
    }

    // MARK: stepped prunes

    /// The ages free_disk prunes at, oldest first: the policy's age, then a quarter of it each step (in whole
    /// seconds), down to the floor, never below it.
    package static func pruneAges(from age: Double, floor: Double) -> [Double] {
        var ages: [Double] = []
        var next = max(age, floor)
        while next > floor {
            ages.append(next)
            next = (next / 4).rounded()
        }
        ages.append(floor)
        return ages
    }

    /// Prunes in steps until docker's data root has `freeDiskTarget` free (or max(1%, 64 MiB) of it): each step
    /// `docker image prune -f --filter until=AGE` (dangling images only: moby's ImagePrune keeps tagged images,
    /// and its ImageDelete refuses an image any container, running or stopped, uses) and `docker builder prune -f
    /// --filter until=AGE` (BuildKit skips records in use), the age going down to `prune_floor`, never below: a
    /// classic build's newest intermediate image is dangling until the build tags it, and the floor keeps those of
    /// builds still running. Each step's free space before and after is recorded.
    func freeDisk() -> RemedyReport {
        guard let start = context.dataRootFree() else {
            return .skip(.freeDisk, "the free space on docker's data root is not known here (not a local engine)")
        }
        let target = settings.freeDiskTarget ?? EvidenceJudgement.diskThreshold(total: start.total)
        let figure = JournalRemedy.Figure.diskFree
        var report = RemedyReport(name: .freeDisk, ran: true, before: [figure: Int64(start.free)], steps: [])
        var free = start.free
        var steps: [PruneStep] = []
        for age in Self.pruneAges(from: settings.pruneAge, floor: settings.pruneFloor) {
            if free >= target { break }
            let until = TimeSpan(seconds: age).description
            let began = context.now()
            var step = PruneStep(until: until, freeBeforeBytes: Int64(free))
            for (words, isImages) in [(["image", "prune", "-f"], true), (["builder", "prune", "-f"], false)] {
                let arguments = words + ["--filter", "until=\(until)"]
                guard let result = context.docker(arguments, timeout: 120) else {
                    step.error = "docker could not be started"
                    continue
                }
                guard result.succeeded else {
                    step.error = "docker \(words.prefix(2).joined(separator: " ")) failed: "
                        + (result.stderr.split(separator: "\n").last.map(String.init) ?? "timed out")
                    continue
                }
                let reclaimed = Self.reclaimed(result.stdout) ?? 0
                if isImages { step.imagesReclaimedBytes = reclaimed } else { step.cacheReclaimedBytes = reclaimed }
            }
            free = context.dataRootFree()?.free ?? free
            step.freeAfterBytes = Int64(free)
            step.seconds = context.now() - began
            steps.append(step)
        }
        report.steps = steps
        report.after[figure] = Int64(free)
        let reclaimed = steps.reduce(Int64(0)) { $0 + ($1.imagesReclaimedBytes ?? 0) + ($1.cacheReclaimedBytes ?? 0) }
        report.after["reclaimed_bytes"] = reclaimed
        let floor = TimeSpan(seconds: settings.pruneFloor).description
        if steps.isEmpty {
            report.detail = "already \(ByteSize.describe(free)) free, at least \(ByteSize.describe(target))"
        } else if free >= target {
            report.detail = "\(ByteSize.describe(free)) free after \(steps.count) step(s), at least \(ByteSize.describe(target))"
        } else {
            report.detail = "\(ByteSize.describe(free)) free, below \(ByteSize.describe(target)), with nothing older than \(floor) left to prune"
        }
        return report
    }

    /// The SIZE column of one row of `docker system df`.
    func diskUsage(_ type: String) -> Int64? {
        guard let result = context.docker(["system", "df", "--format", "{{.Type}}|{{.Size}}"], timeout: 30),
            result.succeeded
        else { return nil }
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: "|", maxSplits: 1)
            if parts.count == 2 && parts[0] == type { return Self.humanSize(String(parts[1])) }
        }
        return nil
    }

    /// `Total reclaimed space: 4.1MB` → bytes.
    static func reclaimed(_ output: String) -> Int64? {
        for line in output.split(separator: "\n") where line.hasPrefix("Total reclaimed space: ") {
            return humanSize(String(line.dropFirst("Total reclaimed space: ".count)))
        }
        return nil
    }

    /// docker's human sizes (units.HumanSize: decimal, `226B`, `2.582MB`, `1.3GB`) → bytes.
    static func humanSize(_ text: String) -> Int64? {
        let t = text.trimmingWhitespace()
        let digits = t.prefix { $0.isNumber || $0 == "." }
        guard let number = Double(digits) else { return nil }
        let unit = String(t.dropFirst(digits.count)).trimmingWhitespace().lowercased()
        let scale: Double
        switch unit {
        case "b", "": scale = 1
        case "kb": scale = 1e3
        case "mb": scale = 1e6
        case "gb": scale = 1e9
        case "tb": scale = 1e12
        case "pb": scale = 1e15
        default: return nil
        }
        return Int64((number * scale).rounded())
    }

    // MARK: /proc/sys/vm

    /// sync(), then "1" to drop_caches: the clean page cache only. Not "3": dentries and inodes (2) are what every
    /// layer lookup of a busy build host walks, costly to rebuild, and the kernel shrinks that slab under pressure
    /// anyway; the page cache is the bulk of what is reclaimable and what MemAvailable counts. Only when the host's
    /// figures say it can help (`RemedyNeed.dropCaches`), checked before asking for root and again by the privileged
    /// entry with the host's thresholds. Not root: through the privileged entry (`RemedyContext.runAsRoot`). Records
    /// the page cache and MemAvailable before and after, and what the sync and the drop each took.
    func dropCaches() -> RemedyReport {
        let info = memInfo()
        let because: String
        switch RemedyNeed.dropCaches(info, settings: settings) {
        case .notNeeded(let why): return .skip(.dropCaches, why)
        case .needed(let why): because = why
        }
        guard context.isRoot else { return context.runAsRoot(.dropCaches) }
        var before: [String: Int64] = [:], after: [String: Int64] = [:]
        if let info { before[Self.cachedFigure] = Int64(clamping: info.cached) }
        if let m = context.availableMemory() { before[JournalRemedy.Figure.memAvailable] = Int64(clamping: m) }
        let started = context.now()
        context.sync()
        let synced = context.now()
        if case .failure(let e) = context.writeFile("/proc/sys/vm/drop_caches", "1") {
            return .skip(.dropCaches, "cannot write /proc/sys/vm/drop_caches: \(e.message)")
        }
        let dropped = context.now()
        if let m = context.availableMemory() { after[JournalRemedy.Figure.memAvailable] = Int64(clamping: m) }
        if let info = memInfo() { after[Self.cachedFigure] = Int64(clamping: info.cached) }
        after["sync_milliseconds"] = Self.milliseconds(synced - started)
        after["drop_milliseconds"] = Self.milliseconds(dropped - synced)
        var report = RemedyReport(
            name: .dropCaches, ran: true, detail: "sync; echo 1 > /proc/sys/vm/drop_caches", before: before, after: after)
        report.because = because
        return report
    }

    /// The page cache figure of drop_caches (`Cached` of /proc/meminfo).
    package static let cachedFigure = "page_cache_bytes"

    static func milliseconds(_ seconds: Double) -> Int64 { Int64((max(0, seconds) * 1000).rounded()) }

    /// /proc/meminfo through the context; nil when it cannot be read or parsed.
    func memInfo() -> MemInfo? {
        guard case .success(let text) = context.readFile(MemInfo.path) else { return nil }
        return try? MemInfo.parse(text)
    }

    /// "1" to compact_memory, only when memory is fragmented (`RemedyNeed.compactMemory`); records the free memory in
    /// blocks of 32 KiB and up before and after.
    func compactMemory() -> RemedyReport {
        let free = highOrderFree()
        let because: String
        switch RemedyNeed.compactMemory(highOrderFree: free, settings: settings) {
        case .notNeeded(let why): return .skip(.compactMemory, why)
        case .needed(let why): because = why
        }
        guard context.isRoot else { return context.runAsRoot(.compactMemory) }
        var before: [String: Int64] = [:], after: [String: Int64] = [:]
        if let free { before["high_order_free_bytes"] = free }
        if case .failure(let e) = context.writeFile("/proc/sys/vm/compact_memory", "1") {
            return .skip(.compactMemory, "cannot write /proc/sys/vm/compact_memory: \(e.message)")
        }
        if let b = highOrderFree() { after["high_order_free_bytes"] = b }
        var report = RemedyReport(
            name: .compactMemory, ran: true, detail: "echo 1 > /proc/sys/vm/compact_memory", before: before, after: after)
        report.because = because
        return report
    }

    /// Free memory in blocks of order 3 (32 KiB) and up, from /proc/buddyinfo: what compaction creates.
    func highOrderFree() -> Int64? {
        guard case .success(let text) = context.readFile("/proc/buddyinfo") else { return nil }
        return Self.highOrderFree(buddyinfo: text, minimumOrder: 3, pageSize: 4096)
    }

    static func highOrderFree(buddyinfo: String, minimumOrder: Int, pageSize: Int64) -> Int64? {
        var total: Int64 = 0
        var any = false
        for line in buddyinfo.split(separator: "\n") {
            // "Node 0, zone   Normal   c0 c1 … c10"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let zone = fields.firstIndex(of: "zone"), fields.count > zone + 2 else { continue }
            for (order, field) in fields[(zone + 2)...].enumerated() where order >= minimumOrder {
                guard let count = Int64(field) else { continue }
                total += count << Int64(order) * pageSize
                any = true
            }
        }
        return any ? total : nil
    }

    // MARK: waiting

    /// Waits until MemAvailable reaches the policy's figure, at most `waitTimeout` seconds, saying so on stderr when it
    /// starts (`AdmissionProgress`: on a terminal one line with the seconds, in a log one line); a termination signal
    /// ends the wait at once (`interruptedBy`, and `detail` says what it waited for).
    func waitForMemory() -> RemedyReport {
        guard let first = context.availableMemory() else {
            return .skip(.waitForMemory, "MemAvailable is not known on this host")
        }
        let target = settings.waitForAvailable
        var report = RemedyReport(name: .waitForMemory, ran: true, before: ["mem_available_bytes": Int64(first)])
        if first >= target {
            report.detail = "already \(first >> 20) MiB available (target \(target >> 20) MiB)"
            report.after = report.before
            return report
        }
        let what = Self.waitingFor(target: target)
        let sentence = "waiting for \(what), \(AdmissionProgress.bytes(first)) available now; at most "
            + "\(ConsoleReport.seconds(settings.waitTimeout)), Ctrl-C or SIGTERM ends the wait"
        var progress = AdmissionProgress(terminal: context.stderrIsTerminal)
        let started = context.now()
        let deadline = started + settings.waitTimeout
        var available = first
        while available < target {
            let now = context.now()
            if let text = progress.waiting(sentence, elapsed: now - started, now: now) { context.progress(text) }
            let left = deadline - now
            if left <= 0 {
                report.detail = "timed out after \(Int(settings.waitTimeout)) s below \(target >> 20) MiB"
                break
            }
            if let signal = context.sleep(seconds: min(settings.pollInterval, left)) {
                report.interruptedBy = signal
                report.detail = "interrupted by \(ConsoleReport.signalName(signal)) while waiting for \(what), "
                    + "\(AdmissionProgress.bytes(available)) available after \(ConsoleReport.seconds(context.now() - started))"
                break
            }
            available = context.availableMemory() ?? available
        }
        if let text = progress.done(nil) { context.progress(text) }
        if available >= target { report.detail = "recovered to \(available >> 20) MiB" }
        report.after["mem_available_bytes"] = Int64(available)
        return report
    }

    /// What wait_for_memory waits for: `MemAvailable to reach 7.6 GiB (wait_for_memory)`.
    static func waitingFor(target: UInt64) -> String {
        "MemAvailable to reach \(AdmissionProgress.bytes(target)) (wait_for_memory)"
    }

    // MARK: raising the limit

    /// The `-m` value for the next attempt of an OOM-killed build or run, and the report. `current` is the value the
    /// failed attempt had (`512m`); nil when there was none (then the host, not a limit, ran out: nothing to raise).
    package static func raiseMemory(current: String?, settings: RemedySettings) -> (report: RemedyReport, value: String?) {
        guard let current else {
            return (.skip(.raiseMemory, "the attempt had no memory limit to raise"), nil)
        }
        guard let bytes = Size.bytes(current) else {
            return (.skip(.raiseMemory, "cannot read the memory limit \(current)"), nil)
        }
        guard let next = MemoryLimit.raised(current: bytes, factor: settings.raiseFactor, cap: settings.raiseCap) else {
            return (.skip(.raiseMemory, "the limit \(current) is already at the policy's cap \(Size.format(settings.raiseCap))"), nil)
        }
        let value = Size.format(next)
        let report = RemedyReport(
            name: .raiseMemory, ran: true, detail: "-m \(current) → -m \(value)",
            before: ["memory_limit_bytes": Int64(bytes)], after: ["memory_limit_bytes": Int64(next)])
        return (report, value)
    }
}
