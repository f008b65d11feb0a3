/// The admission ledger's contents: the next ticket, the reservations, and the engine pools already detected (keyed
/// by their daemon's pid and start time, so that a command on a known engine needs no engine call). A small text
/// file, one record per line, every field percent-escaped so that no field holds a space or a newline:
///
///     safebuild-admission-ledger 1
///     next 43
///     engine PID START DRIVER VERSION ROOT PARENT PARENT_SOURCE DRIVER_SOURCE
///     entry TICKET PID START STATE BYTES SINCE UID POOL USER LABEL
///
/// Parsing is tolerant: a line it cannot read is dropped (the next write leaves it out), so a damaged file costs
/// at most the reservations on it. `LedgerFile` reads and writes it under flock.
package struct Ledger: Sendable, Equatable {
    package static let header = "safebuild-admission-ledger 1"

    package var next: UInt64 = 1
    package var entries: [LedgerEntry] = []
    package var engines: [EnginePool] = []

    package init(next: UInt64 = 1, entries: [LedgerEntry] = [], engines: [EnginePool] = []) {
        self.next = next
        self.entries = entries
        self.engines = engines
    }

    // MARK: Changes

    /// A new ticket, after every one handed out before.
    package mutating func issueTicket() -> UInt64 {
        let ticket = max(next, (entries.map(\.ticket).max() ?? 0) + 1)
        next = ticket + 1
        return ticket
    }

    /// Drops the entries and engines of processes that are gone (`alive` says), returning the dropped entries.
    @discardableResult
    package mutating func reclaim(alive: (ProcessIdentity) -> Bool) -> [LedgerEntry] {
        var gone: [LedgerEntry] = []
        var known: [ProcessIdentity: Bool] = [:]
        func check(_ p: ProcessIdentity) -> Bool {
            if let k = known[p] { return k }
            let a = alive(p)
            known[p] = a
            return a
        }
        entries.removeAll { entry in
            if check(entry.process) { return false }
            gone.append(entry)
            return true
        }
        engines.removeAll { engine in engine.daemon.map { !check($0) } ?? true }
        return gone
    }

    /// The entry of `process`, if it has one.
    package func entry(of process: ProcessIdentity) -> LedgerEntry? { entries.first { $0.process == process } }

    /// Sets `entry` (by its process), adding it when missing.
    package mutating func set(_ entry: LedgerEntry) {
        if let i = entries.firstIndex(where: { $0.process == entry.process }) {
            entries[i] = entry
        } else {
            entries.append(entry)
        }
    }

    /// Removes the entry of `process`.
    package mutating func remove(_ process: ProcessIdentity) { entries.removeAll { $0.process == process } }

    /// The pool detected for `daemon`, if any.
    package func engine(_ daemon: ProcessIdentity) -> EnginePool? { engines.first { $0.daemon == daemon } }

    /// Keeps `pool` for its daemon.
    package mutating func remember(_ pool: EnginePool) {
        guard let daemon = pool.daemon else { return }
        engines.removeAll { $0.daemon == daemon }
        engines.append(pool)
    }

    // MARK: Text

    package static func parse(_ text: String) -> Ledger {
        var ledger = Ledger()
        for line in text.utf8.split(separator: 10) {
            let f = line.split(separator: 32).map { unescape(Substring(String(decoding: $0, as: UTF8.self))) }
            guard let kind = f.first else { continue }
            switch kind {
            case "next" where f.count == 2:
                if let n = UInt64(f[1]) { ledger.next = n }
            case "engine" where f.count == 9:
                guard let pid = Int32(f[1]), let start = UInt64(f[2]), let driver = CgroupDriver(rawValue: f[3]),
                    let version = CgroupMembership.Version(rawValue: f[4])
                else { continue }
                ledger.engines.append(EnginePool(
                    daemon: ProcessIdentity(pid: pid, startTime: start), driver: driver, version: version, root: f[5],
                    parent: EngineCgroupParent(path: f[6], source: f[7]), driverSource: f[8]))
            case "entry" where f.count == 11:
                guard let ticket = UInt64(f[1]), let pid = Int32(f[2]), let start = UInt64(f[3]),
                    let state = LedgerEntry.State(rawValue: f[4]), let bytes = UInt64(f[5]), let since = Double(f[6]),
                    let uid = UInt32(f[7])
                else { continue }
                ledger.entries.append(LedgerEntry(
                    ticket: ticket, process: ProcessIdentity(pid: pid, startTime: start), state: state, bytes: bytes,
                    since: since, pool: f[8], uid: uid, user: f[9], label: f[10]))
            default:
                continue
            }
        }
        return ledger
    }

    package var text: String {
        var lines = [Self.header, "next \(next)"]
        for e in engines {
            guard let d = e.daemon else { continue }
            lines.append(["engine", "\(d.pid)", "\(d.startTime)", e.driver.rawValue, e.version.rawValue, e.root,
                          e.parent.path, e.parent.source, e.driverSource].map(Self.escape).joined(separator: " "))
        }
        for e in entries.sorted(by: { $0.ticket < $1.ticket }) {
            lines.append(["entry", "\(e.ticket)", "\(e.process.pid)", "\(e.process.startTime)", e.state.rawValue,
                          "\(e.bytes)", "\(e.since)", "\(e.uid)", e.pool, e.user, e.label].map(Self.escape).joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `%XX` for `%`, space and control characters (other bytes kept, UTF-8 included); `-` for the empty field
    /// (`%2D` for a field that is `-`).
    static func escape(_ field: String) -> String {
        if field.isEmpty { return "-" }
        if field == "-" { return "%2D" }
        var bytes: [UInt8] = []
        for byte in field.utf8 {
            if byte <= 0x20 || byte == 0x25 || byte == 0x7F {
                let hex = Array(String(byte, radix: 16, uppercase: true).utf8)
                bytes += [0x25] + (hex.count == 1 ? [0x30] : []) + hex
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func unescape(_ field: Substring) -> String {
        if field == "-" { return "" }
        guard field.contains("%") else { return String(field) }
        var bytes: [UInt8] = []
        let raw = Array(field.utf8)
        var i = 0
        while i < raw.count {
            if raw[i] == 0x25, i + 2 < raw.count, let b = UInt8(String(decoding: raw[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                bytes.append(b)
                i += 3
            } else {
                bytes.append(raw[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
