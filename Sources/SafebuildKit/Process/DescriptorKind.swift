import Glibc

/// What one of safebuild's standard descriptors is, as far as replaying an attempt goes.
package enum DescriptorKind: Sendable, Equatable {
    case terminal
    /// A regular file at `offset` (nil when lseek says it cannot be repositioned).
    case regularFile(offset: Int64?)
    /// /dev/null, or not open at all: reads give nothing, writes go nowhere, every attempt alike.
    case null
    /// A pipe, a socket, or another device: read once, gone.
    case stream

    /// Looks at descriptor `fd` (fstat, isatty, lseek).
    package static func of(_ fd: Int32) -> DescriptorKind {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .null }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            let offset = lseek(fd, 0, SEEK_CUR)
            return .regularFile(offset: offset < 0 ? nil : Int64(offset))
        case S_IFCHR:
            if isatty(fd) == 1 { return .terminal }
            var null = stat()
            if stat("/dev/null", &null) == 0, null.st_rdev == info.st_rdev { return .null }
            return .stream
        default:
            return .stream
        }
    }
}
