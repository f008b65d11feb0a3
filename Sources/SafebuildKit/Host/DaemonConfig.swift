extension DockerJSON {
    /// dockerd's configuration file (`/etc/docker/daemon.json`, or `--config-file`): the keys that say where
    /// containers' cgroups go (moby daemon/config: `cgroup-parent`, `exec-opts` with `native.cgroupdriver=…`).
    package struct DaemonConfig: Decodable, Sendable, Equatable {
        package var cgroupParent: String?
        package var execOptions: [String]?

        package init(cgroupParent: String? = nil, execOptions: [String]? = nil) {
            self.cgroupParent = cgroupParent
            self.execOptions = execOptions
        }

        enum CodingKeys: String, CodingKey {
            case cgroupParent = "cgroup-parent"
            case execOptions = "exec-opts"
        }
    }
}
