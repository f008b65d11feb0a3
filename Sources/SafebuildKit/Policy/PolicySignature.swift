/// An extra failure signature: docker output containing `contains` (or matching the regular expression `pattern`)
/// is classified as `failureClass`.
package struct PolicySignature: Equatable, Sendable {
    package enum Text: Equatable, Sendable {
        case contains(String)
        case pattern(String)
    }
    package var failureClass: FailureClass
    package var text: Text
    package var source: PolicySource

    package init(failureClass: FailureClass, text: Text, source: PolicySource) {
        self.failureClass = failureClass
        self.text = text
        self.source = source
    }

    /// The text of a `contains` signature (setting it makes the signature one).
    var contains: String? {
        get { if case .contains(let t) = text { t } else { nil } }
        set { if let newValue { text = .contains(newValue) } }
    }

    /// The expression of a `pattern` signature (setting it makes the signature one).
    var pattern: String? {
        get { if case .pattern(let t) = text { t } else { nil } }
        set { if let newValue { text = .pattern(newValue) } }
    }
}
