import Foundation

/// The part of `docker inspect CONTAINER` that judges a `run`: `State.OOMKilled`, `State.ExitCode`, `State.Status`.
package struct ContainerState: Codable, Sendable, Equatable {
    package var oomKilled: Bool
    package var exitCode: Int32
    package var status: String

    package init(oomKilled: Bool, exitCode: Int32, status: String) {
        self.oomKilled = oomKilled
        self.exitCode = exitCode
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case oomKilled = "OOMKilled", exitCode = "ExitCode", status = "Status"
    }

    private struct Inspected: Decodable {
        var State: ContainerState
    }

    /// Parses the JSON `docker inspect` prints (an array of one object per container); nil when it holds none.
    package static func parse(inspectJSON: String) -> ContainerState? {
        guard let data = inspectJSON.data(using: .utf8),
            let list = try? JSONDecoder().decode([Inspected].self, from: data)
        else { return nil }
        return list.first?.State
    }

    /// The state of a container whose `run` just ended. docker can report the exit before it has handled the
    /// container's OOM event (seen on this engine under load: exit 137 with OOMKilled=false, true moments later), so
    /// while the exit code is 137 and OOMKilled is false it asks again, every 0.1 s for up to `settle` seconds.
    /// `inspect` returns `docker inspect CONTAINER`'s output (nil on failure); `sleep` sleeps (and may end early).
    package static func settled(
        settle: Double = 2, inspect: () -> String?, sleep: (Double) -> Void
    ) -> ContainerState? {
        var state = inspect().flatMap { parse(inspectJSON: $0) }
        var steps = Int((settle * 10).rounded())
        while let s = state, s.exitCode == 137, !s.oomKilled, steps > 0 {
            sleep(0.1)
            steps -= 1
            state = inspect().flatMap { parse(inspectJSON: $0) } ?? state
        }
        return state
    }
}
