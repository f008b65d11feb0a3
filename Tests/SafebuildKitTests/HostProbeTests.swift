import Testing
import Foundation
@testable import SafebuildKit

/// Fixtures in Fixtures/host (see its README for where each came from).
enum HostFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/host").path

    static func path(_ name: String) -> String { "\(directory)/\(name)" }

    static func text(_ name: String) -> String {
        guard let text = HostReader.read(path(name)) else { fatalError("missing fixture \(name)") }
        return text
    }

    static func files(_ folder: String) -> [String: String] {
        var out: [String: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path(folder))) ?? [] where name.hasPrefix("memory.") {
            out[name] = text("\(folder)/\(name)")
        }
        return out
    }
}

@Suite struct HostProbeTests {
    @Test func meminfoOfThisMachine() throws {
        let m = try MemInfo.parse(HostFixture.text("meminfo-this-machine.txt"))
        #expect(m.total == 24_684_092 * 1024)
        #expect(m.available == 23_638_208 * 1024)
        #expect(m.free == 22_840_592 * 1024)
        #expect(m.cached == 979_108 * 1024)
        #expect(!m.hasSwap)
        #expect(m.swapTotal == 0 && m.swapFree == 0)
        #expect(m.commitLimit > 0 && m.committed > 0)
    }

    @Test func malformedMeminfoNamesTheFileAndLine() {
        #expect(throws: ProbeError("/proc/meminfo", "MemAvailable has no number: \"MemAvailable:   lots kB\"")) {
            try MemInfo.parse(HostFixture.text("meminfo-malformed.txt"))
        }
        #expect(throws: ProbeError("/proc/meminfo", "no MemTotal line")) { try MemInfo.parse("") }
        #expect(throws: ProbeError("/proc/meminfo", "MemTotal is out of range: \"MemTotal: 18446744073709551615 kB\"")) {
            try MemInfo.parse("MemTotal: 18446744073709551615 kB\n")
        }
    }

    @Test func pressureOfThisMachine() throws {
        let p = try Pressure.parse(HostFixture.text("pressure-memory-this-machine.txt"))
        #expect(p.some == Pressure.Line(avg10: 0, avg60: 0, avg300: 0, total: 2089))
        #expect(p.full?.total == 455)
        let busy = try Pressure.parse("some avg10=12.50 avg60=3.01 avg300=0.40 total=99\nfull avg10=1.00 avg60=0.10 avg300=0.00 total=7\n")
        #expect(busy.some.avg10 == 12.5 && busy.full?.avg10 == 1)
    }

    @Test func malformedPressure() {
        #expect(throws: ProbeError("/proc/pressure/memory", "field without '=': \"avg60\"")) {
            try Pressure.parse(HostFixture.text("pressure-malformed.txt"))
        }
    }

    @Test func buddyinfoOfThisMachine() throws {
        let b = try BuddyInfo.parse(HostFixture.text("buddyinfo-this-machine.txt"))
        #expect(b.zones.map(\.zone) == ["DMA", "DMA32", "Normal"])
        #expect(b.zones[2].free == [2, 0, 2, 3, 0, 137, 72, 37, 10, 0, 14])
        #expect(b.highestFreeOrder == 10)
        // Order 10 only: 3 (DMA) + 752 (DMA32) + 14 (Normal) blocks.
        #expect(b.freeBlocks(atLeast: 10) == 769)
        // Order ≥ 9 in order-9 units: 1 (DMA) + 2 (DMA32) + 0 (Normal) of order 9, and order 10 counts twice.
        #expect(b.freeBlocks(atLeast: 9) == 1 + 2 + 769 * 2)
        #expect(b.freeBlocks(atLeast: 0) > b.freeBlocks(atLeast: 4))
    }

    @Test func malformedBuddyinfo() {
        #expect(throws: ProbeError("/proc/buddyinfo", "not a count: \"x\"")) {
            try BuddyInfo.parse(HostFixture.text("buddyinfo-malformed.txt"))
        }
        #expect(throws: ProbeError("/proc/buddyinfo", "no zones")) { try BuddyInfo.parse("") }
    }

    @Test func sysctlsAndAbsentFiles() throws {
        let s = try VMSysctls.parse(["swappiness": "60\n", "min_free_kbytes": "67584\n", "overcommit_memory": "0\n"])
        #expect(s.swappiness == 60 && s.minFreeKbytes == 67584 && s.overcommitMemory == 0)
        #expect(s.overcommitRatio == nil && s.vfsCachePressure == nil)
        #expect(throws: ProbeError("/proc/sys/vm/swappiness", "not a number: \"sixty\"")) {
            try VMSysctls.parse(["swappiness": "sixty"])
        }
    }

    @Test func cgroupV1OfThisMachine() throws {
        let membership = try CgroupMembership.parse(HostFixture.text("cgroup-v1-this-machine/proc-self-cgroup"), source: "/proc/self/cgroup")
        #expect(membership == CgroupMembership(version: .v1, path: "/process_api/0a1faa554162a550c5a62819976f84f0"))
        #expect(membership.directory() == "/sys/fs/cgroup/memory/process_api/0a1faa554162a550c5a62819976f84f0")
        let memory = try CgroupMemory.parse(membership: membership, files: HostFixture.files("cgroup-v1-this-machine"), directory: "x")
        // 9223372036854771712 is v1's "no limit".
        #expect(memory.limit == nil)
        #expect(memory.usage == 92_983_296)
        #expect(memory.swapAccounting)
        #expect(memory.headroom == nil)
    }

    @Test func cgroupV1WithoutSwapAccounting() throws {
        var files = HostFixture.files("cgroup-v1-this-machine")
        files["memory.memsw.limit_in_bytes"] = nil
        files["memory.memsw.usage_in_bytes"] = nil
        files["memory.limit_in_bytes"] = "16777216\n"
        let memory = try CgroupMemory.parse(membership: CgroupMembership(version: .v1, path: "/docker/x"), files: files, directory: "x")
        #expect(!memory.swapAccounting)
        #expect(memory.limit == 16 << 20)
        #expect(memory.headroom == 0)  // usage is above the limit in this mix: no headroom, not a wrap-around
    }

    @Test func cgroupV2Limited() throws {
        let membership = try CgroupMembership.parse(HostFixture.text("cgroup-v2-limited/proc-self-cgroup"), source: "/proc/self/cgroup")
        #expect(membership == CgroupMembership(version: .v2, path: "/system.slice/docker.service"))
        #expect(membership.directory() == "/sys/fs/cgroup/system.slice/docker.service")
        let memory = try CgroupMemory.parse(membership: membership, files: HostFixture.files("cgroup-v2-limited"), directory: "x")
        #expect(memory.limit == 2 << 30)
        #expect(memory.usage == 1_932_735_283)
        #expect(memory.headroom == 2_147_483_648 - 1_932_735_283)
        #expect(memory.swapLimit == 0 && memory.swapAccounting)
    }

    @Test func cgroupV2UnlimitedRoot() throws {
        let membership = try CgroupMembership.parse(HostFixture.text("cgroup-v2-unlimited/proc-self-cgroup"), source: "/proc/self/cgroup")
        #expect(membership.directory() == "/sys/fs/cgroup")
        let memory = try CgroupMemory.parse(membership: membership, files: HostFixture.files("cgroup-v2-unlimited"), directory: "x")
        #expect(memory.limit == nil && memory.swapLimit == nil && memory.usage == 524_288_000)
        // No files at all (the root cgroup of a v2 host has no memory.max): nothing known, nothing thrown.
        let bare = try CgroupMemory.parse(membership: membership, files: [:], directory: "x")
        #expect(bare.limit == nil && bare.usage == nil && !bare.swapAccounting)
    }

    @Test func malformedCgroupFiles() {
        #expect(throws: ProbeError("/proc/self/cgroup", "unexpected line \"garbage\"")) {
            try CgroupMembership.parse(HostFixture.text("cgroup-malformed.txt"), source: "/proc/self/cgroup")
        }
        #expect(throws: ProbeError("/sys/fs/cgroup/a/memory.max", "expected a number or \"max\", found \"lots\n\"")) {
            try CgroupMemory.parse(
                membership: CgroupMembership(version: .v2, path: "/a"), files: ["memory.max": "lots\n"], directory: "/sys/fs/cgroup/a")
        }
    }

    @Test(arguments: ["kmsg-oom-this-machine.txt", "dmesg-oom-this-machine.txt"])
    func oomKillsOfThisMachine(fixture: String) throws {
        let records = try KernelLog.records(HostFixture.text(fixture))
        let kills = KernelLog.oomKills(records, bootTime: 1_795_422_446)
        #expect(kills.count == 2)
        let first = try #require(kills.first)
        #expect(first.pid == 6166 && first.process == "sh" && first.cgroupLimit)
        #expect(first.containerID == "7b266634d1c62eb64e8173b9999e26dcd7aa8b553c887a59e03ef5f498a0949c")
        #expect(first.cgroup == "/docker/7b266634d1c62eb64e8173b9999e26dcd7aa8b553c887a59e03ef5f498a0949c")
        #expect(abs(first.sinceBoot - 4457.894765) < 1e-6)
        #expect(abs((first.wallTime ?? 0) - (1_795_422_446 + 4457.894765)) < 1e-3)
        #expect(first.anonRSS == 7816 * 1024)
        #expect(kills[1].pid == 7013 && kills[1].containerID?.hasPrefix("2752741a1139") == true)
    }

    @Test func globalOOMWithoutOomKillLine() throws {
        // The global form, as mm/oom_kill.c prints it ("Out of memory: Killed process %d (%s) total-vm:…").
        let records = try KernelLog.records("3,900,5000000,-;Out of memory: Killed process 4242 (cc1plus) total-vm:9000kB, anon-rss:8000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:64kB oom_score_adj:0\n")
        let kill = try #require(KernelLog.oomKills(records, bootTime: nil).first)
        #expect(kill.process == "cc1plus" && kill.pid == 4242 && !kill.cgroupLimit && kill.containerID == nil && kill.wallTime == nil)
    }

    @Test func oldKernelsKillLineAndKilledLineAreOneKill() throws {
        // mm/oom_kill.c before 4.19: "Kill process %d (%s) score %u or sacrifice child", then "Killed process …".
        let records = try KernelLog.records("""
            3,10,1000000,-;Memory cgroup out of memory: Kill process 900 (java) score 1000 or sacrifice child
            3,11,1000100,-;Killed process 900 (java) total-vm:900000kB, anon-rss:500000kB, file-rss:0kB, shmem-rss:0kB
            3,12,9000000,-;Memory cgroup out of memory: Kill process 901 (java) score 1000 or sacrifice child
            """)
        let kills = KernelLog.oomKills(records, bootTime: nil)
        #expect(kills.map(\.pid) == [900, 901])
        #expect(kills[0].anonRSS == 500_000 * 1024 && kills[0].cgroupLimit)
    }

    @Test func containerIDsInCgroupPaths() {
        let id = String(repeating: "ab", count: 32)
        #expect(KernelLog.containerID(inCgroup: "/docker/\(id)") == id)
        #expect(KernelLog.containerID(inCgroup: "/system.slice/docker-\(id).scope") == id)
        #expect(KernelLog.containerID(inCgroup: "/user.slice") == nil)
    }

    @Test func malformedKernelLog() {
        #expect(throws: ProbeError("kernel log", "no line in kmsg (pri,seq,usec,flags;) or dmesg ([ seconds]) form")) {
            try KernelLog.records("not a log\nat all\n")
        }
    }

    @Test func kernelWithoutPSIAndHostWithoutSwap() throws {
        // A /proc with meminfo and buddyinfo but no pressure/memory: the reader reports "no PSI", not an error.
        let root = NSTemporaryDirectory() + "sb-proc-\(getpid())"
        try FileManager.default.createDirectory(atPath: root + "/self", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try HostFixture.text("meminfo-this-machine.txt").write(toFile: root + "/meminfo", atomically: true, encoding: .utf8)
        try HostFixture.text("buddyinfo-this-machine.txt").write(toFile: root + "/buddyinfo", atomically: true, encoding: .utf8)
        var reader = HostReader()
        reader.proc = root
        let figures = reader.gather(oomSince: nil)
        #expect(!figures.pressureSupported && figures.pressure == nil)
        #expect(figures.memory?.hasSwap == false)
        #expect(figures.problems.isEmpty)
        let findings = Doctor.diagnose(figures, now: 0, hours: 24)
        #expect(findings.contains { $0.area == "psi" && $0.level == .warning && $0.fix?.contains("psi=1") == true })
        #expect(findings.contains { $0.area == "swap" && $0.value.hasPrefix("no swap") })
    }

    @Test func liveProbesOnThisMachine() {
        let figures = HostReader().gather(oomSince: Clock.wall() - 86400)
        #expect(figures.problems == [])
        #expect(figures.memory != nil && figures.buddy != nil && figures.sysctls?.swappiness != nil)
        #expect(figures.ownCgroup != nil)
        #expect(figures.oomKills != nil)
    }

    @Test func dockerHumanSizesAsTheCLIPrintsThem() {
        #expect(ByteSize.dockerHuman(0) == "0B")
        #expect(ByteSize.dockerHuman(226) == "226B")
        #expect(ByteSize.dockerHuman(300_257) == "300.3kB")
        #expect(ByteSize.dockerHuman(2_582_000) == "2.582MB")
        #expect(ByteSize.dockerHuman(1_982_354) == "1.982MB")
        #expect(ByteSize.dockerHuman(12_000_000_000) == "12GB")
        #expect(ByteSize.describe(1536) == "1.5 KiB")
    }
}

@Suite struct KernelLogFilterTests {
    @Test(arguments: [
        ("3,438,4457894765,-;Memory cgroup out of memory: Killed process 6166 (sh) total-vm:14564kB", true),
        ("6,437,4457894676,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null)", true),
        ("3,1,1,-;Memory cgroup out of memory: Kill process 6166 (sh) score 1000 or sacrifice child", true),
        ("6,1,1,-;eth0: link up", false),
    ])
    func recordsWorthParsing(_ row: (String, Bool)) {
        #expect(HostReader.mentions(row.0, HostReader.needles) == row.1)
    }
}

/// Every prefix of every real file, and the same bytes shuffled line by line: a parser either reads it or throws a
/// ProbeError that names the file. None may trap.
@Suite struct TruncatedFileTests {
    static func prefixes(_ text: String) -> [String] {
        let chars = Array(text)
        return stride(from: 0, through: chars.count, by: max(1, chars.count / 200)).map { String(chars[..<$0]) }
            + [text.replacingOccurrences(of: " ", with: ""), text.replacingOccurrences(of: ":", with: " "), text + "\u{0}\u{FFFD}"]
    }

    @Test func meminfo() {
        for text in Self.prefixes(HostFixture.text("meminfo-this-machine.txt")) {
            do { _ = try MemInfo.parse(text) } catch { #expect(error.source == "/proc/meminfo") }
        }
    }

    @Test func pressureAndBuddyinfo() {
        for text in Self.prefixes(HostFixture.text("pressure-memory-this-machine.txt")) {
            do { _ = try Pressure.parse(text) } catch { #expect(error.source == "/proc/pressure/memory") }
        }
        for text in Self.prefixes(HostFixture.text("buddyinfo-this-machine.txt")) {
            do { _ = try BuddyInfo.parse(text) } catch { #expect(error.source == "/proc/buddyinfo") }
        }
    }

    @Test func cgroupAndKernelLog() {
        for text in Self.prefixes(HostFixture.text("cgroup-self-this-machine.txt")) {
            do { _ = try CgroupMembership.parse(text, source: "/proc/self/cgroup") } catch { #expect(error.source == "/proc/self/cgroup") }
        }
        for text in Self.prefixes(HostFixture.text("kmsg-oom-this-machine.txt")) {
            do { _ = KernelLog.oomKills(try KernelLog.records(text), bootTime: 0) } catch { #expect(error.source == "kernel log") }
        }
    }

    @Test func engineAnswers() {
        for name in ["info-response.http", "system-df-response.http", "version-response.http"] {
            let raw = Array(FileManager.default.contents(atPath: HostFixture.path("engine/\(name)")) ?? Data())
            for end in stride(from: 0, through: raw.count, by: max(1, raw.count / 300)) {
                let part = Array(raw[..<end])
                _ = HTTPResponse.completeLength(part)
                if let body = try? HTTPResponse.parse(part, source: name).body {
                    _ = DockerJSON.decode(DockerJSON.Info.self, from: body)
                    _ = DockerJSON.decode(DockerJSON.SystemDF.self, from: body)
                    _ = DockerJSON.decode(DockerJSON.Version.self, from: body)
                }
            }
        }
    }
}
