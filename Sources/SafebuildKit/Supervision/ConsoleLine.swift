/// One line safebuild says on stderr (`Console` adds the `safebuild:` prefix and the colour).
package enum ConsoleLine: Sendable, Equatable {
    /// `safebuild: …` (not with `--sb-quiet`).
    case say(String)
    /// `safebuild: warning: …`.
    case warn(String)
    /// `safebuild: error: …`.
    case error(String)
}
