import Yams

/// Every key of the policy, declared once: its name, type, help, and where its value lives in `Policy`. The parser
/// reads YAML by walking these tables, and `policy show` prints the effective policy by walking the same, so a key
/// cannot be read without being shown, or shown in another place than it is read from.
///
/// Order matters: it is the order of `policy show` and of the key lists in diagnostics.
enum PolicySchema {
    /// The policy file.
    static let policy = PolicySection<Policy>(
        keys: [
            PolicyKey(
                name: "version", help: "The policy format; this safebuild reads version 1.", type: "1", location: nil,
                shape: .value(
                    read: { parser, node, path, _ in
                        if let text = parser.scalar(node, path, expected: "1"), text != "1" {
                            parser.report(node, "version is '\(text)'; this safebuild reads version 1", expected: "1")
                        }
                    },
                    show: { _, _ in nil }),
                lowerLayers: true),
            .section(
                "run", help: "Defaults for `docker run`: the user's own flags always win.",
                limits(.run)),
            .section(
                "build", help: "Defaults for `docker build` (and image build, builder build, buildx build).",
                limits(.build)),
            .list(
                "rules", \.rules, rules,
                help: "Rules override the defaults for the commands they match; a later rule wins over an earlier one; "
                    + "each policy's rules come after those of the policies below it."
            ).belowHostToo,
            .section("preflight", help: "Checks before a protected command starts.", preflight),
            .section("retry", help: "Retries of a protected command that failed for a memory reason.", retry),
            .section("remedies", help: "How remedies act.", remedies),
            .section("journal", help: "The attempt journal (JSON Lines, one record per attempt).", journal),
            .section(
                "admission", help: "Memory reservations before docker starts, so that jobs wait instead of killing each other.",
                admission),
            .list(
                "signatures", \.signatures, signatures,
                help: "Extra failure signatures, tried before the built-in ones."),
            .section("docker", help: "The real docker and how safebuild stops it.", docker),
            .section("protection", help: "What users may do about protection on this host (host policy only).", protection),
        ],
        hints: [
            "memory": "it under run: or build: (or in a rule)", "swap": "it under run: or build: (or in a rule)",
            "shm_size": "it under run: or build: (or in a rule)", "enforce": "it under build: (or in a rule)",
            "max_memory": "it under run: or build:",
        ])

    /// `run:` or `build:`; only builds have `enforce`.
    static func limits(_ command: Policy.CommandKind) -> PolicySection<Policy> {
        let run = command == .run
        var keys: [PolicyKey<Policy>] = [
            .memory(
                "memory", run ? \.run.memory : \.build.memory, commands: { _ in [command] },
                help: "--memory for commands that did not choose one: a size, a share of host memory, or unlimited; "
                    + "below the host's layer, at most the host's max_memory."
            ).belowHostToo,
            .value(
                "swap", run ? \.run.swap : \.build.swap, .swap,
                help: "--memory-swap: none (no swap), unlimited, or a memory-plus-swap size (never below memory)."
            ).belowHostToo,
            .value(
                "shm_size", run ? \.run.shmSize : \.build.shmSize, .optional(.size(share: true)),
                help: "--shm-size; empty keeps docker's default (64m)."
            ).belowHostToo,
            .value(
                "max_memory", run ? \.run.maxMemory : \.build.maxMemory, .optional(.memory),
                help: "The host's ceiling: no memory limit that a project or user policy sets is above it; empty: the "
                    + "host policy's own memory."),
        ]
        if run {
            return PolicySection(keys: keys, hints: ["enforce": "it under build: (only builds have a builder to choose)"])
        }
        keys.append(
            .value(
                "enforce", \.buildEnforce, .choice,
                help: "classic: use the classic builder so that limits are enforced; notice: keep BuildKit and say that "
                    + "it ignores them; off: add no memory flags to builds (below the host's layer, under a ceiling: notice)."
            ).belowHostToo)
        return PolicySection(keys: keys)
    }

    // MARK: Rules

    static let ruleSettings = ["memory", "swap", "shm_size", "enforce"]

    static let rules: PolicyList<Policy.Rule> = PolicyList(
        label: { "rule \($0)" }, expected: "a list of rules, each '- match: {…}' with settings",
        start: { Policy.Rule(number: $0, name: nil, match: .init(), source: $1) },
        section: PolicySection(keys: [
            .part("name", \.name, .text(), help: "A name for the rule in decisions and the journal."),
            .section("match", help: "What the rule applies to: every key given must match.", match),
            .memory(
                "memory", optional: \.memory, commands: { rule in rule.match.command.map { [$0] } ?? Policy.CommandKind.allCases },
                help: "--memory for the commands the rule matches (held to the host's max_memory, as run: and build: are)."),
            .optional("swap", \.swap, .swap, help: "--memory-swap for the commands the rule matches."),
            .optional("shm_size", \.shmSize, .size(share: true), help: "--shm-size for the commands the rule matches."),
            .optional("enforce", \.enforce, .choice, help: "build.enforce for the builds the rule matches."),
        ]),
        finish: { parser, node, given, rule, path in
            if given["match"] == nil {
                parser.report(
                    node, "\(path) has no 'match', so it would apply to everything",
                    expected: "match: with at least one of \(PolicyParser.list(match.names)) (defaults for everything belong under run: or build:)")
                return
            }
            if rule.memory == nil, rule.swap == nil, rule.shmSize == nil, rule.enforce == nil {
                parser.report(node, "\(path) sets nothing", expected: "at least one of \(PolicyParser.list(ruleSettings))")
                return
            }
            if rule.match.command == .run, let enforce = rule.enforce {
                parser.report(
                    line: enforce.source.line, column: enforce.source.column,
                    "\(path).enforce applies only to builds, but the rule matches only 'run'",
                    expected: "command: build, or no enforce")
            }
            if let memory = rule.memory, let swap = rule.swap { parser.swapBelowMemory(memory, swap, path) }
        },
        source: \.source, showsSource: true)

    static let match: PolicySection<Policy.Rule> = PolicySection(
        keys: [
            .part(
                "image", \.match.image, .glob(image: true),
                help: "Glob on the run image or any build -t tag (also tried with and without docker.io/library/ and :latest)."),
            .part("context", \.match.context, .glob(), help: "Glob on the build context path."),
            .part("dockerfile", \.match.dockerfile, .glob(), help: "Glob on the Dockerfile path."),
            .part("job", \.match.job, .glob(), help: "Glob on $JOB_NAME."),
            .part("command", \.match.command, .choice, help: "run or build."),
        ],
        check: { parser, node, given, rule, path in
            if let map = node.mapping, map.count == 0 {
                parser.report(
                    node, "\(path) is empty, so the rule would apply to everything",
                    expected: "at least one of \(PolicyParser.list(match.names))")
            }
            if rule.match.command == .run, rule.match.context != nil || rule.match.dockerfile != nil,
                let command = given["command"]
            {
                parser.report(
                    command,
                    "\(PolicyParser.parent(of: path)) can never match: context and dockerfile belong to builds, but command is 'run'",
                    expected: "command: build, or no context/dockerfile")
            }
        })

    // MARK: Pre-flight, retry, remedies

    /// Thresholds are open to project and user policies in the stricter direction only (`PolicyParser.threshold`);
    /// their actions and the timeouts are the host's.
    static let preflight = PolicySection<Policy>(keys: [
        .threshold(
            "min_available", \.preflight.minAvailable, .size(share: true), stricter: atLeast,
            help: "MemAvailable below this."
        ).belowHostToo,
        .threshold(
            "max_pressure", \.preflight.maxPressure, .percent, stricter: { a, b, _ in a <= b },
            help: "Memory pressure (PSI some avg10, percent of time stalled) above this."
        ).belowHostToo,
        .threshold(
            "max_build_cache", \.preflight.maxBuildCache, .size(share: false), stricter: atMost,
            help: "Build cache (docker system df) above this."
        ).belowHostToo,
        .threshold(
            "min_free_disk", \.preflight.minFreeDisk, .size(share: false), stricter: atLeast,
            help: "Free space under docker's data root below this."
        ).belowHostToo,
        .threshold(
            "min_free_blocks", \.preflight.minFreeBlocks, .freeBlocks,
            stricter: { a, b, _ in
                if a.order >= b.order && a.count >= b.count { return true }
                if a.order <= b.order && a.count <= b.count { return false }
                return nil
            },
            help: "Fewer than count free blocks of order order or higher (/proc/buddyinfo): fragmentation."
        ).belowHostToo,
        .value("wait_timeout", \.preflight.waitTimeout, .duration(max: .hours(1)), help: "Longest wait for the wait action."),
        .value(
            "engine_timeout", \.preflight.engineTimeout, .duration(positive: true, max: .minutes(5)),
            help: "Longest any daemon query may take before it counts as unreachable."),
        .value(
            "build_cache_max_age", \.preflight.buildCacheMaxAge, .duration(max: .days(1)),
            help: "How old a host-shared build-cache figure may be before one safebuild refreshes it in the background."),
    ])

    /// For a `min_` threshold: a larger value is as strict or stricter.
    @Sendable static func atLeast(_ a: Size, _ b: Size, _ hostMemory: UInt64?) -> Bool? {
        Size.order(a, b, hostMemory: hostMemory).map { $0 >= 0 }
    }

    /// For a `max_` threshold: a smaller value is as strict or stricter.
    @Sendable static func atMost(_ a: Size, _ b: Size, _ hostMemory: UInt64?) -> Bool? {
        Size.order(a, b, hostMemory: hostMemory).map { $0 <= 0 }
    }

    /// Below the host's layer: attempts up to the host's, backoff and deadline as wished, ladders that only do less
    /// than the host's (`PolicyParser.ladderWithinHost`); raise_memory and cooldown are the host's.
    static let retry = PolicySection<Policy>(
        keys: [
            .value(
                "max_attempts", \.retry.maxAttempts, .integer(1...100),
                help: "Attempts in all, the first included (1: never retry); below the host's layer, at most the host's."
            ).belowHostToo,
            .section("backoff", help: "The delay before each retry.", backoff),
            .value(
                "deadline", \.retry.deadline, .duration(positive: true, max: .hours(24)),
                help: "No retry starts later than this after the first attempt."
            ).belowHostToo,
            .section("raise_memory", help: "What the raise_memory remedy does.", raiseMemory),
            .value(
                "cooldown", \.retry.cooldown, .duration(max: .hours(24)),
                help: "The same remedy is not applied twice host-wide within this time."),
            .table(
                "ladders", \.retry.ladders, key: "failure class", .ladder,
                expected: "a mapping of failure class to a list of remedy steps",
                allowed: { parser, failureClass, ladder, host, node, path in
                    parser.ladderWithinHost(failureClass, ladder, host: host, node, path)
                },
                help: "Per failure class, the remedies before each retry, one list per retry (the last repeats); [] is "
                    + "never retried. Below the host's layer, only fewer remedies than the host's, retry by retry."
            ).belowHostToo,
            .value(
                "stdin_spool", \.retry.stdinSpool, .size(share: false),
                help: "Piped stdin kept in a temporary file so that a retry reads the same input; more than this: no retry."),
            .value(
                "stdout_hold", \.retry.stdoutHold, .size(share: false),
                help: "stdout that is an artifact held back until the last attempt; more than this: released, no retry. 0: never held."),
            .value(
                "healthy_host_enomem", \.retry.healthyHostENOMEM, .choice,
                help: "An ENOMEM on a host with plenty of memory, no pressure and no fragmentation: once (retried once without remedies), never, or ladder (the figures not used)."),
        ],
        check: { parser, _, given, policy, _ in
            guard parser.layer.isBelowHost, let host = parser.host, let node = given["max_attempts"] else { return }
            let mine = policy.retry.maxAttempts
            let theirs = host.retry.maxAttempts
            guard mine.value > theirs.value else { return }
            parser.warn(
                node,
                "retry.max_attempts \(mine.value) is above the host's \(theirs.value) (\(theirs.source)); clamped to \(theirs.value)")
            policy.retry.maxAttempts = Sourced(
                theirs.value, mine.source, note: "clamped from \(mine.value) to the host's \(theirs.value)")
        })

    static let backoff = PolicySection<Policy>(
        keys: [
            .value("initial", \.retry.backoff.initial, .duration(max: .minutes(10)), help: "The first delay's scale.")
                .belowHostToo,
            .value("max", \.retry.backoff.max, .duration(max: .hours(1)), help: "No single delay is longer.").belowHostToo,
            .value(
                "jitter", \.retry.backoff.jitter, .number(0...1, expected: "a fraction from 0 to 1, such as 0.2"),
                help: "Fraction of each delay that is randomised, so that jobs do not retry in step."
            ).belowHostToo,
        ],
        check: { parser, _, _, policy, path in
            let b = policy.retry.backoff
            guard b.max.value < b.initial.value else { return }
            let at = b.max.source.file == parser.file ? b.max.source : b.initial.source
            guard at.file == parser.file else { return }
            parser.report(
                line: at.line, column: at.column,
                "\(path).max \(TimeSpan(seconds: b.max.value)) is below \(path).initial \(TimeSpan(seconds: b.initial.value))",
                expected: "max of at least initial")
        })

    static let raiseMemory = PolicySection<Policy>(keys: [
        .value(
            "factor", \.retry.raiseMemory.factor, .number(1...16, expected: "a factor from 1 to 16, such as 1.5"),
            help: "The memory limit is multiplied by this."),
        .value("cap", \.retry.raiseMemory.cap, .size(share: true), help: "Never above this."),
    ])

    static let remedies = PolicySection<Policy>(keys: [
        .value("keep_storage", \.remedies.keepStorage, .size(share: false), help: "Build cache kept by prune_build_cache."),
        .value(
            "prune_until", \.remedies.pruneUntil, .duration(max: .days(365)),
            help: "Only cache and dangling images older than this are pruned (--filter until=…)."),
        .value(
            "prune_floor", \.remedies.pruneFloor, .duration(max: .days(365)),
            help: "free_disk prunes younger cache and dangling images, step by step, down to this age and never younger."),
        .value("drop_caches", \.remedies.dropCaches, .bool, help: "Whether drop_caches may write /proc/sys/vm/drop_caches."),
        .value("compact_memory", \.remedies.compactMemory, .bool, help: "Whether compact_memory may write /proc/sys/vm/compact_memory."),
        .value(
            "drop_caches_min_cache", \.remedies.dropCachesMinCache, .size(share: true),
            help: "drop_caches runs only with at least this much page cache to drop (every job reads what it drops back from disk)."),
        .value(
            "drop_caches_max_available", \.remedies.dropCachesMaxAvailable, .optional(.size(share: true)),
            help: "drop_caches runs only when MemAvailable is below this; empty: below 1 GiB or 20% of host memory."),
        .value(
            "compact_memory_max_free", \.remedies.compactMemoryMaxFree, .size(share: true),
            help: "compact_memory runs only when less than this is free in blocks of 32 KiB and up (/proc/buddyinfo): fragmentation."),
        .value(
            "state_dir", \.remedies.lockDirectory, .text(absolutePath: true),
            help: "Where the host-wide locks and cooldown stamps of remedies are kept (lock_dir, its old name, is read too)."
        ).alias("lock_dir"),
    ])

    // MARK: Admission (host-only keys: they describe the host, not a project)

    static let admission = PolicySection<Policy>(keys: [
        .value("enabled", \.admission.enabled, .bool, help: "Whether protected commands reserve memory and wait for it."),
        .value(
            "budget", \.admission.budget, .optional(.size(share: true)),
            help: "The memory containers share; empty: detected from host memory less host_reserve and the engine's parent cgroup's limit."),
        .value(
            "host_reserve", \.admission.hostReserve, .size(share: true),
            help: "Host memory kept for everything but containers, when the budget is detected."),
        .value(
            "reserve", \.admission.reserve, .choice,
            help: "What a command reserves: limit (its memory limit) or learned (its job's or image's p95 peak from the journal, with headroom)."),
        .value(
            "default_request", \.admission.defaultRequest, .size(share: true),
            help: "What a command without a memory limit reserves."),
        .value(
            "learned_headroom", \.admission.learnedHeadroom, .percent,
            help: "Added to a learned p95 peak (reserve: learned, and policy suggest)."),
        .value(
            "wait_timeout", \.admission.waitTimeout, .duration(), help: "The longest wait for a reservation to fit."),
        .value(
            "on_timeout", \.admission.onTimeout, .choice,
            help: "After wait_timeout: run (go ahead with a warning) or refuse (exit 75)."),
        .value(
            "oversize", \.admission.oversize, .choice,
            help: "A reservation larger than the whole budget: alone (runs when nothing else holds one) or refuse (exit 75)."),
    ])

    // MARK: Journal, signatures, docker

    static let journal = PolicySection<Policy>(keys: [
        .value("path", \.journal.path, .text(absolutePath: true), help: "The journal file."),
        .value("max_size", \.journal.maxSize, .size(share: false), help: "Rotated when larger than this."),
        .value("keep", \.journal.keep, .integer(0...1000), help: "Rotated files kept."),
        .value(
            "metrics_path", \.journal.metricsPath, .optional(.text(absolutePath: true), off: ["off"]),
            help: "A Prometheus textfile-collector file with counters; empty or off: none."),
        .value(
            "group", \.journal.group, .text(),
            help: "The group that may read the journal and metrics files (mode 0640)."),
        .value(
            "keep_values", \.journal.keepValues, .variableNames,
            help: "Variables (-e, --env, --build-arg) whose values the journal keeps; of every other, only the name."),
    ])

    static let signatures = PolicyList<PolicySignature>(
        label: { "signature \($0)" },
        expected: "a list of {class: …, contains: …} or {class: …, pattern: …}",
        // Placeholders until the keys are read: `finish` makes sure the class and exactly one text were given.
        start: { PolicySignature(failureClass: .notMemory, text: .contains(""), source: $1) },
        section: PolicySection(keys: [
            .part("class", always: \.failureClass, .failureClass, help: "The failure class of a matching line."),
            .part("contains", \.contains, .signatureText, help: "Text a line of docker's own errors contains."),
            .part("pattern", \.pattern, .regex, help: "A regular expression a line of docker's own errors matches."),
        ]),
        finish: { parser, node, given, _, path in
            let texts = (given["contains"] == nil ? 0 : 1) + (given["pattern"] == nil ? 0 : 1)
            if given["class"] == nil || texts != 1 {
                parser.report(
                    node, "\(path) needs a class and exactly one of contains or pattern",
                    expected: "{class: storage_enomem, contains: \"…\"}")
            }
        },
        source: \.source, showsSource: false)

    static let docker = PolicySection<Policy>(keys: [
        .value(
            "path", \.docker.path, .optional(.text(absolutePath: true)),
            help: "The real docker of protected commands, over SAFEBUILD_DOCKER / --sb-docker (pass-through commands "
                + "read no policy); empty: SAFEBUILD_DOCKER, else the first docker on PATH that is not safebuild."),
        .value(
            "stop_grace", \.docker.stopGrace, .duration(max: .seconds(60)),
            help: "After a forwarded SIGTERM or SIGHUP, how long docker and a run container get before they are killed "
                + "(at most 1m; keep it below Jenkins' 5 s soft-kill wait)."),
    ],
    check: { parser, _, given, policy, path in
        guard let node = given["stop_grace"], !parser.layer.isBelowHost else { return }
        let grace = policy.docker.stopGrace.value
        guard grace > jenkinsSoftKillWait else { return }
        parser.warn(
            node,
            "\(path).stop_grace \(TimeSpan(seconds: grace)) is longer than Jenkins' soft-kill wait of 5s (SoftKillWaitSeconds): "
                + "an aborted build may be killed before safebuild stops its container")
    })

    /// Jenkins' `SoftKillWaitSeconds` default: after an abort, how long a step gets before it is killed.
    static let jenkinsSoftKillWait = 5.0

    static let protection = PolicySection<Policy>(keys: [
        .value(
            "allow_off", \.protection.allowOff, .bool,
            help: "Whether --sb-off and SAFEBUILD_OFF may switch protection off; when false they are ignored, with a warning."),
        .value(
            "memory_flag", \.protection.memoryFlag, .choice,
            help: "A -m/--memory on the command line above the ceiling (max_memory): allow (as docker), clamp (to the "
                + "ceiling) or refuse (exit 77)."),
    ])
}
