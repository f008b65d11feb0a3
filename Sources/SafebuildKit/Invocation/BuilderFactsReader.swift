import Glibc

/// Reads `BuilderFacts` for a `docker build` on this host: the CLI's version, config.json's builder alias and plugin
/// directories, the plugin's file, the daemon's `/_ping` headers (only for a CLI older than 23, whose choice depends
/// on them), and the Dockerfile (`BoundedFile`, 1 MiB at most). Every step that fails leaves its fact unknown.
package enum BuilderFactsReader {
    /// The CLI's plugin directories after `cliPluginsExtraDirs` and `<config>/cli-plugins` (docker/cli
    /// cli-plugins/manager/manager_unix.go `defaultSystemPluginDirs`, unchanged from 19.03 to 28).
    static let systemPluginDirectories = [
        "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins",
        "/usr/libexec/docker/cli-plugins",
    ]
    static let dockerfileLimit = 1 << 20

    /// - Parameter clientVersion: the CLI's version (`DockerClientVersion.read`: kept per binary in the engine state).
    package static func read(
        docker: String, commandLine: DockerCommandLine, environment: [String: String], workingDirectory: String,
        clientVersion: (String) -> DockerVersion?
    ) -> BuilderFacts {
        var facts = BuilderFacts()
        facts.client = clientVersion(docker)

        let configDirectory = commandLine.global("--config")
            ?? environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? "/root")/.docker"
        let config = HostReader.read("\(configDirectory)/config.json")
            .flatMap { DockerJSON.decode(DockerJSON.ConfigFile.self, from: $0) }
        facts.builderAlias = config?.aliases?["builder"]
        let plugin = "docker-" + (facts.builderAlias ?? "buildx")
        let directories = (config?.cliPluginsExtraDirs ?? []) + ["\(configDirectory)/cli-plugins"] + systemPluginDirectories
        facts.builderPluginInstalled = directories.contains { access("\($0)/\(plugin)", X_OK) == 0 }

        if facts.client.map({ $0 < DockerVersion(23, 0) }) ?? true {
            facts.daemonBuilder = .unknown("not asked")
            do throws(SafebuildError) {
                let endpoint = try EngineEndpoint.resolve(commandLine, environment: environment, read: HostReader.read)
                if let socket = endpoint.socketPath {
                    do throws(ProbeError) {
                        let ping = try EngineClient(socketPath: socket).request("/_ping", deadline: Clock.now() + 2)
                        facts.daemonBuilder = DaemonBuilder(header: ping.headers["builder-version"])
                        facts.daemonOS = ping.headers["ostype"]
                    } catch {
                        facts.daemonBuilder = .unknown("\(socket) did not answer /_ping: \(error.problem)")
                    }
                } else {
                    facts.daemonBuilder = .unknown("the engine at \(endpoint.host) is not a unix socket safebuild asks")
                }
            } catch {
                facts.daemonBuilder = .unknown(error.message)
            }
        }

        let buildArguments = Array(commandLine.arguments[commandLine.commandArgumentsIndex...])
        let located = BuildContext.locate(buildArguments: buildArguments)
        if located.dockerfile == "-" {
            facts.dockerfileUnread = "the Dockerfile comes from stdin"
        } else if let context = located.context {
            func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : "\(workingDirectory)/\(path)" }
            let path = located.dockerfile.map(absolute) ?? absolute(context) + "/Dockerfile"
            switch BoundedFile.read(path, limit: dockerfileLimit) {
            case .success(let bytes): facts.dockerfile = DockerfileFeatures.parse(String(decoding: bytes, as: UTF8.self))
            case .failure(let failure): facts.dockerfileUnread = "\(path): \(failure.reason)"
            }
        } else {
            facts.dockerfileUnread = "the build context is not a local directory"
        }
        return facts
    }
}
