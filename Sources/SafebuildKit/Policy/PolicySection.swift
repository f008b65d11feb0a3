import Yams

/// A mapping of policy keys (the policy itself, `run:`, `retry.backoff:`, a rule): which keys it takes, in the order
/// `policy show` prints them and diagnostics list them, and the checks across them.
struct PolicySection<Root>: Sendable {
    var keys: [PolicyKey<Root>]
    /// Keys that belong elsewhere, and where: `memory` at the top is "it under run: or build: (or in a rule)".
    var hints: [String: String]
    /// Runs once the keys are read, whatever their problems: the section's node, the value node of each key given,
    /// the value, and the section's path.
    var check: (@Sendable (PolicyParser, Node, [String: Node], inout Root, String) -> Void)?
    /// Every spelling read: the names, and the old names still read.
    let spellings: [String]

    init(
        keys: [PolicyKey<Root>], hints: [String: String] = [:],
        check: (@Sendable (PolicyParser, Node, [String: Node], inout Root, String) -> Void)? = nil
    ) {
        self.keys = keys
        self.hints = hints
        self.check = check
        spellings = keys.flatMap { [$0.name] + $0.aliases }
    }

    var names: [String] { keys.map(\.name) }
}
