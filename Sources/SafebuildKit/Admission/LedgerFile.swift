import Glibc

/// The admission ledger on disk: `admission.ledger` in safebuild's runtime state directory, opened as the other
/// runtime files are (`RuntimeState`: host-wide `root:GROUP 0660`, owner and mode checked, no symlink followed; a
/// member who cannot use it falls back to a directory of its own, with one warning), read and rewritten
/// whole under `flock(LOCK_EX)`. Every reader first drops the reservations of processes that are gone, so a
/// SIGKILLed safebuild frees its share at the next look. A wait for the lock ends at once on SIGINT or SIGTERM, and
/// says on stderr what it waits for when it lasts over a second (the lock is held for microseconds).
package final class LedgerFile {
    package static let name = "admission.ledger"
    /// Where the ledger was opened: host-wide, or the per-user fallback.
    package let path: String
    let fd: Int32
    /// Whether a process still runs (tests replace it).
    package var alive: (ProcessIdentity) -> Bool = { $0.isAlive() }

    package enum Failure: Error, Sendable, Equatable {
        /// The file or its directory cannot be used, and why.
        case file(FileSafetyError)
        /// A termination signal arrived while waiting for the lock.
        case interrupted(Int32)

        package var message: String {
            switch self {
            case .file(let error): return error.description
            case .interrupted(let signal):
                return "interrupted by \(ConsoleReport.signalName(signal)) while waiting for the lock of the admission ledger"
            }
        }
    }

    /// Opens the ledger of the runtime state directory `directory` (`RuntimeState.open`).
    package convenience init(directory: String, files: SharedFiles = .host(), environment: [String: String] = [:])
        throws(FileSafetyError)
    {
        try self.init(state: RuntimeState(directory: directory, files: files, environment: environment))
    }

    package init(state: RuntimeState) throws(FileSafetyError) {
        let opened = try state.open(Self.name).get()
        fd = opened.fd
        path = opened.path
    }

    deinit { close(fd) }

    /// Reads the ledger with the lock held, drops the reservations of processes that are gone, lets `body` change
    /// it, and writes it back when it changed. With `signals`, a wait for the lock ends on a termination signal;
    /// without, it gives up after `lockTimeout` seconds.
    package func update<T>(
        signals: SignalInbox?, lockTimeout: Double = 2, _ body: (inout Ledger) -> T
    ) throws(Failure) -> T {
        try lock(signals: signals, timeout: lockTimeout)
        defer { flock(fd, LOCK_UN) }
        let original = readText()
        var ledger = Ledger.parse(original)
        ledger.reclaim(alive: alive)
        let result = body(&ledger)
        let text = ledger.text
        if text != original { write(text) }
        return result
    }

    /// The ledger as the file holds it now, read without the lock (for the engine cache: a torn read is a miss).
    package func peek() -> Ledger { Ledger.parse(readText()) }

    /// The ledger as it is (after reclaiming), for doctor and tests.
    package func read(signals: SignalInbox? = nil) throws(Failure) -> Ledger {
        try update(signals: signals) { $0 }
    }

    /// Takes the lock, polling every 2 ms (it is held for microseconds). With `signals` the poll sleeps on the
    /// signalfd and a termination signal ends it at once; without, it gives up after `timeout` seconds. A wait over a
    /// second says on stderr what it waits for and who holds the lock.
    func lock(signals: SignalInbox?, timeout: Double) throws(Failure) {
        let started = Clock.now()
        var said = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw .file(FileSafetyError(path: path, reason: "cannot lock: \(String(cString: strerror(errno)))"))
            }
            if let signals {
                if let signal = signals.sleep(seconds: 0.002) { throw .interrupted(signal) }
            } else {
                if Clock.now() - started > timeout {
                    throw .file(FileSafetyError(path: path, reason: "another process held its lock for over \(Int(timeout)) s"))
                }
                var ts = timespec(tv_sec: 0, tv_nsec: 2_000_000)
                nanosleep(&ts, nil)
            }
            if !said, Clock.now() - started > 1 {
                said = true
                let who = HostLock.holder(of: fd).map { "held by \($0)" } ?? "held by another process"
                let ends = signals == nil ? "at most \(Int(timeout)) s" : "Ctrl-C or SIGTERM ends the wait"
                Console.say("waiting for the lock of the admission ledger \(path), \(who); \(ends)")
            }
        }
    }

    /// The whole file (bounded at 1 MiB: a ledger is a few lines per running command).
    func readText() -> String { StateFileText.read(fd, limit: 1 << 20) }

    func write(_ text: String) { StateFileText.replace(fd, with: text) }
}
