/// Which builder docker itself uses for `docker build` (`docker image build`, `docker builder build`), decided the way
/// the docker CLI decides it, with the reason; a pure function of `BuilderFacts` and `DOCKER_BUILDKIT`.
///
/// docker 18.09 to 22 (docker/cli cli/command/cli.go `BuildKitEnabled`, cmd/docker/docker.go `processAliases`):
/// - from 19.03, config.json `aliases.builder` (set by `docker buildx install`) turns `docker build` into
///   `docker <alias> build` before anything else: buildx, always BuildKit, `DOCKER_BUILDKIT` unread;
/// - else a non-empty `DOCKER_BUILDKIT` decides (Go's `strconv.ParseBool`; anything else is an error);
/// - else the daemon's `Builder-Version` (`/_ping`): BuildKit only when it says "2" (daemon.json
///   `features.buildkit: true` up to 20.10; the default from daemon 23.0 on Linux).
///
/// docker 23 and later (cmd/docker/builder.go `processBuilder`):
/// - `DOCKER_BUILDKIT` (23.0: when set at all, empty is an error; 24+: when not empty): false → the classic builder,
///   true → buildx is required;
/// - `aliases.builder` → that plugin is required;
/// - a Windows daemon without either keeps the classic builder (from 27.0 unless it advertises BuildKit);
/// - the buildx plugin (`docker-buildx` in `~/.docker/cli-plugins`, `/usr/local/lib/docker/cli-plugins`,
///   `/usr/local/libexec/docker/cli-plugins`, `/usr/lib/docker/cli-plugins`, `/usr/libexec/docker/cli-plugins`,
///   config.json `cliPluginsExtraDirs`): present → BuildKit; missing → an error when it was required ("BuildKit is
///   enabled but the buildx component is missing or broken."), else the classic builder with a deprecation warning.
///   The daemon's `Builder-Version` is not read on Linux.
///
/// docker before 18.09 has only the classic builder.
package struct BuilderChoice: Sendable, Equatable {
    package enum Builder: String, Sendable, Equatable {
        case classic
        case buildKit
        /// docker refuses the build before it starts (its own error says why).
        case fails
        /// Not known from the facts at hand.
        case unknown
    }

    package var builder: Builder
    package var reason: String

    package init(_ builder: Builder, _ reason: String) {
        self.builder = builder
        self.reason = reason
    }

    /// docker's choice with `DOCKER_BUILDKIT` set to `setting` in its environment (nil: unset).
    package static func docker(_ facts: BuilderFacts, setting: String?) -> BuilderChoice {
        guard let client = facts.client else {
            // A boolean DOCKER_BUILDKIT decides in every CLI from 18.09, except behind a builder alias (19.03–22).
            if let value = setting, let on = parseBool(value), facts.builderAlias == nil {
                return on ? BuilderChoice(.buildKit, "DOCKER_BUILDKIT=\(value)") : BuilderChoice(.classic, "DOCKER_BUILDKIT=\(value)")
            }
            return BuilderChoice(.unknown, "the docker CLI's version is not known")
        }
        if client < DockerVersion(18, 9) {
            return BuilderChoice(.classic, "docker \(client) has only the classic builder")
        }
        if client < DockerVersion(23, 0) { return legacyCLI(client, facts, setting: setting) }
        return buildxCLI(client, facts, setting: setting)
    }

    /// docker 18.09 to 22: the builder is built into the CLI.
    static func legacyCLI(_ client: DockerVersion, _ facts: BuilderFacts, setting: String?) -> BuilderChoice {
        if client >= DockerVersion(19, 3), let alias = facts.builderAlias {
            if facts.builderPluginInstalled == false {
                return BuilderChoice(.fails, "config.json sets aliases.builder=\(alias) but docker-\(alias) is not installed")
            }
            return BuilderChoice(
                .buildKit,
                "config.json sets aliases.builder=\(alias) (docker buildx install): docker \(client) runs `docker \(alias) build`, which always uses BuildKit and does not read DOCKER_BUILDKIT")
        }
        if let value = setting, !value.isEmpty {
            guard let on = parseBool(value) else {
                return BuilderChoice(.fails, "DOCKER_BUILDKIT=\(value) is not a boolean; docker \(client) refuses it")
            }
            return on
                ? BuilderChoice(.buildKit, "DOCKER_BUILDKIT=\(value)")
                : BuilderChoice(.classic, "DOCKER_BUILDKIT=\(value)")
        }
        switch facts.daemonBuilder {
        case .buildKit:
            return BuilderChoice(.buildKit, "docker \(client) with DOCKER_BUILDKIT unset follows the daemon, which advertises BuildKit (Builder-Version: 2)")
        case .classic:
            return BuilderChoice(.classic, "docker \(client) with DOCKER_BUILDKIT unset follows the daemon, which advertises the classic builder (Builder-Version: 1)")
        case .unset:
            return BuilderChoice(.classic, "docker \(client) with DOCKER_BUILDKIT unset follows the daemon, which advertises no builder (no features.buildkit, daemon 20.10 or older)")
        case .unknown(let why):
            return BuilderChoice(.unknown, "docker \(client) with DOCKER_BUILDKIT unset follows the daemon's builder, which is not known (\(why))")
        }
    }

    /// docker 23 and later: the builder is the buildx plugin.
    static func buildxCLI(_ client: DockerVersion, _ facts: BuilderFacts, setting: String?) -> BuilderChoice {
        var disabled = false
        var required: String?
        var settingText: String?
        if let value = setting, !value.isEmpty || client < DockerVersion(24, 0) {
            guard let on = parseBool(value) else {
                return BuilderChoice(.fails, "DOCKER_BUILDKIT=\(value) is not a boolean; docker \(client) refuses it")
            }
            settingText = "DOCKER_BUILDKIT=\(value)"
            if on { required = settingText } else { disabled = true }
        }
        let plugin = facts.builderAlias ?? "buildx"
        if let alias = facts.builderAlias { required = required ?? "config.json's aliases.builder=\(alias)" }
        if required == nil, facts.daemonOS == "windows",
            client < DockerVersion(27, 0) || facts.daemonBuilder != .buildKit
        {
            return BuilderChoice(.classic, "docker \(client) keeps the classic builder for a Windows daemon")
        }
        if disabled {
            return BuilderChoice(.classic, "\(settingText ?? "DOCKER_BUILDKIT=0") (docker \(client) warns that the classic builder is deprecated)")
        }
        switch facts.builderPluginInstalled {
        case true?:
            return BuilderChoice(.buildKit, "docker \(client) builds with BuildKit through the docker-\(plugin) plugin, which is installed")
        case false?:
            if let required {
                return BuilderChoice(.fails, "\(required) requires the docker-\(plugin) plugin, which is not installed (\"BuildKit is enabled but the buildx component is missing or broken\")")
            }
            return BuilderChoice(.classic, "docker \(client) falls back to the classic builder: the docker-\(plugin) plugin is not installed")
        case nil:
            return BuilderChoice(.unknown, "docker \(client) builds with BuildKit when the docker-\(plugin) plugin is installed, which is not known")
        }
    }

    /// Go's `strconv.ParseBool`.
    static func parseBool(_ value: String) -> Bool? {
        switch value {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}
