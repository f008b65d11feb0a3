package import Glibc
import SafebuildKit

/// The safebuild under test installed under a temporary prefix the way `Scripts/install.sh --prefix PREFIX` lays it
/// out: the binary at PREFIX/bin/safebuild, so that its host policy is PREFIX/etc/safebuild/policy.yml
/// (`HostPolicyLocation`, derived from the binary's own path; nothing else can move it). The binary is a hard link
/// to the one built (a copy on another filesystem).
package final class InstalledSafebuild: @unchecked Sendable {
    package let prefix: TemporaryDirectory
    /// PREFIX/bin/safebuild.
    package let binary: String

    package init(from source: String? = nil) throws {
        prefix = try TemporaryDirectory()
        try prefix.directory("bin")
        try prefix.directory("etc")
        try prefix.directory("etc/safebuild")
        let built = try source ?? SafebuildBinary.path()
        binary = prefix.path + "/bin/safebuild"
        if link(built, binary) != 0 { try prefix.copy(built, to: "bin/safebuild") }
    }

    /// PREFIX/etc/safebuild/policy.yml.
    package var hostPolicy: String { HostPolicyLocation.path(executable: binary) }

    /// Writes the host policy (root's, 0644 unless said otherwise) at once: a new file renamed over the old one, so
    /// that a safebuild reading it meanwhile sees the old or the new policy, never a part.
    package func writeHostPolicy(_ text: String, mode: mode_t = 0o644) throws {
        try writeHostPolicy(Array(text.utf8), mode: mode)
    }

    package func writeHostPolicy(_ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let temporary = try prefix.write("etc/safebuild/.policy.yml.new", bytes, mode: mode)
        guard rename(temporary, hostPolicy) == 0 else {
            throw TestSetupError("cannot rename \(temporary): \(String(cString: strerror(errno)))")
        }
    }

    /// Makes the file at `path` the host policy (nothing is written when it already is).
    package func useAsHostPolicy(_ path: String) throws {
        let bytes = try TemporaryDirectory.readFile(path)
        if TemporaryDirectory.readFileIfPresent(hostPolicy) != bytes { try writeHostPolicy(bytes) }
    }

    /// No host policy: the built-in default applies.
    package func removeHostPolicy() {
        unlink(hostPolicy)
    }
}
