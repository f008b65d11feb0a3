/// What the engine probes found. `reachable == false` leaves the rest nil and says why in `error`.
package struct EngineFigures: Codable, Sendable, Equatable {
    package var endpoint: EngineEndpoint
    package var reachable: Bool
    package var error: String?
    package var version: String?
    package var apiVersion: String?
    package var buildCache: BuildCacheFigures?
    /// How old `buildCache` is, in seconds: nil when the engine was asked for it by this command, else the age of the
    /// host-shared figure it came from (`EngineGlance`).
    package var buildCacheAge: Double?
    /// Why `buildCache` is nil although it was wanted (another safebuild is measuring it, its last refresh failed).
    package var buildCacheNote: String?
    package var danglingImages: Int?
    package var danglingBytes: Int64?
    package var rootDir: String?
    /// Free and total bytes of the file system holding DockerRootDir (statvfs; only for a local engine).
    package var rootFree: UInt64?
    package var rootTotal: UInt64?
    /// True when the daemon warns "No swap limit support" (memsw accounting off: `--memory-swap` has no effect).
    package var noSwapLimit: Bool?
    package var cgroupVersion: String?
    /// `cgroupfs` or `systemd`: where containers' cgroups go.
    package var cgroupDriver: String?
    /// The daemon's pid, from the socket peer.
    package var daemonPID: Int32?
    /// Milliseconds per call (`_ping`, `version`, `system/df`, `images`, `info`).
    package var milliseconds: [String: Double]

    package init(endpoint: EngineEndpoint, reachable: Bool) {
        self.endpoint = endpoint
        self.reachable = reachable
        self.milliseconds = [:]
    }
}
