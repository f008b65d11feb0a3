/// The attempt journal's records, schema 1. The journal is JSON Lines: one JSON object per line, UTF-8, each with
/// `"schema": 1` and a `"kind"`. Keys are snake_case; a key whose value is unknown is left out (never `null`).
/// Readers ignore keys they do not know, so new optional keys do not change the schema number; removing or
/// changing the meaning of a key does.
///
/// Order in the file: every attempt is written when it ends, the invocation when the last attempt has ended; so an
/// invocation's `attempt` lines come before its `invocation` line. An invocation whose safebuild was killed with
/// SIGKILL has attempt lines and no invocation line.
public enum JournalSchema {
    /// The schema number written in every record.
    public static let version = 1
}

/// How a protected command ended, over all its attempts.
public enum JournalOutcome: String, Codable, Sendable, CaseIterable, Comparable {
    /// The first attempt succeeded.
    case succeeded
    /// An attempt failed, safebuild retried, and a later attempt succeeded: saved by a retry.
    case succeededAfterRetry = "succeeded_after_retry"
    /// The last attempt failed and safebuild gave up: failed for good.
    case failed
    /// Pre-flight refused to start; docker never ran.
    case refused
    /// safebuild was told to stop (SIGTERM, SIGINT, SIGHUP) while docker ran; for example a Jenkins abort.
    case aborted

    public static func < (a: JournalOutcome, b: JournalOutcome) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Whether the command ended well.
    public var isSuccess: Bool { self == .succeeded || self == .succeededAfterRetry }
}

/// CI context taken from the environment when present (Jenkins sets all of these; others set some).
public struct JournalCI: Codable, Sendable, Equatable {
    public var jobName: String?
    public var buildNumber: String?
    public var buildURL: String?
    public var nodeName: String?
    public var gitCommit: String?

    enum CodingKeys: String, CodingKey {
        case jobName = "job_name", buildNumber = "build_number", buildURL = "build_url", nodeName = "node_name"
        case gitCommit = "git_commit"
    }

    public init(
        jobName: String? = nil, buildNumber: String? = nil, buildURL: String? = nil, nodeName: String? = nil,
        gitCommit: String? = nil
    ) {
        self.jobName = jobName
        self.buildNumber = buildNumber
        self.buildURL = buildURL
        self.nodeName = nodeName
        self.gitCommit = gitCommit
    }

    /// `JOB_NAME`, `BUILD_NUMBER`, `BUILD_URL`, `NODE_NAME`, `GIT_COMMIT`; nil when none is set. A password in
    /// `BUILD_URL` is redacted.
    public init?(environment: [String: String]) {
        func value(_ key: String) -> String? {
            guard let v = environment[key], !v.isEmpty else { return nil }
            return v
        }
        self.init(
            jobName: value("JOB_NAME"), buildNumber: value("BUILD_NUMBER"),
            buildURL: value("BUILD_URL").map { Redaction.url(in: $0) }, nodeName: value("NODE_NAME"),
            gitCommit: value("GIT_COMMIT"))
        if self == JournalCI() { return nil }
    }
}

/// One protected command as a whole (`"kind": "invocation"`), written once when it ends.
public struct InvocationRecord: Codable, Sendable, Equatable {
    public var schema = JournalSchema.version
    public var kind = "invocation"
    /// Time-prefixed random id, sortable as text (`Journal.newID()`), for example `20261123-094236-3f9a2c`.
    public var id: String
    /// The id of the earlier invocation this one re-ran (`safebuild retry`).
    public var retryOf: String?
    /// RFC 3339 UTC with milliseconds, for example `2026-11-23T09:42:36.123Z`.
    public var started: String
    public var ended: String
    public var durationSeconds: Double
    public var host: String
    public var user: String
    public var uid: UInt32
    public var cwd: String
    /// The protected command: `build` or `run`.
    public var command: String
    /// docker's arguments as given to safebuild (after safebuild's own `--sb-` options), secrets redacted.
    public var argv: [String]
    /// The arguments of the last attempt as executed (memory defaults added), secrets redacted.
    public var executedArgv: [String]
    /// True when a word of `argv` or `executed_argv` was redacted: the command cannot be re-run from the journal.
    public var redacted: Bool
    /// Where the policy came from: a file path, or `built-in`.
    public var policySource: String?
    /// For `run`: the image.
    public var image: String?
    /// For `build`: the `-t/--tag` names.
    public var tags: [String]?
    public var outcome: JournalOutcome
    /// Attempts started (0 when pre-flight refused).
    public var attempts: Int
    /// safebuild's exit status: docker's, 128+N for signal N, or safebuild's own (README lists them).
    public var exitStatus: Int32
    /// The failure class of the last failed attempt, if any.
    public var failureClass: String?
    public var ci: JournalCI?
    /// For a refused invocation (no attempt ran): the pre-flight decisions that refused.
    public var preflight: [JournalDecision]?
    /// The policy's decisions that shaped the command line, for example `memory 4g from build.memory at
    /// built-in default:26` or `the memory limit may not be enforced: BuildKit ignores -m/--memory-swap`.
    public var decisions: [String]?
    /// `false` when a memory limit was passed to a builder that ignores it (BuildKit); absent otherwise.
    public var memoryLimitEnforced: Bool?
    /// The safebuild version that wrote the record.
    public var safebuildVersion: String?

    enum CodingKeys: String, CodingKey {
        case schema, kind, id, retryOf = "retry_of", started, ended, durationSeconds = "duration_seconds", host, user
        case uid, cwd, command, argv, executedArgv = "executed_argv", redacted, policySource = "policy_source"
        case image, tags, outcome, attempts, exitStatus = "exit_status", failureClass = "failure_class", ci
        case preflight, decisions, memoryLimitEnforced = "memory_limit_enforced", safebuildVersion = "safebuild_version"
    }

    public init(
        id: String, retryOf: String? = nil, started: String, ended: String, durationSeconds: Double, host: String,
        user: String, uid: UInt32, cwd: String, command: String, argv: [String], executedArgv: [String],
        redacted: Bool = false, policySource: String? = nil, image: String? = nil, tags: [String]? = nil,
        outcome: JournalOutcome, attempts: Int, exitStatus: Int32, failureClass: String? = nil, ci: JournalCI? = nil,
        preflight: [JournalDecision]? = nil, decisions: [String]? = nil, memoryLimitEnforced: Bool? = nil,
        safebuildVersion: String? = Safebuild.version
    ) {
        self.id = id
        self.retryOf = retryOf
        self.started = started
        self.ended = ended
        self.durationSeconds = durationSeconds
        self.host = host
        self.user = user
        self.uid = uid
        self.cwd = cwd
        self.command = command
        self.argv = argv
        self.executedArgv = executedArgv
        self.redacted = redacted
        self.policySource = policySource
        self.image = image
        self.tags = tags
        self.outcome = outcome
        self.attempts = attempts
        self.exitStatus = exitStatus
        self.failureClass = failureClass
        self.ci = ci
        self.preflight = preflight
        self.decisions = decisions
        self.memoryLimitEnforced = memoryLimitEnforced
        self.safebuildVersion = safebuildVersion
    }
}

/// One pre-flight check and what safebuild did about it, for example
/// `{check: "mem_available", measured: 3.1e8, limit: 5.12e8, unit: "bytes", action: "refuse", message: "…"}`.
public struct JournalDecision: Codable, Sendable, Equatable {
    /// The check's name (snake_case), for example `mem_available`, `disk_free`, `memory_pressure`.
    public var check: String
    /// What was measured, in `unit`.
    public var measured: Double?
    /// The policy's threshold it was compared with, in `unit`.
    public var limit: Double?
    /// `bytes`, `percent`, `seconds`, `count`…
    public var unit: String?
    /// What safebuild did: `ok`, `warn`, `remedy`, `refuse`, `adjust`…
    public var action: String
    public var message: String?

    public init(
        check: String, measured: Double? = nil, limit: Double? = nil, unit: String? = nil, action: String,
        message: String? = nil
    ) {
        self.check = check
        self.measured = measured
        self.limit = limit
        self.unit = unit
        self.action = action
        self.message = message
    }
}

/// One remedy safebuild considered between attempts, and the figures before and after it.
public struct JournalRemedy: Codable, Sendable, Equatable {
    /// The remedy's name (snake_case), for example `prune_build_cache`, `drop_caches`, `compact_memory`.
    public var name: String
    public var ran: Bool
    public var skippedReason: String?
    /// Figures measured before and after (snake_case keys, bytes unless the key says otherwise), for example
    /// `mem_available_bytes`, `build_cache_bytes`, `disk_free_bytes`.
    public var before: [String: Int64]
    public var after: [String: Int64]
    /// What the remedy itself reports having freed (for example docker's "Total reclaimed space"), in bytes.
    public var reclaimedBytes: Int64?
    public var seconds: Double
    /// Why the remedy failed, when it ran and failed.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case name, ran, skippedReason = "skipped_reason", before, after, reclaimedBytes = "reclaimed_bytes", seconds
        case error
    }

    public init(
        name: String, ran: Bool, skippedReason: String? = nil, before: [String: Int64] = [:],
        after: [String: Int64] = [:], reclaimedBytes: Int64? = nil, seconds: Double = 0, error: String? = nil
    ) {
        self.name = name
        self.ran = ran
        self.skippedReason = skippedReason
        self.before = before
        self.after = after
        self.reclaimedBytes = reclaimedBytes
        self.seconds = seconds
        self.error = error
    }

    /// Standard figure names.
    public enum Figure {
        public static let memAvailable = "mem_available_bytes"
        public static let buildCache = "build_cache_bytes"
        public static let diskFree = "disk_free_bytes"
    }

    /// Bytes freed: what the remedy reported, else how much `build_cache_bytes` went down; never negative.
    public var reclaimed: Int64 {
        if let reclaimedBytes { return max(0, reclaimedBytes) }
        if let b = before[Figure.buildCache], let a = after[Figure.buildCache] { return max(0, b - a) }
        return 0
    }
}

/// One start of docker for a protected command (`"kind": "attempt"`), written when it ends.
public struct AttemptRecord: Codable, Sendable, Equatable {
    public var schema = JournalSchema.version
    public var kind = "attempt"
    /// The id of the invocation this attempt belongs to.
    public var invocation: String
    /// 1 for the first attempt.
    public var attempt: Int
    /// The attempt limit in force (so that a reader can print "attempt 2/3").
    public var maxAttempts: Int?
    public var started: String
    public var ended: String
    public var durationSeconds: Double
    /// docker's arguments as executed, secrets redacted.
    public var argv: [String]
    public var preflight: [JournalDecision]
    /// docker's exit status (128+N when it was killed by signal N); absent when docker never started.
    public var exitStatus: Int32?
    /// The signal that killed docker, if one did.
    public var signal: Int32?
    /// The failure class (snake_case) when the attempt failed and was classified.
    public var failureClass: String?
    /// The line of docker's output that decided the class.
    public var matchedLine: String?
    /// Remedies considered after this attempt failed.
    public var remedies: [JournalRemedy]
    /// What safebuild decided, in words: `succeeded`, `retry in 4s`, `give up: not a memory failure`,
    /// `aborted by SIGTERM` (`AttemptDecision.text`).
    public var decision: String

    enum CodingKeys: String, CodingKey {
        case schema, kind, invocation, attempt, maxAttempts = "max_attempts", started, ended
        case durationSeconds = "duration_seconds", argv, preflight, exitStatus = "exit_status", signal
        case failureClass = "failure_class", matchedLine = "matched_line", remedies, decision
    }

    public init(
        invocation: String, attempt: Int, maxAttempts: Int? = nil, started: String, ended: String,
        durationSeconds: Double, argv: [String], preflight: [JournalDecision] = [], exitStatus: Int32? = nil,
        signal: Int32? = nil, failureClass: String? = nil, matchedLine: String? = nil, remedies: [JournalRemedy] = [],
        decision: String
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
    }

    /// Matched lines are kept to 2,000 characters.
    static func bounded(_ line: String) -> String {
        line.count <= 2000 ? line : String(line.prefix(2000)) + "…"
    }

    /// Whether docker ended well on this attempt.
    public var succeeded: Bool { exitStatus == 0 }
}

/// What safebuild decided after an attempt; `text` is the journal's `decision` and the end of the console line.
public enum AttemptDecision: Equatable, Sendable {
    case succeeded
    case retry(afterSeconds: Double)
    case giveUp(reason: String)
    case aborted(signal: Int32)

    public var text: String {
        switch self {
        case .succeeded: return "succeeded"
        case .retry(let s): return "retry in \(ConsoleReport.seconds(s))"
        case .giveUp(let reason): return "give up: \(reason)"
        case .aborted(let signal): return "aborted by \(ConsoleReport.signalName(signal))"
        }
    }
}

/// One line of the journal, decoded.
public enum JournalRecord: Sendable, Equatable {
    case invocation(InvocationRecord)
    case attempt(AttemptRecord)

    /// The invocation id the record belongs to.
    public var invocationID: String {
        switch self {
        case .invocation(let r): return r.id
        case .attempt(let r): return r.invocation
        }
    }

    /// When the record's invocation or attempt started.
    public var started: String {
        switch self {
        case .invocation(let r): return r.started
        case .attempt(let r): return r.started
        }
    }
}
