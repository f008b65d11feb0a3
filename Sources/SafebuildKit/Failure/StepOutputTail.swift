/// The last lines of one build step's own output, kept as they arrive so that they can be read for `StepHint`s once
/// the step is known to have failed. Keeping a line is a copy into a reused buffer; matching it waits until then:
/// measured here, glibc's memmem(3) costs about 60 ns per short line, so scanning every line of a long build for the
/// hints' words would double the classifier's cost, while most steps never fail.
///
/// A hint sits at the end of a failed step's output (the kill ends the step; what follows is the tool's own report of
/// it: make's, npm's, bjam's lines), so the last `lineCount` lines are kept, each to its first `lineBytes` bytes.
struct StepOutputTail: Sendable {
    static let lineCount = 32
    static let lineBytes = 1024

    /// Whose output this is.
    var place: Classifier.HintPlace
    /// When it was last written to (the classifier's line counter), to give the least recently used tail up.
    var stamp: Int
    private var lines: [[UInt8]] = []
    private var next = 0

    init(place: Classifier.HintPlace, stamp: Int) {
        self.place = place
        self.stamp = stamp
    }

    mutating func append(_ raw: UnsafeRawBufferPointer, stamp: Int) {
        self.stamp = stamp
        let kept = UnsafeRawBufferPointer(rebasing: raw.prefix(Self.lineBytes))
        if lines.count < Self.lineCount {
            lines.append(Array(kept))
        } else {
            lines[next].removeAll(keepingCapacity: true)
            lines[next].append(contentsOf: kept)
            next = (next + 1) % Self.lineCount
        }
    }

    mutating func removeAll() {
        lines.removeAll(keepingCapacity: true)
        next = 0
    }

    /// The first hint in the kept lines, oldest first, with its line as a terminal shows it.
    func hint() -> (StepHint, [UInt8])? {
        for i in 0..<lines.count {
            let line = lines[(next + i) % lines.count]
            let text = line.withUnsafeBytes { Classifier.clean($0) }
            if let hint = StepHint.find(in: text) { return (hint, text) }
        }
        return nil
    }
}
