/// Free space on docker's data root (`DockerRootDir` from `GET /info`, then statvfs), for the evidence after a failed
/// attempt and the stepped prunes. One small seam, so that the cost issue's cached figure can replace it.
package struct DataRootDisk: Sendable {
    /// The daemon's data root, as it reported it; nil for an engine that is not local (its disk is not ours).
    package var path: String?

    package init(path: String?) { self.path = path }

    /// Asks the engine behind `socketPath` for its data root (one `GET /info`, within `timeout` seconds).
    package static func locate(socketPath: String?, timeout: Double) -> DataRootDisk {
        guard let socketPath else { return DataRootDisk(path: nil) }
        let client = EngineClient(socketPath: socketPath)
        guard let response = try? client.request("/info", deadline: Clock.now() + timeout), response.status == 200,
            let info = DockerJSON.decode(DockerJSON.Info.self, from: response.body)
        else { return DataRootDisk(path: nil) }
        return DataRootDisk(path: info.rootDir)
    }

    /// Free bytes (`f_bavail`) and total bytes of the file system holding the data root, now.
    package func free() -> (free: UInt64, total: UInt64)? {
        path.flatMap(EngineProbes.diskFree)
    }
}
