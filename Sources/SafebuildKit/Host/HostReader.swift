import Glibc

/// The edge: reads /proc and /sys and hands the text to the parsers. Paths are fields so tests can point elsewhere.
package struct HostReader: Sendable {
    package var proc = "/proc"
    package var cgroupRoot = "/sys/fs/cgroup"
    package var kmsg = "/dev/kmsg"

    package init() {}

    /// Reads a small file whole; nil when it does not exist (or cannot be read).
    package static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n > 0 {
                bytes.append(contentsOf: buffer[..<n])
            } else if n == 0 || errno != EINTR {
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// All /proc and cgroup probes (no engine). `oomSince` is a Unix time; nil skips the kernel log.
    package func gather(oomSince: Double?, daemonPID: Int32? = nil) -> HostFigures {
        var figures = HostFigures()
        func attempt<T>(_ body: () throws(ProbeError) -> T?) -> T? {
            do { return try body() } catch {
                figures.problems.append(error.description)
                return nil
            }
        }
        figures.memory = attempt { () throws(ProbeError) in
            guard let text = Self.read("\(proc)/meminfo") else { throw ProbeError("\(proc)/meminfo", "cannot be read") }
            return try MemInfo.parse(text, source: "\(proc)/meminfo")
        }
        if let text = Self.read("\(proc)/pressure/memory") {
            figures.pressureSupported = true
            figures.pressure = attempt { () throws(ProbeError) in try Pressure.parse(text, source: "\(proc)/pressure/memory") }
        }
        figures.buddy = attempt { () throws(ProbeError) in
            guard let text = Self.read("\(proc)/buddyinfo") else { return nil }
            return try BuddyInfo.parse(text, source: "\(proc)/buddyinfo")
        }
        figures.sysctls = attempt { () throws(ProbeError) in
            var files: [String: String] = [:]
            for name in VMSysctls.names { files[name] = Self.read("\(proc)/sys/vm/\(name)") }
            return try VMSysctls.parse(files)
        }
        figures.ownCgroup = attempt { () throws(ProbeError) in try cgroup(of: "self") }
        if let daemonPID {
            figures.daemonCgroup = attempt { () throws(ProbeError) in try cgroup(of: String(daemonPID)) }
        }
        if let oomSince {
            figures.oomKills = attempt { () throws(ProbeError) in try oomKills(since: oomSince) }
        }
        return figures
    }

    /// The memory cgroup of a process (`self` or a pid).
    package func cgroup(of process: String) throws(ProbeError) -> CgroupMemory? {
        let source = "\(proc)/\(process)/cgroup"
        guard let text = Self.read(source) else { return nil }
        let membership = try CgroupMembership.parse(text, source: source)
        let directory = membership.directory(root: cgroupRoot)
        var files: [String: String] = [:]
        for name in CgroupMemory.fileNames(membership.version) { files[name] = Self.read("\(directory)/\(name)") }
        return try CgroupMemory.parse(membership: membership, files: files, directory: directory)
    }

    /// Unix time of boot: now minus the monotonic clock the kernel log stamps records with.
    package static func bootTime() -> Double { Clock.wall() - Clock.now() }

    /// OOM kills since `since` (Unix time): `/dev/kmsg` read non-blocking, else `dmesg`.
    package func oomKills(since: Double) throws(ProbeError) -> [OOMKill] {
        Self.oomKills(in: try kernelRecords(), since: since)
    }

    /// The OOM kills among kernel log `records` since `since` (Unix time).
    package static func oomKills(in records: [KernelLog.Record], since: Double) -> [OOMKill] {
        KernelLog.oomKills(records, bootTime: bootTime()).filter { ($0.wallTime ?? .infinity) >= since }
    }

    /// The kernel log's records that hold one of `needles` (by default, the OOM killer's lines).
    func kernelRecords(matching needles: [String] = HostReader.needles) throws(ProbeError) -> [KernelLog.Record] {
        let fd = open(kmsg, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { return try dmesgRecords(matching: needles) }
        defer { close(fd) }
        var records: [KernelLog.Record] = []
        var buffer = [CChar](repeating: 0, count: 8193)
        while true {
            let n = Glibc.read(fd, &buffer, 8192)
            if n < 0 {
                if errno == EPIPE || errno == EINTR { continue }  // a record was overwritten: go on with the next
                break  // EAGAIN: no more records
            }
            if n == 0 { break }
            buffer[n] = 0
            guard Self.mentions(buffer, needles) else { continue }
            let text = buffer[..<n].withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            if let record = KernelLog.parseKmsgRecord(text[...]) { records.append(record) }
        }
        return records
    }

    /// MemAvailable from /proc/meminfo, nil when it cannot be read.
    package func memAvailable() -> UInt64? {
        Self.read(proc + "/meminfo").flatMap { try? MemInfo.parse($0).available }
    }

    static let needles = ["oom-kill:", "Killed process ", "Kill process "]

    /// Whether a NUL-terminated record holds one of `needles`, checked with strstr before any String is made (most
    /// of the kernel log is something else).
    static func mentions(_ record: UnsafePointer<CChar>, _ needles: [String]) -> Bool {
        needles.contains { strstr(record, $0) != nil }
    }

    func dmesgRecords(matching needles: [String] = HostReader.needles) throws(ProbeError) -> [KernelLog.Record] {
        let candidates: [String] = ["/usr/bin/dmesg", "/bin/dmesg"]
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw ProbeError(kmsg, "cannot be read (\(String(cString: strerror(errno)))) and no dmesg to fall back on")
        }
        let result: Command.Result
        do throws(SafebuildError) { result = try Command(path, [], timeout: 2).run() } catch {
            throw ProbeError("dmesg", error.message)
        }
        guard result.succeeded else {
            throw ProbeError("dmesg", "failed: \(result.stderr.split(separator: "\n").first ?? "timed out")")
        }
        return try KernelLog.records(result.stdout).filter { r in needles.contains { r.message.contains($0) } }
    }
}
