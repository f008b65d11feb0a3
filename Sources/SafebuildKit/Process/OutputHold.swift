/// docker's stdout held back in a spool file, up to `limit` bytes, so that only the attempt that ends the invocation
/// is seen: `release` copies it out, `discard` drops it before a retry. Past the limit, what was held is released
/// and the rest goes out as it comes (`exceeded`: a retry would write it twice).
package final class OutputHold {
    let spool: SpoolFile
    let limit: UInt64
    let target: Int32
    /// This attempt's output went past the limit.
    private(set) var exceeded = false
    /// The reader of `target` went away (EPIPE).
    private(set) var broken = false

    private init(spool: SpoolFile, limit: UInt64, target: Int32) {
        self.spool = spool
        self.limit = limit
        self.target = target
    }

    static func create(limit: UInt64, target: Int32 = 1) -> Result<OutputHold, SafebuildError> {
        SpoolFile.create(purpose: "stdout").map { OutputHold(spool: $0, limit: limit, target: target) }
    }

    /// A new attempt: nothing held.
    func begin() {
        spool.truncate()
        exceeded = false
    }

    /// Takes one chunk of docker's stdout; false when it had to go out and the reader is gone.
    func take(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if !exceeded {
            if spool.size + UInt64(chunk.count) <= limit, spool.append(chunk) { return true }
            exceeded = true
            if !release() { return false }
        }
        if broken { return false }
        if !Output.writeAll(target, chunk) { broken = true }
        return !broken
    }

    /// Writes what is held to `target` and empties the hold; false when the reader is gone.
    @discardableResult
    func release() -> Bool {
        if !broken && !spool.copy(to: target) { broken = true }
        spool.truncate()
        return !broken
    }

    /// Drops what is held (a retry follows).
    func discard() { spool.truncate() }
}
