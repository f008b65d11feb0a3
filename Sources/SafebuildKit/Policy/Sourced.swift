/// A policy value and where it was set.
package struct Sourced<Value: Equatable & Sendable>: Equatable, Sendable {
    package var value: Value
    package var source: PolicySource
    /// What happened to the value on its way in (`clamped from 5 to the host's 3`), for `policy show`.
    package var note: String?

    package init(_ value: Value, _ source: PolicySource, note: String? = nil) {
        self.value = value
        self.source = source
        self.note = note
    }
}
