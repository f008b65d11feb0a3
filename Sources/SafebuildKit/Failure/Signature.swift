import Glibc

/// One recognisable failure text: a line matches when it starts with `prefix` (if any), contains every string of
/// `contains` and ends with `suffix` (if any), all case-sensitive as docker prints them.
package struct Signature: Sendable, Equatable {
    /// Where in docker's output the signature may match.
    package enum Scope: String, Sendable, Equatable {
        /// docker's own error lines only (see `Classifier` for the rule): never a container's or a RUN step's output.
        case dockerError
        /// The line in which docker reports a build step's result (`The command '…' returned a non-zero code: N`,
        /// `executor failed running […]: exit code: N`, `… did not complete successfully: exit code: N`).
        case stepResult
        /// The kernel's log (dmesg) read during the attempt.
        case kernelLog
    }

    /// Where a signature was declared.
    package enum Origin: Sendable, Equatable {
        /// The built-in table (`builtIn`).
        case builtIn
        /// The policy's `signatures:` list.
        case policy
    }

    /// The protected commands a signature applies to.
    package struct Commands: OptionSet, Sendable, Equatable {
        package let rawValue: UInt8
        package init(rawValue: UInt8) { self.rawValue = rawValue }
        package static let run = Commands(rawValue: 1)
        package static let build = Commands(rawValue: 2)
        package static let both: Commands = [.run, .build]
    }

    package var failureClass: FailureClass
    package var scope: Scope
    package var commands: Commands
    package var prefix: String?
    package var contains: [String]
    package var suffix: String?
    /// A regular expression the line must contain a match of (policy signatures only).
    package var pattern: String?
    /// Where the text comes from: repository and file, or "measured" with the command that produced it here; for a
    /// policy signature, the policy file and line.
    package var source: String
    package var origin: Origin

    package init(
        _ failureClass: FailureClass, scope: Scope = .dockerError, commands: Commands = .both, prefix: String? = nil,
        contains: [String] = [], suffix: String? = nil, source: String, origin: Origin = .builtIn
    ) {
        self.failureClass = failureClass
        self.scope = scope
        self.commands = commands
        self.prefix = prefix
        self.contains = contains
        self.suffix = suffix
        self.source = source
        self.origin = origin
    }

    /// A signature from the policy's `signatures:` list (`{class, contains}`): matched in docker's own error lines of
    /// both commands, before the built-in table.
    package static func policy(_ failureClass: FailureClass, contains: String, source: String = "policy") -> Signature {
        Signature(failureClass, contains: [contains], source: source, origin: .policy)
    }

    /// A policy signature given as a regular expression.
    package static func policy(_ failureClass: FailureClass, pattern: String, source: String = "policy") -> Signature {
        var signature = Signature(failureClass, source: source, origin: .policy)
        signature.pattern = pattern
        return signature
    }

    func matches(_ line: [UInt8]) -> Bool {
        if let prefix, !line.starts(with: prefix.utf8) { return false }
        if let suffix, !line.reversed().starts(with: suffix.utf8.reversed()) { return false }
        for needle in contains where !Bytes.contains(line, needle) { return false }
        if let pattern {
            guard let regex = try? Regex(pattern) else { return false }
            return String(decoding: line, as: UTF8.self).contains(regex)
        }
        return true
    }

    static let enomem = "cannot allocate memory"

    /// The built-in catch-all for ENOMEM in docker's own errors, which the kernel's log may refine into
    /// `page_allocation`. A policy signature with the same text is the policy's decision, and is never refined.
    var isGenericENOMEM: Bool { origin == .builtIn && contains == [Self.enomem] && pattern == nil }

    /// The built-in table, most specific first: the first signature that matches a line decides its class.
    package static let builtIn: [Signature] = [
        // Network setup (libnetwork, bridge driver).
        Signature(
            .networkENOMEM, contains: ["failed to add the host (", ") <=> sandbox (", ") pair interfaces", enomem],
            source: "moby/moby libnetwork/drivers/bridge/bridge.go: \"failed to add the host (%s) <=> sandbox (%s) pair interfaces: %v\""),
        Signature(
            .networkENOMEM, contains: ["failed to create endpoint ", " on network ", enomem],
            source: "moby/moby libnetwork/network.go: \"failed to create endpoint %s on network %s: %v\""),
        // Storage setup (overlay2 graph driver; runc's mounts).
        Signature(
            .storageENOMEM, contains: ["error creating overlay mount to ", enomem],
            source: "moby/moby daemon/graphdriver/overlay2/overlay.go: \"error creating overlay mount to %s: %v\""),
        Signature(
            .storageENOMEM, contains: ["/dev/console", enomem],
            source: "opencontainers/runc libcontainer/rootfs_linux.go: mounting the console at /dev/console"),
        // Starting the process (Go's os/exec, runc, containerd).
        Signature(
            .processENOMEM, contains: ["fork/exec ", enomem],
            source: "golang/go src/os/exec_posix.go: &PathError{Op: \"fork/exec\", …} (\"fork/exec PATH: cannot allocate memory\")"),
        Signature(
            .processENOMEM, contains: ["unable to start container process", enomem],
            source: "opencontainers/runc libcontainer/process_linux.go: \"unable to start container process\"; measured: docker run --ulimit data=1000000"),
        Signature(
            .processENOMEM, contains: ["OCI runtime create failed", enomem],
            source: "containerd/containerd runtime/v2: \"OCI runtime create failed\"; measured: docker run --ulimit data=1000000"),
        Signature(
            .processENOMEM, contains: ["failed to create shim task", enomem],
            source: "moby/moby libcontainerd/remote/client.go: \"failed to create shim task\"; measured: docker run --ulimit data=1000000"),
        // Any other ENOMEM in docker's own error: process_enomem, or page_allocation with kernel evidence.
        Signature(.processENOMEM, contains: [enomem], source: "strerror(ENOMEM) in any of docker's own error lines"),
        // The daemon.
        Signature(
            .daemonUnreachable, contains: ["Cannot connect to the Docker daemon at ", "Is the docker daemon running?"],
            source: "docker/cli (moby/moby client/errors.go): \"Cannot connect to the Docker daemon at %s. Is the docker daemon running?\"; measured: DOCKER_HOST to a dead socket"),
        Signature(
            .daemonUnreachable, contains: ["error during connect: "],
            source: "moby/moby client/request.go: \"error during connect: %w\""),
        Signature(
            .diskFull, contains: ["no space left on device"], source: "strerror(ENOSPC) in any of docker's own error lines"),
        // A build step SIGKILLed (the OOM killer under the build's --memory).
        Signature(
            .oomBuildStep, scope: .stepResult, commands: .build, prefix: "The command '",
            suffix: "' returned a non-zero code: 137", source: "moby/moby builder/dockerfile/containerbackend.go: \"The command '%s' returned a non-zero code: %d\"; measured: DOCKER_BUILDKIT=0 docker build --memory 16m"),
        Signature(
            .oomBuildStep, scope: .stepResult, commands: .build, contains: ["executor failed running ["],
            suffix: "]: exit code: 137", source: "moby/buildkit (v0.8–v0.10) frontend/dockerfile/dockerfile2llb: \"executor failed running %s: %w\"; executor: \"exit code: %d\""),
        Signature(
            .oomBuildStep, scope: .stepResult, commands: .build, contains: ["did not complete successfully: "],
            suffix: "exit code: 137", source: "moby/buildkit (v0.11+) solver/llbsolver/ops/exec.go: \"process %q did not complete successfully: %w\""),
        // The kernel.
        Signature(
            .pageAllocation, scope: .kernelLog, contains: ["page allocation failure: order:"],
            source: "torvalds/linux mm/page_alloc.c warn_alloc(): \"%s: page allocation failure: order:%u, mode:%#x(%pGg)…\""),
    ]
}
