import ArgumentParser

/// `safebuild policy show | check | path`.
struct SafebuildPolicy: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Shows, checks and locates the policy, and suggests memory rules from the journal.",
        subcommands: [SafebuildPolicyShow.self, SafebuildPolicyCheck.self, SafebuildPolicyPath.self, SafebuildPolicySuggest.self],
        helpNames: [.short, .long])

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        throw missingSubcommand
    }
}
