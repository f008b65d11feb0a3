import Glibc

/// One recognisable failure text: a line matches when it starts with `prefix` (if any), contains every string of
/// `contains`, ends with `suffix` (if any) and, with `operand`, reports its errno for a path of that kind; all
/// case-sensitive as docker prints them. Signatures match forms, not ids: the hex ids, veth names, paths and pids that
/// vary between incidents are never part of a signature.
package struct Signature: Sendable, Equatable {
    /// Where in docker's output the signature may match.
    package enum Scope: String, Sendable, Equatable {
        /// docker's own error lines only (see `Classifier` for the rule): never a container's or a RUN step's output.
        case dockerError
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

    /// The word an errno string was reported for: what stands between the previous space, quote, backslash or
    /// parenthesis and `: ERRNO` (Go's `*PathError` prints `op path: errno`, however deeply docker quotes it). It
    /// matches when that word contains one of `contains` or ends with one of `suffixes`.
    package struct Operand: Sendable, Equatable {
        package var errno: String
        package var contains: [String]
        package var suffixes: [String]
    }

    package var failureClass: FailureClass
    package var scope: Scope
    package var commands: Commands
    package var prefix: String?
    package let contains: [String]
    /// `contains` as bytes, made once.
    let needles: [[UInt8]]
    package var suffix: String?
    /// The errno's operand, when the signature depends on what the errno was reported for.
    package var operand: Operand?
    /// A regular expression the line must contain a match of (policy signatures only).
    package var pattern: String?
    /// Where the text comes from: repository and file, or "measured" with the command that produced it here; for a
    /// policy signature, the policy file and line.
    package var source: String
    package var origin: Origin

    package init(
        _ failureClass: FailureClass, scope: Scope = .dockerError, commands: Commands = .both, prefix: String? = nil,
        contains: [String] = [], suffix: String? = nil, operand: Operand? = nil, source: String,
        origin: Origin = .builtIn
    ) {
        self.failureClass = failureClass
        self.scope = scope
        self.commands = commands
        self.prefix = prefix
        self.contains = contains
        needles = contains.map { Array($0.utf8) }
        self.suffix = suffix
        self.operand = operand
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
        let found = line.withUnsafeBytes { raw in needles.allSatisfy { Bytes.contains(raw, $0) } }
        if !found { return false }
        if let operand, !operand.matches(line) { return false }
        if let pattern {
            guard let regex = try? Regex(pattern) else { return false }
            return String(decoding: line, as: UTF8.self).contains(regex)
        }
        return true
    }

    /// strerror(ENOMEM) as Go prints it (docker, containerd, runc's Go side) and as glibc does (runc's nsenter,
    /// iptables, any C program).
    static let enomem = "cannot allocate memory"
    static let enomemC = "Cannot allocate memory"
    /// strerror(ENOSPC), the same two ways.
    static let enospc = "no space left on device"
    static let enospcC = "No space left on device"

    /// The built-in catch-all for ENOMEM in docker's own errors, which the kernel's log may refine into
    /// `page_allocation`. A policy signature with the same text is the policy's decision, and is never refined.
    var isGenericENOMEM: Bool {
        origin == .builtIn && operand == nil && pattern == nil && (contains == [Self.enomem] || contains == [Self.enomemC])
    }

    /// The built-in table, most specific first: the first signature that matches a line decides its class. Vetoes (class
    /// `not_memory`) come first: they catch the errno strings that do not mean what they usually mean.
    package static let builtIn: [Signature] = [
        // Vetoes: not a full disk, not a daemon that is down.
        Signature(
            .notMemory,
            operand: Operand(errno: enospc, contains: ["/sys/fs/cgroup/", "/cgroup/"], suffixes: ["/cgroup.procs", "/tasks"]),
            source: "ENOSPC from a cgroup file, not a disk: linux kernel/cgroup/cpuset.c cpuset_can_attach() (-ENOSPC when the cpuset has no CPUs or memory nodes: `write …/cgroup.procs`), mm/memcontrol.c mem_cgroup_alloc() (idr_alloc's -ENOSPC once 65535 memory cgroups exist: `mkdir /sys/fs/cgroup/memory/…`)"),
        Signature(
            .notMemory, contains: ["mounting shm tmpfs: ", enospc],
            source: "moby/moby daemon/container_operations_unix.go \"mounting shm tmpfs: %s\"; ENOSPC from mount(2) is the mount namespace's limit, linux fs/namespace.c count_mounts(), not a disk"),
        Signature(
            .notMemory, contains: ["permission denied while trying to connect to the Docker daemon socket"],
            source: "moby/moby client/request.go \"(Got) permission denied while trying to connect to the Docker daemon socket at %v\": the daemon runs, the user may not use its socket"),
        Signature(
            .notMemory, contains: ["error during connect: ", "Access is denied"],
            source: "moby/moby client/request.go \"error during connect\" with Windows' ERROR_ACCESS_DENIED on the engine's pipe: the user may not open it"),
        // The daemon, lost during the command (it was reached, then the connection ended).
        Signature(
            .daemonLost, contains: ["error reading from server: EOF"],
            source: "grpc/grpc-go internal/transport/http2_client.go reader(): \"error reading from server: %v\" (BuildKit's gRPC stream to the daemon ended)"),
        Signature(
            .daemonLost, contains: ["received prior goaway"],
            source: "grpc/grpc-go internal/transport/http2_client.go: \"closing transport due to: %v, received prior goaway: %v\" (the daemon shut the connection down, `graceful_stop`)"),
        Signature(
            .daemonLost, contains: ["code = Unavailable desc = transport is closing"],
            source: "grpc/grpc-go (before 1.30) ErrConnClosing \"transport is closing\" (the daemon's gRPC connection closed mid-build)"),
        Signature(
            .daemonLost, contains: ["error waiting for container: ", "EOF"],
            source: "docker/cli cli/command/container/utils.go waitExitOrRemoved(): \"error waiting for container: %v\" with io.EOF or io.ErrUnexpectedEOF (the daemon went away while the container ran); exit 125; measured: dockerd killed during `docker run`, 20.10 and 28.2 clients"),
        Signature(
            .daemonLost, contains: ["error during connect: "], suffix: ": EOF",
            source: "moby/moby client/request.go \"error during connect: %w\" with io.EOF: the request was sent and the connection closed before an answer; measured: dockerd killed during `docker build -q` (20.10), which waits for the whole answer"),
        Signature(
            .daemonLost, commands: .build, prefix: "unexpected EOF", suffix: "unexpected EOF",
            source: "docker/cli cli/command/image/build.go: the build's stream cut short, io.ErrUnexpectedEOF printed as is; exit 1; measured: dockerd killed during a classic build (20.10 and 28.2 clients) and a BuildKit build (20.10)"),
        // The daemon, never reached.
        Signature(
            .daemonUnreachable, contains: ["Cannot connect to the Docker daemon"],
            source: "moby/moby client/errors.go: \"Cannot connect to the Docker daemon at %s. Is the docker daemon running?\" (≥ 17.03; before: \"… Is the docker daemon running on this host?\", 1.8: \"Is 'docker -d' running on this host?\"); measured: DOCKER_HOST to a dead socket"),
        Signature(
            .daemonUnreachable, contains: ["error during connect: "],
            source: "moby/moby client/request.go: \"error during connect: %w\""),
        Signature(
            .daemonUnreachable, contains: ["An error occurred trying to connect: "],
            source: "moby/moby v1.8 api/client/utils.go, docker/engine-api client/request.go (docker 1.12): \"An error occurred trying to connect: %v\""),
        Signature(
            .daemonUnreachable, contains: ["Is your docker daemon up and running?"],
            source: "moby/moby v1.8 api/client/utils.go: \"%v.\\n* Are you trying to connect to a TLS-enabled daemon without TLS?\\n* Is your docker daemon up and running?\""),
        Signature(
            .daemonUnreachable, contains: ["request returned Internal Server Error for API route and version ", "/_ping"],
            source: "moby/moby client/request.go \"request returned %s for API route and version %s\" on the first call, `_ping`: Docker Desktop's proxy answers for an engine that is not up"),
        // Network setup (libnetwork, bridge driver).
        Signature(
            .networkENOMEM, contains: ["failed to add the host (", ") <=> sandbox (", ") pair interfaces", enomem],
            source: "moby/moby libnetwork/drivers/bridge/bridge.go: \"failed to add the host (%s) <=> sandbox (%s) pair interfaces: %v\""),
        Signature(
            .networkENOMEM, contains: ["failed to create endpoint ", " on network ", enomem],
            source: "moby/moby libnetwork/network.go: \"failed to create endpoint %s on network %s: %v\""),
        Signature(
            .networkENOMEM, contains: ["failed programming external connectivity on endpoint ", enomem],
            source: "moby/moby libnetwork/drivers/bridge/bridge.go: \"driver failed programming external connectivity on endpoint %s (%s): %v\""),
        Signature(
            .networkENOMEM, contains: ["iptables", enomem],
            source: "moby/moby libnetwork/iptables: the daemon runs iptables only to set up networking (fork/exec of iptables, or iptables' own ENOMEM)"),
        // Storage setup (graph drivers, the container's init layer; runc's mounts).
        Signature(
            .storageENOMEM, contains: ["error creating overlay mount to ", enomem],
            source: "moby/moby daemon/graphdriver/overlay2/overlay.go: \"error creating overlay mount to %s: %v\""),
        Signature(
            .storageENOMEM, contains: ["/dev/console", enomem],
            source: "opencontainers/runc libcontainer/rootfs_linux.go: mounting the console at /dev/console"),
        Signature(
            .storageENOMEM, operand: Operand(errno: enomem, contains: ["-init/"], suffixes: ["-init"]),
            source: "moby/moby daemon/initlayer and layer/layer_store.go: the container's init layer `<id>-init` (its /dev, /etc/hosts …) set up by the daemon"),
        // Starting the process (Go's os/exec, runc, containerd).
        Signature(
            .processENOMEM, contains: ["fork/exec ", enomem],
            source: "golang/go src/os/exec_posix.go: &PathError{Op: \"fork/exec\", …} (\"fork/exec PATH: cannot allocate memory\")"),
        Signature(
            .processENOMEM, contains: ["unable to unshare namespaces", enomemC],
            source: "opencontainers/runc libcontainer/nsenter/nsexec.c: bail(\"unable to unshare namespaces\"), printed `nsenter: …: %s` with strerror"),
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
        Signature(.processENOMEM, contains: [enomem], source: "strerror(ENOMEM) (Go) in any of docker's own error lines"),
        Signature(.processENOMEM, contains: [enomemC], source: "strerror(ENOMEM) (glibc) in any of docker's own error lines"),
        // Disk.
        Signature(
            .diskFull, contains: ["Thin Pool has ", "which is less than minimum required "],
            source: "moby/moby daemon/graphdriver/devmapper/deviceset.go: \"devmapper: Thin Pool has %v free data blocks which is less than minimum required %v free data blocks\" (and metadata blocks)"),
        Signature(.diskFull, contains: [enospc], source: "strerror(ENOSPC) (Go) in any of docker's own error lines"),
        Signature(.diskFull, contains: [enospcC], source: "strerror(ENOSPC) (glibc) in any of docker's own error lines"),
        // The kernel.
        Signature(
            .pageAllocation, scope: .kernelLog, contains: ["page allocation failure: order:"],
            source: "torvalds/linux mm/page_alloc.c warn_alloc(): \"%s: page allocation failure: order:%u, mode:%#x(%pGg)…\""),
    ]
}

extension Signature.Operand {
    func matches(_ line: [UInt8]) -> Bool {
        let needle = Array((": " + errno).utf8)
        var from = 0
        while let hit = Bytes.range(of: needle, in: line, from: from) {
            from = hit.lowerBound + 1
            var start = hit.lowerBound
            while start > 0, ![0x20, 0x22, 0x27, 0x5C, 0x28, 0x09].contains(line[start - 1]) { start -= 1 }  // space " ' \ ( tab
            let word = Array(line[start..<hit.lowerBound])
            if contains.contains(where: { Bytes.contains(word, $0) }) { return true }
            if suffixes.contains(where: { word.reversed().starts(with: $0.utf8.reversed()) }) { return true }
        }
        return false
    }
}
