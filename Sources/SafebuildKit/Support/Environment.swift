import Glibc

/// The process environment as a dictionary, read straight from `environ`, byte for byte (`String(lossless:)`): a
/// value that is not UTF-8 reaches docker unchanged.
package enum Environment {
    package static func current() -> [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let bytes = UnsafeRawBufferPointer(start: entry, count: strlen(entry))
            // Split at the first `=` byte: as text, `=` followed by a combining mark would be one Character.
            if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                result[String(lossless: bytes[..<eq])] = String(lossless: bytes[(eq + 1)...])
            }
            p += 1
        }
        return result
    }
}
