import Glibc

/// Classifies an attempt of `docker build` or `docker run` from docker's output, read line by line while it streams,
/// its exit status, the container's state for `run`, and whatever the host recorded: a verdict from ranked evidence
/// (`EvidenceStrength`: host > docker's own error text > exit status > a step's own output).
///
/// Which lines count as docker's own error text. A memory, disk or daemon signature counts only there, never in what
/// a container or a `RUN` step printed:
/// - `run`: a container's stdout and stderr reach docker's unchanged. stdout is never read; a stderr line counts in
///   one of docker's own forms (`RunErrorLine`: `docker: …`, the CLI's path, the forms of docker < 1.10, the CLI's
///   `error waiting for container`) and only when docker's exit status agrees (125; 126 or 127 with the words docker
///   maps to them; 1 before docker 1.10). The lines before docker's own say what the container printed — unless
///   docker's line says the OCI runtime could not start the container's process: then the user's program never
///   ran, and those first lines are the runtime's own (runc's `nsenter: … Cannot allocate memory`).
/// - `build`: docker's own lines are stderr's, less BuildKit's step output (`#N …`, `=> …`) and its quotes of it
///   between `------` rulers. The step-result line (`StepResult`) quotes the user's command, which is never matched;
///   its code and the error after the command are read. `#N ERROR: …` is BuildKit's error for step N.
/// - A build step's own output (a classic build's stdout, BuildKit's `#N …` lines and `------` summaries) is read
///   only for the hints of `StepHint`.
/// - exit 137 alone (any SIGKILL) is not an OOM: `run` needs `State.OOMKilled=true` (or host evidence), `build` the
///   step-result line with code 137 (unless the step's command is `exit 137`, or BuildKit cancelled the step).
///
/// Memory is bounded whatever the output's size: per class and form the first matching line, at most 8 hints and 8
/// failed BuildKit steps, the last step result, the last 32 lines of at most 9 steps' output (`StepOutputTail`, 1 KiB
/// each), and a tail of a few lines; a line is kept to its first and last KiB (docker's errors put the errno at the
/// end). The cost of a step's output line (BuildKit's `#N …`, a classic build's stdout), most of a build's output, is
/// two memchr(3) scans and a copy into a reused buffer: its hints are read only once the step has failed.
package struct Classifier: Sendable {
    package let signatures: [Signature]
    /// The command whose output this is.
    package let command: ProtectedCommand

    struct Match: Sendable {
        var signature: Signature
        var line: String
        /// `run`: docker's own form of the line, nil for a line it did not mark.
        var form: RunErrorLine?
        var sequence: Int
    }

    /// Where a hint was seen: the classic build's current step, BuildKit's error summary (always a failed step's), or
    /// BuildKit's step N.
    enum HintPlace: Sendable, Equatable {
        case classicStep, summary
        case step(Int)
    }

    struct Hint: Sendable {
        var hint: StepHint
        var line: String
        var place: HintPlace
    }

    enum Block: Sendable {
        case none
        /// BuildKit's `------` summary of a failed step's last output lines (moby/buildkit
        /// util/progress/progressui/display.go printErrorLogs).
        case stepLog
        /// BuildKit's `--------------------` excerpt of the Dockerfile (moby/buildkit solver/errdefs/source.go).
        case source
    }

    private var matches: [Match] = []
    /// Hints found: in BuildKit's summaries as they come, in a step's kept output once the step failed.
    private var hints: [Hint] = []
    /// The kept output of the classic build's current step, and of the BuildKit steps that printed last.
    private var classicTail = StepOutputTail(place: .classicStep, stamp: 0)
    private var stepTails: [StepOutputTail] = []
    private var lineCount = 0
    private var failedSteps: [Int] = []
    private var step: (result: StepResult, line: String)?
    /// `run`: docker's own line saying the OCI runtime could not start the container's process.
    private var runtimeFailure: (form: RunErrorLine, text: [UInt8])?
    /// `run`: stderr lines seen that docker did not mark as its own.
    private var unmarkedRunLines = 0
    private var tail: [[UInt8]] = []
    private var kernelLine: String?
    private var block = Block.none
    private var sequence = 0
    /// A classic build's output printed on stderr (`docker build -q` after a failure), and its last line so far.
    private var classicReplay = false
    private var replayLast: [UInt8]?

    static let tailLines = 6
    /// A line is kept to its first and last `keep` bytes.
    static let keep = 1024
    static let maxHints = 8
    /// BuildKit steps whose output is kept at once (parallel stages); the least recently written gives way.
    static let maxStepTails = 8
    /// `run`: unmarked stderr lines are matched only among the first few: the runtime's own lines come before
    /// anything a container could print, and a container that ran may print gigabytes.
    static let unmarkedRunLinesRead = 32

    /// `extra` signatures (from the policy) are tried before the built-in table.
    package init(command: ProtectedCommand, extra: [Signature] = []) {
        self.command = command
        signatures = extra + Signature.builtIn
    }

    // MARK: - Reading

    /// Reads one line of docker's output (without its newline).
    package mutating func observe(line: UnsafeRawBufferPointer, stream: OutputStream) {
        guard !line.isEmpty else { return }
        let isRun = command == .run
        if stream == .stdout {
            // A classic build prints its steps and their output on stdout; a run, the container's stdout.
            if !isRun { observeClassicOutput(line) }
        } else if isRun {
            observeRunError(line)
        } else {
            observeBuildError(line)
        }
    }

    /// A line of a classic build's stdout: `Step N/M :` headers, and the step's own output, kept for hints.
    private mutating func observeClassicOutput(_ raw: UnsafeRawBufferPointer) {
        lineCount += 1
        let start = raw.firstIndex { $0 != 0x20 && $0 != 0x09 } ?? raw.endIndex
        if raw.count - start > 5, raw[start] == 0x53, raw[start + 1] == 0x74, raw[start + 2] == 0x65,
            raw[start + 3] == 0x70, raw[start + 4] == 0x20  // `Step `
        {
            classicTail.removeAll()
            return
        }
        classicTail.append(raw, stamp: lineCount)
    }

    /// A line of a build's stderr.
    private mutating func observeBuildError(_ raw: UnsafeRawBufferPointer) {
        // Fast path for BuildKit's step output (`#5 0.139 …`), most of a build's stderr: no copy unless it is a step's
        // error or shows a hint's words.
        lineCount += 1
        if block == .none, let first = raw.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }), raw[first] == 0x23,
            !Bytes.contains(raw, byte: 0x1B), !Bytes.contains(raw, byte: 0x0D)
        {
            observeStepLine(raw, from: first)
            return
        }
        let text = Self.clean(raw)
        if let ruler = Self.ruler(text) {
            block = block == .none ? ruler : .none
            return
        }
        switch block {
        case .source:
            return
        case .stepLog:
            // A step's last line without a newline has the closing ruler glued to it.
            if text.count > 6, text.reversed().starts(with: "------".utf8) {
                noteHint(Array(text.dropLast(6)), place: .summary)
                block = .none
            } else if !Self.isSummaryHeader(text) {
                noteHint(text, place: .summary)
            }
            return
        case .none:
            break
        }
        guard let start = text.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
        let trimmed = start == 0 ? text : Array(text[start...])
        if trimmed[0] == 0x23 {  // `#N …` with escape sequences
            trimmed.withUnsafeBytes { observeStepLine($0, from: 0) }
            return
        }
        if trimmed.starts(with: "=>".utf8) || trimmed.starts(with: "> ".utf8) { return }
        if !classicReplay, trimmed.starts(with: "Sending build context to Docker daemon".utf8) || Self.isStepHeader(trimmed) {
            classicReplay = true
        }
        if classicReplay {
            observeReplayedLine(trimmed)
            return
        }
        remember(trimmed)
        observeErrorText(trimmed, step: nil, form: nil)
    }

    /// A line of a classic build's output that docker printed on stderr: `docker build -q` keeps the build's output
    /// and prints all of it on stderr when the build fails (docker/cli cli/command/image/build.go: `if options.quiet
    /// { fmt.Fprintf(dockerCli.Err(), "%s%s", progBuff, buildBuff) }`), then its error (measured here, 20.10 and 28.2).
    /// The steps' output is then on stderr: it is kept for hints like stdout's, and only the last line may be docker's
    /// own error (`verdict` reads it).
    private mutating func observeReplayedLine(_ text: [UInt8]) {
        if Self.isStepHeader(text) {
            classicTail.removeAll()
            replayLast = nil
            return
        }
        if StepResult.parse(text) != nil {
            replayLast = nil
            remember(text)
            observeErrorText(text, step: nil, form: nil)
            return
        }
        text.withUnsafeBytes { classicTail.append($0, stamp: lineCount) }
        replayLast = text
    }

    static func isStepHeader(_ text: [UInt8]) -> Bool {
        text.starts(with: "Step ".utf8) && Bytes.contains(text, " : ")
    }

    /// BuildKit's `#N …` line: `#N ERROR: …` is step N's error; any other is its output, kept for hints.
    private mutating func observeStepLine(_ raw: UnsafeRawBufferPointer, from start: Int) {
        var i = start + 1
        var number = 0
        var digits = 0
        while i < raw.count, (0x30...0x39).contains(raw[i]), digits < 9 {
            number = number * 10 + Int(raw[i] - 0x30)
            digits += 1
            i += 1
        }
        guard digits > 0 else { return }
        if raw.count - i > Self.stepError.count, Self.stepError.withUnsafeBytes({ memcmp(raw.baseAddress! + i, $0.baseAddress!, $0.count) == 0 }) {
            let text = Self.clean(UnsafeRawBufferPointer(rebasing: raw[(i + Self.stepError.count)...]))
            noteFailedStep(number)
            remember(text)
            observeErrorText(text, step: number, form: nil)
            return
        }
        keep(raw, step: number)
    }

    static let stepError = Array(" ERROR: ".utf8)

    /// Keeps a line of BuildKit step `number`'s output.
    private mutating func keep(_ raw: UnsafeRawBufferPointer, step number: Int) {
        if let t = stepTails.firstIndex(where: { $0.place == .step(number) }) {
            stepTails[t].append(raw, stamp: lineCount)
            return
        }
        var tail = StepOutputTail(place: .step(number), stamp: lineCount)
        tail.append(raw, stamp: lineCount)
        if stepTails.count < Self.maxStepTails {
            stepTails.append(tail)
        } else if let oldest = stepTails.indices.min(by: { stepTails[$0].stamp < stepTails[$1].stamp }) {
            stepTails[oldest] = tail
        }
    }

    /// A line of a run's stderr: docker's own, or the container's.
    private mutating func observeRunError(_ raw: UnsafeRawBufferPointer) {
        let text = Self.clean(raw)
        guard let start = text.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
        let trimmed = start == 0 ? text : Array(text[start...])
        remember(trimmed)
        let form = RunErrorLine.recognise(trimmed)
        if form == nil {
            guard unmarkedRunLines < Self.unmarkedRunLinesRead else { return }
            unmarkedRunLines += 1
        } else if runtimeFailure == nil,
            RunErrorLine.runtimeStartFailure.contains(where: { Bytes.contains(trimmed, $0) })
        {
            runtimeFailure = (form!, trimmed)
        }
        observeErrorText(trimmed, step: nil, form: form, run: true)
    }

    /// docker's own error text (or, for `run`, a line that may be): a step result, or signatures.
    private mutating func observeErrorText(_ text: [UInt8], step number: Int?, form: RunErrorLine?, run: Bool = false) {
        if !run, let result = StepResult.parse(text) {
            step = (result, String(decoding: text, as: UTF8.self))
            if let number { noteFailedStep(number) }
            // The command is the user's; what BuildKit says after it is BuildKit's or the daemon's.
            if let error = result.error, !result.isOOMKillReportedByBuildKit { match(error, line: text, form: nil) }
            return
        }
        match(text, line: text, form: form)
    }

    private mutating func match(_ text: [UInt8], line: [UInt8], form: RunErrorLine?) {
        for signature in signatures where signature.scope == .dockerError {
            guard signature.matches(text) else { continue }
            record(signature, line, form: form)
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

    private mutating func record(_ signature: Signature, _ text: [UInt8], form: RunErrorLine?) {
        sequence += 1
        if matches.contains(where: { $0.signature.failureClass == signature.failureClass && $0.form == form }) { return }
        matches.append(Match(signature: signature, line: String(decoding: text, as: UTF8.self), form: form, sequence: sequence))
    }

    private mutating func noteHint(_ text: [UInt8], place: HintPlace) {
        guard let hint = StepHint.find(in: text) else { return }
        addHint(Hint(hint: hint, line: String(decoding: text, as: UTF8.self), place: place))
    }

    private mutating func addHint(_ hint: Hint) {
        if hints.count == Self.maxHints { hints.removeFirst() }
        hints.append(hint)
    }

    /// Step `number` failed: the hint in its kept output, if any, is noted now (its tail may give way later).
    private mutating func noteFailedStep(_ number: Int) {
        guard !failedSteps.contains(number) else { return }
        if failedSteps.count < Self.maxHints { failedSteps.append(number) }
        if let t = stepTails.firstIndex(where: { $0.place == .step(number) }), let (hint, line) = stepTails[t].hint() {
            addHint(Hint(hint: hint, line: String(decoding: line, as: UTF8.self), place: .step(number)))
        }
    }

    private mutating func remember(_ line: [UInt8]) {
        if tail.count == Self.tailLines { tail.removeFirst() }
        tail.append(line)
    }

    // MARK: - The verdict

    /// The verdict once docker has exited. `host` is what the host recorded about the attempt (the cgroup's OOM
    /// counters, the kernel's oom-kill record, the disk after the failure), as evidence of strength `.host`.
    package func verdict(exitStatus: ExitStatus, containerState: ContainerState?, host: [Evidence] = []) -> Classification {
        if exitStatus == .exited(0) {
            return Classification(
                failureClass: .notMemory, line: nil, reason: "docker exited 0: nothing to retry", retryable: false,
                kernelEvidence: kernelLine)
        }
        // docker's own reading of the container's cgroup first: of two as strong, the earlier names the reason.
        var evidence: [Evidence] = []
        if command == .run, let state = containerState, state.oomKilled {
            evidence.append(
                Evidence(.host, .oomContainer, reason: "the container was killed by the OOM killer (State.OOMKilled=true)"))
        }
        evidence += host
        evidence += daemonEvidence(exitStatus: exitStatus)
        if command != .run { evidence += stepEvidence() }

        guard let best = Evidence.strongest(evidence) else {
            return Classification(
                failureClass: .notMemory, line: nil,
                reason: notMemoryReason(exitStatus: exitStatus, isRun: command == .run, state: containerState),
                retryable: false, kernelEvidence: kernelLine)
        }
        return Classification(
            failureClass: best.failureClass, line: best.line, reason: best.reason,
            retryable: best.failureClass.isRetryable, kernelEvidence: kernelLine, strength: best.strength)
    }

    /// The evidence of docker's own error lines that count for this command and exit status.
    private func daemonEvidence(exitStatus: ExitStatus) -> [Evidence] {
        let isRun = command == .run
        let wanted: Signature.Commands = isRun ? .run : .build
        let runtimeFailed = runtimeFailure.map { $0.form.agrees(with: exitStatus, text: $0.text) } ?? false
        var evidence: [Evidence] = []
        for m in matches.sorted(by: { $0.sequence < $1.sequence }) where m.signature.commands.contains(wanted) {
            if isRun {
                if let form = m.form {
                    guard form.agrees(with: exitStatus, text: Array(m.line.utf8)) else { continue }
                } else if !runtimeFailed {
                    continue
                }
            }
            var c = m.signature.failureClass
            if m.signature.isGenericENOMEM && kernelLine != nil { c = .pageAllocation }
            evidence.append(Evidence(.daemonText, c, line: m.line, reason: Self.reason(c, m)))
        }
        if !isRun, let last = replayLast,
            let signature = signatures.first(where: { $0.scope == .dockerError && $0.commands.contains(.build) && $0.matches(last) })
        {
            let line = String(decoding: last, as: UTF8.self)
            let m = Match(signature: signature, line: line, form: nil, sequence: sequence + 1)
            var c = signature.failureClass
            if signature.isGenericENOMEM && kernelLine != nil { c = .pageAllocation }
            evidence.append(Evidence(.daemonText, c, line: line, reason: Self.reason(c, m)))
        }
        if !isRun, let (result, line) = step, result.isOOMKillReportedByBuildKit {
            evidence.append(
                Evidence(
                    .daemonText, .oomBuildStep, line: line,
                    reason: "BuildKit found an OOM kill in the build step's cgroup (`did not complete successfully: cannot allocate memory`, ResourceExhausted)"))
        }
        return evidence
    }

    /// The evidence of the failed build step: its exit code, and the hints of its own output.
    private func stepEvidence() -> [Evidence] {
        guard let (result, line) = step, !result.wasCancelled else { return [] }
        var evidence: [Evidence] = []
        if result.code == 137 && !result.exitsWithItsOwnCode {
            evidence.append(
                Evidence(
                    .exitStatus, .oomBuildStep, line: line,
                    reason: "a build step was killed with SIGKILL (exit code 137) under the build's memory limit"))
        }
        var found = hints.first { h in
            if case .step(let n) = h.place { return failedSteps.contains(n) }
            return true
        }
        if found == nil, let (hint, line) = classicTail.hint() {
            found = Hint(hint: hint, line: String(decoding: line, as: UTF8.self), place: .classicStep)
        }
        if result.code != 0, let hint = found {
            let code = result.code.map { "exit code \($0)" } ?? "an error"
            switch hint.hint.kind {
            case .killed:
                evidence.append(
                    Evidence(
                        .stepOutput, .oomBuildStep, line: hint.line,
                        reason: "a build step failed (\(code)) after its own output showed a process killed by SIGKILL, which inside a build step is the OOM killer"))
            case .diskFull:
                evidence.append(
                    Evidence(
                        .stepOutput, .diskFull, line: hint.line,
                        reason: "a build step failed (\(code)) after its own output said the disk is full; a step writes under docker's data root"))
            }
        }
        return evidence
    }

    static func reason(_ c: FailureClass, _ m: Match) -> String {
        switch c {
        case .daemonLost: return "docker lost its daemon during the command: the connection ended mid-stream (the daemon stopped, restarted or crashed)"
        case .daemonUnreachable: return "docker could not reach its daemon"
        case .networkENOMEM: return "the kernel refused memory for the container's network (veth pair or endpoint)"
        case .storageENOMEM: return "the kernel refused memory for the container's storage (overlay mount, init layer or /dev/console)"
        case .processENOMEM: return "the kernel refused memory to start the container's process (fork/exec, runc, shim)"
        case .pageAllocation:
            return "docker's daemon got ENOMEM while the kernel logged a page allocation failure: memory is fragmented"
        case .diskFull: return "docker's daemon ran out of disk space"
        case .oomContainer, .oomBuildStep: return "the OOM killer ended it"
        case .notMemory: return "not a failure a retry can cure: \(m.signature.source)"
        }
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
        if let (result, _) = step, result.code == 137 {
            if result.wasCancelled {
                return "a build step was killed (exit code 137) because BuildKit cancelled it (context canceled), not by the OOM killer; not retried"
            }
            if result.exitsWithItsOwnCode { return "the build step's own command exits 137; not retried" }
        }
        return "the build's own failure (\(exitStatus))\(last); not retried"
    }

    // MARK: - Lines

    /// The block a ruler line opens (or closes): BuildKit's step-log summary (`------`) or its Dockerfile excerpt
    /// (`--------------------`); nil for any other line.
    static func ruler(_ line: [UInt8]) -> Block? {
        var start = 0
        while start < line.count, line[start] == 0x20 { start += 1 }
        let dashes = line.count - start
        guard dashes >= 4, line[start...].allSatisfy({ $0 == 0x2D }) else { return nil }
        return dashes == 6 ? .stepLog : .source
    }

    /// The ` > [stage 3/7] RUN …:` line that opens a step's summary: the user's command.
    static func isSummaryHeader(_ line: [UInt8]) -> Bool {
        let start = line.firstIndex { $0 != 0x20 } ?? line.endIndex
        return line[start...].starts(with: "> ".utf8)
    }

    /// The line as a terminal would show it: what follows the last carriage return (a redraw), without escape sequences
    /// (CSI `ESC [ … final`, OSC `ESC ] … BEL`) and trailing spaces; a line longer than 2 KiB is kept to its first
    /// and last KiB, joined by ` … ` (`LineSplitter` has already cut it at 16 KiB).
    static func clean(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        var raw = raw
        if raw.last == 0x0D { raw = UnsafeRawBufferPointer(rebasing: raw.dropLast()) }  // a terminal's line end
        var start = 0
        if let cr = raw.lastIndex(of: 0x0D) { start = cr + 1 }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count - start)
        var i = start
        while i < raw.count {
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
        while let last = out.last, last == 0x20 || last == 0x09 { out.removeLast() }
        if out.count > 2 * keep {
            out.replaceSubrange(keep..<(out.count - keep), with: " … ".utf8)
        }
        return out
    }
}

extension Classifier {
    /// Convenience for whole captured texts (tests, `docker` helper output): feeds every line of `text`, split at
    /// `\n` bytes as `LineSplitter` splits docker's output (a terminal's `\r\n` too).
    mutating func observe(text: String, stream: OutputStream) {
        for line in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var bytes = Array(line)
            if bytes.last == 0x0D { bytes.removeLast() }
            bytes.withUnsafeMutableBytes { observe(line: UnsafeRawBufferPointer($0), stream: stream) }
        }
    }
}
