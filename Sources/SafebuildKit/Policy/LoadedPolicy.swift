/// A policy ready to use, with the file it came from.
package struct LoadedPolicy: Equatable, Sendable {
    /// How the policy file was chosen.
    package enum Origin: String, Equatable, Sendable {
        case option = "--sb-policy"
        case variable = "SAFEBUILD_POLICY"
        case project = "./safebuild.yml in the current directory"
        case host = "the host policy"
        case builtIn = "the built-in default"
    }

    /// The effective policy: the file's values over the built-in default; every value knows its source.
    package var policy: Policy
    /// The file laid over the built-in default; `nil` when only the built-in default applies.
    package var file: String?
    package var origin: Origin
}
