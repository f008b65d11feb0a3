// Generated from Config/default-policy.yml by Tests/SafebuildKitTests/BuiltInPolicyTests.swift: do not edit.
// After changing the YAML, regenerate it with
//     SAFEBUILD_REGENERATE=1 swift test --filter BuiltInPolicyTests
// Every value keeps its line and column in the YAML (`built-in default:N`), as a parsed one would.

extension PolicyLoader {
    /// Config/default-policy.yml as values.
    static let compiledBuiltIn = Policy(
        run: Policy.Limits(memory: Sourced(.limit(.share(25.0)), PolicySource(file: nil, line: 21, column: 11, layer: .builtIn)), swap: Sourced(.noSwap, PolicySource(file: nil, line: 24, column: 9, layer: .builtIn)), shmSize: Sourced(nil, PolicySource(file: nil, line: 26, column: 12, layer: .builtIn)), maxMemory: Sourced(nil, PolicySource(file: nil, line: 29, column: 14, layer: .builtIn))),
        build: Policy.Limits(memory: Sourced(.limit(.share(25.0)), PolicySource(file: nil, line: 33, column: 11, layer: .builtIn)), swap: Sourced(.noSwap, PolicySource(file: nil, line: 34, column: 9, layer: .builtIn)), shmSize: Sourced(nil, PolicySource(file: nil, line: 35, column: 12, layer: .builtIn)), maxMemory: Sourced(nil, PolicySource(file: nil, line: 36, column: 14, layer: .builtIn))),
        buildEnforce: Sourced(.init(rawValue: "classic")!, PolicySource(file: nil, line: 48, column: 12, layer: .builtIn)),
        rules: [],
        preflight: Policy.PreflightSection(
            minAvailable: Policy.ThresholdSetting(value: Sourced(.bytes(536870912), PolicySource(file: nil, line: 69, column: 26, layer: .builtIn)), action: Sourced(.init(rawValue: "remediate")!, PolicySource(file: nil, line: 69, column: 40, layer: .builtIn))),
            maxPressure: Policy.ThresholdSetting(value: Sourced(40.0, PolicySource(file: nil, line: 71, column: 25, layer: .builtIn)), action: Sourced(.init(rawValue: "wait")!, PolicySource(file: nil, line: 71, column: 37, layer: .builtIn))),
            maxBuildCache: Policy.ThresholdSetting(value: Sourced(.bytes(10737418240), PolicySource(file: nil, line: 73, column: 28, layer: .builtIn)), action: Sourced(.init(rawValue: "remediate")!, PolicySource(file: nil, line: 73, column: 41, layer: .builtIn))),
            minFreeDisk: Policy.ThresholdSetting(value: Sourced(.bytes(2147483648), PolicySource(file: nil, line: 75, column: 26, layer: .builtIn)), action: Sourced(.init(rawValue: "remediate")!, PolicySource(file: nil, line: 75, column: 38, layer: .builtIn))),
            minFreeBlocks: Policy.ThresholdSetting(value: Sourced(FreeBlocks(order: 3, count: 16), PolicySource(file: nil, line: 78, column: 28, layer: .builtIn)), action: Sourced(.init(rawValue: "remediate")!, PolicySource(file: nil, line: 78, column: 59, layer: .builtIn))),
            waitTimeout: Sourced(300.0, PolicySource(file: nil, line: 80, column: 17, layer: .builtIn)),
            engineTimeout: Sourced(10.0, PolicySource(file: nil, line: 82, column: 19, layer: .builtIn)),
            buildCacheMaxAge: Sourced(600.0, PolicySource(file: nil, line: 86, column: 24, layer: .builtIn))),
        retry: Policy.RetrySection(
            maxAttempts: Sourced(3, PolicySource(file: nil, line: 91, column: 17, layer: .builtIn)),
            backoff: Policy.BackoffSection(initial: Sourced(2.0, PolicySource(file: nil, line: 93, column: 14, layer: .builtIn)), max: Sourced(60.0, PolicySource(file: nil, line: 94, column: 10, layer: .builtIn)), jitter: Sourced(0.2, PolicySource(file: nil, line: 96, column: 13, layer: .builtIn))),
            deadline: Sourced(1800.0, PolicySource(file: nil, line: 98, column: 13, layer: .builtIn)),
            raiseMemory: Policy.RaiseMemorySection(factor: Sourced(1.5, PolicySource(file: nil, line: 101, column: 13, layer: .builtIn)), cap: Sourced(.share(50.0), PolicySource(file: nil, line: 102, column: 10, layer: .builtIn))),
            cooldown: Sourced(120.0, PolicySource(file: nil, line: 104, column: 13, layer: .builtIn)),
            ladders: [
                .init(rawValue: "daemon_lost")!: Sourced(Ladder([[]]), PolicySource(file: nil, line: 133, column: 18, layer: .builtIn)),
                .init(rawValue: "daemon_unreachable")!: Sourced(Ladder([[]]), PolicySource(file: nil, line: 130, column: 25, layer: .builtIn)),
                .init(rawValue: "disk_full")!: Sourced(Ladder([[.init(rawValue: "free_disk")!]]), PolicySource(file: nil, line: 134, column: 16, layer: .builtIn)),
                .init(rawValue: "network_enomem")!: Sourced(Ladder([[.init(rawValue: "drop_caches")!, .init(rawValue: "compact_memory")!], [.init(rawValue: "prune_build_cache")!, .init(rawValue: "drop_caches")!, .init(rawValue: "compact_memory")!, .init(rawValue: "wait_for_memory")!], [.init(rawValue: "prune_build_cache")!, .init(rawValue: "prune_dangling_images")!, .init(rawValue: "drop_caches")!, .init(rawValue: "compact_memory")!, .init(rawValue: "wait_for_memory")!]]), PolicySource(file: nil, line: 112, column: 7, layer: .builtIn)),
                .init(rawValue: "not_memory")!: Sourced(Ladder([]), PolicySource(file: nil, line: 136, column: 17, layer: .builtIn)),
                .init(rawValue: "oom_build_step")!: Sourced(Ladder([[.init(rawValue: "raise_memory")!]]), PolicySource(file: nil, line: 128, column: 21, layer: .builtIn)),
                .init(rawValue: "oom_container")!: Sourced(Ladder([[.init(rawValue: "raise_memory")!]]), PolicySource(file: nil, line: 127, column: 20, layer: .builtIn)),
                .init(rawValue: "page_allocation")!: Sourced(Ladder([[.init(rawValue: "compact_memory")!], [.init(rawValue: "drop_caches")!, .init(rawValue: "compact_memory")!], [.init(rawValue: "drop_caches")!, .init(rawValue: "compact_memory")!, .init(rawValue: "wait_for_memory")!]]), PolicySource(file: nil, line: 123, column: 7, layer: .builtIn)),
                .init(rawValue: "process_enomem")!: Sourced(Ladder([[.init(rawValue: "drop_caches")!, .init(rawValue: "wait_for_memory")!], [.init(rawValue: "prune_build_cache")!, .init(rawValue: "drop_caches")!, .init(rawValue: "compact_memory")!, .init(rawValue: "wait_for_memory")!]]), PolicySource(file: nil, line: 120, column: 7, layer: .builtIn)),
                .init(rawValue: "storage_enomem")!: Sourced(Ladder([[.init(rawValue: "drop_caches")!, .init(rawValue: "compact_memory")!], [.init(rawValue: "prune_build_cache")!, .init(rawValue: "drop_caches")!, .init(rawValue: "wait_for_memory")!], [.init(rawValue: "prune_build_cache")!, .init(rawValue: "prune_dangling_images")!, .init(rawValue: "drop_caches")!, .init(rawValue: "compact_memory")!, .init(rawValue: "wait_for_memory")!]]), PolicySource(file: nil, line: 116, column: 7, layer: .builtIn)),
            ],
            stdinSpool: Sourced(.bytes(67108864), PolicySource(file: nil, line: 140, column: 16, layer: .builtIn)),
            stdoutHold: Sourced(.bytes(67108864), PolicySource(file: nil, line: 145, column: 16, layer: .builtIn)),
            healthyHostENOMEM: Sourced(.init(rawValue: "once")!, PolicySource(file: nil, line: 151, column: 24, layer: .builtIn))),
        remedies: Policy.RemedySection(
            keepStorage: Sourced(.bytes(5368709120), PolicySource(file: nil, line: 155, column: 17, layer: .builtIn)), pruneUntil: Sourced(86400.0, PolicySource(file: nil, line: 157, column: 16, layer: .builtIn)), pruneFloor: Sourced(600.0, PolicySource(file: nil, line: 161, column: 16, layer: .builtIn)),
            dropCaches: Sourced(true, PolicySource(file: nil, line: 164, column: 16, layer: .builtIn)),
            compactMemory: Sourced(true, PolicySource(file: nil, line: 165, column: 19, layer: .builtIn)),
            dropCachesMinCache: Sourced(.bytes(268435456), PolicySource(file: nil, line: 171, column: 26, layer: .builtIn)), dropCachesMaxAvailable: Sourced(nil, PolicySource(file: nil, line: 172, column: 29, layer: .builtIn)),
            compactMemoryMaxFree: Sourced(.bytes(268435456), PolicySource(file: nil, line: 173, column: 28, layer: .builtIn)), lockDirectory: Sourced("/run/safebuild", PolicySource(file: nil, line: 175, column: 14, layer: .builtIn))),
        journal: Policy.JournalSection(
            path: Sourced("/var/log/safebuild/journal.jsonl", PolicySource(file: nil, line: 179, column: 9, layer: .builtIn)), maxSize: Sourced(.bytes(52428800), PolicySource(file: nil, line: 181, column: 13, layer: .builtIn)), keep: Sourced(5, PolicySource(file: nil, line: 182, column: 9, layer: .builtIn)), metricsPath: Sourced(nil, PolicySource(file: nil, line: 184, column: 16, layer: .builtIn)),
            group: Sourced("docker", PolicySource(file: nil, line: 186, column: 10, layer: .builtIn)), keepValues: Sourced([], PolicySource(file: nil, line: 189, column: 16, layer: .builtIn))),
        admission: Policy.AdmissionSection(
            enabled: Sourced(true, PolicySource(file: nil, line: 196, column: 12, layer: .builtIn)), budget: Sourced(nil, PolicySource(file: nil, line: 199, column: 10, layer: .builtIn)), hostReserve: Sourced(.share(10.0), PolicySource(file: nil, line: 200, column: 17, layer: .builtIn)), reserve: Sourced(.init(rawValue: "limit")!, PolicySource(file: nil, line: 203, column: 12, layer: .builtIn)),
            defaultRequest: Sourced(.bytes(1073741824), PolicySource(file: nil, line: 205, column: 20, layer: .builtIn)), learnedHeadroom: Sourced(25.0, PolicySource(file: nil, line: 206, column: 21, layer: .builtIn)),
            waitTimeout: Sourced(1800.0, PolicySource(file: nil, line: 208, column: 17, layer: .builtIn)), onTimeout: Sourced(.init(rawValue: "run")!, PolicySource(file: nil, line: 209, column: 15, layer: .builtIn)), oversize: Sourced(.init(rawValue: "alone")!, PolicySource(file: nil, line: 212, column: 13, layer: .builtIn))),
        signatures: [],
        docker: Policy.DockerSection(path: Sourced(nil, PolicySource(file: nil, line: 221, column: 8, layer: .builtIn)), stopGrace: Sourced(3.0, PolicySource(file: nil, line: 226, column: 15, layer: .builtIn))),
        protection: Policy.ProtectionSection(allowOff: Sourced(true, PolicySource(file: nil, line: 231, column: 14, layer: .builtIn)), memoryFlag: Sourced(.init(rawValue: "allow")!, PolicySource(file: nil, line: 234, column: 16, layer: .builtIn))))
}
