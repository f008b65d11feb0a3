/// Which engine docker would talk to, resolved the way the docker CLI does (cli/command/cli.go resolveContextName):
/// `-H/--host`, then `-c/--context`, then `DOCKER_HOST`, then `DOCKER_CONTEXT`, then config.json `currentContext`,
/// else the default socket. A pure function of its inputs; files are read through `read`.
package struct EngineEndpoint: Codable, Sendable, Equatable {
    /// `unix:///run/docker.sock`, `tcp://host:2376`, `ssh://user@host`.
    package var host: String
    /// The context it came from, when not the default.
    package var context: String?
    /// Where the answer came from, for the report (`DOCKER_HOST`, `context "remote"`, `default`).
    package var origin: String

    /// The socket path for `unix://` hosts; nil means "ask the docker CLI".
    package var socketPath: String? {
        host.hasPrefix("unix://") ? String(host.dropFirst("unix://".count)) : nil
    }

    package static let defaultHost = "unix:///var/run/docker.sock"

    /// The engine of `commandLine` (its `-H`/`--host`, `-c`/`--context` and `--config`) in `environment`.
    package static func resolve(
        _ commandLine: DockerCommandLine, environment: [String: String], read: (String) -> String?
    ) throws(SafebuildError) -> EngineEndpoint {
        let hostFlag = commandLine.global("--host")
        let contextFlag = commandLine.global("--context")
        let configFlag = commandLine.global("--config")
        if let hostFlag { return EngineEndpoint(host: hostFlag, context: nil, origin: "-H \(hostFlag)") }
        let configDir = configFlag ?? environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? "/root")/.docker"
        var name: String?
        var origin = "default"
        if let contextFlag {
            name = contextFlag
            origin = "--context \(contextFlag)"
        } else if let host = environment["DOCKER_HOST"], !host.isEmpty {
            return EngineEndpoint(host: host, context: nil, origin: "DOCKER_HOST")
        } else if let env = environment["DOCKER_CONTEXT"], !env.isEmpty {
            name = env
            origin = "DOCKER_CONTEXT=\(env)"
        } else if let config = read("\(configDir)/config.json"),
            let current = DockerJSON.decode(DockerJSON.ConfigFile.self, from: config)?.currentContext, !current.isEmpty
        {
            name = current
            origin = "currentContext \(current) in \(configDir)/config.json"
        }
        guard let name, name != "default" else {
            return EngineEndpoint(host: defaultHost, context: nil, origin: "default")
        }
        let metaPath = "\(configDir)/contexts/meta/\(SHA256.hex(Array(name.utf8)))/meta.json"
        guard let meta = read(metaPath) else {
            throw SafebuildError(
                .usage, "docker context \"\(name)\" (\(origin)) does not exist: no \(metaPath); run 'docker context ls'")
        }
        guard let host = DockerJSON.decode(DockerJSON.ContextMeta.self, from: meta)?.endpoints?.docker?.host else {
            throw SafebuildError(.usage, "docker context \"\(name)\": \(metaPath) has no Endpoints.docker.Host")
        }
        return EngineEndpoint(host: host, context: name, origin: origin)
    }
}
