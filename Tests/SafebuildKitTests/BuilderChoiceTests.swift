import Testing

@testable import SafebuildKit

/// How docker picks its builder (docker/cli per version, see `BuilderChoice`), and what safebuild does about it for a
/// build with a memory limit: a table per decision. The rows marked "measured" were run on this machine (docker 20.10.24
/// with its daemon, and the docker 28.2 client without buildx); the others are read from docker/cli's source and were
/// not run here (no buildx, no docker 23+ daemon on this machine).
@Suite struct BuilderChoiceTests {
    static let plain = DockerfileFeatures()
    /// docker 28 with the buildx plugin, as on a current install.
    static let modern = BuilderFacts(
        client: DockerVersion(28, 2), builderPluginInstalled: true, daemonBuilder: .buildKit, daemonOS: "linux",
        dockerfile: plain)

    static func facts(
        _ client: DockerVersion?, buildx: Bool? = false, alias: String? = nil, daemon: DaemonBuilder = .unset,
        os: String? = "linux"
    ) -> BuilderFacts {
        BuilderFacts(
            client: client, builderPluginInstalled: buildx, builderAlias: alias, daemonBuilder: daemon, daemonOS: os,
            dockerfile: plain)
    }

    static let v17 = DockerVersion(17, 6), v18 = DockerVersion(18, 9), v20 = DockerVersion(20, 10)
    static let v23 = DockerVersion(23, 0), v24 = DockerVersion(24, 0), v25 = DockerVersion(25, 0)
    static let v28 = DockerVersion(28, 2)

    @Test(arguments: [
        // docker before 18.09: the classic builder only.
        (facts(v17), nil, BuilderChoice.Builder.classic, "has only the classic builder"),
        (facts(v17), "1", .classic, "has only the classic builder"),
        // docker 18.09–22: DOCKER_BUILDKIT, else the daemon's Builder-Version.
        (facts(v20), nil, .classic, "advertises no builder"),  // measured (20.10 CLI and daemon)
        (facts(v20), "", .classic, "advertises no builder"),
        (facts(v20, daemon: .buildKit), nil, .buildKit, "advertises BuildKit"),
        (facts(v20, daemon: .classic), nil, .classic, "advertises the classic builder"),
        (facts(v20, daemon: .unknown("no answer")), nil, .unknown, "not known (no answer)"),
        (facts(v20), "1", .buildKit, "DOCKER_BUILDKIT=1"),  // measured
        (facts(v20), "0", .classic, "DOCKER_BUILDKIT=0"),  // measured
        (facts(v20, daemon: .buildKit), "false", .classic, "DOCKER_BUILDKIT=false"),
        (facts(v20), "yes", .fails, "is not a boolean"),
        // `docker buildx install` (19.03+): `docker build` is `docker buildx build`, DOCKER_BUILDKIT unread.
        (facts(v20, buildx: true, alias: "buildx"), "0", .buildKit, "aliases.builder=buildx"),
        (facts(v20, buildx: false, alias: "buildx"), nil, .fails, "is not installed"),
        (facts(v18, buildx: true, alias: "buildx"), nil, .classic, "advertises no builder"),  // 18.09 has no aliases
        // docker 23+: the buildx plugin.
        (facts(v28, buildx: true), nil, .buildKit, "docker-buildx plugin, which is installed"),
        (facts(v28, buildx: false), nil, .classic, "falls back to the classic builder"),  // measured (28.2 CLI)
        (facts(v28, buildx: false), "1", .fails, "buildx component is missing"),  // measured (28.2 CLI)
        (facts(v28, buildx: false), "0", .classic, "DOCKER_BUILDKIT=0"),  // measured (28.2 CLI)
        (facts(v28, buildx: true), "0", .classic, "DOCKER_BUILDKIT=0"),
        (facts(v28, buildx: true, alias: "buildx"), "0", .classic, "DOCKER_BUILDKIT=0"),
        (facts(v28, buildx: nil), nil, .unknown, "which is not known"),
        (facts(v28, buildx: true, daemon: .buildKit), nil, .buildKit, "installed"),  // the daemon is not read on Linux
        (facts(v23, buildx: true), "", .fails, "is not a boolean"),  // 23.0 reads an empty DOCKER_BUILDKIT
        (facts(v24, buildx: true), "", .buildKit, "installed"),
        // A Windows daemon keeps the classic builder unless asked (from 27, unless it advertises BuildKit).
        (facts(v28, buildx: true, daemon: .classic, os: "windows"), nil, .classic, "Windows daemon"),
        (facts(v28, buildx: true, daemon: .buildKit, os: "windows"), nil, .buildKit, "installed"),
        (facts(v25, buildx: true, daemon: .buildKit, os: "windows"), nil, .classic, "Windows daemon"),
        (facts(v25, buildx: true, daemon: .buildKit, os: "windows"), "1", .buildKit, "installed"),
        // Nothing known of the CLI: only a boolean DOCKER_BUILDKIT says.
        (facts(nil), nil, .unknown, "version is not known"),
        (facts(nil), "1", .buildKit, "DOCKER_BUILDKIT=1"),
    ] as [(BuilderFacts, String?, BuilderChoice.Builder, String)])
    func dockerPicksItsBuilder(facts: BuilderFacts, setting: String?, builder: BuilderChoice.Builder, why: String) {
        let choice = BuilderChoice.docker(facts, setting: setting)
        #expect(choice.builder == builder, "\(choice.reason)")
        #expect(choice.reason.contains(why), "\(choice.reason)")
    }

    /// The Dockerfile: `# syntax=` and `RUN --mount=type=cache`.
    static let cacheMount = DockerfileFeatures.parse(
        "# syntax=docker/dockerfile:1\nFROM golang:1.22\nRUN --mount=type=cache,target=/root/.cache/go-build go build ./...\n")

    @Test(arguments: [
        // enforce classic, docker's builder is BuildKit: kept, one warning, not enforced (the case).
        (BuildEnforcement.classic, BuilderFacts(client: v28, builderPluginInstalled: true, dockerfile: cacheMount), "build .",
         [String: String](), false, "BuildKit is docker's builder here and safebuild keeps it"),
        (.classic, modern, "build .", [:], false, "BuildKit is docker's builder here and safebuild keeps it"),
        (.classic, facts(v20, daemon: .buildKit), "build .", [:], false, "BuildKit is docker's builder here"),
        (.classic, facts(v20, buildx: true, alias: "buildx"), "build .", ["DOCKER_BUILDKIT": "0"], false, "aliases.builder=buildx"),
        // docker's builder is the classic one: it enforces the limit, nothing is set.
        (.classic, facts(v20), "build .", [:], true, nil),
        (.classic, facts(v28), "build .", [:], true, nil),
        (.classic, facts(v28, buildx: true), "build .", ["DOCKER_BUILDKIT": "0"], true, nil),
        // docker refuses the build itself: nothing to add.
        (.classic, facts(v28), "build .", ["DOCKER_BUILDKIT": "1"], false, nil),
        // docker's builder not known: DOCKER_BUILDKIT=0 only for a Dockerfile and a command line the classic builder
        // can build.
        (.classic, BuilderFacts(dockerfile: plain), "build .", [:], true, nil),
        (.classic, BuilderFacts(dockerfile: cacheMount), "build .", [:], false, "the build needs BuildKit (Dockerfile line 1: # syntax=docker/dockerfile:1"),
        (.classic, BuilderFacts(dockerfile: plain), "build --secret id=npm,src=.npmrc .", [:], false, "--secret on the command line"),
        (.classic, BuilderFacts(dockerfile: plain), "build -o out .", [:], false, "--output on the command line"),
        (.classic, BuilderFacts(dockerfileUnread: "the Dockerfile comes from stdin"), "build -f - .", [:], false, "could not be read (the Dockerfile comes from stdin)"),
        // enforce notice: docker's builder, a warning unless it is the classic one.
        (.notice, modern, "build .", [:], false, "may not be enforced"),
        (.notice, facts(v20), "build .", [:], true, nil),
        (.notice, BuilderFacts(dockerfile: plain), "build .", [:], false, "may not be enforced"),
        // The user's own BuildKit.
        (.classic, facts(v20), "build .", ["DOCKER_BUILDKIT": "1"], false, "DOCKER_BUILDKIT=1 is yours"),
    ] as [(BuildEnforcement, BuilderFacts, String, [String: String], Bool, String?)])
    func safebuildNeverMovesABuildOffBuildKit(
        enforcement: BuildEnforcement, facts: BuilderFacts, line: String, env: [String: String], enforced: Bool,
        notice: String?
    ) {
        let limits = MemoryInjectionTests.limits(enforcement: enforcement)
        let result = MemoryInjection.apply(
            limits, to: DockerCommandLine(line.split(separator: " ").map(String.init)), environment: env, builder: facts)
        let switched = result.environment["DOCKER_BUILDKIT"] == "0"
        let expectSwitch = facts.client == nil && enforced
        #expect(switched == expectSwitch, "\(result.decisions)")
        #expect(result.enforced == enforced, "\(result.decisions)")
        if let notice {
            #expect(result.decisions.contains { $0.contains(notice) }, "\(result.decisions)")
        }
        // A warning is given exactly when the limit is not enforced and docker will build.
        let refused = result.decisions.contains { $0.hasPrefix("docker will refuse this build") }
        #expect((result.notice != nil) == (!enforced && !refused), "\(result.decisions)")
        // BuildKit is never replaced: DOCKER_BUILDKIT=0 appears only where docker's builder was not known.
        if BuilderChoice.docker(facts, setting: env["DOCKER_BUILDKIT"]).builder == .buildKit { #expect(!switched) }
    }

    // MARK: - What a Dockerfile needs

    @Test(arguments: [
        // Examples from the Dockerfile reference (https://docs.docker.com/reference/dockerfile/).
        ("# syntax=docker/dockerfile:1\nFROM busybox\n", [DockerfileFeatures.Feature.syntaxDirective]),
        ("#syntax = docker/dockerfile:1.4\nFROM busybox\n", [.syntaxDirective]),
        ("FROM golang\nRUN --mount=type=cache,target=/root/.cache/go-build \\\n  go build ...\n", [.runFlag]),
        ("FROM alpine\nRUN --network=none pip install --find-links wheels mypackage\n", [.runFlag]),
        ("FROM debian\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n", [.heredoc]),
        ("FROM alpine\nCOPY <<-\"EOT\" /app/script.sh\n\techo hello\n\tEOT\nRUN echo done\n", [.heredoc]),
        ("FROM alpine\nCOPY --link /foo /bar\n", [.copyLink]),
        ("FROM alpine\nADD --chmod=644 file.txt /\n", [.copyChmod]),
        ("FROM alpine\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://mirrors.edge.kernel.org/pub/linux/kernel/Historic/linux-0.01.tar.gz /\n", [.copyFlag]),
        ("FROM --platform=$BUILDPLATFORM golang AS build\n", [.platformArgument]),
        ("ARG BUILDPLATFORM=linux/amd64\nFROM --platform=$BUILDPLATFORM golang AS build\n", []),
        // What the classic builder builds as well.
        ("FROM node:20\nCOPY --from=build --chown=1000 /app /app\nRUN npm ci && echo '<<not a heredoc'\n", []),
        ("FROM alpine\n# syntax=docker/dockerfile:1\nRUN x=$((1<<3))\n", []),  // not at the top: a comment
        ("# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n  c:\\\n", []),
        ("FROM alpine\nRUN echo \\\n  --mount=not-a-flag\n", []),
    ] as [(String, [DockerfileFeatures.Feature])])
    func dockerfileFeatures(text: String, features: [DockerfileFeatures.Feature]) {
        #expect(DockerfileFeatures.parse(text).uses.map(\.feature) == features)
    }

    @Test func aFeatureIsReportedWithItsLine() {
        let features = Self.cacheMount
        #expect(features.uses.map(\.line) == [1, 3])
        #expect(features.summary == "line 1: # syntax=docker/dockerfile:1, line 3: RUN --mount")
        // A heredoc's body is skipped: its lines are not instructions.
        let body = DockerfileFeatures.parse("FROM alpine\nRUN <<EOF\nRUN --mount=type=cache echo\nEOF\nCOPY --link a b\n")
        #expect(body.uses.map(\.feature) == [.heredoc, .copyLink])
        #expect(body.uses.map(\.line) == [2, 5])
    }

    @Test(arguments: [
        ("Docker version 28.2.2, build e6534b4", DockerVersion?.some(DockerVersion(28, 2))),  // measured
        ("Docker version 20.10.24+dfsg1, build 297e128", DockerVersion(20, 10)),  // measured
        ("Docker version 17.06.1-ce, build 874a737", DockerVersion(17, 6)),
        ("docker: command not found", nil),
    ])
    func clientVersions(output: String, version: DockerVersion?) {
        #expect(DockerVersion(versionOutput: output) == version)
    }

    @Test func theDaemonsHeaderNamesItsBuilder() {
        #expect(DaemonBuilder(header: "2") == .buildKit)
        #expect(DaemonBuilder(header: "1") == .classic)
        #expect(DaemonBuilder(header: nil) == .unset)
        #expect(DaemonBuilder(header: "3") == .unknown("Builder-Version 3"))
    }
}
