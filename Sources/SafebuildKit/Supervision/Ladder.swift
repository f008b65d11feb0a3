/// Per failure class, the remedies to apply before each retry, escalating: step 1 before the first retry, step 2
/// before the second, and the last step again for any retry after that. An empty step means "only wait the backoff".
package struct Ladder: Sendable, Equatable {
    package var steps: [[RemedyName]]

    package init(_ steps: [[RemedyName]]) {
        self.steps = steps
    }

    /// The remedies before retry number `retry` (1 = the first retry, i.e. the second attempt).
    package func remedies(forRetry retry: Int) -> [RemedyName] {
        guard !steps.isEmpty else { return [] }
        return steps[min(max(retry, 1), steps.count) - 1]
    }

    /// The defaults: the ladders of the built-in policy (Config/default-policy.yml, where they are explained).
    package static var defaults: [FailureClass: Ladder] { RetrySettings.builtIn.ladders }
}
