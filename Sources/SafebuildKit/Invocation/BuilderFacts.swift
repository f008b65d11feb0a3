/// What decides which builder `docker build` uses: the docker CLI's version, whether the buildx plugin is installed
/// where the CLI looks for it, config.json's builder alias, the daemon's advertised builder, and what the Dockerfile
/// and the command line use. Read before the plan is made (`BuilderFacts.read`, Supervisor), so that the decision
/// (`BuilderChoice`, `MemoryInjection`) is a pure function of them.
package struct BuilderFacts: Sendable, Equatable {
    /// The docker CLI's version, major and minor (`docker --version`); nil when unknown.
    package var client: DockerVersion?
    /// Whether the builder plugin (`docker-buildx`, or the alias' plugin) is installed; nil when unknown.
    package var builderPluginInstalled: Bool?
    /// config.json's `aliases.builder` (`docker buildx install` sets it to `buildx`).
    package var builderAlias: String?
    /// The builder the daemon advertises in `/_ping`'s `Builder-Version` header.
    package var daemonBuilder: DaemonBuilder
    /// The daemon's `OSType` header (`linux`, `windows`); nil when unknown.
    package var daemonOS: String?
    /// What the Dockerfile uses that only BuildKit builds; nil when it was not read (why: `dockerfileUnread`).
    package var dockerfile: DockerfileFeatures?
    package var dockerfileUnread: String?

    package init(
        client: DockerVersion? = nil, builderPluginInstalled: Bool? = nil, builderAlias: String? = nil,
        daemonBuilder: DaemonBuilder = .unknown("not asked"), daemonOS: String? = nil,
        dockerfile: DockerfileFeatures? = nil, dockerfileUnread: String? = nil
    ) {
        self.client = client
        self.builderPluginInstalled = builderPluginInstalled
        self.builderAlias = builderAlias
        self.daemonBuilder = daemonBuilder
        self.daemonOS = daemonOS
        self.dockerfile = dockerfile
        self.dockerfileUnread = dockerfileUnread
    }

    /// Nothing known (tests, and commands that are not builds).
    package static let unknown = BuilderFacts()
}

/// The builder a daemon advertises: moby api/server/router/system `pingHandler` sets `Builder-Version` from
/// `build.BuilderVersion(features)`: up to 20.10 only when daemon.json sets `features.buildkit` ("2" for true, "1"
/// for false); from 23.0 "2" on Linux unless `features.buildkit` is false.
package enum DaemonBuilder: Sendable, Equatable {
    case buildKit
    case classic
    /// The header is absent: a daemon up to 20.10 without `features.buildkit`.
    case unset
    /// Not known: the daemon was not asked or did not answer (why).
    case unknown(String)

    /// From the header's value (nil: absent).
    package init(header: String?) {
        switch header {
        case "2": self = .buildKit
        case "1": self = .classic
        case nil, "": self = .unset
        case let other?: self = .unknown("Builder-Version \(other)")
        }
    }
}

/// A docker CLI version, major and minor (`20.10`, `28.2`; `17.06` for 17.06.1-ce).
package struct DockerVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    package var major: Int
    package var minor: Int

    package init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// From `docker --version`: `Docker version 28.2.2, build e6534b4`, `Docker version 20.10.24+dfsg1, build …`.
    package init?(versionOutput text: String) {
        guard let range = text.range(of: "version ") else { return nil }
        let numbers = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard numbers.count >= 2, let major = Int(numbers[0]), let minor = Int(numbers[1]) else { return nil }
        self.init(major, minor)
    }

    package static func < (a: DockerVersion, b: DockerVersion) -> Bool {
        (a.major, a.minor) < (b.major, b.minor)
    }

    package var description: String { "\(major).\(minor)" }
}
