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

    /// Writes the host policy (root's, 0644 unless said otherwise).
    package func writeHostPolicy(_ text: String, mode: mode_t = 0o644) throws {
        try prefix.write("etc/safebuild/policy.yml", Array(text.utf8), mode: mode)
    }
}
