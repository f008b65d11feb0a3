/// An extra failure signature: docker output containing `contains` (or matching the regular expression `pattern`)
/// is classified as `failureClass`.
package struct PolicySignature: Equatable, Sendable {
    package enum Text: Equatable, Sendable {
        case contains(String)
        case pattern(String)
    }
    package var failureClass: String
    package var text: Text
    package var source: PolicySource
}
