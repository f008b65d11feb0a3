import Glibc

/// Every side effect a remedy has, behind one value, so that ladders are tested with a recording fake and no daemon.
package protocol RemedyContext {
    /// Runs `docker ARGUMENTS` (with the user's global flags) to its end; nil when docker could not be started.
    func docker(_ arguments: [String], timeout: Double) -> Command.Result?
    /// Reads a small file (/proc); on failure, the errno.
    func readFile(_ path: String) -> Result<String, FileError>
    /// Writes `contents` to an existing file (/proc/sys); on failure, the errno.
    func writeFile(_ path: String, _ contents: String) -> Result<Void, FileError>
    /// sync(2).
    func sync()
    /// Sleeps up to `seconds`; returns the termination signal (SIGINT, SIGTERM, …) if one ended the sleep early.
    func sleep(seconds: Double) -> Int32?
    /// Monotonic seconds.
    func now() -> Double
    /// MemAvailable in bytes, if known.
    func availableMemory() -> UInt64?
    /// Free and total bytes of the file system holding docker's data root; nil when not known (a remote engine).
    func dataRootFree() -> (free: UInt64, total: UInt64)?
    /// Whether safebuild runs as root (drop_caches and compact_memory need it).
    var isRoot: Bool { get }
    /// Runs a remedy that needs root through the privileged entry (`sudo -n safebuild remedy NAME`), for a safebuild
    /// that is not root; a skip saying how to allow it when no sudoers rule does.
    func runAsRoot(_ name: RemedyName) -> RemedyReport
    /// Writes a wait's progress (`AdmissionProgress`'s bytes) on stderr as given; nothing under `--sb-quiet`.
    func progress(_ text: String)
    /// Whether stderr is a terminal: a wait's progress is then one line rewritten in place.
    var stderrIsTerminal: Bool { get }
}

extension RemedyContext {
    /// Says nothing (a fake that does not look at progress).
    package func progress(_ text: String) {}
    package var stderrIsTerminal: Bool { false }
}
