/// Splits a byte stream into lines over raw buffers, as the chunks arrive, in bounded memory: a line longer than
/// `maxLine` bytes is handed on cut at that length (its rest is dropped), so that a 2 GB line of output costs 16 KiB.
package struct LineSplitter: Sendable {
    package let maxLine: Int
    private var carry: [UInt8] = []
    private var overflowing = false

    package init(maxLine: Int = 16 * 1024) {
        self.maxLine = maxLine
        carry.reserveCapacity(256)
    }

    /// Feeds one chunk; calls `line` for every complete line (without its `\n` and a trailing `\r`).
    package mutating func feed(_ chunk: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer) -> Void) {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        var start = 0
        let end = chunk.count
        while start < end {
            let rest = UnsafeRawBufferPointer(start: base + start, count: end - start)
            guard let nl = rest.firstIndex(of: 0x0A) else {
                append(rest)
                return
            }
            let segment = UnsafeRawBufferPointer(start: base + start, count: nl)
            if carry.isEmpty && !overflowing {
                emit(segment, line)
            } else {
                append(segment)
                carry.withUnsafeBytes { emit($0, line) }
                carry.removeAll(keepingCapacity: true)
                overflowing = false
            }
            start += nl + 1
        }
    }

    /// Hands on what is left after the stream ended without a final newline.
    package mutating func finish(_ line: (UnsafeRawBufferPointer) -> Void) {
        guard !carry.isEmpty else { return }
        carry.withUnsafeBytes { emit($0, line) }
        carry.removeAll(keepingCapacity: true)
        overflowing = false
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let room = maxLine - carry.count
        if bytes.count > room {
            carry.append(contentsOf: bytes.prefix(max(0, room)))
            overflowing = true
        } else {
            carry.append(contentsOf: bytes)
        }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer) -> Void) {
        var n = min(bytes.count, maxLine)
        if n > 0 && bytes[n - 1] == 0x0D { n -= 1 }
        line(UnsafeRawBufferPointer(rebasing: bytes[..<n]))
    }
}
