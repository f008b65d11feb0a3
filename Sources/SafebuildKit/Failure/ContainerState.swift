import Foundation

/// The part of `docker inspect CONTAINER` that judges a `run`: `State.OOMKilled`, `State.ExitCode`, `State.Status`.
public struct ContainerState: Codable, Sendable, Equatable {
    public var oomKilled: Bool
    public var exitCode: Int32
    public var status: String

    public init(oomKilled: Bool, exitCode: Int32, status: String) {
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
    public static func parse(inspectJSON: String) -> ContainerState? {
        guard let data = inspectJSON.data(using: .utf8),
            let list = try? JSONDecoder().decode([Inspected].self, from: data)
        else { return nil }
        return list.first?.State
    }
}
