/// How docker marks a line of `docker run`'s stderr as its own, and the exit statuses it gives with it. A container's
/// stderr reaches docker's stderr unchanged, so a line counts as docker's only in one of these forms, and only when
/// docker's exit status agrees with it: a container chooses any status, docker's own failures have their own
/// (docker/cli cli/command/container/run.go).
enum RunErrorLine: Sendable, Equatable {
    /// The CLI's error line since docker 1.10: `docker: …`; before docker 20.10 the CLI printed its own path
    /// (`os.Args[0]`: `/usr/bin/docker: `, `/usr/bin/docker-current: `, `C:\…\docker.exe: `). docker exits 125 for
    /// any of its own failures, 127 when the text says `executable file not found`, `no such file or directory` or
    /// `system cannot find the file specified`, 126 when it says `permission denied` (v28: or `is a directory`)
    /// (`runStartContainerErr`, v17.06–v27; `toStatusError`, v28).
    case cli
    /// docker before 1.10, which exited 1 for its own failures: a bare `Error response from daemon: …`, logrus'
    /// `FATA[0000] …`, `time="…" level="fatal" msg="…"`, and 1.8's `* Is your docker daemon up and running?`
    /// (moby v1.5–v1.9 api/client).
    case legacy
    /// The CLI's `error waiting for container: …` while it waits for the container's exit, logged with logrus:
    /// `ERRO[0005] …` on a terminal, `time="…" level=error msg="…"` otherwise (docker/cli
    /// cli/command/container/utils.go `waitExitOrRemoved`); the run then exits 125. Measured with the 20.10 and 28.2
    /// clients: the daemon killed while the container runs.
    case waitError

    /// The form of `line` (leading spaces removed, escape sequences gone), or nil for a line of the container's.
    static func recognise(_ line: [UInt8]) -> RunErrorLine? {
        guard let first = line.first else { return nil }
        switch first {
        case 0x45:  // E
            if line.starts(with: "Error response from daemon: ".utf8) { return .legacy }
            if line.starts(with: "ERRO[".utf8), Bytes.contains(line, "] error waiting for container: ") { return .waitError }
        case 0x46:  // F
            if line.starts(with: "FATA[".utf8) { return .legacy }
        case 0x74:  // t
            if line.starts(with: "time=\"".utf8) {
                if Bytes.contains(line, " level=error msg=\"error waiting for container: ") { return .waitError }
                if Bytes.contains(line, " level=\"fatal\" msg=\"") || Bytes.contains(line, " level=fatal msg=") {
                    return .legacy
                }
            }
        case 0x2A:  // *
            if line.starts(with: "* Is your docker daemon up and running?".utf8) { return .legacy }
        default:
            break
        }
        return cliPrefix(line) != nil ? .cli : nil
    }

    /// The length of the CLI's `NAME: ` prefix: NAME is the program's path, whose last component is `docker`,
    /// `docker.exe` or `docker-…` (RHEL's `docker-current`) — not `dockerd`, whose lines a container may print.
    static func cliPrefix(_ line: [UInt8]) -> Int? {
        let separator = Array(": ".utf8)
        guard let colon = Bytes.range(of: separator, in: line), colon.lowerBound > 0, colon.lowerBound <= 300 else {
            return nil
        }
        let name = line[..<colon.lowerBound]
        let last = name.lastIndex { $0 == 0x2F || $0 == 0x5C }.map { name.index(after: $0) } ?? name.startIndex
        let component = name[last...]
        let named = component.elementsEqual("docker".utf8) || component.elementsEqual("docker.exe".utf8)
            || (component.starts(with: "docker-".utf8) && !component.contains(0x20))
        guard named else { return nil }
        return colon.upperBound
    }

    /// Whether docker exiting `status` agrees with this line being docker's own (`text` is the line).
    func agrees(with status: ExitStatus, text: [UInt8]) -> Bool {
        switch (self, status) {
        case (.cli, .exited(125)), (.waitError, .exited(125)), (.legacy, .exited(125)), (.legacy, .exited(1)):
            return true
        case (.cli, .exited(127)):
            return Self.notFound.contains { Bytes.contains(text, $0) }
        case (.cli, .exited(126)):
            return Self.cannotInvoke.contains { Bytes.contains(text, $0) }
        default:
            return false
        }
    }

    static let notFound = ["executable file not found", "no such file or directory", "system cannot find the file specified"]
    static let cannotInvoke = ["permission denied", "is a directory"]

    /// Words of docker's own line that say the OCI runtime could not start the container's process: the user's
    /// program never ran, so the lines before it on stderr are the runtime's (runc's `nsenter: …`), not the
    /// container's (runc libcontainer/container_linux.go, moby daemon/start.go, containerd runtime/v2).
    static let runtimeStartFailure = [
        "starting container process caused", "OCI runtime create failed", "oci runtime error",
        "unable to start container process",
    ]
}
