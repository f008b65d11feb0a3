/// The cgroup the engine puts its containers under (the pool they share), and how it was found. A pure function of
/// dockerd's command line, its configuration file and its cgroup driver, as moby's daemon/oci_linux.go decides it:
/// the container's own `--cgroup-parent`, else the daemon's (`--cgroup-parent`, or `cgroup-parent` in daemon.json),
/// else `/docker` with the cgroupfs driver and `system.slice` with the systemd driver.
package struct EngineCgroupParent: Codable, Sendable, Equatable {
    /// The cgroup's path in the memory hierarchy: `/docker`, `/system.slice`, `/a.slice/a-b.slice`, `/sbbench`.
    package var path: String
    /// Where it came from, in words: `dockerd --cgroup-parent=/sbbench`, `/etc/docker/daemon.json cgroup-parent`,
    /// `the cgroupfs driver's default`.
    package var source: String

    package init(path: String, source: String) {
        self.path = path
        self.source = source
    }

    /// Decides it. `commandLine` is dockerd's argv (nil when unknown); `config` its configuration file as read from
    /// `configPath`; `daemonCgroup` dockerd's own memory cgroup, against which a relative cgroupfs parent is taken
    /// (runc joins a relative path to its own cgroup, which is the daemon's).
    package static func resolve(
        commandLine: [String]?, config: DockerJSON.DaemonConfig?, configPath: String, driver: CgroupDriver,
        daemonCgroup: String?
    ) -> EngineCgroupParent {
        var given: (value: String, source: String)?
        if let argv = commandLine, let value = flag("--cgroup-parent", in: argv), !value.isEmpty {
            given = (value, "dockerd --cgroup-parent=\(value)")
        } else if let value = config?.cgroupParent, !value.isEmpty {
            given = (value, "\(configPath) cgroup-parent \(value)")
        }
        switch driver {
        case .systemd:
            let name = given?.value ?? "system.slice"
            let source = given?.source ?? "the systemd driver's default, system.slice"
            guard let path = expandSlice(name) else {
                return EngineCgroupParent(
                    path: "/system.slice", source: "\(source) is not a systemd slice name; taken as system.slice")
            }
            return EngineCgroupParent(path: path, source: source)
        case .cgroupfs:
            guard let given else { return EngineCgroupParent(path: "/docker", source: "the cgroupfs driver's default, /docker") }
            if given.value.hasPrefix("/") { return EngineCgroupParent(path: normalised(given.value), source: given.source) }
            let base = daemonCgroup ?? "/"
            return EngineCgroupParent(
                path: normalised(base + "/" + given.value), source: "\(given.source), under dockerd's cgroup \(base)")
        }
    }

    /// The value of flag `name` in a Go (pflag) command line: `--name=value` or `--name value`; the last one wins.
    package static func flag(_ name: String, in argv: [String]) -> String? {
        var found: String?
        var i = 0
        while i < argv.count {
            let word = argv[i]
            if word == "--" { break }
            if word.hasPrefix(name + "=") {
                found = String(word.dropFirst(name.count + 1))
            } else if word == name, i + 1 < argv.count {
                found = argv[i + 1]
                i += 1
            }
            i += 1
        }
        return found
    }

    /// The cgroup driver a command line or configuration file names (`--exec-opt native.cgroupdriver=systemd`).
    package static func driver(commandLine: [String]?, config: DockerJSON.DaemonConfig?) -> CgroupDriver? {
        var options: [String] = config?.execOptions ?? []
        if let argv = commandLine {
            var i = 0
            while i < argv.count {
                if argv[i].hasPrefix("--exec-opt=") {
                    options.append(String(argv[i].dropFirst("--exec-opt=".count)))
                } else if argv[i] == "--exec-opt", i + 1 < argv.count {
                    options.append(argv[i + 1])
                    i += 1
                }
                i += 1
            }
        }
        for option in options.reversed() {
            let parts = option.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace() }
            if parts.count == 2, parts[0] == "native.cgroupdriver", let driver = CgroupDriver(rawValue: parts[1]) {
                return driver
            }
        }
        return nil
    }

    /// systemd's slice name as a cgroup path (runc libcontainer/cgroups/systemd ExpandSlice): `a-b.slice` is
    /// `/a.slice/a-b.slice`, `-.slice` the root. nil for what is not a slice name.
    package static func expandSlice(_ name: String) -> String? {
        let suffix = ".slice"
        guard name.count > suffix.count, name.hasSuffix(suffix), !name.contains("/") else { return nil }
        let stem = name.dropLast(suffix.count)
        if stem == "-" { return "/" }
        var path = "", prefix = ""
        for component in stem.split(separator: "-", omittingEmptySubsequences: false) {
            guard !component.isEmpty else { return nil }
            path += "/" + prefix + component + suffix
            prefix += component + "-"
        }
        return path
    }

    /// `//a/./b/` as `/a/b`.
    static func normalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }
}
