/// What an engine says about itself that does not change while its daemon runs: the newest API version it speaks and
/// its data root (`DockerRootDir`). Asked once per daemon (one `GET /info`) and kept in the engine state file under the
/// daemon's pid and start time, so that a command on a known engine asks it nothing.
package struct EngineFacts: Sendable, Equatable {
    package var daemon: ProcessIdentity
    /// `1.41`: the `Api-Version` header of the daemon's answer.
    package var apiVersion: String
    /// `/var/lib/docker`, as the daemon names it (a path in the daemon's mount namespace).
    package var rootDir: String

    package init(daemon: ProcessIdentity, apiVersion: String, rootDir: String) {
        self.daemon = daemon
        self.apiVersion = apiVersion
        self.rootDir = rootDir
    }

    /// The key of this engine's build-cache figure: its data root, so that the figure outlives a restart of the
    /// daemon (the cache is on disk) while two engines of one host keep theirs apart.
    package var buildCacheKey: String { "root:" + rootDir }
}
