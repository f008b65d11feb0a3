/// An Engine API version (`1.41`), ordered as moby's `versions.LessThan` orders them: number by number.
package struct APIVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    package var major: Int
    package var minor: Int

    package init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// `1.41` as the daemon writes it in its `Api-Version` header and in `/version`'s `ApiVersion`; nil otherwise.
    package init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else {
            return nil
        }
        self.init(major, minor)
    }

    package static func < (a: APIVersion, b: APIVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }

    package var description: String { "\(major).\(minor)" }
}
