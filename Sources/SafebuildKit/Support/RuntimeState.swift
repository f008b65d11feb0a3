import Glibc

/// safebuild's runtime state: small files that every safebuild on the host opens and locks with flock(2), the
/// remedies' lock and cooldown stamps (`remedies.state`) and the admission ledger (`admission.ledger`).
///
/// Host-wide they live in the policy's `remedies.lock_dir` (/run/safebuild), root:docker 0750, with the files
/// pre-created root:docker 0660 (Scripts/install.sh, through a tmpfiles.d entry): members of the group open them,
/// nobody else can open them (and so nobody else can hold their locks), and only root can add, replace or remove
/// an entry. Root creates what is missing, with those modes. A file is reached through a `CheckedDirectory` (no
/// symlink, a regular file with one link, as root only its own in a directory others can write) and then checked
/// again, before anything is locked or written: owned by root or by this user, and not open to every user. Root
/// takes away the access of all from a file of its own that has it (an older safebuild made remedies.state 0644).
///
/// A user other than root who cannot open the host-wide file falls back to a directory of its own,
/// `$XDG_RUNTIME_DIR/safebuild`, else `/tmp/safebuild-UID` (0700, checked to be its own and private), with one
/// warning: coordination with the other users is off, and how to turn it on. Root never falls back: what root
/// cannot open safely is refused, with the reason.
package final class RuntimeState {
    /// Where a file was opened.
    package enum Scope: Sendable, Equatable {
        /// In the host-wide directory, shared with every safebuild on the host.
        case hostWide
        /// In this user's own directory, because the host-wide one could not be used (the reason).
        case perUser(reason: String)
    }

    /// An open state file.
    package struct Opened {
        package var fd: Int32
        package var path: String
        package var scope: Scope
    }

    /// The host-wide directory (the policy's `remedies.lock_dir`).
    package let directory: String
    let files: SharedFiles
    let environment: [String: String]
    let isRoot: Bool
    let warn: (String) -> Void
    /// The host-wide directories whose fallback was already told: once per process, however many state files
    /// (remedies.state, admission.ledger) fall back.
    nonisolated(unsafe) private static var warnedDirectories: Set<String> = []

    /// - Parameters:
    ///   - environment: where `XDG_RUNTIME_DIR` is read for the per-user fallback.
    ///   - isRoot: whether root's rules apply (tests give false to see a member's fallback).
    package init(
        directory: String, files: SharedFiles = .host(), environment: [String: String] = [:],
        isRoot: Bool = geteuid() == 0, warn: @escaping (String) -> Void = { Console.warn($0) }
    ) {
        self.directory = directory
        self.files = files
        self.environment = environment
        self.isRoot = isRoot
        self.warn = warn
    }

    /// Opens `name` read-write: host-wide, else (not root) in this user's own directory with the one warning.
    package func open(_ name: String) -> Result<Opened, FileSafetyError> {
        switch openHostWide(name, create: isRoot) {
        case .success(let fd):
            return .success(Opened(fd: fd, path: directory + "/" + name, scope: .hostWide))
        case .failure(let problem):
            guard !isRoot else { return .failure(problem) }
            switch openPerUser(name) {
            case .success(let opened):
                if !Self.warnedDirectories.contains(directory) {
                    Self.warnedDirectories.insert(directory)
                    warn(Self.fallbackWarning(problem, fallback: perUserDirectory))
                }
                return .success(Opened(fd: opened.fd, path: opened.path, scope: .perUser(reason: problem.description)))
            case .failure(let fallbackProblem):
                return .failure(FileSafetyError(
                    path: problem.path, reason: "\(problem.reason); and this user's own \(fallbackProblem)"))
            }
        }
    }

    /// Where `name` would be opened, without creating anything: host-wide, or why not.
    package func probe(_ name: String) -> Scope {
        switch openHostWide(name, create: false) {
        case .success(let fd):
            close(fd)
            return .hostWide
        case .failure(let problem):
            if isRoot, problem.reason.hasSuffix(Self.missingReason) { return .hostWide }  // root makes it
            return .perUser(reason: problem.description)
        }
    }

    /// The per-user directory of this user: `$XDG_RUNTIME_DIR/safebuild`, else `/tmp/safebuild-UID`.
    package var perUserDirectory: String {
        if let xdg = environment["XDG_RUNTIME_DIR"], xdg.hasPrefix("/") { return xdg + "/safebuild" }
        return "/tmp/safebuild-\(geteuid())"
    }

    /// The one warning of a user that fell back to its own directory.
    static func fallbackWarning(_ problem: FileSafetyError, fallback: String) -> String {
        "host-wide coordination of remedies is off for this user: \(problem); its remedy locks and cooldowns, the engine's "
            + "shared figures and its memory admission ledger are kept in \(fallback) instead, for this user alone. To turn it on, run Scripts/install.sh as root (it makes "
            + "the runtime directory root:docker 0750 with its files 0660, through tmpfiles.d) and make this user a "
            + "member of the docker group"
    }

    static let missingReason = "No such file or directory"

    // MARK: - Opening

    func openHostWide(_ name: String, create: Bool) -> Result<Int32, FileSafetyError> {
        do {
            let dir = try CheckedDirectory.open(directory, create: create ? files.runtimeDirectory : nil)
            let fd = try dir.openFile(name, flags: O_RDWR, create: create ? files.runtimeFile : nil)
            if let problem = Self.checkOwnerAndMode(fd, me: geteuid(), repair: isRoot ? files : nil) {
                close(fd)
                return .failure(FileSafetyError(path: dir.path + "/" + name, reason: problem))
            }
            return .success(fd)
        } catch {
            return .failure(error)
        }
    }

    func openPerUser(_ name: String) -> Result<(fd: Int32, path: String), FileSafetyError> {
        let path = perUserDirectory
        do throws(FileSafetyError) {
            let me = geteuid()
            let dir = try CheckedDirectory.open(path, create: .init(mode: 0o700))
            var info = stat()
            guard fstat(dir.fd, &info) == 0, info.st_uid == me, info.st_mode & 0o077 == 0 else {
                throw FileSafetyError(
                    path: dir.path, reason: "is not a directory private to uid \(me) (owner uid \(info.st_uid), mode \(Self.octal(info.st_mode)))")
            }
            let fd = try dir.openFile(name, flags: O_RDWR, create: .init(mode: 0o600))
            if let problem = Self.checkOwnerAndMode(fd, me: me, repair: nil) {
                close(fd)
                throw FileSafetyError(path: dir.path + "/" + name, reason: problem)
            }
            return .success((fd, dir.path + "/" + name))
        } catch {
            return .failure(error)
        }
    }

    /// nil when the open file is fit to lock: owned by root or by `me`, and neither readable nor writable by every
    /// user (anyone who can open a file can hold its flock). With `repair` (root, its own file), a file open to all
    /// is given the shared mode and group instead.
    static func checkOwnerAndMode(_ fd: Int32, me: uid_t, repair: SharedFiles?) -> String? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return String(cString: strerror(errno)) }
        guard info.st_uid == 0 || info.st_uid == me else {
            return "owned by \(CheckedDirectory.userName(info.st_uid)); safebuild locks only a file of root's or its own"
        }
        guard info.st_mode & 0o006 != 0 else { return nil }
        if let repair, info.st_uid == me {
            if let group = repair.group { _ = fchown(fd, UInt32.max, group) }
            if fchmod(fd, repair.runtimeFile.mode) == 0 { return nil }
        }
        return "open to every user (mode \(octal(info.st_mode))): anyone could hold its lock; as root, make it 0660 root:docker (Scripts/install.sh does)"
    }

    static func octal(_ mode: mode_t) -> String {
        let text = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}
