/// Where the memory controller is mounted, from /proc/self/mountinfo (proc(5)): the v1 `memory` hierarchy when one is
/// mounted (it wins on hybrid hosts, where cgroup2 is mounted too but holds no memory controller), else cgroup2.
package struct CgroupMounts: Sendable, Equatable {
    /// The v1 memory hierarchy's mount point (`/sys/fs/cgroup/memory`).
    package var memoryV1: String?
    /// The cgroup2 mount point (`/sys/fs/cgroup`, `/sys/fs/cgroup/unified` on hybrid hosts).
    package var unified: String?

    package init(memoryV1: String? = nil, unified: String? = nil) {
        self.memoryV1 = memoryV1
        self.unified = unified
    }

    package static let path = "/proc/self/mountinfo"

    /// The version that holds the memory controller.
    package var version: CgroupMembership.Version? { memoryV1 != nil ? .v1 : unified != nil ? .v2 : nil }

    /// The memory controller's root directory.
    package var memoryRoot: String? { memoryV1 ?? unified }

    /// The mount point of `version`'s memory hierarchy.
    package func root(_ version: CgroupMembership.Version) -> String? { version == .v1 ? memoryV1 : unified }

    /// Reads mountinfo lines: `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS`.
    /// Only mounts of a hierarchy's root (`ROOT` `/`) count; a cgroup namespace's view of a subtree does not name
    /// the host's paths.
    package static func parse(_ text: String) -> CgroupMounts {
        var mounts = CgroupMounts()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash >= 5, dash + 1 < fields.count else { continue }
            guard fields[3] == "/" else { continue }
            let mountPoint = unescape(fields[4])
            let type = fields[dash + 1]
            let superOptions = dash + 3 < fields.count ? fields[dash + 3].split(separator: ",") : []
            if type == "cgroup", superOptions.contains("memory"), mounts.memoryV1 == nil {
                mounts.memoryV1 = mountPoint
            } else if type == "cgroup2", mounts.unified == nil {
                mounts.unified = mountPoint
            }
        }
        return mounts
    }

    /// mountinfo writes space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`.
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        let raw = Array(field.utf8)
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 3 < raw.count,
                let value = UInt8(String(decoding: raw[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(raw[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
