import Glibc

/// Writes to safebuild's own descriptors.
package enum Output {
    /// Writes every byte, retrying short writes and EINTR. False when the reader is gone.
    @discardableResult
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var p = bytes.baseAddress else { return true }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, left)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            p += n
            left -= n
        }
        return true
    }

    @discardableResult
    package static func write(_ fd: Int32, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { writeAll(fd, UnsafeRawBufferPointer($0)) }
    }
}
