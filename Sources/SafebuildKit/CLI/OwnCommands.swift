/// safebuild's own commands.
enum OwnCommands {
    static func run(
        _ command: Invocation.OwnCommand, arguments: [String], options: SafebuildOptions,
        environment: [String: String]
    ) throws(SafebuildError) -> Int32 {
        switch command {
        case .version:
            Output.write(1, "safebuild \(Safebuild.version)\n")
            return 0
        case .help:
            Output.write(1, help)
            return 0
        case .doctor, .policy, .journal, .retry:
            throw SafebuildError(.usage, "'safebuild \(command.rawValue)' is not in this version of safebuild")
        }
    }

    static var help: String {
        var text = """
            usage: safebuild [safebuild options] <docker arguments…>
                   safebuild doctor | policy … | journal … | retry [ID] | --version

            Runs docker. `build` and `run` (and `image build`, `builder build`, `buildx build`, `container run`) are
            protected: memory defaults from the policy, pre-flight checks, classified failures, remedies and retries,
            and a journal of every attempt. Every other command is handed to docker unchanged.

            safebuild options (before the docker arguments), each also an environment variable:

            """
        for row in SafebuildOptions.table {
            text += "  " + row.option.padding(20) + row.variable.padding(24) + row.help + "\n"
        }
        return text
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
