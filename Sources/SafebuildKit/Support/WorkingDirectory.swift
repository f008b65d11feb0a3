import Glibc

/// The process's working directory.
package enum WorkingDirectory {
    /// getcwd(3); `.` when it cannot be read (the directory was removed, or a parent is unreadable).
    package static func current() -> String {
        guard let pointer = getcwd(nil, 0) else { return "." }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
