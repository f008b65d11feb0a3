import Glibc

/// `safebuild policy show [--json]`, `safebuild policy check FILE…`, `safebuild policy path`.
package enum PolicyCommand {
    static let usage = """
        usage: safebuild policy show [--json]    the effective policy, with the source of every value
               safebuild policy check FILE…      validate policy files (exit 0 when all are valid, 78 otherwise)
               safebuild policy path             the policy file in effect
        """

    /// Runs one `policy` subcommand; returns the exit status. Output on stdout, errors on stderr.
    package static func run(
        arguments: [String], options: SafebuildOptions, environment: [String: String]
    ) throws(SafebuildError) -> Int32 {
        try run(arguments: arguments, options: options, environment: environment,
                currentDirectory: WorkingDirectory.current(), hostPath: PolicyLoader.hostPath,
                hostMemory: PhysicalMemory.total(), out: { Output.write(1, $0) }, err: { Output.write(2, $0) })
    }

    /// The same, with the edges passed in (for tests).
    static func run(
        arguments: [String], options: SafebuildOptions, environment: [String: String], currentDirectory: String,
        hostPath: String, hostMemory: UInt64?, out: (String) -> Void, err: (String) -> Void
    ) throws(SafebuildError) -> Int32 {
        guard let sub = arguments.first else { throw SafebuildError(.usage, "policy needs a subcommand\n" + usage) }
        let rest = Array(arguments.dropFirst())
        switch sub {
        case "show":
            var asJSON = false
            for word in rest {
                guard word == "--json" else {
                    throw SafebuildError(.usage, "policy show takes only --json (got '\(word)')")
                }
                asJSON = true
            }
            let loaded = try PolicyLoader.load(
                options: options, environment: environment, currentDirectory: currentDirectory, hostPath: hostPath)
            out(asJSON ? PolicyShow.json(loaded, hostMemory: hostMemory) : PolicyShow.yaml(loaded, hostMemory: hostMemory))
            return 0
        case "path":
            guard rest.isEmpty else { throw SafebuildError(.usage, "policy path takes no arguments") }
            if let (path, origin) = try PolicyLoader.locate(
                options: options, environment: environment, currentDirectory: currentDirectory, hostPath: hostPath)
            {
                out("\(path)\n")
                err("safebuild: chosen by \(origin.rawValue), over the built-in default\n")
            } else {
                out("\(PolicySource.builtInName)\n")
            }
            return 0
        case "check":
            guard !rest.isEmpty else { throw SafebuildError(.usage, "policy check needs at least one FILE") }
            var status: Int32 = 0
            for file in rest {
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
        default:
            let hint = Suggestion.closest(to: sub, among: ["show", "check", "path"]).map { "; did you mean '\($0)'?" } ?? ""
            throw SafebuildError(.usage, "unknown policy subcommand '\(sub)'\(hint)\n" + usage)
        }
    }
}
