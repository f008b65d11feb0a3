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
        var classifier = Classifier()
        classifier.observe(text: text(name + ".stdout"), stream: .stdout)
        classifier.observe(text: text(name + ".stderr"), stream: .stderr)
        let state = ContainerState.parse(inspectJSON: text(name + ".inspect.json"))
        return classifier.verdict(exitStatus: status(name), command: command, containerState: state)
    }
}

@Suite struct FailureClassificationTests {
    @Test(arguments: [
        // Real failures captured on the dev engine.
        ("run-oom", ProtectedCommand.run, FailureClass.oomContainer),
        ("run-ulimit-enomem", .run, .processENOMEM),
        ("run-daemon-unreachable", .run, .daemonUnreachable),
        ("run-badflag", .run, .notMemory),
        ("run-noimage", .run, .notMemory),
        ("run-exit3", .run, .notMemory),
        ("run-endpoint-nobridge", .run, .notMemory),
        ("build-classic-oom", .build(.docker), .oomBuildStep),
        ("build-classic-ulimit-enomem", .build(.docker), .processENOMEM),
        ("build-classic-exit1", .build(.docker), .notMemory),
        ("build-buildkit-exit1", .build(.docker), .notMemory),
        ("build-badflag", .build(.docker), .notMemory),
        ("build-daemon-unreachable", .build(.docker), .daemonUnreachable),
    ])
    func capturedAttempt(name: String, command: ProtectedCommand, expected: FailureClass) {
        let c = FailureFixture.classify(name, command)
        #expect(c.failureClass == expected, "\(name): \(c.reason)")
        #expect(c.retryable == (expected != .notMemory))
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
        let c = Classifier().verdict(exitStatus: .exited(137), command: .run, containerState: state)
        #expect(c.failureClass == .notMemory)
        #expect(!c.retryable)
        #expect(c.reason.contains("OOMKilled=false"))
        let none = Classifier().verdict(exitStatus: .exited(137), command: .run, containerState: nil)
        #expect(none.failureClass == .notMemory)
    }

    @Test func aContainerPrintingENOMEMIsItsOwnFailure() {
        // run-exit3: the container printed "cannot allocate memory" on stderr and exited 3.
        #expect(FailureFixture.text("run-exit3.stderr").contains("cannot allocate memory"))
        #expect(FailureFixture.classify("run-exit3", .run).failureClass == .notMemory)
        // Even a container imitating docker's prefix is not docker unless docker exits 125.
        var c = Classifier()
        c.observe(text: "docker: Error response from daemon: fork/exec /x: cannot allocate memory.", stream: .stderr)
        #expect(c.verdict(exitStatus: .exited(1), command: .run, containerState: nil).failureClass == .notMemory)
        #expect(c.verdict(exitStatus: .exited(125), command: .run, containerState: nil).failureClass == .processENOMEM)
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
        var c = Classifier()
        c.observe(text: line + "\nSee 'docker run --help'.", stream: .stderr)
        let v = c.verdict(exitStatus: .exited(125), command: .run, containerState: nil)
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
        var c = Classifier()
        c.observe(text: line, stream: .stderr)
        #expect(c.verdict(exitStatus: .exited(1), command: .build(.docker), containerState: nil).failureClass == expected)
    }

    @Test func pageAllocationNeedsKernelEvidence() {
        let kernel = "[12345.678901] dockerd: page allocation failure: order:4, mode:0x40dc0(GFP_KERNEL|__GFP_COMP|__GFP_ZERO), nodemask=(null),cpuset=/,mems_allowed=0"
        var c = Classifier()
        c.observe(text: "docker: Error response from daemon: something new: cannot allocate memory.", stream: .stderr)
        var bytes = Array(kernel.utf8)
        bytes.withUnsafeMutableBytes { c.observeKernel(line: UnsafeRawBufferPointer($0)) }
        let v = c.verdict(exitStatus: .exited(125), command: .run, containerState: nil)
        #expect(v.failureClass == .pageAllocation)
        #expect(v.kernelEvidence == kernel)
        // The specific veth signature keeps its class; the kernel line is kept as evidence.
        var n = Classifier()
        n.observe(text: "docker: Error response from daemon: failed to create endpoint a on network b: failed to add the host (v1) <=> sandbox (v2) pair interfaces: cannot allocate memory.", stream: .stderr)
        bytes.withUnsafeMutableBytes { n.observeKernel(line: UnsafeRawBufferPointer($0)) }
        #expect(n.verdict(exitStatus: .exited(125), command: .run, containerState: nil).failureClass == .networkENOMEM)
    }

    @Test func terminalEscapesAndCarriageReturnsAreStripped() {
        var c = Classifier()
        c.observe(text: "\u{1B}[1A\u{1B}[2K => [2/2] RUN x\r\u{1B}[31mfailed to create endpoint a on network b: cannot allocate memory\u{1B}[0m", stream: .stderr)
        #expect(c.verdict(exitStatus: .exited(1), command: .build(.docker), containerState: nil).failureClass == .networkENOMEM)
    }

    @Test func policySignaturesComeFirst() {
        var c = Classifier(extra: [.policy(.networkENOMEM, contains: "netlink: cannot allocate memory")])
        c.observe(text: "docker: Error response from daemon: netlink: cannot allocate memory.", stream: .stderr)
        #expect(c.verdict(exitStatus: .exited(125), command: .run, containerState: nil).failureClass == .networkENOMEM)
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
            var c = Classifier(extra: extra)
            c.observe(text: line, stream: .stderr)
            var bytes = Array(kernel.utf8)
            bytes.withUnsafeMutableBytes { c.observeKernel(line: UnsafeRawBufferPointer($0)) }
            return c.verdict(exitStatus: .exited(125), command: .run, containerState: nil)
        }
        #expect(policy.failureSignatures.map(\.source) == ["/etc/safebuild/policy.yml:2"])
        let withPolicy = verdict(policy.failureSignatures)
        #expect(withPolicy.failureClass == .storageENOMEM)
        #expect(withPolicy.kernelEvidence == kernel)
        // Without the policy's signature, the built-in catch-all is refined by the kernel's evidence as before.
        #expect(verdict([]).failureClass == .pageAllocation)
    }

    @Test func successIsNeverRetried() {
        var c = Classifier()
        c.observe(text: "docker: Error response from daemon: fork/exec /x: cannot allocate memory.", stream: .stderr)
        #expect(!c.verdict(exitStatus: .exited(0), command: .run, containerState: nil).retryable)
    }

    @Test func memoryIsBoundedWhateverTheOutput() {
        var c = Classifier()
        let long = String(repeating: "x", count: 100_000) + " cannot allocate memory"
        for _ in 0..<2000 { c.observe(text: "#5 1.0 cannot allocate memory", stream: .stderr) }
        c.observe(text: long, stream: .stderr)
        let v = c.verdict(exitStatus: .exited(1), command: .build(.docker), containerState: nil)
        // The line was cut at 1 KiB, before its ENOMEM: nothing matched, and nothing grew.
        #expect(v.failureClass == .notMemory)
        #expect(v.reason.count < 1300)
    }

    @Test func everyBuiltInSignatureCitesItsSource() {
        for s in Signature.builtIn {
            #expect(!s.source.isEmpty)
            #expect(s.prefix != nil || s.suffix != nil || !s.contains.isEmpty)
        }
        #expect(Set(Signature.builtIn.map(\.failureClass)) == Set(FailureClass.allCases).subtracting([.oomContainer, .notMemory]))
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
            var c = Classifier()
            for line in lines { c.observe(text: line, stream: g.next() % 2 == 0 ? .stdout : .stderr) }
            let v = c.verdict(exitStatus: status, command: command, containerState: command == .run ? state : nil)
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
            var c = Classifier()
            c.observe(text: line, stream: .stderr)
            c.observe(text: "docker: Error response from daemon: \(line).", stream: g.next() % 2 == 0 ? .stdout : .stderr)
            let v = c.verdict(exitStatus: .exited(status), command: .run, containerState: ContainerState(oomKilled: false, exitCode: status, status: "exited"))
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
