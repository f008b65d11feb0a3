/// The docker commands safebuild supervises.
package enum ProtectedCommand: Equatable, Sendable {
    /// `docker build` and its spellings; `.buildx` is `docker buildx build`, whose flags differ.
    case build(BuildFrontEnd)
    /// `docker run` and `docker container run`.
    case run

    package enum BuildFrontEnd: Equatable, Sendable {
        case docker
        case buildx
    }

    package var name: String {
        switch self {
        case .build: return "build"
        case .run: return "run"
        }
    }
}
