
/// Parses the OOM killer's lines out of the kernel log, either `/dev/kmsg` records (`pri,seq,usec,flags;message`,
/// Documentation/ABI/testing/dev-kmsg) or `dmesg` lines (`[ 4457.894765] message`).
package enum KernelLog {
    package struct Record: Sendable, Equatable {
        package var sinceBoot: Double
        package var message: Substring
    }

    /// Cheap filter: the message is one of the OOM killer's lines.
    static func interesting(_ message: Substring) -> Bool {
        message.hasPrefix("oom-kill:") || message.contains("Killed process") || message.contains("Kill process")
    }

    /// One `/dev/kmsg` record (continuation lines starting with a space are ignored).
    package static func parseKmsgRecord(_ text: Substring) -> Record? {
        guard let semicolon = text.firstIndex(of: ";") else { return nil }
        let prefix = text[..<semicolon].split(separator: ",")
        guard prefix.count >= 4, Int(prefix[0]) != nil, let usec = UInt64(prefix[2]) else { return nil }
        var message = text[text.index(after: semicolon)...]
        if let newline = message.firstIndex(of: "\n") { message = message[..<newline] }
        return Record(sinceBoot: Double(usec) / 1e6, message: message)
    }

    /// One `dmesg` line.
    package static func parseDmesgLine(_ line: Substring) -> Record? {
        guard line.first == "[", let close = line.firstIndex(of: "]") else { return nil }
        let stamp = line[line.index(after: line.startIndex)..<close].trimmingSpaces
        guard let seconds = Double(stamp) else { return nil }
        var message = line[line.index(after: close)...]
        if message.first == " " { message = message.dropFirst() }
        return Record(sinceBoot: seconds, message: message)
    }

    /// Records from a captured `/dev/kmsg` dump (one record per line) or `dmesg` output.
    package static func records(_ text: String) throws(ProbeError) -> [Record] {
        var out: [Record] = []
        var sawAny = false
        for line in text.split(separator: "\n") where !line.hasPrefix(" ") {
            sawAny = true
            if let record = line.first == "[" ? parseDmesgLine(line) : parseKmsgRecord(line) { out.append(record) }
        }
        if sawAny && out.isEmpty { throw ProbeError("kernel log", "no line in kmsg (pri,seq,usec,flags;) or dmesg ([ seconds]) form") }
        return out
    }

    /// The OOM kills in `records`, oldest first. `bootTime` is the Unix time of boot, for wall-clock times.
    package static func oomKills(_ records: [Record], bootTime: Double?) -> [OOMKill] {
        var pending: [Int: (cgroup: String?, killedMemcg: Bool, limitCgroup: String?)] = [:]
        var kills: [OOMKill] = []
        for record in records {
            let message = record.message
            if message.hasPrefix("oom-kill:") {
                var fields: [Substring: Substring] = [:]
                for part in message.dropFirst("oom-kill:".count).split(separator: ",") {
                    if let eq = part.firstIndex(of: "=") { fields[part[..<eq]] = part[part.index(after: eq)...] }
                }
                if let pidText = fields["pid"], let pid = Int(pidText) {
                    pending[pid] = (
                        fields["task_memcg"].map(String.init), fields["constraint"] == "CONSTRAINT_MEMCG",
                        fields["oom_memcg"].map(String.init)
                    )
                }
                continue
            }
            guard let kill = parseKilled(message) else { continue }
            // Kernels before 4.19 print "Kill process N (comm) score … or sacrifice child" and then "Killed process N
            // (comm) total-vm:…" for the same kill: keep one, with the details of the second.
            if let last = kills.last, last.pid == kill.pid, record.sinceBoot - last.sinceBoot < 5 {
                kills[kills.count - 1].anonRSS = kill.anonRSS ?? last.anonRSS
                continue
            }
            let detail = pending.removeValue(forKey: kill.pid)
            let cgroup = detail?.cgroup
            kills.append(OOMKill(
                pid: kill.pid, process: kill.process,
                cgroupLimit: kill.memcg || (detail?.killedMemcg ?? false), cgroup: cgroup, limitCgroup: detail?.limitCgroup,
                containerID: cgroup.flatMap(containerID(inCgroup:)), sinceBoot: record.sinceBoot,
                wallTime: bootTime.map { $0 + record.sinceBoot }, anonRSS: kill.anonRSS))
        }
        return kills
    }

    /// `Memory cgroup out of memory: Killed process 6166 (sh) total-vm:14564kB, anon-rss:7816kB, …`
    /// (also the older `Kill process N (comm) score …` and the global `Out of memory: Killed process …`).
    static func parseKilled(_ message: Substring) -> (pid: Int, process: String, memcg: Bool, anonRSS: UInt64?)? {
        let marker: String
        if message.contains("Killed process ") { marker = "Killed process " } else if message.contains("Kill process ") {
            marker = "Kill process "
        } else { return nil }
        guard let range = message.firstRange(of: marker) else { return nil }
        let rest = message[range.upperBound...]
        guard let space = rest.firstIndex(of: " "), let pid = Int(rest[..<space]) else { return nil }
        var process = ""
        let afterPid = rest[rest.index(after: space)...]
        if afterPid.first == "(", let close = afterPid.firstIndex(of: ")") {
            process = String(afterPid[afterPid.index(after: afterPid.startIndex)..<close])
        }
        var anon: UInt64?
        if let a = message.firstRange(of: "anon-rss:") {
            let digits = message[a.upperBound...].prefix { $0.isNumber }
            anon = UInt64(digits).map { $0 * 1024 }
        }
        return (pid, process, message.hasPrefix("Memory cgroup"), anon)
    }

    /// The 64-hex container id in the last part of a docker container's cgroup path.
    package static func containerID(inCgroup path: String) -> String? {
        guard let last = path.split(separator: "/").last else { return nil }
        var name = Substring(last)
        if name.hasPrefix("docker-") { name = name.dropFirst("docker-".count) }
        if name.hasSuffix(".scope") { name = name.dropLast(".scope".count) }
        guard name.count == 64, name.allSatisfy({ $0.isHexDigit }) else { return nil }
        return String(name)
    }
}
