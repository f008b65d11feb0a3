/// The policy's settings in the shapes the pre-flight, retry and remedy code takes: one place that maps them.
extension RetrySettings {
    /// The retry settings of the built-in policy (Config/default-policy.yml).
    package static let builtIn = RetrySettings(policy: PolicyLoader.builtIn)

    /// `retry:` of a policy; `maxAttempts` overrides the policy's (`--sb-max-attempts`).
    package init(policy: Policy, maxAttempts: Int? = nil) {
        let retry = policy.retry
        // The policy gives jitter as the randomised share of each delay: 0 is none, anything else full jitter over
        // that share.
        let jitter = retry.backoff.jitter.value
        self.init(
            maxAttempts: maxAttempts ?? retry.maxAttempts.value,
            deadline: retry.deadline.value,
            backoff: Backoff(
                base: retry.backoff.initial.value, max: retry.backoff.max.value, jitter: jitter > 0 ? .full : .none,
                spread: jitter),
            ladders: retry.ladders.mapValues(\.value),
            allowRaiseMemory: retry.raiseMemory.factor.value > 1,
            // Plain sizes (the schema allows no share of host memory for these).
            stdinSpool: retry.stdinSpool.value.bytes(hostMemory: 0),
            stdoutHold: retry.stdoutHold.value.bytes(hostMemory: 0))
        healthyHostENOMEM = retry.healthyHostENOMEM.value
    }
}

extension RemedySettings {
    /// `remedies:`, `retry.raise_memory` and the pre-flight memory floor of a policy, sizes resolved for this host.
    package init(policy: Policy, hostMemory: UInt64) {
        let floor = policy.preflight.minAvailable.value.value?.bytes(hostMemory: hostMemory) ?? (512 << 20)
        self.init(
            keepStorage: Size.format(policy.remedies.keepStorage.value.bytes(hostMemory: hostMemory)),
            // Go's duration text, as docker's `until` filter reads it (a bare number would be a timestamp there).
            pruneUntil: TimeSpan(seconds: policy.remedies.pruneUntil.value).description,
            waitForAvailable: floor,
            waitTimeout: policy.preflight.waitTimeout.value,
            raiseFactor: policy.retry.raiseMemory.factor.value,
            raiseCap: policy.retry.raiseMemory.cap.value.bytes(hostMemory: hostMemory))
        pruneAge = policy.remedies.pruneUntil.value
        pruneFloor = policy.remedies.pruneFloor.value
        freeDiskTarget = policy.preflight.minFreeDisk.value.value?.bytes(hostMemory: hostMemory)
        dropCachesMinCache = policy.remedies.dropCachesMinCache.value.bytes(hostMemory: hostMemory)
        dropCachesMaxAvailable = policy.remedies.dropCachesMaxAvailable.value?.bytes(hostMemory: hostMemory)
        compactMemoryMaxFree = policy.remedies.compactMemoryMaxFree.value.bytes(hostMemory: hostMemory)
    }
}

extension Policy {
    /// The pre-flight thresholds the policy sets (a threshold without a value is not checked).
    package func thresholds(hostMemory: UInt64) -> [Preflight.Threshold] {
        var result: [Preflight.Threshold] = []
        let p = preflight
        if let v = p.minAvailable.value.value {
            result.append(.init(.minAvailable(bytes: v.bytes(hostMemory: hostMemory)), p.minAvailable.action.value))
        }
        if let v = p.maxPressure.value.value {
            result.append(.init(.maxPressure(percent: v), p.maxPressure.action.value))
        }
        if let v = p.maxBuildCache.value.value {
            result.append(.init(.maxBuildCache(bytes: v.bytes(hostMemory: hostMemory)), p.maxBuildCache.action.value))
        }
        if let v = p.minFreeDisk.value.value {
            result.append(.init(.minFreeDisk(bytes: v.bytes(hostMemory: hostMemory)), p.minFreeDisk.action.value))
        }
        if let v = p.minFreeBlocks.value.value {
            result.append(.init(.minFreeBlocks(order: v.order, count: UInt64(v.count)), p.minFreeBlocks.action.value))
        }
        return result
    }

    /// The policy's extra failure signatures, ahead of the built-in table.
    package var failureSignatures: [Signature] {
        signatures.map { s in
            switch s.text {
            case .contains(let text): return .policy(s.failureClass, contains: text, source: s.source.description)
            case .pattern(let pattern): return .policy(s.failureClass, pattern: pattern, source: s.source.description)
            }
        }
    }

    /// Remedies the policy turned off (`remedies.drop_caches: false`, `remedies.compact_memory: false`), with why.
    package var disabledRemedies: [RemedyName: String] {
        var off: [RemedyName: String] = [:]
        if !remedies.dropCaches.value { off[.dropCaches] = "turned off by the policy (remedies.drop_caches at \(remedies.dropCaches.source))" }
        if !remedies.compactMemory.value { off[.compactMemory] = "turned off by the policy (remedies.compact_memory at \(remedies.compactMemory.source))" }
        return off
    }
}

extension Preflight.Threshold {
    /// The unit of `limit` and of the measured value.
    package var unit: String {
        switch what {
        case .minAvailable, .maxBuildCache, .minFreeDisk: return "bytes"
        case .maxPressure: return "percent"
        case .minFreeBlocks: return "blocks"
        }
    }

    /// The threshold's value, in the unit of its measure (bytes, percent, blocks), for the journal.
    package var limit: Double {
        switch what {
        case .minAvailable(let bytes), .maxBuildCache(let bytes), .minFreeDisk(let bytes): return Double(bytes)
        case .maxPressure(let percent): return percent
        case .minFreeBlocks(_, let count): return Double(count)
        }
    }

    /// The remedies that answer a `remediate` decision on this threshold.
    package var remedies: [RemedyName] {
        switch what {
        case .minAvailable: return [.dropCaches, .compactMemory]
        case .maxPressure: return [.dropCaches]
        case .maxBuildCache: return [.pruneBuildCache]
        case .minFreeDisk: return [.freeDisk]
        case .minFreeBlocks: return [.compactMemory]
        }
    }
}

extension Policy {
    // The plain values the supervision plan takes (seconds, bytes, paths), so that a change in how the policy
    // types them is met here.

    /// `preflight.wait_timeout`, in seconds.
    package var preflightWaitSeconds: Double { preflight.waitTimeout.value }
    /// `preflight.engine_timeout`, in seconds.
    package var engineTimeoutSeconds: Double { preflight.engineTimeout.value }
    /// `preflight.build_cache_max_age`, in seconds.
    package var buildCacheMaxAgeSeconds: Double { preflight.buildCacheMaxAge.value }
    /// `docker.stop_grace`, in seconds.
    package var stopGraceSeconds: Double { docker.stopGrace.value }
    /// `retry.cooldown`, in seconds.
    package var cooldownSeconds: Double { retry.cooldown.value }
    /// `remedies.lock_dir`; nil when empty.
    package var lockDirectory: String? { remedies.lockDirectory.value.isEmpty ? nil : remedies.lockDirectory.value }
    /// `journal.path`; nil when empty.
    package var journalPath: String? { journal.path.value.isEmpty ? nil : journal.path.value }
    /// `journal.max_size`, in bytes on a host with `hostMemory` bytes.
    package func journalMaxBytes(hostMemory: UInt64) -> Int64 {
        Int64(clamping: journal.maxSize.value.bytes(hostMemory: hostMemory))
    }
    /// `journal.keep`.
    package var journalKeep: Int { journal.keep.value }
    /// `journal.metrics_path`; nil: none.
    package var metricsPath: String? { journal.metricsPath.value }
}
