import Glibc

/// The work of `safebuild policy show`, `check` and `path` (their command lines are CLI/SafebuildPolicy*), with the
/// edges passed in. Output on `out`, errors and warnings on `err`.
package enum PolicyCommand {
    /// The effective policy, with the layer and source of every value, as YAML or JSON; what was ignored or adjusted
    /// is in it (YAML comments, JSON `warnings`) and on `err`.
    static func show(
        json asJSON: Bool, options: SafebuildOptions, environment: [String: String], currentDirectory: String,
        hostPath: String, hostMemory: UInt64?, out: (String) -> Void, err: (String) -> Void = { _ in }
    ) throws(SafebuildError) -> Int32 {
        let loaded = try PolicyLoader.load(
            options: options, environment: environment, currentDirectory: currentDirectory, hostPath: hostPath,
            hostMemory: hostMemory)
        for warning in loaded.warnings { err("safebuild: warning: \(warning)\n") }
        out(
            asJSON
                ? PolicyShow.json(loaded, hostMemory: hostMemory)
                : PolicyShow.yaml(loaded, hostMemory: hostMemory, hostPath: hostPath))
        return 0
    }

    /// The layers in effect, lowest first, one a line: `built-in: built-in default`, `host: PATH`, `project: PATH`,
    /// `user: PATH`; on `err`, where the host policy would be when there is none, and what chose the user's.
    static func path(
        options: SafebuildOptions, environment: [String: String], currentDirectory: String, hostPath: String,
        out: (String) -> Void, err: (String) -> Void
    ) throws(SafebuildError) -> Int32 {
        let files = try PolicyLoader.files(
            options: options, environment: environment, currentDirectory: currentDirectory, hostPath: hostPath)
        out("built-in: \(PolicySource.builtInName)\n")
        if !files.contains(where: { $0.layer == .host }) { err("safebuild: no host policy at \(hostPath)\n") }
        for file in files {
            out("\(file.layer): \(file.path)\n")
            if file.layer == .user { err("safebuild: the user layer is chosen by \(file.origin.rawValue)\n") }
        }
        return 0
    }

    /// Validates policy files: 0 when all are valid, 78 (or 66 for one that cannot be read as a policy) otherwise.
    /// Each is checked as the host policy when it is the host policy of this safebuild (or `asHost`), else as a
    /// project's, held to the host policy at `hostPath`: what would be ignored or adjusted is a warning on `err`.
    static func check(
        _ files: [String], asHost: Bool = false, currentDirectory: String, hostPath: String = PolicyLoader.hostPath,
        hostMemory: UInt64? = nil, out: (String) -> Void, err: (String) -> Void
    ) -> Int32 {
        var status: Int32 = 0
        for file in files {
            let path = PolicyLoader.absolute(file, in: currentDirectory)
            let layer: PolicyLayer = asHost || sameFile(path, hostPath) ? .host : .project
            do throws(SafebuildError) {
                let outcome = try PolicyLoader.check(
                    path, as: file, layer: layer, hostPath: hostPath, hostMemory: hostMemory)
                for warning in outcome.warnings { err(warning.description + "\n") }
                switch outcome.result {
                case .success:
                    let ignored = outcome.warnings.count
                    let note = ignored == 0 ? "" : " (\(ignored) warning\(ignored == 1 ? "" : "s"))"
                    out("\(file): ok as a \(layer) policy\(note)\n")
                case .failure(let error):
                    err(error.description + "\n")
                    status = SafebuildError.ExitCode.policy.rawValue
                }
            } catch {
                err("safebuild: error: \(error.message)\n")
                if status == 0 { status = error.status.rawValue }
            }
        }
        return status
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        var x = stat(), y = stat()
        return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }
}
