import Glibc

/// The modes and group of the files safebuild keeps for every user of a build host: never readable by all, shared
/// with the host's group (`HostSettings.groupName`, `docker`) when it exists, private to their owner when it does not.
///
/// | | with the group | without |
/// |---|---|---|
/// | journal directory (/var/log/safebuild) | 2770: members create, append and rotate; files get the group | 0700 |
/// | journal file | 0660 | 0600 |
/// | metrics file and its cache | 0640 | 0600 |
/// | runtime directory (/run/safebuild) | 0750: members open its files, only root adds or replaces entries | 0700 |
/// | runtime files (remedies.state, admission.ledger, engine.state) | 0660 | 0600 |
package struct SharedFiles: Sendable, Equatable {
    package var group: UInt32?

    package init(group: UInt32?) {
        self.group = group
    }

    /// The default group (`docker`), for callers that have no policy at hand; a protected command and the privileged
    /// entry use the host policy's `journal.group`.
    package static func host() -> SharedFiles { SharedFiles(group: HostSettings.current().groupID) }

    package var journalDirectory: CheckedDirectory.Creation { .init(mode: group == nil ? 0o700 : 0o2770, group: group) }
    package var journalFile: CheckedDirectory.FileCreation { .init(mode: group == nil ? 0o600 : 0o660, group: group) }
    package var metricsFile: CheckedDirectory.FileCreation { .init(mode: group == nil ? 0o600 : 0o640, group: group) }
    package var runtimeDirectory: CheckedDirectory.Creation { .init(mode: group == nil ? 0o700 : 0o750, group: group) }
    package var runtimeFile: CheckedDirectory.FileCreation { .init(mode: group == nil ? 0o600 : 0o660, group: group) }
}
