import Glibc
import Foundation

/// Prometheus text-format metrics for node_exporter's textfile collector, computed from the journal.
///
/// Counters count what the journal (with its rotated files) holds, so they drop when the oldest rotated file is
/// dropped; Prometheus's `rate()`/`increase()` treat a drop as a counter reset.
package enum Metrics {
    /// The metrics text for the journal's contents. Pure.
    package static func render(_ contents: JournalContents) -> String {
        var tally = MetricsTally()
        for record in contents.records { tally.add(record) }
        tally.unparsable = contents.unparsable
        return render(tally)
    }

    static func render(_ tally: MetricsTally) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [([(String, String)], Double)]) {
            out += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples {
                let text = labels.isEmpty
                    ? "" : "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(text) \(number(value))\n"
            }
        }
        family(
            "safebuild_invocations_total", "counter", "Protected docker commands run by safebuild, by command and outcome.",
            tally.invocations.keys.sorted().flatMap { command in
                JournalOutcome.allCases.map { o in
                    ([("command", command), ("outcome", o.rawValue)], Double(tally.invocations[command]?[o.rawValue] ?? 0))
                }
            })
        family("safebuild_attempts_total", "counter", "Starts of docker for protected commands.", [([], Double(tally.attempts))])
        family("safebuild_retries_total", "counter", "Attempts after the first (retries).", [([], Double(tally.retries))])
        family(
            "safebuild_failures_total", "counter", "Failed attempts by failure class.",
            tally.failures.keys.sorted().map { ([("class", $0)], Double(tally.failures[$0]!)) })
        family(
            "safebuild_remedies_total", "counter",
            "Remedies considered between attempts, by remedy and result (ran, failed, skipped).",
            tally.remedies.keys.sorted().flatMap { name in
                tally.remedies[name]!.keys.sorted().map {
                    ([("remedy", name), ("result", $0)], Double(tally.remedies[name]![$0]!))
                }
            })
        family(
            "safebuild_reclaimed_bytes_total", "counter", "Bytes freed by remedies (build cache, images).",
            [([], Double(tally.reclaimedBytes))])
        if let preflight = tally.lastPreflight {
            let measured = preflight.filter { $0.measured != nil }
            family(
                "safebuild_preflight_measured", "gauge", "The last pre-flight measurement of each check, in its unit.",
                measured.map { ([("check", $0.check), ("unit", $0.unit ?? "")], $0.measured!) })
            let limits = preflight.filter { $0.limit != nil }
            family(
                "safebuild_preflight_limit", "gauge", "The policy threshold of each check at the last pre-flight, in its unit.",
                limits.map { ([("check", $0.check), ("unit", $0.unit ?? "")], $0.limit!) })
            if let t = tally.lastPreflightStarted.flatMap(JournalTime.parse) {
                family(
                    "safebuild_preflight_timestamp_seconds", "gauge", "When the last pre-flight ran (Unix time).", [([], t)])
            }
        }
        if let t = tally.lastInvocationEnded.flatMap(JournalTime.parse) {
            family(
                "safebuild_last_invocation_timestamp_seconds", "gauge", "When the last protected command ended (Unix time).",
                [([], t)])
        }
        family(
            "safebuild_journal_unparsable_lines", "gauge", "Lines of the journal that could not be read.",
            [([], Double(tally.unparsable))])
        return out
    }

    /// Reads the journal and writes its metrics to `metricsPath` atomically (a temporary file beside it, fsync,
    /// `renameat` over it, through a `CheckedDirectory`: a symlink planted at `metricsPath` is replaced, never
    /// followed), mode `SharedFiles.metricsFile` (0640, the host's group). Counts already made are kept in
    /// `metricsPath.cache` by file identity and offset, so each call reads only what was appended since the last one
    /// (rotation keeps a file's identity). Journal files are read only when they are regular files, never through a
    /// symlink. Returns nil, or why it failed (the caller warns once; a build never fails for it).
    package static func write(journalPath: String, to metricsPath: String, files: SharedFiles = .host()) -> String? {
        let metricsName = JournalWriter.fileName(of: metricsPath)
        let cacheName = metricsName + ".cache"
        let metricsDirectory: CheckedDirectory, journalDirectory: CheckedDirectory
        do {
            metricsDirectory = try CheckedDirectory.open(JournalWriter.parent(of: metricsPath))
            journalDirectory = try CheckedDirectory.open(JournalWriter.parent(of: journalPath))
        } catch {
            return error.description
        }
        let decoder = JSONDecoder()
        let cache = readAll(cacheName, in: metricsDirectory).flatMap { try? decoder.decode(MetricsCache.self, from: $0) }
        var fileEntries: [MetricsCache.File] = []
        var total = MetricsTally()
        let journalName = JournalWriter.fileName(of: journalPath)
        var rotated: [String] = []
        var n = 1
        while n <= 1000, journalDirectory.entry("\(journalName).\(n)") != nil {
            rotated.append("\(journalName).\(n)")
            n += 1
        }
        for name in rotated.reversed() + [journalName] {
            let fd: Int32
            do {
                fd = try journalDirectory.openForReading(name)
            } catch {
                if journalDirectory.entry(name) == nil { continue }
                // Not a regular file (a symlink, a FIFO someone put there): not the journal's, not counted.
                if error.reason == "not a regular file" || error.reason.hasPrefix("a symlink") { continue }
                return "cannot read the journal \(error)"
            }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                return "cannot read the journal \(journalDirectory.path)/\(name): \(JournalWriter.errorText())"
            }
            let head = MetricsCache.head(fd)
            // Inode numbers are reused: the file's first bytes must match too.
            var entry = cache?.files.first {
                $0.device == UInt64(st.st_dev) && $0.inode == UInt64(st.st_ino) && $0.head == head
            }
            if let e = entry, e.offset > Int64(st.st_size) { entry = nil }
            var file = entry
                ?? MetricsCache.File(
                    device: UInt64(st.st_dev), inode: UInt64(st.st_ino), head: head, offset: 0, tally: MetricsTally())
            if Int64(st.st_size) > file.offset {
                let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
                guard (try? handle.seek(toOffset: UInt64(file.offset))) != nil, let data = try? handle.readToEnd() else {
                    return "cannot read the journal \(journalDirectory.path)/\(name)"
                }
                // Only complete lines; a line being written is read next time.
                if let lastNewline = data.lastIndex(of: 10) {
                    let complete = data[data.startIndex...lastNewline]
                    var contents = JournalContents()
                    JournalReader.parse(Data(complete), into: &contents, decoder: decoder)
                    for record in contents.records { file.tally.add(record) }
                    file.tally.unparsable += contents.unparsable
                    file.offset += Int64(complete.count)
                }
            }
            total.merge(file.tally)
            fileEntries.append(file)
        }
        do {
            try metricsDirectory.replace(metricsName, with: Array(render(total).utf8), create: files.metricsFile)
        } catch {
            return error.description
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if let data = try? encoder.encode(MetricsCache(files: fileEntries)) {
            try? metricsDirectory.replace(cacheName, with: Array(data), create: files.metricsFile)
        }
        return nil
    }

    /// The whole regular file `name` of `directory` (at most 64 MiB), or nil.
    static func readAll(_ name: String, in directory: CheckedDirectory) -> Data? {
        guard let fd = try? directory.openForReading(name) else { return nil }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size <= 64 << 20 else { return nil }
        return try? handle.readToEnd()
    }

    /// Label values escape `\`, `"` and newline.
    static func escapeLabel(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// HELP text escapes `\` and newline.
    static func escapeHelp(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// The counts behind the metrics; adding records in journal order, merging in file order.
struct MetricsTally: Codable, Equatable {
    var invocations: [String: [String: Int]] = [:]
    var attempts = 0
    var retries = 0
    var failures: [String: Int] = [:]
    var remedies: [String: [String: Int]] = [:]
    var reclaimedBytes: Int64 = 0
    var lastPreflight: [JournalDecision]?
    var lastPreflightStarted: String?
    var lastInvocationEnded: String?
    var unparsable = 0

    mutating func add(_ record: JournalRecord) {
        switch record {
        case .invocation(let inv) where inv.outcome == .running:
            break  // counted when its final record is written
        case .invocation(let inv):
            invocations[inv.command, default: [:]][inv.outcome.rawValue, default: 0] += 1
            lastInvocationEnded = inv.ended
        case .attempt(let a):
            attempts += 1
            if a.attempt > 1 { retries += 1 }
            if let c = a.failureClass { failures[c, default: 0] += 1 }
            for r in a.remedies {
                remedies[r.name, default: [:]][!r.ran ? "skipped" : r.error == nil ? "ran" : "failed", default: 0] += 1
                if r.ran { reclaimedBytes += r.reclaimed }
            }
            if !a.preflight.isEmpty {
                lastPreflight = a.preflight
                lastPreflightStarted = a.started
            }
        case .remedy:
            // The attempt that asked for it counts the remedy already.
            break
        }
    }

    /// Adds `later`, which comes after this in the journal.
    mutating func merge(_ later: MetricsTally) {
        for (command, outcomes) in later.invocations {
            for (outcome, n) in outcomes { invocations[command, default: [:]][outcome, default: 0] += n }
        }
        attempts += later.attempts
        retries += later.retries
        for (c, n) in later.failures { failures[c, default: 0] += n }
        for (name, results) in later.remedies {
            for (result, n) in results { remedies[name, default: [:]][result, default: 0] += n }
        }
        reclaimedBytes += later.reclaimedBytes
        if later.lastPreflight != nil {
            lastPreflight = later.lastPreflight
            lastPreflightStarted = later.lastPreflightStarted
        }
        if later.lastInvocationEnded != nil { lastInvocationEnded = later.lastInvocationEnded }
        unparsable += later.unparsable
    }
}

/// What `Metrics.write` has already counted, per journal file (identified by device and inode, which rotation keeps).
struct MetricsCache: Codable {
    struct File: Codable {
        var device: UInt64
        var inode: UInt64
        /// FNV-1a of the file's first line (up to 4 kB), which holds an id and times of its own.
        var head: UInt64
        /// Bytes counted (always at a line boundary).
        var offset: Int64
        var tally: MetricsTally
    }

    var files: [File]

    static func head(_ fd: Int32) -> UInt64 {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = pread(fd, &buffer, buffer.count, 0)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in buffer.prefix(max(0, n)).prefix(while: { $0 != 10 }) {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}
