import Glibc

/// The container id docker writes to an attempt's `--cidfile`, read once it is there. safebuild's own file is
/// removed as soon as it has been read, so that not even a SIGKILLed safebuild leaves it behind in `$TMPDIR` (only
/// one killed in the ~100 ms between docker writing it and the next tick can); the user's own is left.
final class CIDFileFollower: @unchecked Sendable {
    let path: String
    let removes: Bool
    private(set) var id: String?

    init(path: String, removes: Bool) {
        self.path = path
        self.removes = removes
    }

    /// The id, reading the file if it has not been read yet (docker writes the whole id at once).
    func poll() -> String? {
        if let id { return id }
        guard let found = Self.containerID(in: path) else { return nil }
        id = found
        if removes { unlink(path) }
        return found
    }

    /// The full container id in a cidfile; nil while docker has not written it (the file is made empty first).
    static func containerID(in path: String) -> String? {
        guard let text = HostReader.read(path) else { return nil }
        let found = text.trimmingWhitespace()
        return found.count == 64 ? found : nil
    }
}
