/// The line in which docker reports that a build step failed, read into the step's exit code, or into the error
/// that ended it when there is no code. The command it quotes is the user's own text: it is never matched against a
/// signature (a `RUN echo "cannot allocate memory"` is not ENOMEM); only the error after it is docker's.
///
/// The forms, by builder and version (the line may start with anything: `ERROR: failed to solve: `, `#19 ERROR: `,
/// `INFO[0014] `, a date):
/// - classic builder, docker ≥ 1.7: `The command '%s' returned a non-zero code: %d` (moby v1.7 builder/internals.go,
///   v1.9–17.03 builder/dockerfile/internals.go, v20.10 builder/dockerfile/dispatchers.go);
/// - classic builder, docker ≤ 1.6: `The command %v returned a non-zero code: %d`, the command printed as a Go slice
///   `[/bin/sh -c …]` (moby v1.6 builder/internals.go, v1.1 server/buildfile.go), logged with logrus or a date; docker
///   before 1.9 exited 1 whatever the step's code (docker/compose#1554);
/// - BuildKit ≤ 0.10 (docker 18.09–22): `executor failed running %v`, the command again a Go slice, then `: ` and
///   `exit code: %d` (solver/errdefs/exit.go) or the runtime's error (moby/buildkit v0.8 solver/llbsolver/ops/exec.go);
/// - BuildKit ≥ 0.10: `process %q did not complete successfully: %v` (moby/buildkit v0.10 solver/llbsolver/ops/exec.go),
///   `%v` again `exit code: %d` (frontend/gateway/pb/exit.go) or an error, such as libnetwork's veth ENOMEM or, from
///   BuildKit 0.16 on cgroup v2, plain `cannot allocate memory` for a step whose cgroup recorded an OOM kill
///   (`detectOOM`, below).
struct StepResult: Sendable, Equatable {
    /// The step's exit code, when docker gives one.
    var code: Int?
    /// What follows the quoted command when it is not an exit code: BuildKit's (or the daemon's) error.
    var error: [UInt8]?
    /// The command as docker quotes it, cut to 512 bytes.
    var command: [UInt8]

    /// BuildKit ≥ 0.16 turns a step whose cgroup v2 `memory.events` counts an `oom_kill` into ENOMEM with no other
    /// text: `executor/runcexecutor/executor_linux.go` `detectOOM` sets the exit error to `syscall.ENOMEM`, whose text
    /// is Go's "cannot allocate memory" (and `errdefs/internal_linux.go` makes it gRPC `ResourceExhausted`).
    var isOOMKillReportedByBuildKit: Bool {
        guard let error else { return false }
        return error.elementsEqual(Signature.enomem.utf8)
    }

    /// Whether the step's own command ends in `exit N` with N its code: the code is the user's choice, not a signal
    /// (a maintainer's `RUN exit 137`, corpus case 073).
    var exitsWithItsOwnCode: Bool {
        guard let code else { return false }
        var end = command.count
        while end > 0, command[end - 1] == 0x20 || command[end - 1] == 0x5D /* ] */ { end -= 1 }
        let words = Array("exit \(code)".utf8)
        guard end >= words.count, command[(end - words.count)..<end].elementsEqual(words) else { return false }
        let before = end - words.count
        return before == 0 || [0x20, 0x3B, 0x26, 0x7C, 0x28, 0x09].contains(command[before - 1])  // space ; & | ( tab
    }

    static let classicCode = Array(" returned a non-zero code: ".utf8)
    static let classicCommand = Array("The command ".utf8)
    static let executorStart = Array("executor failed running [".utf8)
    static let executorEnd = Array("]: ".utf8)
    static let processStart = Array("process \"".utf8)
    static let processEnd = Array("\" did not complete successfully: ".utf8)
    static let exitCode = Array("exit code: ".utf8)

    /// The step result in `line`, or nil when the line is not one.
    static func parse(_ line: [UInt8]) -> StepResult? {
        if let at = Bytes.lastRange(of: classicCode, in: line), let start = Bytes.range(of: classicCommand, in: line) {
            let code = Self.number(line[at.upperBound...])
            var from = start.upperBound
            if from < at.lowerBound, line[from] == 0x27 || line[from] == 0x5B { from += 1 }  // ' or [
            var to = at.lowerBound
            if to > from, line[to - 1] == 0x27 || line[to - 1] == 0x5D { to -= 1 }
            return StepResult(code: code, error: nil, command: Array(line[from..<max(from, to)].prefix(512)))
        }
        if let start = Bytes.range(of: processStart, in: line), let end = Bytes.lastRange(of: processEnd, in: line),
            start.upperBound <= end.lowerBound
        {
            return Self.result(command: line[start.upperBound..<end.lowerBound], rest: line[end.upperBound...])
        }
        if let start = Bytes.range(of: executorStart, in: line), let end = Bytes.lastRange(of: executorEnd, in: line),
            start.upperBound <= end.lowerBound
        {
            return Self.result(command: line[start.upperBound..<end.lowerBound], rest: line[end.upperBound...])
        }
        return nil
    }

    private static func result(command: ArraySlice<UInt8>, rest: ArraySlice<UInt8>) -> StepResult {
        var error = Array(rest)
        while let last = error.last, last == 0x20 || last == 0x2E { error.removeLast() }  // trailing space or period
        var code: Int?
        if rest.starts(with: exitCode) {
            let digits = rest.dropFirst(exitCode.count).prefix { (0x30...0x39).contains($0) }
            code = Self.number(digits)
            let after = rest.dropFirst(exitCode.count + digits.count)
            if code != nil, after.allSatisfy({ $0 == 0x20 || $0 == 0x2E }) {
                return StepResult(code: code, error: nil, command: Array(command.prefix(512)))
            }
            // `exit code: 137: context canceled`: the build was cancelled while the step ran (below).
            if code != nil, after.starts(with: ": ".utf8) { error = Array(after.dropFirst(2)) }
        }
        return StepResult(code: code, error: error, command: Array(command.prefix(512)))
    }

    /// Whether the step ended because the build was cancelled: BuildKit kills a running step when the build's context
    /// ends (another stage failed, the client went away) and wraps its exit code in the cancellation,
    /// `exit code: 137: context canceled` (moby/buildkit executor/runcexecutor/executor.go `exitError`:
    /// `errors.Wrapf(ctx.Err(), exitErr.Error())`). That SIGKILL is BuildKit's, not the OOM killer's.
    var wasCancelled: Bool {
        guard let error else { return false }
        return Bytes.contains(error, "context canceled")
    }

    /// The decimal number at the start of `bytes` (then nothing but spaces or a period), or nil.
    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        var digits = 0
        var i = bytes.startIndex
        while i < bytes.endIndex, (0x30...0x39).contains(bytes[i]), digits < 9 {
            value = value * 10 + Int(bytes[i] - 0x30)
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        while i < bytes.endIndex {
            guard bytes[i] == 0x20 || bytes[i] == 0x2E else { return nil }
            i += 1
        }
        return value
    }
}
