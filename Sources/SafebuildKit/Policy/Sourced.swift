/// A policy value and where it was set.
package struct Sourced<Value: Equatable & Sendable>: Equatable, Sendable {
    package var value: Value
    package var source: PolicySource

    package init(_ value: Value, _ source: PolicySource) {
        self.value = value
        self.source = source
    }
}
