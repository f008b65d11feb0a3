import CSafebuild
import Glibc

/// The background refresh of a host-shared build-cache figure. The safebuild that took the engine state's lock starts
/// itself again as `safebuild __safebuild-engine-refresh SOCKET ENGINE STATE_PATH TIMEOUT` with the locked file as
/// descriptor 3, and goes on with its own command: the child holds the lock (a `flock` belongs to the open file, which
/// the two share), asks the engine `GET /system/df`, writes the figure or the failure, and exits, which releases it.
/// It outlives its parent (the death signal `Spawn` sets is taken away first thing), in a process group of its own
/// (a Ctrl-C at the terminal is not for it), with nothing of the terminal open.
package enum BuildCacheRefresher {
    /// The first argument that makes `safebuild` the refresher. No docker command is spelled so.
    package static let command = "__safebuild-engine-refresh"
    /// The descriptor the locked state file is given as.
    static let stateDescriptor: Int32 = 3

    /// Starts the refresher; true when it runs (the lock is then its own).
    package static func start(file: EngineStateFile, engine: String, socket: String, timeout: Double) -> Bool {
        guard let me = executable() else { return false }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else { return false }
        defer { close(devNull) }
        let redirections = [
            Spawn.Redirection(from: devNull, to: 0), Spawn.Redirection(from: devNull, to: 1),
            Spawn.Redirection(from: devNull, to: 2), Spawn.Redirection(from: file.fd, to: stateDescriptor),
        ]
        do {
            _ = try Spawn.start(
                me, [command, socket, engine, file.path, String(timeout)], environment: [:], redirections: redirections,
                processGroup: 0)
        } catch {
            return false
        }
        file.handOff()
        return true
    }

    /// This program, as the kernel knows it.
    static func executable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The refresher's body; returns the exit status. Nothing is printed (its output is /dev/null).
    package static func run(_ arguments: [String]) -> Int32 {
        _ = sb_clear_death_signal()
        guard arguments.count == 4, let timeout = Double(arguments[3]), timeout > 0 else { return 64 }
        let (socket, engine, path) = (arguments[0], arguments[1], arguments[2])
        // Descriptor 3 must be the state file named, opened by the parent (not whatever a caller left there).
        var held = stat(), named = stat()
        guard path.hasSuffix("/" + EngineStateFile.name), fstat(stateDescriptor, &held) == 0, lstat(path, &named) == 0,
            held.st_dev == named.st_dev, held.st_ino == named.st_ino, held.st_mode & S_IFMT == S_IFREG
        else { return 66 }
        let file = EngineStateFile(adopting: stateDescriptor, path: path)
        let started = Clock.wall()
        do throws(ProbeError) {
            let measured = try EngineGlance.measure(
                EngineClient(socketPath: socket), BuildCacheQuery.fullPath, deadline: Clock.now() + timeout)
            file.rewrite {
                $0.remember(BuildCacheSample(engine: engine, figures: measured.figures, measuredAt: started, seconds: measured.seconds))
            }
            return 0
        } catch {
            file.rewrite { $0.remember(BuildCacheRefreshFailure(engine: engine, at: started, error: error.description)) }
            return 69
        }
    }
}
