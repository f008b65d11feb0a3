import Glibc

/// safebuild's own `--cidfile`s left behind in `$TMPDIR` (else /tmp), and their sweep. A `run` attempt gets
/// `safebuild-PID-RANDOM.cid` (`LiveSupervisionEffects.temporaryPath`), removed as soon as safebuild has read it
/// (`CIDFileFollower`); a safebuild SIGKILLed before that (docker writes the file after safebuild died) leaves it.
/// Each protected `run` sweeps the directory once, before its first attempt.
///
/// A file is removed only when all of these hold: its name is exactly safebuild's pattern (a user's own `--cidfile`
/// never is, unless named so on purpose), it is a regular file with one link, owned by the effective user (never
/// another user's, even as root), and either the pid in its name is gone and it is over `minimumAge` old (a live
/// safebuild reads its file within a tick of docker writing it; the age also spares one of a safebuild in another
/// pid namespace sharing this /tmp), or it is over `maximumAge` old (the pid was reused). The directory is walked as
/// every directory safebuild writes in (`CheckedDirectory`: no symlink another user controls), and swept only when
/// nobody else can swap an entry between the check and the unlink: a directory only we (and root) can write, or a
/// sticky one of root's or ours, such as /tmp.
package enum StaleCIDFiles {
    package static let minimumAge = 10.0
    package static let maximumAge = 3600.0

    /// The pid in safebuild's name for its own cidfile, `safebuild-PID-RANDOM.cid` (RANDOM in base 36); nil for any
    /// other name.
    package static func writer(ofName name: String) -> Int32? {
        let prefix = "safebuild-", suffix = ".cid"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.utf8.count > prefix.utf8.count + suffix.utf8.count
        else { return nil }
        let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
        let parts = middle.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, String(pid) == parts[0], !parts[1].isEmpty,
            parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) })
        else { return nil }
        return pid
    }

    /// Whether a file of safebuild's pattern, `age` seconds old, whose writer is (not) alive, is stale.
    package static func isStale(age: Double, writerAlive: Bool) -> Bool {
        age >= maximumAge || (!writerAlive && age >= minimumAge)
    }

    /// Whether process `pid` exists (EPERM: it does, another user's).
    package static func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Removes the stale files of safebuild's pattern in `directory`; returns the names removed. Nothing is removed
    /// from a directory that cannot be trusted.
    @discardableResult
    package static func sweep(
        directory: String, now: Double = Clock.wall(), alive: (Int32) -> Bool = StaleCIDFiles.alive
    ) -> [String] {
        guard let checked = try? CheckedDirectory.open(directory) else { return [] }
        var info = stat()
        let me = geteuid()
        guard fstat(checked.fd, &info) == 0 else { return [] }
        let sticky = (info.st_mode & S_ISVTX) != 0 && (info.st_uid == 0 || info.st_uid == me)
        guard !checked.shared || sticky else { return [] }
        let listing = openat(checked.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0, let stream = fdopendir(listing) else {
            if listing >= 0 { close(listing) }
            return []
        }
        defer { closedir(stream) }
        var removed: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            guard let pid = writer(ofName: name) else { continue }
            var file = stat()
            guard fstatat(checked.fd, name, &file, AT_SYMLINK_NOFOLLOW) == 0, (file.st_mode & S_IFMT) == S_IFREG,
                file.st_nlink == 1, file.st_uid == me
            else { continue }
            let age = now - (Double(file.st_mtim.tv_sec) + Double(file.st_mtim.tv_nsec) / 1e9)
            guard isStale(age: age, writerAlive: alive(pid)) else { continue }
            if unlinkat(checked.fd, name, 0) == 0 { removed.append(name) }
        }
        return removed
    }
}
