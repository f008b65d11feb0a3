import Glibc

/// An errno from a file operation, with its message.
package struct FileError: Error, Sendable, Equatable {
    package var errno: Int32
    package init(_ errno: Int32) { self.errno = errno }
    package var message: String { String(cString: strerror(errno)) }
}
