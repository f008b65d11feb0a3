package import Glibc
import Foundation
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

    /// Makes `journal` the journal this copy's protected commands write: the host policy (the built-in default when
    /// there is none) with its `journal.path` set to it (`HostPolicyText.settingJournal`). `journal.path` is host-only
    /// and `SAFEBUILD_JOURNAL` / `--sb-journal` only choose what the reading commands read, so a test that reads a
    /// protected run's records sets them here.
    package func useHostJournal(_ journal: String) throws {
        let current = String(decoding: TemporaryDirectory.readFileIfPresent(hostPolicy), as: UTF8.self)
        let text = HostPolicyText.settingJournal(current.isEmpty ? "version: 1\n" : current, to: journal)
        if current != text { try writeHostPolicy(text) }
    }

    /// `useAsHostPolicy(path)`, then `useHostJournal(journal)`.
    package func useAsHostPolicy(_ path: String, journal: String) throws {
        let text = HostPolicyText.settingJournal(
            String(decoding: try TemporaryDirectory.readFile(path), as: UTF8.self), to: journal)
        if TemporaryDirectory.readFileIfPresent(hostPolicy) != Array(text.utf8) { try writeHostPolicy(text) }
    }

    /// No host policy: the built-in default applies.
    package func removeHostPolicy() {
        unlink(hostPolicy)
    }
}

/// Edits of a host policy's text that the engine tests need, on its lines (the policies they write are block or
/// one-line flow YAML, as the docs show them).
package enum HostPolicyText {
    /// `text` with `journal.path` set to `journal`: the `path:` of its `journal:` section replaced, or added to it
    /// (block `journal:` or flow `journal: {…}`), or a `journal:` section added at the end.
    package static func settingJournal(_ text: String, to journal: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = lines.firstIndex(where: { $0.hasPrefix("journal:") }) else {
            let end = text.isEmpty || text.hasSuffix("\n") ? "" : "\n"
            return text + end + "journal:\n  path: \(journal)\n"
        }
        let rest = lines[header].dropFirst("journal:".count).trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("{"), rest.hasSuffix("}") {
            var entries = rest.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            entries.removeAll { $0.hasPrefix("path:") || $0.isEmpty }
            lines[header] = "journal: {" + (["path: \(journal)"] + entries).joined(separator: ", ") + "}"
            return lines.joined(separator: "\n")
        }
        var index = header + 1
        var indent = "  "
        while index < lines.count, lines[index].first == " " || lines[index].isEmpty {
            let line = lines[index]
            let body = line.drop { $0 == " " }
            if !body.isEmpty { indent = String(line.prefix(line.count - body.count)) }
            if body.hasPrefix("path:") {
                lines[index] = indent + "path: \(journal)"
                return lines.joined(separator: "\n")
            }
            index += 1
        }
        lines.insert(indent + "path: \(journal)", at: header + 1)
        return lines.joined(separator: "\n")
    }
}
