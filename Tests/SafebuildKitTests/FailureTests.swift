import Foundation
import Testing

@testable import SafebuildKit

/// Fixtures in Fixtures/failure/ were captured on the dev engine (docker 20.10.24, runc 1.1.5); see its README.
enum FailureFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/failure")

    static func text(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    static func status(_ name: String) -> SafebuildKit.ExitStatus {
        .exited(Int32(text(name + ".status").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1)
    }

    /// Classifies a captured attempt: NAME.stdout, NAME.stderr, NAME.status and, if present, NAME.inspect.json.
    static func classify(_ name: String, _ command: ProtectedCommand) -> Classification {
        var classifier = Classifier(command: command)
        classifier.observe(text: text(name + ".stdout"), stream: .stdout)
        classifier.observe(text: text(name + ".stderr"), stream: .stderr)
        let state = ContainerState.parse(inspectJSON: text(name + ".inspect.json"))
        return classifier.verdict(exitStatus: status(name), containerState: state)
    }
}

@Suite struct FailureClassificationTests {
    @Test(arguments: [
        // Real failures captured on the dev engine, with the strength of the evidence that decides them.
        ("run-oom", ProtectedCommand.run, FailureClass.oomContainer, EvidenceStrength?.some(.host)),
        ("run-ulimit-enomem", .run, .processENOMEM, .daemonText),
        ("run-daemon-unreachable", .run, .daemonUnreachable, .daemonText),
        ("run-daemon-lost", .run, .daemonLost, .daemonText),
        ("run-daemon-lost-docker28", .run, .daemonLost, .daemonText),
        ("run-badflag", .run, .notMemory, nil),
        ("run-noimage", .run, .notMemory, nil),
        ("run-exit3", .run, .notMemory, nil),
        ("run-endpoint-nobridge", .run, .notMemory, nil),
        ("build-classic-oom", .build(.docker), .oomBuildStep, .exitStatus),
        ("build-buildkit-oom", .build(.docker), .oomBuildStep, .exitStatus),
        ("build-classic-killed-child-exit2", .build(.docker), .oomBuildStep, .stepOutput),
        ("build-buildkit-killed-child-exit2", .build(.docker), .oomBuildStep, .stepOutput),
        ("build-buildkit-killed-child-exit2-tty", .build(.docker), .oomBuildStep, .stepOutput),
        ("build-classic-killed-then-exit1", .build(.docker), .notMemory, nil),
        ("build-classic-quiet-exit1", .build(.docker), .notMemory, nil),
        ("build-classic-quiet-killed-child-exit2", .build(.docker), .oomBuildStep, .stepOutput),
        ("build-classic-exit137-own", .build(.docker), .notMemory, nil),
        ("build-classic-ulimit-enomem", .build(.docker), .processENOMEM, .daemonText),
        ("build-classic-exit1", .build(.docker), .notMemory, nil),
        ("build-buildkit-exit1", .build(.docker), .notMemory, nil),
        ("build-badflag", .build(.docker), .notMemory, nil),
        ("build-daemon-unreachable", .build(.docker), .daemonUnreachable, .daemonText),
        ("build-classic-daemon-lost", .build(.docker), .daemonLost, .daemonText),
        ("build-classic-daemon-lost-docker28", .build(.docker), .daemonLost, .daemonText),
        ("build-buildkit-daemon-lost", .build(.docker), .daemonLost, .daemonText),
        ("build-classic-quiet-daemon-lost", .build(.docker), .daemonLost, .daemonText),
    ])
    func capturedAttempt(name: String, command: ProtectedCommand, expected: FailureClass, strength: EvidenceStrength?) {
        #expect(!FailureFixture.text(name + ".status").isEmpty, "no fixture \(name)")
        let c = FailureFixture.classify(name, command)
        #expect(c.failureClass == expected, "\(name): \(c.reason)")
        #expect(c.retryable == (expected != .notMemory))
        #expect(c.strength == strength, "\(name): \(c.reason)")
    }

    /// The classic build's step killed a child (the OOM killer under `-m 16m`), printed `Killed` and exited 2 itself:
    /// the hint decides, and the line shown is the shell's.
    @Test func aKilledChildBehindTheStepsOwnCodeIsAnOOMKill() {
        let c = FailureFixture.classify("build-classic-killed-child-exit2", .build(.docker))
        #expect(FailureFixture.status("build-classic-killed-child-exit2") == .exited(2))
        #expect(c.line == "Killed")
        #expect(c.reason.contains("exit code 2"))
        // The same words in a step that went on and succeeded, then a later step's own failure: the hint belonged to
        // the earlier step (`Step N/M :` starts a new one).
        let later = FailureFixture.classify("build-classic-killed-then-exit1", .build(.docker))
        #expect(FailureFixture.text("build-classic-killed-then-exit1.stdout").contains("Killed"))
        #expect(later.failureClass == .notMemory)
    }

    /// `RUN exit 137`: the code is the command's own (measured here; corpus 073 is docker 1.x's form of the same).
    @Test func aStepThatExits137ItselfIsNotAnOOMKill() {
        let c = FailureFixture.classify("build-classic-exit137-own", .build(.docker))
        #expect(FailureFixture.status("build-classic-exit137-own") == .exited(137))
        #expect(c.failureClass == .notMemory)
        #expect(c.reason == "the build step's own command exits 137; not retried")
    }

    @Test func oomKilledRunReadsTheContainerState() {
        let state = ContainerState.parse(inspectJSON: FailureFixture.text("run-oom.inspect.json"))
        #expect(state == ContainerState(oomKilled: true, exitCode: 137, status: "exited"))
        #expect(FailureFixture.status("run-oom") == .exited(137))
        #expect(FailureFixture.text("run-oom.stderr").isEmpty)  // docker prints nothing for an OOM kill
    }

    @Test func sigkillWithoutOOMKilledIsNotAnOOM() {
        // `docker kill` of a running container: exit 137, OOMKilled=false.
        let state = ContainerState.parse(inspectJSON: FailureFixture.text("run-killed.inspect.json"))
        #expect(state?.oomKilled == false)
        #expect(state?.exitCode == 137)
        let c = Classifier(command: .run).verdict(exitStatus: .exited(137), containerState: state)
        #expect(c.failureClass == .notMemory)
        #expect(!c.retryable)
        #expect(c.reason.contains("OOMKilled=false"))
        let none = Classifier(command: .run).verdict(exitStatus: .exited(137), containerState: nil)
        #expect(none.failureClass == .notMemory)
    }

    @Test func aContainerPrintingENOMEMIsItsOwnFailure() {
        // run-exit3: the container printed "cannot allocate memory" on stderr and exited 3.
        #expect(FailureFixture.text("run-exit3.stderr").contains("cannot allocate memory"))
        #expect(FailureFixture.classify("run-exit3", .run).failureClass == .notMemory)
        // Even a container imitating docker's prefix is not docker unless docker's exit status agrees: 125, or 126
        // and 127 only with the words docker maps to them.
        var c = Classifier(command: .run)
        c.observe(text: "docker: Error response from daemon: fork/exec /x: cannot allocate memory.", stream: .stderr)
        #expect(c.verdict(exitStatus: .exited(1), containerState: nil).failureClass == .notMemory)
        #expect(c.verdict(exitStatus: .exited(127), containerState: nil).failureClass == .notMemory)
        #expect(c.verdict(exitStatus: .exited(126), containerState: nil).failureClass == .notMemory)
        #expect(c.verdict(exitStatus: .exited(125), containerState: nil).failureClass == .processENOMEM)
    }

    /// docker/cli exits 127 when its error says the file cannot be found, so an unreachable Windows engine whose
    /// pipe is missing exits 127 (corpus 049, https://github.com/docker/for-win/issues/7317); with any other
    /// container-like status the same line is not docker's.
    @Test func runStatusMustAgreeWithDockersWords() {
        let line = "docker: error during connect: Post http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.40/containers/create: open //./pipe/docker_engine: The system cannot find the file specified. In the default daemon configuration on Windows, the docker client must be run elevated to connect. This error may also indicate that the docker daemon is not running."
        func verdict(_ status: Int32) -> FailureClass {
            var c = Classifier(command: .run)
            c.observe(text: line + "\nSee 'docker run --help'.", stream: .stderr)
            return c.verdict(exitStatus: .exited(status), containerState: nil).failureClass
        }
        #expect(verdict(127) == .daemonUnreachable)
        #expect(verdict(125) == .daemonUnreachable)
        #expect(verdict(126) == .notMemory)
        #expect(verdict(3) == .notMemory)
    }

    /// runc's `nsenter` prints its ENOMEM (glibc's capital C) on the container's stderr before docker reports that
    /// the runtime could not start the container: the user's program never ran, so that line is the runtime's
    /// (corpus 004, https://github.com/moby/moby/issues/31037). Without docker's runtime failure the same line is a
    /// container's.
    @Test func theRuntimesOwnLinesCountWhenTheContainerNeverStarted() {
        let runtime = """
            nsenter: unable to unshare namespaces: Cannot allocate memory
            container_linux.go:247: starting container process caused "process_linux.go:245: running exec setns process for init caused \"exit status 1\""
            """
        let docker = #"docker: Error response from daemon: invalid header field value "oci runtime error: container_linux.go:247: starting container process caused \"process_linux.go:245: running exec setns process for init caused \\\"exit status 1\\\"\"\n"."#
        var c = Classifier(command: .run)
        c.observe(text: runtime + "\n" + docker, stream: .stderr)
        let v = c.verdict(exitStatus: .exited(125), containerState: nil)
        #expect(v.failureClass == .processENOMEM)
        #expect(v.line == "nsenter: unable to unshare namespaces: Cannot allocate memory")
        var alone = Classifier(command: .run)
        alone.observe(text: runtime + "\ndocker: Error response from daemon: pull access denied for x.", stream: .stderr)
        #expect(alone.verdict(exitStatus: .exited(125), containerState: nil).failureClass == .notMemory)
    }

    @Test func aRunStepPrintingENOMEMIsTheBuildsOwnFailure() {
        // Classic: the step's output is on stdout; its result line quotes the command but says code 1.
        #expect(FailureFixture.text("build-classic-exit1.stdout").contains("fork: cannot allocate memory"))
        #expect(FailureFixture.text("build-classic-exit1.stderr").contains("cannot allocate memory"))
        #expect(FailureFixture.classify("build-classic-exit1", .build(.docker)).failureClass == .notMemory)
        // BuildKit: `#5 0.139 fork: …` step lines, the `------` summary, the `executor failed running` line.
        #expect(FailureFixture.classify("build-buildkit-exit1", .build(.docker)).failureClass == .notMemory)
    }

    /// Verbatim texts of what the kernel cannot be made to do here; sources in the signature table.
    @Test(arguments: [
        ("docker: Error response from daemon: failed to create endpoint sb on network bridge: failed to add the host (veth1a2b3c4) <=> sandbox (veth5d6e7f8) pair interfaces: cannot allocate memory.",
         FailureClass.networkENOMEM),
        ("docker: Error response from daemon: error creating overlay mount to /var/lib/docker/overlay2/abc/merged: cannot allocate memory.",
         .storageENOMEM),
        ("docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error mounting \"/dev/pts/0\" to rootfs at \"/dev/console\": cannot allocate memory: unknown.",
         .storageENOMEM),
        ("docker: Error response from daemon: failed to create shim task: failed to start shim: fork/exec /usr/bin/containerd-shim-runc-v2: cannot allocate memory: unknown.",
         .processENOMEM),
        ("docker: Error response from daemon: mkdir /var/lib/docker/overlay2/abc-init: no space left on device.", .diskFull),
        ("docker: Error response from daemon: something new: cannot allocate memory.", .processENOMEM),
    ])
    func sourceTextOnRun(line: String, expected: FailureClass) {
        var c = Classifier(command: .run)
        c.observe(text: line + "\nSee 'docker run --help'.", stream: .stderr)
        let v = c.verdict(exitStatus: .exited(125), containerState: nil)
        #expect(v.failureClass == expected)
        #expect(v.line == line)
    }

    @Test(arguments: [
        ("executor failed running [/bin/sh -c x=a; while true; do x=$x$x; done]: exit code: 137", FailureClass.oomBuildStep),
        ("ERROR: failed to solve: process \"/bin/sh -c x=a; while true; do x=$x$x; done\" did not complete successfully: exit code: 137", .oomBuildStep),
        ("executor failed running [/bin/sh -c exit 137 ]: exit code: 1", .notMemory),
        ("The command '/bin/sh -c echo exit code: 137' returned a non-zero code: 2", .notMemory),
        ("failed to create endpoint sb on network bridge: failed to add the host (veth1) <=> sandbox (veth2) pair interfaces: cannot allocate memory", .networkENOMEM),
        ("ERROR: failed to solve: failed to compute cache key: write /var/lib/docker/buildkit/x: no space left on device", .diskFull),
    ])
    func sourceTextOnBuild(line: String, expected: FailureClass) {
        var c = Classifier(command: .build(.docker))
        c.observe(text: line, stream: .stderr)
        #expect(c.verdict(exitStatus: .exited(1), containerState: nil).failureClass == expected)
    }

    @Test func pageAllocationNeedsKernelEvidence() {
        let kernel = "[12345.678901] dockerd: page allocation failure: order:4, mode:0x40dc0(GFP_KERNEL|__GFP_COMP|__GFP_ZERO), nodemask=(null),cpuset=/,mems_allowed=0"
        var c = Classifier(command: .run)
        c.observe(text: "docker: Error response from daemon: something new: cannot allocate memory.", stream: .stderr)
        var bytes = Array(kernel.utf8)
        bytes.withUnsafeMutableBytes { c.observeKernel(line: UnsafeRawBufferPointer($0)) }
        let v = c.verdict(exitStatus: .exited(125), containerState: nil)
        #expect(v.failureClass == .pageAllocation)
        #expect(v.kernelEvidence == kernel)
        // The specific veth signature keeps its class; the kernel line is kept as evidence.
        var n = Classifier(command: .run)
        n.observe(text: "docker: Error response from daemon: failed to create endpoint a on network b: failed to add the host (v1) <=> sandbox (v2) pair interfaces: cannot allocate memory.", stream: .stderr)
        bytes.withUnsafeMutableBytes { n.observeKernel(line: UnsafeRawBufferPointer($0)) }
        #expect(n.verdict(exitStatus: .exited(125), containerState: nil).failureClass == .networkENOMEM)
    }

    @Test func terminalEscapesAndCarriageReturnsAreStripped() {
        var c = Classifier(command: .build(.docker))
        c.observe(text: "\u{1B}[1A\u{1B}[2K => [2/2] RUN x\r\u{1B}[31mfailed to create endpoint a on network b: cannot allocate memory\u{1B}[0m", stream: .stderr)
        #expect(c.verdict(exitStatus: .exited(1), containerState: nil).failureClass == .networkENOMEM)
    }

    @Test func policySignaturesComeFirst() {
        var c = Classifier(command: .run, extra: [.policy(.networkENOMEM, contains: "netlink: cannot allocate memory")])
        c.observe(text: "docker: Error response from daemon: netlink: cannot allocate memory.", stream: .stderr)
        #expect(c.verdict(exitStatus: .exited(125), containerState: nil).failureClass == .networkENOMEM)
    }

    /// A policy signature whose text is exactly the generic ENOMEM text is the policy's decision: the kernel's page
    /// allocation failure does not turn it into page_allocation (it did while the classifier told policy signatures
    /// apart by a source string, which for a policy signature is its file and line).
    @Test func policySignatureOfTheGenericTextKeepsItsClass() throws {
        let policy = try PolicyParser.parse(
            "signatures:\n  - {class: storage_enomem, contains: \"cannot allocate memory\"}\n", file: "/etc/safebuild/policy.yml",
            over: PolicyLoader.builtIn
        ).get()
        let kernel = "[12345.678901] dockerd: page allocation failure: order:4, mode:0x40dc0(GFP_KERNEL|__GFP_COMP|__GFP_ZERO), nodemask=(null),cpuset=/,mems_allowed=0"
        let line = "docker: Error response from daemon: something new: cannot allocate memory."
        func verdict(_ extra: [Signature]) -> Classification {
            var c = Classifier(command: .run, extra: extra)
            c.observe(text: line, stream: .stderr)
            var bytes = Array(kernel.utf8)
            bytes.withUnsafeMutableBytes { c.observeKernel(line: UnsafeRawBufferPointer($0)) }
            return c.verdict(exitStatus: .exited(125), containerState: nil)
        }
        #expect(policy.failureSignatures.map(\.source) == ["/etc/safebuild/policy.yml:2"])
        let withPolicy = verdict(policy.failureSignatures)
        #expect(withPolicy.failureClass == .storageENOMEM)
        #expect(withPolicy.kernelEvidence == kernel)
        // Without the policy's signature, the built-in catch-all is refined by the kernel's evidence as before.
        #expect(verdict([]).failureClass == .pageAllocation)
    }

    @Test func successIsNeverRetried() {
        var c = Classifier(command: .run)
        c.observe(text: "docker: Error response from daemon: fork/exec /x: cannot allocate memory.", stream: .stderr)
        #expect(!c.verdict(exitStatus: .exited(0), containerState: nil).retryable)
    }

    /// A line is kept to its first and last KiB: docker's errors put the errno at the end, so a 100 KB line still
    /// shows it, and what is kept stays small. BuildKit's step lines are never kept.
    @Test func memoryIsBoundedWhateverTheOutput() {
        var c = Classifier(command: .build(.docker))
        let long = "failed to solve: " + String(repeating: "x", count: 100_000) + ": cannot allocate memory"
        for _ in 0..<2000 { c.observe(text: "#5 1.0 cannot allocate memory", stream: .stderr) }
        c.observe(text: long, stream: .stderr)
        let v = c.verdict(exitStatus: .exited(1), containerState: nil)
        #expect(v.failureClass == .processENOMEM)
        #expect((v.line?.utf8.count ?? 0) <= 2 * Classifier.keep + 5)
        #expect(v.line?.hasPrefix("failed to solve: xxx") == true)
        #expect(v.line?.hasSuffix("xxx: cannot allocate memory") == true)
        // The step lines said ENOMEM 2000 times, but they are a step's own output.
        var steps = Classifier(command: .build(.docker))
        for _ in 0..<2000 { steps.observe(text: "#5 1.0 cannot allocate memory", stream: .stderr) }
        #expect(steps.verdict(exitStatus: .exited(1), containerState: nil).failureClass == .notMemory)
    }

    @Test func everyBuiltInSignatureCitesItsSource() {
        for s in Signature.builtIn {
            #expect(!s.source.isEmpty)
            #expect(s.prefix != nil || s.suffix != nil || !s.contains.isEmpty || s.operand != nil)
        }
        for form in StepHint.forms { #expect(!form.source.isEmpty) }
        // Every class but the OOM kills has a signature; those come from docker's state, the step's code and hints.
        #expect(Set(Signature.builtIn.map(\.failureClass)) == Set(FailureClass.allCases).subtracting([.oomContainer, .oomBuildStep]))
    }
}

/// Property: a line that is not one of docker's memory signatures, with any exit status, never classifies as memory
/// and is never retried; and any output under a non-125 `run` exit (the container's own) is never retried unless the
/// container state says OOMKilled.
@Suite struct FailurePropertyTests {
    static let words = [
        "error", "failed", "memory", "cannot", "allocate", "exit", "code", "137", "docker:", "Error", "response", "from",
        "daemon", "The", "command", "returned", "killed", "OOM", "out", "of", "space", "device", "fork", "exec", "veth",
        "overlay", "mount", "#5", "0.123", "=>", "------", "ERROR:", "process", "did", "not", "complete", "step", "RUN",
    ]

    static func randomLine(_ g: inout SplitMix64) -> String {
        let n = Int(g.next() % 14) + 1
        var parts: [String] = []
        for _ in 0..<n { parts.append(words[Int(g.next() % UInt64(words.count))]) }
        return parts.joined(separator: " ")
    }

    static func isSignature(_ line: String) -> Bool {
        ["cannot allocate memory", "no space left on device", "Cannot connect to the Docker daemon at ",
         "error during connect: ", "returned a non-zero code: 137", "]: exit code: 137", "exit code: 137"]
            .contains { line.contains($0) }
    }

    @Test func randomNonMemoryOutputIsNeverRetried() {
        var g = SplitMix64(seed: 0x5AFE_B111D)
        var checked = 0
        for _ in 0..<10_000 {
            var lines: [String] = []
            for _ in 0..<(Int(g.next() % 6) + 1) {
                let line = Self.randomLine(&g)
                if !Self.isSignature(line) { lines.append(line) }
            }
            let status = SafebuildKit.ExitStatus.exited(Int32(g.next() % 256))
            let command: ProtectedCommand = g.next() % 2 == 0 ? .run : .build(.docker)
            let state = ContainerState(oomKilled: false, exitCode: status.code, status: "exited")
            var c = Classifier(command: command)
            for line in lines { c.observe(text: line, stream: g.next() % 2 == 0 ? .stdout : .stderr) }
            let v = c.verdict(exitStatus: status, containerState: command == .run ? state : nil)
            #expect(v.failureClass == .notMemory, "\(lines) \(status)")
            #expect(!v.retryable)
            var random = SplitMix64(seed: g.next())
            let d = RetryDecision.decide(v, attempt: 1, elapsed: 0, settings: RetrySettings(), random: &random)
            guard case .giveUp = d else {
                Issue.record("retried: \(lines) \(status)")
                return
            }
            checked += 1
        }
        #expect(checked == 10_000)
    }

    @Test func memoryWordsInAContainersOwnOutputAreNeverOurs() {
        // Real ENOMEM lines, but printed by the container (no docker prefix) or with a container's own exit code.
        var g = SplitMix64(seed: 42)
        for _ in 0..<10_000 {
            let line = ["fork: cannot allocate memory", "write /x: no space left on device",
                        "failed to add the host (a) <=> sandbox (b) pair interfaces: cannot allocate memory"][Int(g.next() % 3)]
            var status = Int32(g.next() % 256)
            if status == 125 || status == 0 { status = 1 }
            var c = Classifier(command: .run)
            c.observe(text: line, stream: .stderr)
            c.observe(text: "docker: Error response from daemon: \(line).", stream: g.next() % 2 == 0 ? .stdout : .stderr)
            let v = c.verdict(exitStatus: .exited(status), containerState: ContainerState(oomKilled: false, exitCode: status, status: "exited"))
            #expect(v.failureClass == .notMemory)
        }
    }
}

@Suite struct ContainerStateTests {
    @Test func settlesAnOOMEventThatArrivesAfterTheExit() {
        let killed = FailureFixture.text("run-killed.inspect.json")  // exit 137, OOMKilled=false
        let oom = FailureFixture.text("run-oom.inspect.json")  // exit 137, OOMKilled=true
        var answers = [killed, killed, oom]
        var sleeps = 0
        let state = ContainerState.settled(inspect: { answers.removeFirst() }, sleep: { _ in sleeps += 1 })
        #expect(state?.oomKilled == true)
        #expect(sleeps == 2)
        // A plain SIGKILL stays one, after the bounded wait.
        sleeps = 0
        let plain = ContainerState.settled(settle: 1, inspect: { killed }, sleep: { _ in sleeps += 1 })
        #expect(plain?.oomKilled == false)
        #expect(sleeps == 10)
        #expect(ContainerState.settled(inspect: { "[]" }, sleep: { _ in }) == nil)
    }
}
