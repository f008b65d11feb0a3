/// How a protected command ended, over all its attempts.
package enum JournalOutcome: String, Codable, Sendable, CaseIterable, Comparable {
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
    /// Written when the first attempt starts, and completed by the invocation's final record (same `id`): a record
    /// that stays `running` is a command still running, or one whose safebuild was killed.
    case running
    /// Read, never written: a `running` record whose safebuild (`process`, on this host) is gone without an end:
    /// SIGKILL, the OOM killer, a crash.
    case killed

    package static func < (a: JournalOutcome, b: JournalOutcome) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Whether the command ended well.
    package var isSuccess: Bool { self == .succeeded || self == .succeededAfterRetry }
}

/// CI context taken from the environment when present (Jenkins sets all of these; others set some).
package struct JournalCI: Codable, Sendable, Equatable {
    package var jobName: String?
    package var buildNumber: String?
    package var buildURL: String?
    package var nodeName: String?
    package var gitCommit: String?

    enum CodingKeys: String, CodingKey {
        case jobName = "job_name", buildNumber = "build_number", buildURL = "build_url", nodeName = "node_name"
        case gitCommit = "git_commit"
    }

    package init(
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
    package init?(environment: [String: String]) {
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
package struct InvocationRecord: Codable, Sendable, Equatable {
    package var schema = JournalSchema.version
    package var kind = "invocation"
    /// Time-prefixed random id, sortable as text (`Journal.newID()`), for example `20261123-094236-3f9a2c`.
    package var id: String
    /// The id of the earlier invocation this one re-ran (`safebuild retry`).
    package var retryOf: String?
    /// RFC 3339 UTC with milliseconds, for example `2026-11-23T09:42:36.123Z`.
    package var started: String
    package var ended: String
    package var durationSeconds: Double
    package var host: String
    package var user: String
    package var uid: UInt32
    package var cwd: String
    /// The protected command: `build` or `run`.
    package var command: String
    /// docker's arguments as given to safebuild (after safebuild's own `--sb-` options), secrets redacted; byte for
    /// byte (`JournalWords`).
    @JournalWords package var argv: [String]
    /// The arguments of the last attempt exactly as docker got them (memory defaults and the `--cidfile` safebuild
    /// adds included), secrets redacted.
    @JournalWords package var executedArgv: [String]
    /// True when a word of `argv` or `executed_argv` was redacted: the command cannot be re-run from the journal.
    package var redacted: Bool
    /// Where the policy came from: a file path, or `built-in`.
    package var policySource: String?
    /// For `run`: the image.
    package var image: String?
    /// For `build`: the `-t/--tag` names.
    package var tags: [String]?
    package var outcome: JournalOutcome
    /// Attempts started (0 when pre-flight refused).
    package var attempts: Int
    /// safebuild's exit status: docker's, 128+N for signal N, or safebuild's own (README lists them).
    package var exitStatus: Int32
    /// The failure class of the last failed attempt, if any.
    package var failureClass: String?
    package var ci: JournalCI?
    /// For a refused invocation (no attempt ran): the pre-flight decisions that refused.
    package var preflight: [JournalDecision]?
    /// The policy's decisions that shaped the command line, for example `memory 4g from build.memory at
    /// built-in default:26` or `the memory limit may not be enforced: BuildKit ignores -m/--memory-swap`.
    package var decisions: [String]?
    /// `false` when a memory limit was passed to a builder that ignores it (BuildKit); absent otherwise.
    package var memoryLimitEnforced: Bool?
    /// The safebuild version that wrote the record.
    package var safebuildVersion: String?
    /// The safebuild process (pid and start time), on a `running` record: tells a dead one from a live one.
    package var process: ProcessIdentity?
    /// For an invocation a termination signal ended while safebuild waited (pre-flight, memory admission, a remedy,
    /// a lock, the backoff): what it waited for, as `interrupted by SIGTERM while waiting for …`.
    package var interrupted: String?

    enum CodingKeys: String, CodingKey {
        case schema, kind, id, retryOf = "retry_of", started, ended, durationSeconds = "duration_seconds", host, user
        case uid, cwd, command, argv, executedArgv = "executed_argv", redacted, policySource = "policy_source"
        case image, tags, outcome, attempts, exitStatus = "exit_status", failureClass = "failure_class", ci
        case preflight, decisions, memoryLimitEnforced = "memory_limit_enforced", safebuildVersion = "safebuild_version"
        case process, interrupted
    }

    package init(
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
