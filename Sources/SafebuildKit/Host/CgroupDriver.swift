/// How the engine names its containers' cgroups (docker info's `CgroupDriver`): `cgroupfs` puts container ID under
/// the parent (`/docker/ID`); `systemd` makes a scope `docker-ID.scope` in the parent slice (`/system.slice`).
package enum CgroupDriver: String, Codable, Sendable, Equatable, CaseIterable {
    case cgroupfs
    case systemd
}
