import Glibc

/// The work of `safebuild policy show`, `check` and `path` (their command lines are CLI/SafebuildPolicy*), with the
/// edges passed in. Output on `out`, errors on `err`.
package enum PolicyCommand {
    /// The effective policy, with the source of every value, as YAML or JSON.
    static func show(
        json asJSON: Bool, options: SafebuildOptions, environment: [String: String], currentDirectory: String,
        hostPath: String, hostMemory: UInt64?, out: (String) -> Void
    ) throws(SafebuildError) -> Int32 {
        let loaded = try PolicyLoader.load(
            options: options, environment: environment, currentDirectory: currentDirectory, hostPath: hostPath)
        out(asJSON ? PolicyShow.json(loaded, hostMemory: hostMemory) : PolicyShow.yaml(loaded, hostMemory: hostMemory))
        return 0
    }

    /// The policy file in effect, and on `err` what chose it.
    static func path(
        options: SafebuildOptions, environment: [String: String], currentDirectory: String, hostPath: String,
        out: (String) -> Void, err: (String) -> Void
    ) throws(SafebuildError) -> Int32 {
        if let (path, origin) = try PolicyLoader.locate(
            options: options, environment: environment, currentDirectory: currentDirectory, hostPath: hostPath)
        {
            out("\(path)\n")
            err("safebuild: chosen by \(origin.rawValue), over the built-in default\n")
        } else {
            out("\(PolicySource.builtInName)\n")
        }
        return 0
    }

    /// Validates policy files: 0 when all are valid, 78 (or 66 for an unreadable one) otherwise.
    static func check(
        _ files: [String], currentDirectory: String, out: (String) -> Void, err: (String) -> Void
    ) -> Int32 {
        var status: Int32 = 0
        for file in files {
            let path = PolicyLoader.absolute(file, in: currentDirectory)
            do throws(SafebuildError) {
                switch try PolicyLoader.check(path, as: file) {
                case .success: out("\(file): ok\n")
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
}
