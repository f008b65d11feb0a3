import Glibc

/// Finds, reads and validates the policy. Only protected commands and `safebuild policy` call it, so a broken policy
/// never breaks a pass-through command such as `docker ps`.
package enum PolicyLoader {
    /// The project policy, looked up in the current directory.
    package static let projectFileName = "safebuild.yml"
    /// The host policy.
    package static let hostPath = "/etc/safebuild/policy.yml"

    /// The built-in default policy text (Config/default-policy.yml, compiled in).
    package static var builtInText: String { String(decoding: PackageResources.default_policy_yml, as: UTF8.self) }

    /// The built-in default, parsed once. Its validity is a unit test.
    package static let builtIn: Policy = {
        switch PolicyParser.parse(builtInText, file: nil, over: .skeleton) {
        case .success(let policy): return policy
        case .failure(let error): fatalError("the built-in default policy is invalid:\n\(error)")
        }
    }()

    /// Loads the first of: `--sb-policy` / `SAFEBUILD_POLICY` (which must exist: exit 66 otherwise),
    /// `./safebuild.yml` in `currentDirectory`, `hostPath`; laid over the built-in default. An invalid file is
    /// `SafebuildError(.policy, …)` (exit 78) with every problem as `FILE:LINE:COL: error: …`.
    package static func load(
        options: SafebuildOptions, environment: [String: String], currentDirectory: String,
        hostPath: String = PolicyLoader.hostPath
    ) throws(SafebuildError) -> LoadedPolicy {
        guard let (path, origin) = try locate(
            options: options, environment: environment, currentDirectory: currentDirectory, hostPath: hostPath)
        else {
            return LoadedPolicy(policy: builtIn, file: nil, origin: .builtIn)
        }
        let text = try read(path, origin: origin)
        switch PolicyParser.parse(text, file: path, over: builtIn) {
        case .success(let policy): return LoadedPolicy(policy: policy, file: path, origin: origin)
        case .failure(let error): throw error.safebuildError
        }
    }

    /// Which file is in effect, without reading it; `nil` for the built-in default.
    package static func locate(
        options: SafebuildOptions, environment: [String: String], currentDirectory: String,
        hostPath: String = PolicyLoader.hostPath
    ) throws(SafebuildError) -> (path: String, origin: LoadedPolicy.Origin)? {
        if let given = options.policyPath {
            let origin: LoadedPolicy.Origin = environment["SAFEBUILD_POLICY"] == given ? .variable : .option
            let path = absolute(given, in: currentDirectory)
            guard exists(path) else {
                let fix = origin == .variable ? "unset SAFEBUILD_POLICY" : "drop --sb-policy"
                throw SafebuildError(
                    .noInput, "policy file \(path) (from \(origin.rawValue)) does not exist; create it, or \(fix) to use the default lookup")
            }
            return (path, origin)
        }
        let project = absolute(projectFileName, in: currentDirectory)
        if exists(project) { return (project, .project) }
        if exists(hostPath) { return (hostPath, .host) }
        return nil
    }

    /// Parses and validates a file as `safebuild policy check` does (over the built-in default); diagnostics and
    /// sources name the file `name` (default: `path`).
    package static func check(_ path: String, as name: String? = nil) throws(SafebuildError) -> Result<Policy, PolicyError> {
        let text = try read(path, origin: nil)
        return PolicyParser.parse(text, file: name ?? path, over: builtIn)
    }

    static func absolute(_ path: String, in directory: String) -> String {
        if path.hasPrefix("/") { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The whole file as text.
    static func read(_ path: String, origin: LoadedPolicy.Origin?) throws(SafebuildError) -> String {
        let from = origin.map { " (from \($0.rawValue))" } ?? ""
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw SafebuildError(.noInput, "cannot read policy file \(path)\(from): \(reason)")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw SafebuildError(.noInput, "policy file \(path)\(from) is a directory; give the path of a YAML file")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                throw SafebuildError(.noInput, "cannot read policy file \(path)\(from): \(reason)")
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Policy {
    /// Every value zero or empty, sourced at line 0 of the built-in default; the built-in YAML sets them all
    /// (a unit test checks that no line-0 source survives).
    static let skeleton: Policy = {
        let s = PolicySource(file: nil, line: 0, column: 0)
        func v<T>(_ value: T) -> Sourced<T> { Sourced(value, s) }
        let limits = Limits(memory: v(.unlimited), swap: v(.noSwap), shmSize: v(nil))
        return Policy(
            run: limits, build: limits, buildEnforce: v(.classic), rules: [],
            preflight: PreflightSection(
                minAvailable: ThresholdSetting(value: v(nil), action: v(.warn)),
                maxPressure: ThresholdSetting(value: v(nil), action: v(.warn)),
                maxBuildCache: ThresholdSetting(value: v(nil), action: v(.warn)),
                minFreeDisk: ThresholdSetting(value: v(nil), action: v(.warn)),
                minFreeBlocks: ThresholdSetting(value: v(nil), action: v(.warn)),
                waitTimeout: v(0), engineTimeout: v(0)),
            retry: RetrySection(
                maxAttempts: v(1), backoff: BackoffSection(initial: v(0), max: v(0), jitter: v(0)), deadline: v(0),
                raiseMemory: RaiseMemorySection(factor: v(1), cap: v(.bytes(0))), cooldown: v(0), ladders: [:]),
            remedies: RemedySection(
                keepStorage: v(.bytes(0)), pruneUntil: v(0), dropCaches: v(false), compactMemory: v(false),
                lockDirectory: v("")),
            journal: JournalSection(path: v(""), maxSize: v(.bytes(0)), keep: v(0), metricsPath: v(nil)),
            admission: AdmissionSection(
                enabled: v(false), budget: v(nil), hostReserve: v(.bytes(0)), reserve: v(.limit),
                defaultRequest: v(.bytes(0)), learnedHeadroom: v(0), waitTimeout: v(0), onTimeout: v(.run),
                oversize: v(.alone)),
            signatures: [],
            docker: DockerSection(path: v(nil), stopGrace: v(0)))
    }()
}
