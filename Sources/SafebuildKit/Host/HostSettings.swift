import Glibc

/// What the host decides about safebuild's own files, read before the host policy can say it: where the host policy
/// is (from where this binary is installed) and which group shares the journal and the runtime state.
///
/// One small type on purpose: the policy work (host-only keys, `journal.group`) replaces it with the host policy's
/// own values; until then the group is `docker`, the group whose members may use the docker socket anyway.
package struct HostSettings: Sendable, Equatable {
    /// The host policy file.
    package var policyPath: String
    /// The group that shares the journal, the metrics file and the runtime state (`journal.group`).
    package var groupName: String

    package static let defaultGroup = "docker"

    package init(policyPath: String, groupName: String = HostSettings.defaultGroup) {
        self.policyPath = policyPath
        self.groupName = groupName
    }

    /// This binary's settings.
    package static func current() -> HostSettings {
        HostSettings(policyPath: HostPolicyLocation.current)
    }

    /// The absolute path of the running binary (`/proc/self/exe`: a `docker` symlink in front of it is seen
    /// through).
    package static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The group's id, when the group exists.
    package var groupID: UInt32? { Self.groupID(groupName) }

    package static func groupID(_ name: String) -> UInt32? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }

    /// The name of group `gid` (its number when it has none).
    package static func groupName(_ gid: UInt32) -> String {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name
        else { return String(gid) }
        return String(cString: name)
    }

    /// The name of user `uid` (its number when it has none).
    package static func userName(_ uid: UInt32) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name
        else { return String(uid) }
        return String(cString: name)
    }
}
