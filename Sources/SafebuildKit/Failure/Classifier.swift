
/// Classifies an attempt of `docker build` or `docker run` from docker's output, read line by line while it streams,
/// its exit status and, for `run`, the container's state.
///
/// Which lines count. A memory signature ("cannot allocate memory", "no space left on device", the daemon's own
/// failures) counts only in docker's own error lines, never in what a container or a `RUN` step printed:
/// - stdout is never read for signatures: a classic build prints its `RUN` steps' output (both streams) there, and an
///   attached `run` prints the container's stdout there.
/// - `run`: a container's stderr reaches docker's stderr unchanged, so only lines that start with docker's own error
///   prefix (`docker: ` or `Error response from daemon: `) count, and only when docker exits 125 (the status of its
///   own failures; a container chooses any other).
/// - `build`: BuildKit prints step output on stderr as `#N …` lines (plain) or `=> …` lines (terminal), and quotes it
///   again between `------` rulers in its error summary: those are skipped; so is the step-result line
///   (`The command '…' returned a non-zero code: N` and its BuildKit forms), which quotes the user's own command and
///   is read only for the exit code 137.
/// - exit 137 alone (any SIGKILL) is not an OOM: `run` needs `State.OOMKilled=true`, `build` the step-result line
///   with code 137.
///
/// Memory is bounded whatever the output's size: per class the first matching line, and a tail of a few lines.
package struct Classifier: Sendable {
    package let signatures: [Signature]

    struct Match: Sendable {
        var signature: Signature
        var line: String
        var prefixed: Bool
        var sequence: Int
    }

    private var matches: [Match] = []
    private var tail: [[UInt8]] = []
    private var kernelLine: String?
    private var inRuledBlock = false
    private var sequence = 0

    static let tailLines = 6
    static let maxLine = 1024

    /// `extra` signatures (from the policy) are tried before the built-in table.
    package init(extra: [Signature] = []) {
        signatures = extra + Signature.builtIn
    }

    /// Reads one line of docker's output (without its newline).
    package mutating func observe(line: UnsafeRawBufferPointer, stream: OutputStream) {
        guard stream == .stderr, !line.isEmpty else { return }
        // Fast path for BuildKit's step output (`#5 0.139 …`), most of a build's stderr: no copy at all.
        if !inRuledBlock, let first = line.first(where: { $0 != 0x20 && $0 != 0x09 }), first == 0x23,
            !line.contains(0x1B), !line.contains(0x0D)
        {
            return
        }
        let text = Self.clean(line)
        if text.count >= 4 && text.allSatisfy({ $0 == 0x2D }) {  // a `------` ruler
            inRuledBlock.toggle()
            return
        }
        if inRuledBlock { return }
        guard let start = text.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
        let trimmed = start == 0 ? text : Array(text[start...])
        let first = trimmed[0]
        if first == 0x23 /* # */ || trimmed.starts(with: "=>".utf8) || trimmed.starts(with: "> ".utf8) { return }
        if tail.count == Self.tailLines { tail.removeFirst() }
        tail.append(trimmed)
        let stepResult = Self.isStepResult(trimmed)
        let prefixed = trimmed.starts(with: "docker: ".utf8) || trimmed.starts(with: "Error response from daemon: ".utf8)
        for signature in signatures where signature.scope != .kernelLog {
            if (signature.scope == .stepResult) != stepResult { continue }
            guard signature.matches(trimmed) else { continue }
            record(signature, trimmed, prefixed: prefixed)
            break
        }
    }

    /// Reads one line of the kernel's log written during the attempt (dmesg).
    package mutating func observeKernel(line: UnsafeRawBufferPointer) {
        guard kernelLine == nil else { return }
        let text = Self.clean(line)
        for signature in signatures where signature.scope == .kernelLog && signature.matches(text) {
            kernelLine = String(decoding: text, as: UTF8.self)
            return
        }
    }

    /// The verdict once docker has exited.
    package func verdict(exitStatus: ExitStatus, command: ProtectedCommand, containerState: ContainerState?) -> Classification {
        if exitStatus == .exited(0) {
            return Classification(
                failureClass: .notMemory, line: nil, reason: "docker exited 0: nothing to retry", retryable: false,
                kernelEvidence: kernelLine)
        }
        let isRun = command == .run
        let wanted: Signature.Commands = isRun ? .run : .build
        let eligible = matches.filter { m in
            guard m.signature.commands.contains(wanted) else { return false }
            if m.signature.scope == .dockerError && isRun { return m.prefixed && exitStatus == .exited(125) }
            return true
        }
        func first(_ classes: Set<FailureClass>) -> Match? {
            eligible.filter { classes.contains($0.signature.failureClass) }.min { $0.sequence < $1.sequence }
        }
        func make(_ c: FailureClass, _ m: Match?, _ reason: String) -> Classification {
            Classification(
                failureClass: c, line: m?.line, reason: reason, retryable: c.isRetryable, kernelEvidence: kernelLine)
        }

        if let m = first([.daemonUnreachable]) {
            return make(.daemonUnreachable, m, "docker could not reach its daemon")
        }
        if let m = first([.networkENOMEM, .storageENOMEM, .processENOMEM, .pageAllocation]) {
            let c = m.signature.failureClass
            if c == .pageAllocation || (m.signature.isGenericENOMEM && kernelLine != nil) {
                return make(
                    .pageAllocation, m,
                    "docker's daemon got ENOMEM while the kernel logged a page allocation failure: memory is fragmented")
            }
            switch c {
            case .networkENOMEM:
                return make(c, m, "the kernel refused memory for the container's network (veth pair or endpoint)")
            case .storageENOMEM:
                return make(c, m, "the kernel refused memory for the container's mounts (overlay or /dev/console)")
            default:
                return make(c, m, "the kernel refused memory to start the container's process (fork/exec, runc, shim)")
            }
        }
        if let m = first([.diskFull]) {
            return make(.diskFull, m, "docker's daemon ran out of disk space")
        }
        if isRun {
            if let state = containerState, state.oomKilled {
                return make(.oomContainer, nil, "the container was killed by the OOM killer (State.OOMKilled=true)")
            }
        } else if let m = first([.oomBuildStep]) {
            return make(.oomBuildStep, m, "a build step was killed with SIGKILL (exit code 137) under the build's memory limit")
        }
        return make(.notMemory, nil, notMemoryReason(exitStatus: exitStatus, isRun: isRun, state: containerState))
    }

    private func notMemoryReason(exitStatus: ExitStatus, isRun: Bool, state: ContainerState?) -> String {
        let last = tail.last.map { ": \(String(decoding: $0, as: UTF8.self))" } ?? ""
        if isRun {
            if exitStatus == .exited(137) {
                let oom = state.map { "docker reports OOMKilled=\($0.oomKilled)" } ?? "docker reported no container state"
                return "the container was killed with SIGKILL (exit 137) and \(oom): not an out-of-memory kill; not retried"
            }
            if exitStatus == .exited(125) {
                return "docker refused to run the container (exit 125)\(last); not a memory failure, not retried"
            }
            return "the container's own failure (\(exitStatus))\(last); not retried"
        }
        return "the build's own failure (\(exitStatus))\(last); not retried"
    }

    private mutating func record(_ signature: Signature, _ text: [UInt8], prefixed: Bool) {
        sequence += 1
        if matches.contains(where: {
            $0.signature.failureClass == signature.failureClass && $0.signature.scope == signature.scope
                && $0.prefixed == prefixed
        }) { return }
        matches.append(Match(signature: signature, line: String(decoding: text, as: UTF8.self), prefixed: prefixed, sequence: sequence))
    }

    static func isStepResult(_ line: [UInt8]) -> Bool {
        line.starts(with: "The command '".utf8) || Bytes.contains(line, "executor failed running [")
            || Bytes.contains(line, "did not complete successfully: ")
    }

    /// The line as a terminal would show it: what follows the last carriage return, without escape sequences
    /// (CSI `ESC [ … final`, OSC `ESC ] … BEL`), cut at `maxLine` bytes.
    static func clean(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        var start = 0
        if let cr = raw.lastIndex(of: 0x0D) { start = cr + 1 }
        var out: [UInt8] = []
        out.reserveCapacity(min(raw.count - start, maxLine))
        var i = start
        while i < raw.count && out.count < maxLine {
            let b = raw[i]
            if b == 0x1B, i + 1 < raw.count {
                let kind = raw[i + 1]
                i += 2
                if kind == 0x5B {  // CSI: parameters, then one final byte 0x40–0x7E
                    while i < raw.count && !(0x40...0x7E).contains(raw[i]) { i += 1 }
                    i += 1
                } else if kind == 0x5D {  // OSC: up to BEL or ESC \
                    while i < raw.count && raw[i] != 0x07 && raw[i] != 0x1B { i += 1 }
                    i += raw.count > i && raw[i] == 0x1B ? 2 : 1
                }
                continue
            }
            out.append(b)
            i += 1
        }
        return out
    }
}

extension Classifier {
    /// Convenience for whole captured texts (tests, `docker` helper output): feeds every line of `text`.
    mutating func observe(text: String, stream: OutputStream) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { observe(line: UnsafeRawBufferPointer($0), stream: stream) }
        }
    }
}
