/// The build-context advice people give for memory-hungry builds, as warnings only: context size after
/// `.dockerignore`, a missing `.dockerignore`, and how many layer-making instructions the Dockerfile has.
package struct BuildContextReport: Codable, Sendable, Equatable {
    package var context: String
    package var dockerfile: String
    /// The ignore file used (`<Dockerfile>.dockerignore` for BuildKit, else `<context>/.dockerignore`), if any.
    package var dockerignore: String?
    /// Bytes and files sent to the daemon (regular files after `.dockerignore`).
    package var bytes: UInt64
    package var files: Int
    /// Paths `.dockerignore` left out (an excluded directory counts once).
    package var ignored: Int
    /// False when the walk stopped at its file or time bound: the figures are a lower bound.
    package var complete: Bool
    package var run: Int
    package var copy: Int
    package var add: Int
    /// One sentence each.
    package var warnings: [String]

    package var layerInstructions: Int { run + copy + add }
}
