// docker-fault: a stand-in `docker` for tests and the recovery benchmark. For the first DOCKER_FAULT_COUNT calls of
// the subcommands in DOCKER_FAULT_COMMANDS (counted host-wide in DOCKER_FAULT_STATE, under flock), it prints a
// verbatim docker failure and exits as docker does; every other call execs the real docker (DOCKER_FAULT_REAL).
//
//   DOCKER_FAULT_STATE     counter file (required to inject anything)
//   DOCKER_FAULT_COUNT     how many matching calls fail (default 1)
//   DOCKER_FAULT_COMMANDS  comma-separated: run,build (default run,build)
//   DOCKER_FAULT_KIND      veth | overlay | console | fork | runc_seccomp | daemon | disk (default veth)
//   DOCKER_FAULT_TEXT      a failure text instead of a kind (printed as docker prints its errors for that command)
//   DOCKER_FAULT_STATUS    the exit status for DOCKER_FAULT_TEXT (default: 125 for run, 1 for build)
//   DOCKER_FAULT_REAL      the real docker (default /usr/bin/docker)
import Glibc
import SafebuildKit

func env(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

func say(_ text: String) {
    var bytes = Array(text.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + off, $0.count - off) }
        if n <= 0 { break }
        off += n
    }
}

func execReal() -> Never {
    let real = env("DOCKER_FAULT_REAL") ?? "/usr/bin/docker"
    let argv = [real] + CommandLine.losslessArguments.dropFirst()
    let cargs = argv.map { Optional($0.losslessCString()) } + [nil]
    execv(real, cargs)
    say("docker-fault: cannot exec \(real): \(String(cString: strerror(errno)))\n")
    exit(127)
}

/// The protected subcommand ("run" or "build", `--help` or not), as safebuild reads docker's command line.
func subcommand(_ args: [String]) -> String? {
    DockerCommandLine(args).spelled?.name
}

// Verbatim texts (sources in README.md, "Failures and retries"): the daemon's error, without docker's CLI wrapping.
let kinds: [String: String] = [
    "veth": "failed to create endpoint sb_fault on network bridge: failed to add the host (veth3f2a1b0) <=> sandbox (veth9c8d7e6) pair interfaces: cannot allocate memory",
    "overlay": "error creating overlay mount to /var/lib/docker/overlay2/3c1e5b2f0d9a/merged: cannot allocate memory",
    "console": "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error mounting \"/dev/pts/0\" to rootfs at \"/dev/console\": cannot allocate memory: unknown",
    "fork": "failed to create shim task: failed to start shim: fork/exec /usr/bin/containerd-shim-runc-v2: cannot allocate memory: unknown",
    "runc_seccomp": "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error adding seccomp filter rule for syscall ftruncate64: cannot allocate memory: unknown",
    "disk": "mkdir /var/lib/docker/overlay2/3c1e5b2f0d9a-init: no space left on device",
]

let args = Array(CommandLine.losslessArguments.dropFirst())
guard let statePath = env("DOCKER_FAULT_STATE"), let command = subcommand(args) else { execReal() }
let commands = (env("DOCKER_FAULT_COMMANDS") ?? "run,build").split(separator: ",").map(String.init)
guard commands.contains(command) else { execReal() }
let count = Int(env("DOCKER_FAULT_COUNT") ?? "1") ?? 1

// Count this call under an exclusive lock: concurrent callers each get their own number.
let fd = open(statePath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
guard fd >= 0 else {
    say("docker-fault: cannot open \(statePath): \(String(cString: strerror(errno)))\n")
    exit(70)
}
while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
var buffer = [UInt8](repeating: 0, count: 32)
let n = pread(fd, &buffer, buffer.count, 0)
let calls = n > 0 ? Int(String(decoding: buffer[..<n], as: UTF8.self).split(separator: "\n").first ?? "") ?? 0 : 0
let failing = calls < count
if failing {
    let text = Array("\(calls + 1)\n".utf8)
    _ = ftruncate(fd, 0)
    _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
}
flock(fd, LOCK_UN)
close(fd)
guard failing else { execReal() }

let kind = env("DOCKER_FAULT_KIND") ?? "veth"
if kind == "daemon" && env("DOCKER_FAULT_TEXT") == nil {
    // docker/cli: "Cannot connect to the Docker daemon at %s. Is the docker daemon running?"
    let host = env("DOCKER_HOST") ?? "unix:///var/run/docker.sock"
    let text = "Cannot connect to the Docker daemon at \(host). Is the docker daemon running?"
    if command == "run" {
        say("docker: \(text).\nSee 'docker run --help'.\n")
        exit(125)
    }
    say("\(text)\n")
    exit(1)
}
guard let text = env("DOCKER_FAULT_TEXT") ?? kinds[kind] else {
    say("docker-fault: unknown DOCKER_FAULT_KIND \(kind); known: \(kinds.keys.sorted().joined(separator: ", ")), daemon\n")
    exit(64)
}
let status = env("DOCKER_FAULT_STATUS").flatMap { Int32($0) }
if command == "run" {
    // docker/cli cli/command/container/run.go: reportError → "docker: %s." and exit 125 (measured here).
    say("docker: Error response from daemon: \(text).\n")
    exit(status ?? 125)
}
// Classic builder: the daemon's error on stderr, unprefixed, exit 1 (measured: build --ulimit data=1000000).
say("\(text)\n")
exit(status ?? 1)
