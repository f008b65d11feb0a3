import Glibc

/// One of docker's output streams on its way to safebuild's own.
struct Relay {
    var source: Int32
    let target: Int32
    let stream: OutputStream
    let isTerminal: Bool
    var splitter = LineSplitter()
    /// Whether this stream's lines are read at all: a stream nobody reads is only copied (no scan for newlines).
    let splitsLines: Bool
    /// The reader of safebuild's own output went away (EPIPE): stop copying, so docker sees the closed pipe too.
    var broken = false
    /// Where the chunks go instead of `target` while they are held back (stdout of an attempt that may be retried).
    let hold: OutputHold?
    /// Bytes docker wrote to this stream.
    var bytes: UInt64 = 0

    init(source: Int32, target: Int32, stream: OutputStream, isTerminal: Bool, hold: OutputHold? = nil, splitsLines: Bool = true) {
        self.source = source
        self.target = target
        self.stream = stream
        self.isTerminal = isTerminal
        self.hold = hold
        self.splitsLines = splitsLines
    }

    mutating func forward(_ chunk: UnsafeRawBufferPointer, _ line: (OutputStream, UnsafeRawBufferPointer) -> Void) {
        bytes += UInt64(chunk.count)
        let delivered = hold.map { $0.take(chunk) } ?? (broken || Output.writeAll(target, chunk))
        if !broken && !delivered {
            broken = true
            close(source)
            source = -1
        }
        guard splitsLines else { return }
        let stream = self.stream
        splitter.feed(chunk) { line(stream, $0) }
    }

    mutating func finish(_ line: (OutputStream, UnsafeRawBufferPointer) -> Void) {
        if splitsLines {
            let stream = self.stream
            splitter.finish { line(stream, $0) }
        }
        if source >= 0 { close(source) }
        source = -1
    }
}
