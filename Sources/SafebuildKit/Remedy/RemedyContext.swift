#if canImport(Glibc)
import Glibc
#endif

/// Every side effect a remedy has, behind one value, so that ladders are tested with a recording fake and no daemon.
public protocol RemedyContext {
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
    /// Whether safebuild runs as root (drop_caches and compact_memory need it).
    var isRoot: Bool { get }
}

/// An errno from a file operation, with its message.
public struct FileError: Error, Sendable, Equatable {
    public var errno: Int32
    public init(_ errno: Int32) { self.errno = errno }
    public var message: String { String(cString: strerror(errno)) }
}

/// The real context: docker through `Command`, /proc through open/read/write, sleeps that end on SIGINT/SIGTERM.
public struct LiveRemedyContext: RemedyContext {
    public var dockerPath: String
    public var globalFlags: [String]
    public var signals: SignalInbox?
    public var memAvailable: () -> UInt64?

    /// `memAvailable` defaults to MemAvailable from /proc/meminfo.
    public init(
        docker: String, globalFlags: [String], signals: SignalInbox? = nil,
        memAvailable: (() -> UInt64?)? = nil
    ) {
        self.dockerPath = docker
        self.globalFlags = globalFlags
        self.signals = signals
        self.memAvailable = memAvailable ?? { HostReader().memAvailable() }
    }

    public func docker(_ arguments: [String], timeout: Double) -> Command.Result? {
        try? Command(dockerPath, globalFlags + arguments, timeout: timeout).run()
    }

    public func readFile(_ path: String) -> Result<String, FileError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileError(errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while bytes.count < 1 << 20 {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(FileError(errno)) }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[..<n])
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    public func writeFile(_ path: String, _ contents: String) -> Result<Void, FileError> {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileError(errno)) }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return n == bytes.count ? .success(()) : .failure(FileError(n < 0 ? errno : EIO))
    }

    public func sync() { Glibc.sync() }

    public func sleep(seconds: Double) -> Int32? {
        if let signals { return signals.sleep(seconds: seconds) }
        var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var left = timespec()
        while nanosleep(&ts, &left) < 0 && errno == EINTR { ts = left }
        return nil
    }

    public func now() -> Double { Clock.now() }

    public func availableMemory() -> UInt64? { memAvailable() }

    public var isRoot: Bool { geteuid() == 0 }

}
