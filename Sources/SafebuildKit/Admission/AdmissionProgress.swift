/// What a waiting command says on stderr, and when: on a terminal one line rewritten in place as the figures or
/// the seconds change; elsewhere (a CI log) a line when what it waits for changes, at most one every 10 seconds.
/// Pure: it returns the bytes to write.
package struct AdmissionProgress: Sendable {
    package let terminal: Bool
    /// Seconds between two lines in a log.
    package var logInterval: Double = 10
    var lastText: String?
    var lastPrinted: Double?
    var lastSecond = -1
    var onTerminalLine = false

    package init(terminal: Bool) { self.terminal = terminal }

    /// `waiting for memory: needs 800 MB (its memory limit 800m); 224 MB of the 1.07 GB budget free; 1 running, 2
    /// waiting ahead`.
    package static func sentence(_ wait: AdmissionDecision.Wait, request: AdmissionRequest, budget: UInt64) -> String {
        let b = bytes
        var text = "waiting for memory: needs \(b(wait.needed)) (\(request.source)); "
        if wait.alone {
            text += "more than the whole \(b(budget)) budget, so it runs alone once nothing else holds memory; "
        } else {
            text += "\(b(wait.free)) of the \(b(budget)) budget free; "
        }
        text += "\(wait.running) running, \(wait.ahead) waiting ahead"
        return text
    }

    /// Binary units as `-m` reads them, without a trailing `.0`: `800 MiB`, `1 GiB`, `224.3 MiB`.
    package static func bytes(_ n: UInt64) -> String {
        let parts = ByteSize.describe(n).split(separator: " ")
        guard parts.count == 2, parts[0].hasSuffix(".0") else { return parts.joined(separator: " ") }
        return "\(parts[0].dropLast(2)) \(parts[1])"
    }

    /// The bytes to write for the state `text` after `elapsed` seconds of waiting, at monotonic time `now`.
    package mutating func waiting(_ text: String, elapsed: Double, now: Double) -> String? {
        if terminal {
            let second = Int(elapsed)
            guard text != lastText || second != lastSecond else { return nil }
            lastText = text
            lastSecond = second
            onTerminalLine = true
            return "\r\u{1B}[Ksafebuild: \(text) (\(second) s)"
        }
        guard text != lastText else { return nil }
        if let last = lastPrinted, now - last < logInterval { return nil }
        lastText = text
        lastPrinted = now
        return "safebuild: \(text)\n"
    }

    /// The bytes to write when the wait ends; `text` is the closing line (nil: none).
    package mutating func done(_ text: String?) -> String? {
        var out = onTerminalLine ? "\r\u{1B}[K" : ""
        onTerminalLine = false
        if let text { out += "safebuild: \(text)\n" }
        return out.isEmpty ? nil : out
    }
}
