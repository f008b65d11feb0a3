import Yams

/// The items of a policy list (`rules:`, `signatures:`): each a mapping of keys read into an `Element`.
struct PolicyList<Element>: Sendable {
    /// What to call item `n` (from 1) in diagnostics and paths: `rule 2`.
    var label: @Sendable (Int) -> String
    /// What the list should be, for a diagnostic when it is not a list.
    var expected: String
    /// A new item `n` at `source`, before its keys are read.
    var start: @Sendable (Int, PolicySource) -> Element
    var section: PolicySection<Element>
    /// Checks an item whose keys were read without a problem, as a whole: the item's node, the value node of each
    /// key given, the item and its label. An item with a problem is left out.
    var finish: (@Sendable (PolicyParser, Node, [String: Node], inout Element, String) -> Void)?
    /// Where an item was written; `policy show` gives it to the item's keys that have no source of their own.
    var source: @Sendable (Element) -> PolicySource
    /// Whether `policy show` writes the item's source as a comment above it.
    var showsSource: Bool
}
