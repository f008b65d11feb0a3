import Glibc
import Testing
@testable import SafebuildKit

/// A stream whose lines nobody reads is copied unchanged and never split (issue 13, item 4).
@Suite struct RelayTests {
    /// Forwards `chunks` through a relay into a pipe; returns what came out of the pipe and the lines seen.
    func relay(_ chunks: [String], stream: OutputStream, splitsLines: Bool) -> (out: String, lines: [String]) {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        var relay = Relay(source: -1, target: fds[1], stream: stream, isTerminal: false, splitsLines: splitsLines)
        var lines: [String] = []
        for chunk in chunks {
            Array(chunk.utf8).withUnsafeBytes { bytes in
                relay.forward(bytes) { s, line in
                    #expect(s == stream)
                    lines.append(String(decoding: line, as: UTF8.self))
                }
            }
        }
        relay.finish { _, line in lines.append(String(decoding: line, as: UTF8.self)) }
        close(fds[1])
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            out.append(contentsOf: buffer[..<n])
        }
        close(fds[0])
        #expect(relay.bytes == UInt64(chunks.reduce(0) { $0 + $1.utf8.count }))
        return (String(decoding: out, as: UTF8.self), lines)
    }

    static let chunks = ["Step 1/2 : FROM busybox\n ---> Running in 6f1c1d8b", "8e2a\nhello\r\nno newline at the end"]

    @Test func aReadStreamIsCopiedAndSplit() {
        let (out, lines) = relay(Self.chunks, stream: .stdout, splitsLines: true)
        #expect(out == Self.chunks.joined())
        #expect(lines == ["Step 1/2 : FROM busybox", " ---> Running in 6f1c1d8b8e2a", "hello", "no newline at the end"])
    }

    @Test func anUnreadStreamIsOnlyCopied() {
        let (out, lines) = relay(Self.chunks, stream: .stdout, splitsLines: false)
        #expect(out == Self.chunks.joined())
        #expect(lines.isEmpty)
    }
}
