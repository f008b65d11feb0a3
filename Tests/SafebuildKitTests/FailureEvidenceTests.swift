import Testing

@testable import SafebuildKit

/// The parts the verdict is made of: the ranking of evidence, the step-result line, the forms of docker's own lines in
/// a run, the hints of a step's own output. Texts are the corpus' (Fixtures/corpus, with their source URLs) or
/// captured on the dev engine (Fixtures/failure).
@Suite struct FailureEvidenceTests {
    // MARK: - Ranking

    /// Host evidence (issue 10's cgroup counters, issue 16's disk after the failure) outranks docker's text: a nearly
    /// full data root is disk_full whatever the text, and ENOMEM on a healthy host is a veto. Docker's own text
    /// outranks a step's exit code, which outranks a step's output; a veto loses to positive evidence of its own
    /// strength.
    @Test func theStrongestEvidenceDecides() {
        // Corpus 119 (https://github.com/moby/moby/issues/31834): a shim fork ENOMEM, exit 125.
        let line = "docker: Error response from daemon: fork/exec /usr/bin/docker-containerd-shim: cannot allocate memory."
        func verdict(_ host: [Evidence]) -> Classification {
            var c = Classifier(command: .run)
            c.observe(text: line, stream: .stderr)
            return c.verdict(exitStatus: .exited(125), containerState: nil, host: host)
        }
        #expect(verdict([]).failureClass == .processENOMEM)
        #expect(verdict([]).strength == .daemonText)
        let full = Evidence(.host, .diskFull, line: "/var/lib/docker: 99.7% used", reason: "docker's data root is full")
        #expect(verdict([full]).failureClass == .diskFull)
        #expect(verdict([full]).reason == "docker's data root is full")
        #expect(verdict([full]).strength == .host)
        let healthy = Evidence(.host, .notMemory, reason: "ENOMEM while the host had 12 GiB available and no fragmentation")
        let vetoed = verdict([healthy])
        #expect(vetoed.failureClass == .notMemory)
        #expect(!vetoed.retryable)
        #expect(vetoed.strength == .host)
        // Weaker evidence never outranks stronger; a veto loses to positive evidence of its strength.
        let ranked = Evidence.strongest([
            Evidence(.stepOutput, .oomBuildStep, reason: "hint"), Evidence(.daemonText, .notMemory, reason: "veto"),
            Evidence(.exitStatus, .oomBuildStep, reason: "137"), Evidence(.daemonText, .diskFull, reason: "ENOSPC"),
        ])
        #expect(ranked?.reason == "ENOSPC")
        #expect(Evidence.strongest([Evidence(.daemonText, .notMemory, reason: "veto"), Evidence(.exitStatus, .oomBuildStep, reason: "137")])?.reason == "veto")
        #expect(EvidenceStrength.allCases.sorted() == [.stepOutput, .exitStatus, .daemonText, .host])
    }

    /// The run's OOM kill is host evidence (docker reads it from the container's cgroup events); it is the verdict
    /// even when a docker line beside it would say otherwise.
    @Test func anOOMKilledContainerIsHostEvidence() {
        var c = Classifier(command: .run)
        c.observe(text: "docker: Error response from daemon: mkdir /var/lib/docker/x: no space left on device.", stream: .stderr)
        let v = c.verdict(exitStatus: .exited(137), containerState: ContainerState(oomKilled: true, exitCode: 137, status: "exited"))
        #expect(v.failureClass == .oomContainer)
        #expect(v.strength == .host)
    }

    /// The attempt's own memory cgroups (memory admission's accounting) as host evidence: an exit 137 while they
    /// counted an OOM kill is an OOM kill, and it outranks the exit-status rule that a step's own `exit 137` is not
    /// one. Not without a counted kill, not for another exit status, not when safebuild was signalled.
    @Test func theCgroupsOOMCounterIsHostEvidence() {
        let name = "build-classic-exit137-own"
        func verdict(_ exit: DockerExit) -> Classification {
            var c = Classifier(command: .build(.docker))
            c.observe(text: FailureFixture.text(name + ".stdout"), stream: .stdout)
            c.observe(text: FailureFixture.text(name + ".stderr"), stream: .stderr)
            return c.verdict(
                exitStatus: exit.status, containerState: nil,
                host: AttemptLoop.hostEvidence(exit.memory, exit: exit, command: .build(.docker)))
        }
        let counted = AttemptMemory(peakBytes: 16 << 20, limitBytes: 16 << 20, oomKills: 2, containers: 2)
        let killed = verdict(DockerExit(status: FailureFixture.status(name), startedAt: 0, memory: counted))
        #expect(killed.failureClass == .oomBuildStep)
        #expect(killed.strength == .host)
        #expect(killed.reason == "killed by the OOM killer: its own memory cgroup counted 2 OOM kill(s)")
        #expect(killed.retryable)

        var none = counted
        none.oomKills = 0
        #expect(verdict(DockerExit(status: .exited(137), startedAt: 0, memory: none)).failureClass == .notMemory)
        #expect(verdict(DockerExit(status: .exited(137), startedAt: 0, memory: nil)).failureClass == .notMemory)
        #expect(verdict(DockerExit(status: .exited(1), startedAt: 0, memory: counted)).strength != .host)
        #expect(verdict(DockerExit(status: .exited(137), interruptedBy: 15, startedAt: 0, memory: counted)).failureClass == .notMemory)
        #expect(
            AttemptLoop.hostEvidence(counted, exit: DockerExit(status: .exited(137), startedAt: 0, memory: counted), command: .run)
                .map(\.failureClass) == [.oomContainer])
    }

    // MARK: - Step results

    @Test(arguments: [
        // Corpus 009 (https://github.com/Matterwiki/Matterwiki/issues/121).
        ("The command '/bin/sh -c npm install' returned a non-zero code: 137", 137, nil, "/bin/sh -c npm install"),
        // Corpus 097 (https://github.com/distribution/distribution/issues/345): docker ≤ 1.6 wording.
        ("INFO[0014] The command [/bin/sh -c make PREFIX=/go clean binaries] returned a non-zero code: 2", 2, nil,
         "/bin/sh -c make PREFIX=/go clean binaries"),
        // Captured here (build-buildkit-oom).
        ("executor failed running [/bin/sh -c cat /proc/self/cgroup | grep memory; x=$(head -c 100000000 /dev/zero | tr \"\\0\" a); echo ${#x}]: exit code: 137",
         137, nil, "/bin/sh -c cat /proc/self/cgroup | grep memory; x=$(head -c 100000000 /dev/zero | tr \"\\0\" a); echo ${#x}"),
        // Corpus 084 (https://github.com/docker/buildx/issues/423): BuildKit 0.7, no code.
        ("failed to solve with frontend dockerfile.v0: failed to build LLB: executor failed running [/bin/sh -c \"npm, install\"]: runc did not terminate sucessfully",
         nil, "runc did not terminate sucessfully", "/bin/sh -c \"npm, install\""),
        // Corpus 137 (https://github.com/keenanjohnson/ros2_rust_workspace/issues/21).
        ("error: failed to solve: process \"/bin/sh -c cargo install -vv cargo-ament-build\" did not complete successfully: exit code: 137",
         137, nil, "/bin/sh -c cargo install -vv cargo-ament-build"),
        // Corpus 002 (https://github.com/DadsMmoLab/dads-mmo-lab/issues/81): BuildKit ≥ 0.16's detectOOM.
        ("ERROR: failed to build: failed to solve: ResourceExhausted: process \"/bin/sh -c cd build && make -j2 && make install\" did not complete successfully: cannot allocate memory",
         nil, "cannot allocate memory", "/bin/sh -c cd build && make -j2 && make install"),
    ] as [(String, Int?, String?, String)])
    func stepResultsAreRead(line: String, code: Int?, error: String?, command: String) throws {
        let result = try #require(StepResult.parse(Array(line.utf8)))
        #expect(result.code == code)
        #expect(result.error.map { String(decoding: $0, as: UTF8.self) } == error)
        #expect(String(decoding: result.command, as: UTF8.self) == command)
        #expect(result.isOOMKillReportedByBuildKit == (error == "cannot allocate memory"))
        #expect(!result.wasCancelled)
    }

    /// A step BuildKit cancelled: its exit code wrapped in the cancellation. Not produced here (BuildKit 0.8 of docker
    /// 20.10 reports `#5 CANCELED` and `context canceled` without a code, measured); the line is assembled in the
    /// format of moby/buildkit executor/runcexecutor/executor.go `exitError` (`errors.Wrapf(ctx.Err(),
    /// exitErr.Error())`) with the step of corpus 137.
    @Test func aCancelledStepIsNotAnOOMKill() throws {
        let line = "ERROR: failed to solve: process \"/bin/sh -c cargo install -vv cargo-ament-build\" did not complete successfully: exit code: 137: context canceled: context canceled"
        let result = try #require(StepResult.parse(Array(line.utf8)))
        #expect(result.code == 137)
        #expect(result.wasCancelled)
        var c = Classifier(command: .build(.docker))
        c.observe(text: line, stream: .stderr)
        let v = c.verdict(exitStatus: .exited(1), containerState: nil)
        #expect(v.failureClass == .notMemory)
        #expect(v.reason.contains("BuildKit cancelled it"))
    }

    @Test(arguments: [
        ("/bin/sh -c exit 137", 137, true),
        ("/bin/sh -c make; exit 137", 137, true),
        ("/bin/sh -c npm install", 137, false),
        ("/bin/sh -c echo exit 137; sleep 1", 137, false),
        ("/bin/sh -c myexit 137", 137, false),
        ("/bin/sh -c exit 2", 137, false),
    ])
    func aCommandsOwnExitIsRecognised(command: String, code: Int, own: Bool) {
        let result = StepResult(code: code, error: nil, command: Array(command.utf8))
        #expect(result.exitsWithItsOwnCode == own)
    }

    // MARK: - docker's own lines in a run

    @Test(arguments: [
        ("docker: Error response from daemon: pull access denied for x.", RunErrorLine?.some(.cli)),
        ("/usr/bin/docker-current: Cannot connect to the Docker daemon. Is the docker daemon running on this host?.", .cli),
        ("C:\\Program Files\\Docker Toolbox\\docker.exe: Error response from daemon: mkdir /mnt/sda1/x-init: no space left on device.", .cli),
        ("/run/torcx/bin/docker: Error response from daemon: mounting shm tmpfs: no space left on device.", .cli),
        ("Error response from daemon: Cannot start container ca65: [8] System error: write /x: no space left on device", .legacy),
        ("FATA[0000] Error response from daemon: Cannot start container 5a0d: [8] System error: fork/exec /usr/bin/docker: cannot allocate memory", .legacy),
        ("time=\"2016-03-21T03:50:28-04:00\" level=\"fatal\" msg=\"Error response from daemon: Cannot start container fac5\"", .legacy),
        ("* Is your docker daemon up and running?", .legacy),
        ("ERRO[106389] error waiting for container: EOF", .waitError),
        ("time=\"2026-11-26T13:19:17Z\" level=error msg=\"error waiting for container: unexpected EOF\"", .waitError),
        // A container's own lines, even a docker daemon's in a dind container.
        ("dockerd: failed to start daemon: no space left on device", nil),
        ("fork: cannot allocate memory", nil),
        ("my docker: Error response from daemon: x", nil),
        ("time=\"2026-11-26T13:19:17Z\" level=error msg=\"something of the container's\"", nil),
    ] as [(String, RunErrorLine?)])
    func dockersOwnRunLinesAreRecognised(line: String, form: RunErrorLine?) {
        #expect(RunErrorLine.recognise(Array(line.utf8)) == form)
    }

    // MARK: - Hints

    /// In BuildKit's plain progress a step that printed `Killed` and succeeded does not explain a later step's own
    /// failure (captured here): hints belong to the step whose `#N` they carry, and count only once `#N ERROR`.
    @Test func aHintCountsOnlyForTheStepThatFailed() {
        let v = FailureFixture.classify("build-buildkit-killed-then-exit1", .build(.docker))
        #expect(FailureFixture.text("build-buildkit-killed-then-exit1.stderr").contains("#5 0.084 Killed"))
        #expect(v.failureClass == .notMemory)
        let killed = FailureFixture.classify("build-buildkit-killed-child-exit2", .build(.docker))
        #expect(killed.failureClass == .oomBuildStep)
        #expect(killed.line?.hasSuffix(" Killed") == true)
    }

    /// Step-output hints explain only a failed step: the same `Killed` with the build succeeding, or with no step
    /// result at all, is nothing.
    @Test func aHintWithoutAFailedStepIsNothing() {
        let stdout = FailureFixture.text("build-classic-killed-child-exit2.stdout")
        var c = Classifier(command: .build(.docker))
        c.observe(text: stdout, stream: .stdout)
        c.observe(text: "ERROR: something else failed", stream: .stderr)
        #expect(c.verdict(exitStatus: .exited(1), containerState: nil).failureClass == .notMemory)
    }

    @Test(arguments: [
        // The forms of StepHint.forms, each in a line from the corpus or captured here.
        ("Killed", StepHint.Kind?.some(.killed)),
        ("#19 242.6 Killed", .killed),
        ("#8 46.25 Solving environment: ...working... Killed", .killed),
        ("Collecting package metadata (repodata.json): ...working... /tmp/install-miniconda.bash: line 51:   814 Killed                  conda env create -p ${NB_PYTHON_PREFIX} -f /tmp/environment.yml", .killed),
        ("c++: internal compiler error: Killed (program cc1plus)", .killed),
        ("g++: fatal error: Killed signal terminated program cc1plus", .killed),
        ("go build github.com/drone/drone/pkg/template: signal: killed", .killed),
        ("#37 1037.7 error Command failed with signal \"SIGKILL\".", .killed),
        ("#15 436.7 The build failed because the process exited too early. This probably means the system ran out of memory or someone called `kill -9` on the process.", .killed),
        ("E: You don't have enough free space in /var/cache/apt/archives/.", .diskFull),
        ("head: write error: No space left on device", .diskFull),
        // Not hints: the words of a program's own limit, or of something else.
        ("#19 148.5 FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", nil),
        ("#10 0.218 Error: The container doesn't have enough memory allocated.", nil),
        ("Killed old sessions: 3", nil),
        ("cp: error writing '/dev/shm/blob': No space left on device", nil),
        ("the process was killed by the user", nil),
    ] as [(String, StepHint.Kind?)])
    func hintForms(line: String, kind: StepHint.Kind?) {
        #expect(StepHint.find(in: Array(line.utf8))?.kind == kind)
    }

    /// A step's output is kept to its last 32 lines: a hint further back is out of reach, and memory stays bounded.
    @Test func aStepsOutputIsKeptToItsLastLines() {
        var tail = StepOutputTail(place: .classicStep, stamp: 0)
        var line = Array("Killed".utf8)
        line.withUnsafeBytes { tail.append($0, stamp: 1) }
        #expect(tail.hint()?.0.kind == .killed)
        for i in 0..<StepOutputTail.lineCount {
            let filler = Array("make[2]: compiling \(i)".utf8)
            filler.withUnsafeBytes { tail.append($0, stamp: 2 + i) }
        }
        #expect(tail.hint() == nil)
        let long = [UInt8](repeating: 0x78, count: 100_000)
        long.withUnsafeBytes { tail.append($0, stamp: 100) }
        line = Array("#5 1.0 Killed".utf8)
        line.withUnsafeBytes { tail.append($0, stamp: 101) }
        #expect(tail.hint()?.1 == Array("#5 1.0 Killed".utf8))
    }
}
