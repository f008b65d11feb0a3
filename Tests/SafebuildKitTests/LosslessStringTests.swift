import Foundation
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// `String(lossless:)`: every byte string comes back byte for byte, valid UTF-8 stays the same text, and the journal
/// and the shell quoting keep the bytes.
@Suite struct LosslessStringTests {
    /// Edge cases of UTF-8 (Unicode 15, table 3-7) and of the escape block itself.
    static let edges: [[UInt8]] = [
        [], [0x78, 0xFF, 0x79], [0xFF], [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC2], [0xC2, 0x80], [0xDF, 0xBF],
        [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80],
        [0xED, 0xBF, 0xBF], [0xEF, 0xBF, 0xBD], [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
        [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8], [0xFE], [0xE2, 0x82],
        [0xE2, 0x82, 0x41], [0xF0, 0x9F, 0x98], [0x61, 0xCC, 0x81], [0xCC, 0x81],
        // scalars of the escape block written as valid UTF-8, first, last and either side
        [0xF4, 0x8F, 0xBA, 0x80], [0xF4, 0x8F, 0xBB, 0xBF], [0xF4, 0x8F, 0xB9, 0xBF], [0xF4, 0x8F, 0xBC, 0x80],
        [0xF4, 0x8F, 0xBA], [0x2D, 0x2D, 0x66, 0x3D, 0xF4, 0x8F, 0xBA, 0xFF],
    ]

    @Test(arguments: edges)
    func edgeCasesComeBackByteForByte(_ bytes: [UInt8]) {
        let word = String(lossless: bytes)
        #expect(word.losslessBytes == bytes)
        #expect(word.isLosslessUTF8 == (String(validating: bytes, as: UTF8.self) != nil && !String.mayNeedEscapes(bytes)))
        let c = word.losslessCString()
        defer { free(c) }
        #expect(Array(UnsafeRawBufferPointer(start: c, count: strlen(c))) == bytes.prefix { $0 != 0 })
    }

    /// Every string of up to two bytes, and every three-byte string that starts with a lead byte, round-trips.
    @Test func everyShortByteStringComesBack() {
        var failures: [[UInt8]] = []
        for a in 0...255 {
            for b in 0...255 {
                let pair = [UInt8(a), UInt8(b)]
                if String(lossless: pair).losslessBytes != pair { failures.append(pair) }
            }
        }
        for a in 0xC0...0xFF {
            for b in 0x70...0xC0 {
                for c in [0x00, 0x41, 0x80, 0x8F, 0x90, 0xBA, 0xBB, 0xBF, 0xC0, 0xFF] {
                    let triple = [UInt8(a), UInt8(b), UInt8(c)]
                    if String(lossless: triple).losslessBytes != triple { failures.append(triple) }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    /// Different bytes never give the same string (the mapping is a bijection onto what it makes).
    @Test func differentBytesGiveDifferentStrings() {
        let words = Self.edges.map { String(lossless: $0) }
        for i in words.indices {
            for j in words.indices where i != j {
                #expect(Array(words[i].unicodeScalars) != Array(words[j].unicodeScalars), "\(Self.edges[i]) \(Self.edges[j])")
            }
        }
    }

    /// Valid text is the text itself: what reads docker's command line sees the same strings as before.
    @Test func validTextIsUnchanged() {
        for text in ["run", "--memory=2g", "é", "e\u{301}", "日本語", "😀", "\u{10FE7F}", "\u{10FF00}"] {
            #expect(String(lossless: Array(text.utf8)) == text)
            #expect(String(lossless: Array(text.utf8)).isLosslessUTF8)
        }
        // a flag with an invalid value still reads as that flag
        let word = String(lossless: Array("--format=x".utf8) + [0xFF])
        #expect(word.hasPrefix("--format="))
    }

    /// The journal: UTF-8 words are JSON strings, others `{"base64": …}`, and reading gives the same bytes back.
    @Test func journalWordsKeepTheBytes() throws {
        struct Line: Codable { @JournalWords var argv: [String] }
        let invalid = String(lossless: [0x72, 0x65, 0x61, 0x6C, 0xFF, 0x2E, 0x74, 0x61, 0x72])
        let escapedValid = String(lossless: [0xF4, 0x8F, 0xBA, 0x80])
        let line = Line(argv: ["save", "-o", invalid, escapedValid, "é"])
        let json = String(decoding: try JSONEncoder().encode(line), as: UTF8.self)
        #expect(json == #"{"argv":["save","-o",{"base64":"cmVhbP8udGFy"},{"base64":"9I+6gA=="},"é"]}"#)
        let back = try JSONDecoder().decode(Line.self, from: Data(json.utf8))
        #expect(back.argv.map(\.losslessBytes) == line.argv.map(\.losslessBytes))
    }

    /// A word that is not UTF-8 is shown as bash's `$'…'`, which gives the same bytes when pasted into bash.
    @Test func shellQuotingGivesTheBytesBack() throws {
        let word = String(lossless: [0x78, 0xFF, 0x27, 0x5C, 0x0A, 0x79])
        let quoted = ShellQuote.quote(word)
        #expect(quoted == #"$'x\xff\'\\\x0ay'"#)
        let script = "printf '%s' " + quoted
        let out = try Self.bash(script)
        #expect(out == word.losslessBytes)
    }

    static func bash(_ script: String) throws -> [UInt8] {
        try ProcessRunner.run("/bin/bash", ["-c", script]).stdout
    }
}
