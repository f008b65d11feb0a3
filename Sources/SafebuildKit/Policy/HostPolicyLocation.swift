import Glibc

/// Where the host policy is: the one answer every part of safebuild asks for ("where is the host policy").
///
/// Nothing a job or a repository controls can move it: no variable, no option. It follows from where the running
/// binary is installed (`/proc/self/exe`, git's RUNTIME_PREFIX idea): a binary in `PREFIX/bin` (or `PREFIX/sbin`)
/// reads `PREFIX/etc/safebuild/policy.yml`, except that `/usr`, `/usr/local` and `/` read `/etc/safebuild/policy.yml`.
/// A binary anywhere else (a development build in `.build/debug`) reads `/etc/safebuild/policy.yml`.
package enum HostPolicyLocation {
    /// The host policy of a system install.
    package static let systemPath = "/etc/safebuild/policy.yml"
    /// The host policy's path below its prefix.
    package static let relativePath = "etc/safebuild/policy.yml"

    /// The install prefix of a binary at `executable` (a resolved path): the directory above its `bin` or `sbin`;
    /// `nil` for a system prefix (`/usr`, `/usr/local`, `/`) or a binary that is not in a `bin` directory.
    package static func prefix(executable: String) -> String? {
        var parts = executable.split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return nil }
        parts.removeLast()  // the binary
        guard let bin = parts.popLast(), bin == "bin" || bin == "sbin" else { return nil }
        let prefix = "/" + parts.joined(separator: "/")
        return ["/", "/usr", "/usr/local"].contains(prefix) ? nil : prefix
    }

    /// The host policy of a binary at `executable`.
    package static func path(executable: String) -> String {
        guard let prefix = prefix(executable: executable) else { return systemPath }
        return prefix + "/" + relativePath
    }

    /// The host policy of the running safebuild. When `/proc/self/exe` cannot be read, the system path: never
    /// `argv[0]`, which whoever starts safebuild chooses.
    package static let current: String = HostSettings.executablePath().map(path(executable:)) ?? systemPath
}
