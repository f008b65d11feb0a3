/// What a build step's own output says about how it ended, beside its exit code: a process of the step was killed by
/// SIGKILL, or the step found the disk full. It is the weakest evidence (`EvidenceStrength.stepOutput`), read only in
/// the step's output (a classic build's stdout, BuildKit's `#N …` lines and its error summary), and it only explains a
/// step that failed: docker reported the step's result with a non-zero code or an error.
///
/// The rules, and the corpus cases behind them (Tests/SafebuildKitTests/Fixtures/corpus, training cases):
/// - **killed → oom_build_step.** Inside a build step nothing but the OOM killer sends SIGKILL in practice (no
///   terminal, no job control; a cancelled build stops the step itself, and BuildKit then reports `context canceled`,
///   not a failed step). A compiler or package manager whose child is killed exits with its own code (make 2, npm 1,
///   cargo 101), so the step's code is not 137 and only the output tells: 097 and 133 (Go's `signal: killed`, code
///   2), 153 and 154 (gcc's cc1plus killed, code 2), 142 (yarn's `Command failed with signal "SIGKILL"`, code 1), 121
///   (react-scripts' "exited too early", code 1); 009, 059, 131, 146, 147, 156, 157, 137, 158 show the same words
///   with code 137. Against: 149 and 159 (steps exiting 1 with no such words: user errors), 026 (V8's `JavaScript heap
///   out of memory`: the program's own heap limit, nothing killed — not a hint), 128 (a script's own "not enough
///   memory" check — not a hint).
/// - **full disk → disk_full.** A step writes under docker's data root (its root file system is a layer there), so
///   ENOSPC in its own output, or apt's refusal to download for lack of space, means docker's disk is full — except
///   for writes to `/dev/shm` (a tmpfs of its own) and cgroup files, which are excluded. The class rules of the corpus
///   README ("ENOSPC written by the step's own programs while the data root is full").
struct StepHint: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case killed, diskFull
    }

    enum Shape: Sendable, Equatable {
        /// The line contains every one of these.
        case contains([String])
        /// The line's last word is this (after trailing spaces).
        case lastWord(String)
        /// bash's report of a job ended by a signal: `…: line N:  PID Killed  command`.
        case jobReport(String)
    }

    var kind: Kind
    var shape: Shape
    /// The program and file the words come from.
    var source: String

    static let forms: [StepHint] = [
        StepHint(
            kind: .killed, shape: .lastWord("Killed"),
            source: "dash and bash report a foreground command killed by SIGKILL with strsignal(SIGKILL), \"Killed\"; GNU make job.c: \"*** [target] Killed\""),
        StepHint(
            kind: .killed, shape: .jobReport("Killed"),
            source: "bash jobs.c: a job killed by SIGKILL, \"…: line N:   PID Killed   command\""),
        StepHint(
            kind: .killed, shape: .contains(["internal compiler error: Killed (program "]),
            source: "gcc (≤ 10) gcc.c execute(): \"internal compiler error: %s (program %s)\" with strsignal"),
        StepHint(
            kind: .killed, shape: .contains(["Killed signal terminated program "]),
            source: "gcc (≥ 11) gcc.c execute(): \"%s signal terminated program %s\""),
        StepHint(
            kind: .killed, shape: .contains(["signal: killed"]),
            source: "golang/go src/os/exec_posix.go ProcessState.String(): \"signal: killed\" (go build, go test)"),
        StepHint(
            kind: .killed, shape: .contains(["SIGKILL: kill"]),
            source: "rust-lang/cargo crates/cargo-util/src/process_error.rs status_to_string(): \"(signal: 9, SIGKILL: kill)\" (cargo reporting a killed rustc)"),
        StepHint(
            kind: .killed, shape: .contains(["Command failed with signal \"SIGKILL\""]),
            source: "yarn v1 and pnpm report a script killed by a signal as `Command failed with signal \"SIGKILL\"` (corpus 142)"),
        StepHint(
            kind: .killed, shape: .contains(["npm ERR! signal SIGKILL"]),
            source: "npm (≤ 9) reports a lifecycle script killed by a signal as `npm ERR! signal SIGKILL`"),
        StepHint(
            kind: .killed, shape: .contains(["npm error signal SIGKILL"]),
            source: "npm (≥ 10), the same with its new prefix `npm error` (corpus 058's note)"),
        StepHint(
            kind: .killed, shape: .contains(["the process exited too early", "kill -9"]),
            source: "facebook/create-react-app packages/react-scripts/scripts/build.js: \"The build failed because the process exited too early. This probably means the system ran out of memory or someone called `kill -9` on the process.\""),
        StepHint(
            kind: .killed, shape: .contains(["<Signals.SIGKILL: 9>"]),
            source: "python/cpython Lib/subprocess.py CalledProcessError: \"Command '…' died with <Signals.SIGKILL: 9>.\""),
        StepHint(
            kind: .diskFull, shape: .contains(["You don't have enough free space in "]),
            source: "Debian apt apt-private/private-download.cc: \"You don't have enough free space in %s.\""),
        StepHint(
            kind: .diskFull, shape: .contains(["No space left on device"]),
            source: "strerror(ENOSPC) (glibc) in a step's own output"),
        StepHint(
            kind: .diskFull, shape: .contains(["no space left on device"]),
            source: "ENOSPC as Go and Node print it, in a step's own output"),
    ]

    /// Writes that fill something other than docker's data root.
    static let otherFileSystems = ["/dev/shm", "/sys/fs/cgroup"]

    /// The first form `line` shows, if any.
    static func find(in line: [UInt8]) -> StepHint? {
        line.withUnsafeBytes { raw in
            for (i, needles) in compiled.enumerated() where needles.matches(raw) { return forms[i] }
            return nil
        }
    }

    /// The forms as bytes, compiled once (the words of a form were otherwise turned into UTF-8 on every line).
    static let compiled: [Compiled] = forms.map(Compiled.init)
    static let otherFileSystemBytes = otherFileSystems.map { Array($0.utf8) }

    struct Compiled: Sendable {
        var kind: Kind
        var contains: [[UInt8]] = []
        var lastWord: [UInt8]?
        var jobWord: [UInt8]?

        init(_ form: StepHint) {
            kind = form.kind
            switch form.shape {
            case .contains(let words): contains = words.map { Array($0.utf8) }
            case .lastWord(let word): lastWord = Array(word.utf8)
            case .jobReport(let word): jobWord = Array((" " + word).utf8)
            }
        }

        func matches(_ line: UnsafeRawBufferPointer) -> Bool {
            if !contains.isEmpty {
                guard contains.allSatisfy({ Bytes.contains(line, $0) }) else { return false }
                if kind == .diskFull { return !StepHint.otherFileSystemBytes.contains { Bytes.contains(line, $0) } }
                return true
            }
            if let w = lastWord {
                var end = line.count
                while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
                guard end >= w.count, line[(end - w.count)..<end].elementsEqual(w) else { return false }
                let before = end - w.count
                return before == 0 || line[before - 1] == 0x20 || line[before - 1] == 0x09
            }
            if let w = jobWord {
                // `: line 51:   814 Killed      conda env create …`: spaces, a pid, spaces, the word, a space or the end.
                var from = 0
                while let r = Bytes.range(of: w, in: line, from: from) {
                    from = r.lowerBound + 1
                    guard r.upperBound == line.count || line[r.upperBound] == 0x20 || line[r.upperBound] == 0x09 else {
                        continue
                    }
                    var i = r.lowerBound
                    var digits = 0
                    while i > 0, (0x30...0x39).contains(line[i - 1]) {
                        i -= 1
                        digits += 1
                    }
                    guard digits > 0, i > 0, line[i - 1] == 0x20 else { continue }
                    while i > 0, line[i - 1] == 0x20 { i -= 1 }
                    if i > 0, line[i - 1] == 0x3A { return true }  // `:` after `line N`
                }
            }
            return false
        }
    }
}
