import Glibc

/// Finds, reads, validates and layers the policy: built-in default < host < project < user. Only protected commands
/// and `safebuild policy` call it, so a broken policy never breaks a pass-through command such as `docker ps`.
package enum PolicyLoader {
    /// The project policy, looked up in the current directory.
    package static let projectFileName = "safebuild.yml"
    /// The host policy of this safebuild (`HostPolicyLocation`).
    package static var hostPath: String { HostPolicyLocation.current }
    /// The largest policy file read: a policy is a few kilobytes; a repository's 50 MB file is refused at once.
    package static let maximumFileSize = 1 << 20

    /// The built-in default policy text (Config/default-policy.yml, compiled in).
    package static var builtInText: String { String(decoding: PackageResources.default_policy_yml, as: UTF8.self) }

    /// The built-in default: Config/default-policy.yml compiled into values, every one with its line in the YAML
    /// (BuiltInPolicy.swift, generated from the YAML and checked against it by BuiltInPolicyTests), so that no YAML is
    /// parsed for it at start.
    package static let builtIn: Policy = compiledBuiltIn

    /// Lays every policy in effect over the built-in default: the host policy at `hostPath` (when it is there and
    /// nobody but root, or the user running safebuild, could have written it; otherwise a warning and none), then
    /// `./safebuild.yml` in `currentDirectory`, then `--sb-policy` / `SAFEBUILD_POLICY` (which must exist: exit 66
    /// otherwise). The project and user layers are held to what the host allows; what they set that was ignored or
    /// adjusted is in `warnings`. A file that cannot be read as a policy (missing when named, a FIFO, a device, a
    /// directory, more than 1 MiB) is exit 66; an invalid one is `SafebuildError(.policy, …)` (exit 78) with every
    /// problem as `FILE:LINE:COL: error: …`.
    package static func load(
        options: SafebuildOptions, environment: [String: String], currentDirectory: String,
        hostPath: String = PolicyLoader.hostPath, hostMemory: UInt64? = nil
    ) throws(SafebuildError) -> LoadedPolicy {
        var (policy, files, warnings) = try hostLayer(hostPath: hostPath, hostMemory: hostMemory)
        let hostLevel = policy
        for file in try lowerFiles(options: options, environment: environment, currentDirectory: currentDirectory) {
            let text = try read(file.path, origin: file.origin)
            let outcome = PolicyParser.read(
                text, file: file.path, layer: file.layer, over: policy, host: hostLevel, hostMemory: hostMemory)
            switch outcome.result {
            case .success(let layered): policy = layered
            case .failure(let error): throw error.safebuildError
            }
            warnings += outcome.warnings.map { "\($0.location): \($0.message)" }
            files.append(file)
        }
        return LoadedPolicy(policy: policy, files: files, hostLevel: hostLevel, warnings: warnings)
    }

    /// The built-in default with the host policy over it, the ceilings settled: what `protection.*` and the
    /// ceilings are read from, and what the layers below are held to.
    package static func hostLayer(
        hostPath: String = PolicyLoader.hostPath, hostMemory: UInt64? = nil
    ) throws(SafebuildError) -> (policy: Policy, files: [LoadedPolicy.File], warnings: [String]) {
        var policy = builtIn
        var files: [LoadedPolicy.File] = []
        var warnings: [String] = []
        switch try HostPolicyFile.read(hostPath, limit: maximumFileSize) {
        case .missing:
            break
        case .refused(let reason):
            warnings.append("host policy \(hostPath) is not used: \(reason); the built-in default applies instead")
        case .text(let text):
            let outcome = PolicyParser.read(text, file: hostPath, layer: .host, over: builtIn, hostMemory: hostMemory)
            switch outcome.result {
            case .success(let layered): policy = layered
            case .failure(let error): throw error.safebuildError
            }
            warnings += outcome.warnings.map { "\($0.location): \($0.message)" }
            files.append(LoadedPolicy.File(path: hostPath, layer: .host, origin: .host))
        }
        return (settlingCeilings(policy), files, warnings)
    }

    /// The host's ceilings where the host policy left them empty: its own `memory` for each command.
    static func settlingCeilings(_ policy: Policy) -> Policy {
        var policy = policy
        for kind in Policy.CommandKind.allCases {
            let limits = kind == .run ? \Policy.run : \Policy.build
            guard policy[keyPath: limits].maxMemory.value == nil else { continue }
            let memory = policy[keyPath: limits].memory
            policy[keyPath: limits].maxMemory = Sourced(
                .some(memory.value), memory.source, note: "the host layer's \(kind.rawValue).memory")
        }
        return policy
    }

    /// The files that are in effect, lowest layer first, without reading them: the host policy when it is there
    /// (whether it will be trusted is decided when it is read), `./safebuild.yml`, the user's.
    package static func files(
        options: SafebuildOptions, environment: [String: String], currentDirectory: String,
        hostPath: String = PolicyLoader.hostPath
    ) throws(SafebuildError) -> [LoadedPolicy.File] {
        let host = exists(hostPath) ? [LoadedPolicy.File(path: hostPath, layer: .host, origin: .host)] : []
        return host + (try lowerFiles(options: options, environment: environment, currentDirectory: currentDirectory))
    }

    /// `./safebuild.yml` when it is there, then `--sb-policy` / `SAFEBUILD_POLICY` (exit 66 when it is not there).
    static func lowerFiles(
        options: SafebuildOptions, environment: [String: String], currentDirectory: String
    ) throws(SafebuildError) -> [LoadedPolicy.File] {
        var files: [LoadedPolicy.File] = []
        let project = absolute(projectFileName, in: currentDirectory)
        if exists(project) { files.append(LoadedPolicy.File(path: project, layer: .project, origin: .project)) }
        if let given = options.policyPath {
            let origin: LoadedPolicy.Origin = environment["SAFEBUILD_POLICY"] == given ? .variable : .option
            let path = absolute(given, in: currentDirectory)
            guard exists(path) else {
                let fix = origin == .variable ? "unset SAFEBUILD_POLICY" : "drop --sb-policy"
                throw SafebuildError(
                    .noInput, "policy file \(path) (from \(origin.rawValue)) does not exist; create it, or \(fix) to use the default lookup")
            }
            // The same file as the project's is one layer, not two.
            if path != project { files.append(LoadedPolicy.File(path: path, layer: .user, origin: origin)) }
        }
        return files
    }

    /// Parses and validates a file as `safebuild policy check` does: as a file of `layer` over the built-in default
    /// and, below the host's layer, the host policy at `hostPath`; diagnostics and sources name the file `name`
    /// (default: `path`). The outcome's warnings are what would be ignored or adjusted.
    static func check(
        _ path: String, as name: String? = nil, layer: PolicyLayer = .host, hostPath: String = PolicyLoader.hostPath,
        hostMemory: UInt64? = nil
    ) throws(SafebuildError) -> PolicyParser.Outcome {
        let text = try read(path, origin: nil)
        let base = layer.isBelowHost ? try hostLayer(hostPath: hostPath, hostMemory: hostMemory).policy : builtIn
        return PolicyParser.read(text, file: name ?? path, layer: layer, over: base, hostMemory: hostMemory)
    }

    static func absolute(_ path: String, in directory: String) -> String {
        if path.hasPrefix("/") { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The whole file as text, read with `BoundedFile`: only a regular file, opened non-blocking, at most 1 MiB. Any
    /// other is exit 66 with one line naming the file and why.
    static func read(_ path: String, origin: LoadedPolicy.Origin?) throws(SafebuildError) -> String {
        switch BoundedFile.read(path, limit: maximumFileSize) {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure(let failure): throw unreadable(path, origin: origin, failure)
        }
    }

    static func unreadable(_ path: String, origin: LoadedPolicy.Origin?, _ failure: BoundedFile.Failure) -> SafebuildError {
        let from = origin.map { " (from \($0.rawValue))" } ?? ""
        let reason = failure == .missing ? String(cString: strerror(ENOENT)) : failure.reason
        return SafebuildError(.noInput, "cannot read policy file \(path)\(from): \(reason)")
    }
}

extension Policy {
    /// Every value zero or empty, sourced at line 0 of the built-in default; the built-in YAML sets them all
    /// (a unit test checks that no line-0 source survives).
    static let skeleton: Policy = {
        let s = PolicySource(file: nil, line: 0, column: 0)
        func v<T>(_ value: T) -> Sourced<T> { Sourced(value, s) }
        let limits = Limits(memory: v(.unlimited), swap: v(.noSwap), shmSize: v(nil), maxMemory: v(nil))
        return Policy(
            run: limits, build: limits, buildEnforce: v(.classic), rules: [],
            preflight: PreflightSection(
                minAvailable: ThresholdSetting(value: v(nil), action: v(.warn)),
                maxPressure: ThresholdSetting(value: v(nil), action: v(.warn)),
                maxBuildCache: ThresholdSetting(value: v(nil), action: v(.warn)),
                minFreeDisk: ThresholdSetting(value: v(nil), action: v(.warn)),
                minFreeBlocks: ThresholdSetting(value: v(nil), action: v(.warn)),
                waitTimeout: v(0), engineTimeout: v(0), buildCacheMaxAge: v(0)),
            retry: RetrySection(
                maxAttempts: v(1), backoff: BackoffSection(initial: v(0), max: v(0), jitter: v(0)), deadline: v(0),
                raiseMemory: RaiseMemorySection(factor: v(1), cap: v(.bytes(0))), cooldown: v(0), ladders: [:],
                stdinSpool: v(.bytes(0)), stdoutHold: v(.bytes(0)), healthyHostENOMEM: v(.never)),
            remedies: RemedySection(
                keepStorage: v(.bytes(0)), pruneUntil: v(0), pruneFloor: v(0), dropCaches: v(false), compactMemory: v(false),
                dropCachesMinCache: v(.bytes(0)), dropCachesMaxAvailable: v(nil), compactMemoryMaxFree: v(.bytes(0)),
                lockDirectory: v("")),
            journal: JournalSection(
                path: v(""), maxSize: v(.bytes(0)), keep: v(0), metricsPath: v(nil), group: v(""), keepValues: v([])),
            admission: AdmissionSection(
                enabled: v(false), budget: v(nil), hostReserve: v(.bytes(0)), reserve: v(.limit),
                defaultRequest: v(.bytes(0)), learnedHeadroom: v(0), waitTimeout: v(0), onTimeout: v(.run),
                oversize: v(.alone)),
            signatures: [],
            docker: DockerSection(path: v(nil), stopGrace: v(0)),
            protection: ProtectionSection(allowOff: v(true), memoryFlag: v(.allow)))
    }()
}
