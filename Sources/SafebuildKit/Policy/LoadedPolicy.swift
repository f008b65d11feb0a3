/// A policy ready to use: the layers it was made of, and what was ignored or adjusted on the way.
package struct LoadedPolicy: Equatable, Sendable {
    /// How a policy file was chosen.
    package enum Origin: String, Equatable, Sendable {
        case option = "--sb-policy"
        case variable = "SAFEBUILD_POLICY"
        case project = "./safebuild.yml in the current directory"
        case host = "the host policy"
        case builtIn = "the built-in default"
    }

    /// One policy file laid over the layers below it.
    package struct File: Equatable, Sendable {
        package var path: String
        package var layer: PolicyLayer
        package var origin: Origin

        package init(path: String, layer: PolicyLayer, origin: Origin) {
            self.path = path
            self.layer = layer
            self.origin = origin
        }
    }

    /// The effective policy: every layer's values over the built-in default; every value knows its source and layer.
    package var policy: Policy
    /// The files laid over the built-in default, lowest layer first (none: only the built-in default applies).
    package var files: [File]
    /// The policy of the built-in and host layers alone: what the project and user layers were held to.
    package var hostLevel: Policy
    /// What the user should know, each a line for `safebuild: warning: `: settings of the project and user policies
    /// that were ignored or adjusted (`FILE:LINE:COL: …`), advice, and a host policy that was not used.
    package var warnings: [String]

    package init(policy: Policy, files: [File], hostLevel: Policy? = nil, warnings: [String] = []) {
        self.policy = policy
        self.files = files
        self.hostLevel = hostLevel ?? policy
        self.warnings = warnings
    }

    /// One file over the built-in default (as tests make them).
    package init(policy: Policy, file: String?, origin: Origin) {
        let layer: PolicyLayer
        switch origin {
        case .option, .variable: layer = .user
        case .project: layer = .project
        case .host: layer = .host
        case .builtIn: layer = .builtIn
        }
        self.init(policy: policy, files: file.map { [File(path: $0, layer: layer, origin: origin)] } ?? [])
    }

    /// The highest layer's file; nil when only the built-in default applies.
    package var file: String? { files.last?.path }
    /// How the highest layer's file was chosen.
    package var origin: Origin { files.last?.origin ?? .builtIn }

    /// `built-in default`, or the files from the lowest layer: `/etc/safebuild/policy.yml < /src/app/safebuild.yml`.
    package var sourceDescription: String {
        files.isEmpty ? PolicySource.builtInName : files.map(\.path).joined(separator: " < ")
    }
}
