import Glibc

/// The engine state on disk: `engine.state` in safebuild's runtime state directory, opened as the other runtime
/// files are (`RuntimeState`: host-wide `root:GROUP 0660`, owner and mode checked, no symlink followed; a member who
/// cannot use it falls back to a directory of its own). Read without a lock (a torn read is a miss: one engine call);
/// written whole, only by the process that holds its `flock`, which it never waits for: the lock is also the right to
/// refresh a build-cache figure, and whoever holds it may hold it for as long as the engine takes to answer.
package final class EngineStateFile {
    package static let name = "engine.state"
    /// The largest state file read: a few lines per engine.
    static let limit = 1 << 20

    package let path: String
    package let fd: Int32
    /// The lock was handed to a background refresher (which shares this open file, and so its lock): from then on
    /// this process neither takes nor releases it.
    package private(set) var handedOff = false

    package init(state: RuntimeState) throws(FileSafetyError) {
        let opened = try state.open(Self.name).get()
        fd = opened.fd
        path = opened.path
    }

    /// The descriptor a refresher was started with (its parent took the lock on it).
    package init(adopting fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// The state as the file holds it now, read without the lock.
    package func peek() -> EngineState { EngineState.parse(readText()) }

    /// Takes the lock if nobody holds it; false at once when another process does.
    package func tryLock() -> Bool {
        guard !handedOff else { return false }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno != EINTR { return false }
        }
        return true
    }

    package func unlock() {
        guard !handedOff else { return }
        flock(fd, LOCK_UN)
    }

    /// With the lock held and passed to a child: never released here (closing this descriptor leaves it to the child).
    package func handOff() { handedOff = true }

    /// With the lock held: reads the state, lets `body` change it, and writes it back when it changed.
    package func rewrite(now: Double = Clock.wall(), _ body: (inout EngineState) -> Void) {
        let original = readText()
        var state = EngineState.parse(original)
        state.reclaim(now: now) { $0.isAlive() }
        body(&state)
        let text = state.text
        if text != original { write(text) }
    }

    /// `rewrite` when the lock is free; false (nothing written) while another process holds it.
    @discardableResult
    package func updateIfFree(now: Double = Clock.wall(), _ body: (inout EngineState) -> Void) -> Bool {
        guard tryLock() else { return false }
        defer { unlock() }
        rewrite(now: now, body)
        return true
    }

    func readText() -> String { StateFileText.read(fd, limit: Self.limit) }

    func write(_ text: String) { StateFileText.replace(fd, with: text) }
}
