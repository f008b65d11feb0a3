/// One flag of a docker command line as given: its long name (`-H` is `--host`), its value, and the words it
/// occupies.
package struct FlagUse: Equatable, Sendable {
    package let name: String
    package let value: String?
    package let range: Range<Int>
}
