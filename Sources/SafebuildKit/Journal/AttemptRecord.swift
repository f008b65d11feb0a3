/// One pre-flight check and what safebuild did about it, for example
/// `{check: "mem_available", measured: 3.1e8, limit: 5.12e8, unit: "bytes", action: "refuse", message: "…"}`.
package struct JournalDecision: Codable, Sendable, Equatable {
    /// The check's name (snake_case), for example `mem_available`, `disk_free`, `memory_pressure`.
    package var check: String
    /// What was measured, in `unit`.
    package var measured: Double?
    /// The policy's threshold it was compared with, in `unit`.
    package var limit: Double?
    /// `bytes`, `percent`, `seconds`, `count`…
    package var unit: String?
    /// What safebuild did: `ok`, `warn`, `remedy`, `refuse`, `adjust`…
    package var action: String
    package var message: String?
    /// How old `measured` was, in seconds, when it came from a figure shared between commands (the build cache of an
    /// engine older than API 1.42); absent when this command measured it.
    package var ageSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case check, measured, limit, unit, action, message
        case ageSeconds = "age_seconds"
    }

    package init(
        check: String, measured: Double? = nil, limit: Double? = nil, unit: String? = nil, action: String,
        message: String? = nil, ageSeconds: Double? = nil
    ) {
        self.check = check
        self.measured = measured
        self.limit = limit
        self.unit = unit
        self.action = action
        self.message = message
        self.ageSeconds = ageSeconds
    }
}

/// One remedy safebuild considered between attempts, and the figures before and after it.
package struct JournalRemedy: Codable, Sendable, Equatable {
    /// The remedy's name (snake_case), for example `prune_build_cache`, `drop_caches`, `compact_memory`.
    package var name: String
    package var ran: Bool
    package var skippedReason: String?
    /// Figures measured before and after (snake_case keys, bytes unless the key says otherwise), for example
    /// `mem_available_bytes`, `build_cache_bytes`, `disk_free_bytes`.
    package var before: [String: Int64]
    package var after: [String: Int64]
    /// What the remedy itself reports having freed (for example docker's "Total reclaimed space"), in bytes.
    package var reclaimedBytes: Int64?
    package var seconds: Double
    /// Why the remedy failed, when it ran and failed.
    package var error: String?
    /// `sudo` when it ran as root through the privileged entry (`sudo -n safebuild remedy NAME`).
    package var via: String?
    /// `preflight` for a remedy pre-flight ran before the first attempt (recorded with that attempt, beside those
    /// run after it failed); absent for a remedy run after the attempt.
    package var phase: String?
    /// Why it ran or was skipped, from the host's figures (`page cache 3.1 GiB and MemAvailable 400 MiB below …`).
    package var because: String?
    /// free_disk: its prune steps, each with the data root's free space before and after.
    package var steps: [PruneStep]?

    enum CodingKeys: String, CodingKey {
        case name, ran, skippedReason = "skipped_reason", before, after, reclaimedBytes = "reclaimed_bytes", seconds
        case error, via, phase, because, steps
    }

    /// The `phase` of a remedy pre-flight ran.
    package static let preflightPhase = "preflight"

    /// Whether pre-flight ran it (before the first attempt), not the retry loop after a failure.
    package var isPreflight: Bool { phase == Self.preflightPhase }

    package init(
        name: String, ran: Bool, skippedReason: String? = nil, before: [String: Int64] = [:],
        after: [String: Int64] = [:], reclaimedBytes: Int64? = nil, seconds: Double = 0, error: String? = nil,
        via: String? = nil, phase: String? = nil, because: String? = nil, steps: [PruneStep]? = nil
    ) {
        self.name = name
        self.ran = ran
        self.skippedReason = skippedReason
        self.before = before
        self.after = after
        self.reclaimedBytes = reclaimedBytes
        self.seconds = seconds
        self.error = error
        self.via = via
        self.phase = phase
        self.because = because
        self.steps = steps
    }

    /// Standard figure names.
    package enum Figure {
        package static let memAvailable = "mem_available_bytes"
        package static let buildCache = "build_cache_bytes"
        package static let diskFree = "disk_free_bytes"
    }

    /// Bytes freed: what the remedy reported, else how much `build_cache_bytes` went down; never negative.
    package var reclaimed: Int64 {
        if let reclaimedBytes { return max(0, reclaimedBytes) }
        if let b = before[Figure.buildCache], let a = after[Figure.buildCache] { return max(0, b - a) }
        return 0
    }
}

/// Whether an attempt could be run again unchanged, and how its stdin and stdout were kept for that, for example
/// `{retryable: false, stdin: "spool_exceeded", stdin_bytes: 31457280, stdout: "held", stdout_bytes: 0,
/// because: "stdin was larger than retry.stdin_spool (1.0 MiB), so a retry would not read the same input"}`.
package struct JournalReplay: Codable, Sendable, Equatable {
    package var retryable: Bool
    /// `inherited` (docker does not read it, or /dev/null), `rewound` (a regular file), `spooled`, `spool_exceeded`,
    /// `not_kept` (a terminal, or one attempt only).
    package var stdin: String
    /// Bytes read from a spooled stdin so far.
    package var stdinBytes: Int64?
    /// `terminal`, `progress` (a build's), `held`, `hold_exceeded`, `live` (an artifact not held), `discarded`
    /// (/dev/null).
    package var stdout: String
    /// Bytes docker wrote to stdout in this attempt (absent when it wrote to a terminal itself).
    package var stdoutBytes: Int64?
    /// Why the attempt could not be run again unchanged.
    package var because: String?

    enum CodingKeys: String, CodingKey {
        case retryable, stdin, stdinBytes = "stdin_bytes", stdout, stdoutBytes = "stdout_bytes", because
    }

    package init(
        retryable: Bool, stdin: String, stdinBytes: Int64? = nil, stdout: String, stdoutBytes: Int64? = nil,
        because: String? = nil
    ) {
        self.retryable = retryable
        self.stdin = stdin
        self.stdinBytes = stdinBytes
        self.stdout = stdout
        self.stdoutBytes = stdoutBytes
        self.because = because
    }
}

/// One start of docker for a protected command (`"kind": "attempt"`), written when it ends.
package struct AttemptRecord: Codable, Sendable, Equatable {
    package var schema = JournalSchema.version
    package var kind = "attempt"
    /// The id of the invocation this attempt belongs to.
    package var invocation: String
    /// 1 for the first attempt.
    package var attempt: Int
    /// The attempt limit in force (so that a reader can print "attempt 2/3").
    package var maxAttempts: Int?
    package var started: String
    package var ended: String
    package var durationSeconds: Double
    /// docker's arguments exactly as docker got them (the `--cidfile` safebuild adds included), secrets redacted; byte
    /// for byte (`JournalWords`).
    @JournalWords package var argv: [String]
    package var preflight: [JournalDecision]
    /// docker's exit status (128+N when it was killed by signal N); absent when docker never started.
    package var exitStatus: Int32?
    /// The signal that killed docker, if one did.
    package var signal: Int32?
    /// The failure class (snake_case) when the attempt failed and was classified.
    package var failureClass: String?
    /// The line of docker's output that decided the class.
    package var matchedLine: String?
    /// Remedies considered after this attempt failed; on the first attempt, first those pre-flight ran before it
    /// (`phase: "preflight"`).
    package var remedies: [JournalRemedy]
    /// What safebuild decided, in words: `succeeded`, `retry in 4s`, `give up: not a memory failure`,
    /// `aborted by SIGTERM` (`AttemptDecision.text`).
    package var decision: String
    /// Whether the attempt could be run again unchanged (stdin kept, stdout held), and why not.
    package var replay: JournalReplay?
    /// The memory admission before this attempt (absent when admission is off).
    package var admission: JournalAdmission?
    /// What the attempt's containers used, and for an OOM kill, which limit killed it.
    package var memory: AttemptMemory?
    /// The host's figures looked at again after the attempt failed, and what they decided (`judgement`).
    package var evidence: HostEvidence?

    enum CodingKeys: String, CodingKey {
        case schema, kind, invocation, attempt, maxAttempts = "max_attempts", started, ended
        case durationSeconds = "duration_seconds", argv, preflight, exitStatus = "exit_status", signal
        case failureClass = "failure_class", matchedLine = "matched_line", remedies, decision, replay, admission, memory
        case evidence
    }

    package init(
        invocation: String, attempt: Int, maxAttempts: Int? = nil, started: String, ended: String,
        durationSeconds: Double, argv: [String], preflight: [JournalDecision] = [], exitStatus: Int32? = nil,
        signal: Int32? = nil, failureClass: String? = nil, matchedLine: String? = nil, remedies: [JournalRemedy] = [],
        decision: String, replay: JournalReplay? = nil
    ) {
        self.invocation = invocation
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.started = started
        self.ended = ended
        self.durationSeconds = durationSeconds
        self.argv = argv
        self.preflight = preflight
        self.exitStatus = exitStatus
        self.signal = signal
        self.failureClass = failureClass
        self.matchedLine = matchedLine.map { Self.bounded($0) }
        self.remedies = remedies
        self.decision = decision
        self.replay = replay
    }

    /// Matched lines are kept to 2,000 characters.
    static func bounded(_ line: String) -> String {
        line.count <= 2000 ? line : String(line.prefix(2000)) + "…"
    }

    /// Whether docker ended well on this attempt.
    package var succeeded: Bool { exitStatus == 0 }
}

/// What safebuild decided after an attempt; `text` is the journal's `decision` and the end of the console line.
package enum AttemptDecision: Equatable, Sendable {
    case succeeded
    case retry(afterSeconds: Double)
    case giveUp(reason: String)
    case aborted(signal: Int32)

    package var text: String {
        switch self {
        case .succeeded: return "succeeded"
        case .retry(let s): return "retry in \(ConsoleReport.seconds(s))"
        case .giveUp(let reason): return "give up: \(reason)"
        case .aborted(let signal): return "aborted by \(ConsoleReport.signalName(signal))"
        }
    }
}
