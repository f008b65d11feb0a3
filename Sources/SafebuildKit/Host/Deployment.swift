import Glibc

/// How safebuild is deployed on this host, as this user meets it: the host policy in effect, the journal (writable?
/// its modes and group), the runtime state directory (host-wide, or this user's fallback), and each remedy's
/// readiness. `safebuild doctor` reports it (`Doctor.diagnose`); measuring creates nothing.
package struct Deployment: Codable, Sendable, Equatable {
    /// A file or directory: owner, group and mode as `ls -l` would give them.
    package struct Entry: Codable, Sendable, Equatable {
        package var path: String
        package var owner: String
        package var group: String
        /// Octal, with the setgid digit: `2770`, `0660`.
        package var mode: String
        /// Readable by every user.
        package var worldReadable: Bool

        package init(path: String, owner: String, group: String, mode: String, worldReadable: Bool) {
            self.path = path
            self.owner = owner
            self.group = group
            self.mode = mode
            self.worldReadable = worldReadable
        }

        /// What `lstat` shows of `path`; nil when there is nothing.
        package static func look(_ path: String) -> Entry? {
            var info = stat()
            guard lstat(path, &info) == 0 else { return nil }
            return Entry(
                path: path, owner: HostSettings.userName(info.st_uid), group: HostSettings.groupName(info.st_gid),
                mode: RuntimeState.octal(info.st_mode), worldReadable: info.st_mode & 0o004 != 0)
        }

        /// `root:docker 2770`.
        package var ownership: String { "\(owner):\(group) \(mode)" }
    }

    /// One remedy and whether this user's safebuild can apply it.
    package struct Remedy: Codable, Sendable, Equatable {
        package enum Readiness: String, Codable, Sendable {
            case ready
            case needsRoot = "needs_root"
            case disabled
            case dockerUnreachable = "docker_unreachable"
            case notChecked = "not_checked"
        }

        package var name: String
        package var readiness: Readiness
        package var detail: String

        package init(name: String, readiness: Readiness, detail: String) {
            self.name = name
            self.readiness = readiness
            self.detail = detail
        }
    }

    package var user: String
    package var uid: UInt32
    /// The host policy file (from where this binary is installed) and whether it is there.
    package var hostPolicy: String
    package var hostPolicyInstalled: Bool
    /// The policy file in effect here (nil: the built-in default), and why it was chosen.
    package var policyInEffect: String?
    package var policyOrigin: String
    /// A policy that cannot be loaded.
    package var policyProblem: String?
    /// The journal file, its directory and file (when there), whether this user can write it and, if not, why.
    package var journalPath: String
    package var journalDirectory: Entry?
    package var journalFile: Entry?
    package var journalProblem: String?
    /// The runtime state directory (`remedies.lock_dir`) and the scope this user's safebuild gets.
    package var stateDirectory: Entry?
    package var stateDirectoryPath: String
    package var stateFallback: String?
    package var stateFallbackReason: String?
    /// Root cannot use the runtime directory (root never falls back): why.
    package var stateProblem: String? = nil
    package var remedies: [Remedy]
    /// The real docker of protected commands and of pass-through ones; nil when not measured.
    package var docker: Docker? = nil

    /// The docker each kind of command runs. Protected commands (and `retry`, `doctor`) run the host policy's
    /// `docker.path` when it names one; pass-through commands never read a policy (they must stay as cheap as
    /// docker), so they run `SAFEBUILD_DOCKER` / `--sb-docker`, else the first docker on PATH that is not safebuild.
    package struct Docker: Codable, Sendable, Equatable {
        /// The host policy's `docker.path` and the file that sets it; nil: it names none.
        package var hostPath: String?
        package var hostPolicy: String?
        /// What pass-through commands run, or why none is found.
        package var passThrough: String?
        package var passThroughProblem: String?
        /// Whether `hostPath` and `passThrough` are the same file (links and copies aside: the same inode).
        package var same: Bool

        package init(
            hostPath: String?, hostPolicy: String?, passThrough: String?, passThroughProblem: String?, same: Bool
        ) {
            self.hostPath = hostPath
            self.hostPolicy = hostPolicy
            self.passThrough = passThrough
            self.passThroughProblem = passThroughProblem
            self.same = same
        }

        /// Measures it for this process: the host layer's `docker.path`, and `DockerLocator.locate` as the
        /// pass-through runs it.
        package static func measure(hostDocker: Sourced<String?>, options: SafebuildOptions, environment: [String: String])
            -> Docker
        {
            var passThrough: String?, problem: String?
            do {
                passThrough = try DockerLocator().locate(explicit: options.dockerPath, environment: environment)
            } catch {
                problem = error.message
            }
            let host = hostDocker.value.flatMap { $0.isEmpty ? nil : $0 }
            var same = false
            if let host, let passThrough, let a = FileIdentity(path: host), let b = FileIdentity(path: passThrough) {
                same = a.device == b.device && a.inode == b.inode
            }
            return Docker(
                hostPath: host, hostPolicy: host == nil ? nil : hostDocker.source.file, passThrough: passThrough,
                passThroughProblem: problem, same: same || (host != nil && host == passThrough))
        }

        /// The `docker` finding.
        package var finding: Doctor.Finding {
            let passing = passThrough ?? "no docker (\(passThroughProblem ?? "not found"))"
            guard let hostPath else {
                return Doctor.Finding(
                    "docker", passThrough == nil ? .problem : .ok,
                    "\(passing) for every command (SAFEBUILD_DOCKER, else PATH; the host policy's docker.path names none)",
                    fix: passThrough == nil ? "install docker, or set docker.path in the host policy" : nil)
            }
            let hostText = "protected commands run \(hostPath) (docker.path of the host policy \(hostPolicy ?? "?"))"
            if same { return Doctor.Finding("docker", .ok, "\(hostText), and so do pass-through commands") }
            return Doctor.Finding(
                "docker", .warning,
                "\(hostText), but pass-through commands (docker ps, push, pull…) run \(passing): they read no policy, only SAFEBUILD_DOCKER and PATH",
                fix: "set SAFEBUILD_DOCKER=\(hostPath) in the agent's environment, or order PATH so that the install's docker link directory (PREFIX/lib/safebuild/docker-front) comes first and \(JournalWriter.parent(of: hostPath)) is the next directory with a docker")
        }
    }

    // MARK: - Measuring

    /// Measures it for this process. `engineReachable` is nil when the engine was not asked (`--no-engine`).
    package static func measure(
        environment: [String: String], options: SafebuildOptions, engineReachable: Bool?,
        settings: HostSettings = .current(), currentDirectory: String = WorkingDirectory.current()
    ) -> Deployment {
        let uid = geteuid()
        var policy = PolicyLoader.builtIn
        var hostLevel = PolicyLoader.builtIn
        var inEffect: String?
        var origin = LoadedPolicy.Origin.builtIn.rawValue
        var problem: String?
        do {
            let loaded = try PolicyLoader.load(
                options: options, environment: environment, currentDirectory: currentDirectory,
                hostPath: settings.policyPath)
            policy = loaded.policy
            hostLevel = loaded.hostLevel
            inEffect = loaded.file
            origin = loaded.origin.rawValue
        } catch {
            problem = error.message
            if let host = try? PolicyLoader.hostLayer(hostPath: settings.policyPath) { hostLevel = host.policy }
        }

        // Where protected commands write: the host's journal, whatever --sb-journal / SAFEBUILD_JOURNAL say.
        let journalPath = Journal.path(options: SafebuildOptions(), policyPath: hostLevel.journalPath, environment: environment)
        let directory = JournalWriter.parent(of: journalPath)
        let journalProblem = journalWriteProblem(journalPath)

        let stateDirectory = policy.lockDirectory ?? "/run/safebuild"
        let state = RuntimeState(directory: stateDirectory, environment: environment)
        var fallback: String?, fallbackReason: String?, stateProblem: String?
        if case .perUser(let reason) = state.probe(HostLock.fileName) {
            if uid == 0 {
                stateProblem = reason
            } else {
                fallback = state.perUserDirectory
                fallbackReason = reason
            }
        }

        var remedies: [Remedy] = []
        let entry = PrivilegedEntry.live(signals: nil)
        for name in RemedyName.allCases {
            if let off = policy.disabledRemedies[name] {
                remedies.append(Remedy(name: name.rawValue, readiness: .disabled, detail: off))
            } else if name.needsRoot {
                if uid == 0 {
                    remedies.append(Remedy(name: name.rawValue, readiness: .ready, detail: "safebuild runs as root"))
                } else if entry.isAllowed(name) {
                    remedies.append(Remedy(
                        name: name.rawValue, readiness: .ready,
                        detail: "through the privileged entry: sudo -n \(ShellQuote.join(entry.command(name)))"))
                } else {
                    remedies.append(Remedy(
                        name: name.rawValue, readiness: .needsRoot,
                        detail: PrivilegedEntry.needsRoot(name, binary: entry.binary, sudo: entry.sudo)))
                }
            } else if name == .pruneBuildCache || name == .pruneDanglingImages || name == .freeDisk {
                switch engineReachable {
                case true?: remedies.append(Remedy(name: name.rawValue, readiness: .ready, detail: "through docker"))
                case false?:
                    remedies.append(Remedy(
                        name: name.rawValue, readiness: .dockerUnreachable, detail: "the docker engine did not answer"))
                case nil:
                    remedies.append(Remedy(
                        name: name.rawValue, readiness: .notChecked,
                        detail: "needs the docker engine, not asked (--no-engine)"))
                }
            } else {
                remedies.append(Remedy(name: name.rawValue, readiness: .ready, detail: "needs nothing more"))
            }
        }

        return Deployment(
            user: HostSettings.userName(uid), uid: uid, hostPolicy: settings.policyPath,
            hostPolicyInstalled: PolicyLoader.exists(settings.policyPath), policyInEffect: inEffect,
            policyOrigin: origin, policyProblem: problem, journalPath: journalPath,
            journalDirectory: Entry.look(directory), journalFile: Entry.look(journalPath),
            journalProblem: journalProblem, stateDirectory: Entry.look(stateDirectory),
            stateDirectoryPath: stateDirectory, stateFallback: fallback, stateFallbackReason: fallbackReason,
            stateProblem: stateProblem, remedies: remedies,
            docker: Docker.measure(hostDocker: hostLevel.docker.path, options: options, environment: environment))
    }

    /// Why this user cannot append to the journal, without writing anything; nil when it can (or, the file missing,
    /// can create it).
    static func journalWriteProblem(_ path: String) -> String? {
        do {
            let dir = try CheckedDirectory.open(JournalWriter.parent(of: path))
            let name = JournalWriter.fileName(of: path)
            if let entry = dir.entry(name) {
                if !JournalWriter.writable(entry, in: dir) { return nil }  // root rotates it away and starts its own
                close(try dir.openFile(name, flags: O_WRONLY | O_APPEND))
                return nil
            }
            return access(dir.path, W_OK | X_OK) == 0 ? nil : "\(dir.path): \(String(cString: strerror(errno)))"
        } catch {
            if error.reason == RuntimeState.missingReason, geteuid() == 0 { return nil }  // root makes it
            return error.description
        }
    }

    // MARK: - Diagnosis (pure)

    /// The findings: `policy`, `journal`, `state`, one `remedy.NAME` per remedy.
    package var findings: [Doctor.Finding] {
        var out: [Doctor.Finding] = []
        if let policyProblem {
            out.append(Doctor.Finding(
                "policy", .problem, policyProblem, fix: "correct the policy: safebuild policy check FILE names each error"))
        } else if let file = policyInEffect {
            let host = file == hostPolicy ? "" : "; the host policy \(hostPolicy) is \(hostPolicyInstalled ? "not the one in effect here" : "not installed")"
            out.append(Doctor.Finding("policy", .ok, "\(file) (\(policyOrigin)) in effect\(host)"))
        } else {
            out.append(Doctor.Finding(
                "policy", .ok,
                "the built-in default in effect; no host policy at \(hostPolicy) (Scripts/install.sh installs a commented one)"))
        }

        let where_ = [journalDirectory.map { "directory \($0.ownership)" }, journalFile.map { "file \($0.ownership)" }]
            .compactMap { $0 }.joined(separator: ", ")
        let shown = "\(journalPath)" + (where_.isEmpty ? " (not there yet)" : " (\(where_))")
        if let journalProblem {
            out.append(Doctor.Finding(
                "journal", .problem, "\(shown): \(user) cannot write it (\(journalProblem)): this user's runs are not recorded",
                fix: "make \(user) a member of the journal's group (usermod -aG docker \(user)), or run Scripts/install.sh as root to make the directory root:docker 2770"))
        } else if let file = journalFile, file.worldReadable {
            out.append(Doctor.Finding(
                "journal", .warning, "\(shown): readable by every user, and the journal holds command lines",
                fix: "chmod 0660 \(file.path) and chgrp docker it (Scripts/install.sh sets the directory up; safebuild makes new files 0660)"))
        } else {
            out.append(Doctor.Finding("journal", .ok, "\(shown); \(user) can write it"))
        }

        if let docker { out.append(docker.finding) }

        if let stateProblem {
            out.append(Doctor.Finding(
                "state", .problem, "\(stateProblem): the remedies that act on the whole host are skipped",
                fix: "point remedies.lock_dir of the host policy at a directory only root can write (/run/safebuild), or run Scripts/install.sh"))
        } else if let stateFallback {
            out.append(Doctor.Finding(
                "state", .warning,
                "per-user fallback \(stateFallback): host-wide coordination of remedies is off for \(user) (\(stateFallbackReason ?? "unknown"))",
                fix: "run Scripts/install.sh as root: it makes \(stateDirectoryPath) root:docker 0750 with its files 0660 (tmpfiles.d), and make \(user) a member of docker"))
        } else {
            let shown = stateDirectory.map { " (\($0.ownership))" } ?? " (made when first needed)"
            out.append(Doctor.Finding("state", .ok, "host-wide: \(stateDirectoryPath)\(shown)"))
        }

        for remedy in remedies {
            switch remedy.readiness {
            case .ready, .disabled, .notChecked:
                let word = remedy.readiness == .ready ? "ready" : remedy.readiness == .disabled ? "disabled by policy" : "not checked"
                out.append(Doctor.Finding("remedy.\(remedy.name)", .ok, "\(word): \(remedy.detail)"))
            case .needsRoot:
                out.append(Doctor.Finding(
                    "remedy.\(remedy.name)", .warning, remedy.detail,
                    fix: "as root: Scripts/install.sh --with-sudo (a sudoers rule for exactly 'safebuild remedy \(remedy.name)', members of docker, no password)"))
            case .dockerUnreachable:
                out.append(Doctor.Finding(
                    "remedy.\(remedy.name)", .warning, "docker unreachable: \(remedy.detail)",
                    fix: "start the docker daemon, or make \(user) a member of the docker group"))
            }
        }
        return out
    }
}
