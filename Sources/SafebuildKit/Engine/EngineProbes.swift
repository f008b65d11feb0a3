import Glibc

/// Engine probes through the API (unix socket) or, for tcp:// and ssh:// hosts, the docker CLI; all inside one
/// deadline, so a slow daemon never holds a build longer than the policy's engine_timeout.
package enum EngineProbes {
    /// The daemon's "no swap limit" warning, verbatim (moby daemon/info.go, 20.10).
    package static let noSwapWarning = "WARNING: No swap limit support"

    package static func gather(
        endpoint: EngineEndpoint, timeout: Double, docker: String?, environment: [String: String],
        withBuildCache: Bool = true
    ) -> EngineFigures {
        let deadline = Clock.now() + timeout
        if let socket = endpoint.socketPath {
            return viaAPI(endpoint: endpoint, client: EngineClient(socketPath: socket), deadline: deadline, withBuildCache: withBuildCache)
        }
        return viaCLI(endpoint: endpoint, docker: docker, environment: environment, deadline: deadline)
    }

    static func viaAPI(endpoint: EngineEndpoint, client: EngineClient, deadline: Double, withBuildCache: Bool) -> EngineFigures {
        var figures = EngineFigures(endpoint: endpoint, reachable: false)
        func call<Answer: Decodable>(_ name: String, _ path: String, as: Answer.Type) throws(ProbeError) -> Answer? {
            let response = try client.request(path, deadline: deadline)
            figures.milliseconds[name] = (response.seconds * 10000).rounded() / 10
            figures.daemonPID = figures.daemonPID ?? response.peerPID
            guard response.status == 200 else {
                throw ProbeError("GET \(path)", "HTTP \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
            }
            return DockerJSON.decode(Answer.self, from: response.body)
        }
        do throws(ProbeError) {
            let ping = try client.request("/_ping", deadline: deadline)
            figures.milliseconds["_ping"] = (ping.seconds * 10000).rounded() / 10
            figures.daemonPID = ping.peerPID
            guard ping.status == 200 else { throw ProbeError("GET /_ping", "HTTP \(ping.status)") }
            figures.reachable = true
            if let version = try call("version", "/version", as: DockerJSON.Version.self) {
                figures.version = version.version
                figures.apiVersion = version.apiVersion
            }
            if let info = try call("info", "/info", as: DockerJSON.Info.self) { apply(info: info, to: &figures) }
            if withBuildCache {
                if let df = try call("system/df", "/system/df", as: DockerJSON.SystemDF.self) {
                    figures.buildCache = BuildCacheFigures.parse(df.buildCache ?? [])
                }
                // filters={"dangling":["true"]}, URL-encoded.
                if let images = try call(
                    "images", "/images/json?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D", as: [DockerJSON.ImageSummary].self)
                {
                    figures.danglingImages = images.count
                    figures.danglingBytes = images.reduce(0) { $0 + ($1.size ?? 0) }
                }
            }
        } catch {
            figures.error = error.description
        }
        return figures
    }

    static func apply(info: DockerJSON.Info, to figures: inout EngineFigures) {
        figures.rootDir = info.rootDir
        figures.cgroupVersion = info.cgroupVersion
        figures.cgroupDriver = info.cgroupDriver
        figures.noSwapLimit = (info.warnings ?? []).contains { $0.contains("No swap limit support") }
            || info.swapLimit == false
        if let root = figures.rootDir, let disk = diskFree(root) {
            figures.rootFree = disk.free
            figures.rootTotal = disk.total
        }
    }

    /// Free bytes (for unprivileged users, `f_bavail`) and total bytes of the file system holding `path`.
    package static func diskFree(_ path: String) -> (free: UInt64, total: UInt64)? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return (UInt64(s.f_bavail) * UInt64(s.f_frsize), UInt64(s.f_blocks) * UInt64(s.f_frsize))
    }

    static func viaCLI(endpoint: EngineEndpoint, docker: String?, environment: [String: String], deadline: Double) -> EngineFigures {
        var figures = EngineFigures(endpoint: endpoint, reachable: false)
        guard let docker else {
            figures.error = "\(endpoint.host): not a unix socket and no docker CLI to ask"
            return figures
        }
        // Reach the same engine the way the user's docker would: by its context (which may carry TLS settings) or host.
        let target = endpoint.context.map { ["--context", $0] } ?? ["-H", endpoint.host]
        func run(_ name: String, _ words: [String]) throws(ProbeError) -> String {
            let arguments = target + words
            let left = deadline - Clock.now()
            guard left > 0 else { throw ProbeError("docker \(words.joined(separator: " "))", "no time left (engine_timeout)") }
            let started = Clock.now()
            let result: Command.Result
            do throws(SafebuildError) { result = try Command(docker, arguments, environment: environment, timeout: left).run() } catch {
                throw ProbeError("docker \(words[0])", error.message)
            }
            figures.milliseconds[name] = ((Clock.now() - started) * 10000).rounded() / 10
            if result.timedOut { throw ProbeError("docker \(words.joined(separator: " "))", "no answer in time (engine_timeout)") }
            guard result.succeeded else {
                throw ProbeError("docker \(words[0])", String(result.stderr.split(separator: "\n").first ?? "failed"))
            }
            return result.stdout
        }
        do throws(ProbeError) {
            let version = try run("version", ["version", "--format", "{{json .Server}}"])
            figures.reachable = true
            let server = DockerJSON.decode(DockerJSON.Version.self, from: version)
            figures.version = server?.version
            figures.apiVersion = server?.apiVersion
            if let info = DockerJSON.decode(DockerJSON.Info.self, from: try run("info", ["info", "--format", "{{json .}}"])) {
                apply(info: info, to: &figures)
                // The root dir is on another machine: its disk is not ours to statvfs.
                figures.rootFree = nil
                figures.rootTotal = nil
            }
            let records = try run("system/df", ["system", "df", "-v", "--format", "{{json .BuildCache}}"])
            if let rendered = DockerJSON.decode([DockerJSON.CLIBuildCacheRecord].self, from: records) {
                figures.buildCache = BuildCacheFigures.parse(rendered.map { record in
                    DockerJSON.BuildCacheRecord(
                        size: parseDockerHuman(record.size ?? "") ?? 0, inUse: record.inUse == "true",
                        shared: record.shared == "true")
                })
            }
        } catch {
            figures.error = error.description
        }
        return figures
    }

    /// Reads go-units HumanSize text back into bytes (`110B`, `2.282MB`, `1.5GB`).
    package static func parseDockerHuman(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("kB", 1e3), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15), ("B", 1),
        ]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let n = Double(text.dropLast(suffix.count)) else { return nil }
            return Int64((n * scale).rounded())
        }
        return nil
    }
}
