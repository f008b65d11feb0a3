import Foundation

/// A command line in the journal, kept byte for byte. A word that is valid UTF-8 is a JSON string, as always; a word
/// that is not (`docker save -o $'name\xff.tar'`, carried as `String(lossless:)`) is `{"base64": "…"}` holding its
/// exact bytes, so that nothing is rewritten to U+FFFD and `safebuild retry` runs the same bytes again:
/// `"argv": ["save", "-o", {"base64": "bmFtZf8udGFy"}]`.
@propertyWrapper
package struct JournalWords: Codable, Sendable, Equatable {
    package var wrappedValue: [String]

    package init(wrappedValue: [String]) { self.wrappedValue = wrappedValue }

    /// One word that is not UTF-8.
    struct Bytes: Codable {
        var base64: String
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for word in wrappedValue {
            if word.isLosslessUTF8 {
                try container.encode(word)
            } else {
                try container.encode(Bytes(base64: Data(word.losslessBytes).base64EncodedString()))
            }
        }
    }

    package init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        var words: [String] = []
        while !container.isAtEnd {
            if let word = try? container.decode(String.self) {
                words.append(word)
                continue
            }
            let bytes = try container.decode(Bytes.self)
            guard let data = Data(base64Encoded: bytes.base64) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "\(bytes.base64) is not base64")
            }
            words.append(String(lossless: data))
        }
        wrappedValue = words
    }
}
