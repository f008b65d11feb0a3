import Foundation
import Glibc

/// What safebuild does to the container of a `run` after (or instead of) docker: read its state, kill it on an
/// abort, remove it, wait until the daemon has removed it (`--rm`), and read the engine's `oom`/`die` events for it
/// (which outlive the container). Through the Engine API on the daemon's unix socket, with no docker CLI process;
/// through the docker CLI (with the user's global flags) only where the engine is not on a local socket (tcp, ssh).
package struct ContainerControl: Sendable {
    /// The Engine API client, when the engine is on a unix socket.
    let client: EngineClient?
    let docker: String
    let globals: [String]
    /// The deadline of one call, in seconds (the policy's `engine_timeout`).
    let timeout: Double

    package init(socketPath: String?, docker: String, globals: [String], timeout: Double) {
        client = socketPath.map(EngineClient.init(socketPath:))
        self.docker = docker
        self.globals = globals
        self.timeout = timeout
    }

    /// What is known of a container.
    package enum Lookup: Equatable, Sendable {
        case found(ContainerState)
        /// The engine says there is no such container (removed).
        case gone
        /// No answer (the engine did not answer in time, or the CLI failed).
        case unknown
    }

    /// `GET /containers/{id}/json` (or `docker inspect`).
    package func inspect(_ id: String) -> Lookup {
        guard let client else {
            guard let r = try? Command(docker, globals + ["inspect", id], timeout: timeout).run() else { return .unknown }
            if r.succeeded { return ContainerState.parse(inspectJSON: r.stdout).map(Lookup.found) ?? .unknown }
            return r.stderr.contains("No such") ? .gone : .unknown
        }
        guard let r = try? client.request("/containers/\(id)/json", deadline: Clock.now() + timeout) else { return .unknown }
        if r.status == 404 { return .gone }
        guard r.status == 200 else { return .unknown }
        return ContainerState.parse(inspectJSON: "[" + String(decoding: r.body, as: UTF8.self) + "]").map(Lookup.found)
            ?? .unknown
    }

    /// `POST /containers/{id}/kill` (or `docker kill`).
    package func kill(_ id: String) {
        guard let client else {
            _ = try? Command(docker, globals + ["kill", id], timeout: 5).run()
            return
        }
        _ = try? client.request("/containers/\(id)/kill", method: "POST", deadline: Clock.now() + min(timeout, 5))
    }

    /// `DELETE /containers/{id}?force=1&v=1` (or `docker rm -f -v`), as docker's own `--rm` removes it.
    package func remove(_ id: String) {
        guard let client else {
            _ = try? Command(docker, globals + ["rm", "-f", "-v", id], timeout: 30).run()
            return
        }
        _ = try? client.request("/containers/\(id)?force=1&v=1", method: "DELETE", deadline: Clock.now() + max(timeout, 30))
    }

    /// Waits until the engine no longer knows the container (the daemon removes an `--rm` container
    /// asynchronously, after docker has ended), asking every 50 ms for at most `seconds`. `sleep` returns a signal
    /// that ended it early. True when the container is gone.
    package func waitRemoved(_ id: String, seconds: Double, sleep: (Double) -> Int32?) -> Bool {
        let end = Clock.now() + seconds
        while true {
            if inspect(id) == .gone { return true }
            if Clock.now() >= end || sleep(0.05) != nil { return false }
        }
    }

    /// The engine's events for the container between `since` and now (wall-clock seconds): whether it was
    /// OOM-killed (`oom`) and the exit code of its `die`. They outlive the container (the daemon keeps its recent
    /// events), so they answer after docker's `--rm` has removed it. nil: no answer (or no API to ask).
    package func events(_ id: String, since: Double) -> (oom: Bool, exitCode: Int32?)? {
        guard let client else { return nil }
        let filters = #"{"container":["\#(id)"],"type":["container"],"event":["oom","die"]}"#
        let query = filters.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? filters
        let now = Clock.wall()
        let path = "/events?since=\(String(format: "%.9f", since - 1))&until=\(String(format: "%.9f", now))&filters=\(query)"
        guard let r = try? client.request(path, deadline: Clock.now() + timeout), r.status == 200 else { return nil }
        var oom = false
        var exitCode: Int32?
        for line in r.body.split(separator: UInt8(ascii: "\n")) {
            guard let event = try? JSONDecoder().decode(Event.self, from: Data(line)) else { continue }
            if event.Action == "oom" { oom = true }
            if event.Action == "die", let code = event.Actor?.Attributes?["exitCode"].flatMap({ Int32($0) }) {
                exitCode = code
            }
        }
        return (oom, exitCode)
    }

    struct Event: Decodable {
        var Action: String
        var Actor: Actor?
        struct Actor: Decodable { var Attributes: [String: String]? }
    }
}
