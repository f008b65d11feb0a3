import Glibc

/// Arguments and environment values are bytes, and docker must get exactly the bytes it was given: `docker ps
/// --format $'x\xff'` and `docker save -o $'name\xff.tar'` are not valid UTF-8, and `String(cString:)` would have made
/// them `x\u{FFFD}`. Everything safebuild reads of a command line is written over `String`, so the bytes travel as a
/// `String` that stands for them losslessly, and become bytes again only at the edges (`execv`, `sb_spawn`, the
/// journal's JSON).
///
/// The mapping, a bijection between byte strings and the strings it makes:
/// - a well-formed UTF-8 sequence is its scalar, as in any `String`;
/// - every byte that is not part of one (a stray continuation byte, a truncated or overlong sequence, an encoded
///   surrogate, anything past U+10FFFF) becomes one scalar of the private-use block U+10FE80…U+10FEFF: byte 0xNN is
///   U+10FENN (only 0x80…0xFF can be invalid; U+10FE00 + byte, none of them a noncharacter);
/// - so that the mapping stays reversible, a well-formed sequence that encodes a scalar of that block itself (valid
///   text that happens to hold one) is escaped the same way, byte by byte.
/// Decoding reads each scalar of the block back as its byte and every other scalar as its UTF-8, so
/// `String(lossless: b).losslessBytes == b` for every byte string `b` (tested exhaustively on the edge cases).
///
/// Why not a byte type for arguments: the whole reading of docker's command line (`DockerCommandLine`,
/// `SubcommandOptions`, `MemoryInjection`, `Redaction`, policy matching on images, the journal) is written over
/// `String`; a byte type would run through all of it, while this encoding leaves every reader unchanged (what it
/// looks for, flags and `=`, is ASCII, which is never escaped) and keeps the bytes exact where they leave.
extension String {
    /// The first scalar of the escape block: byte 0xNN is `escapeBase + 0xNN`.
    static let escapeBase: UInt32 = 0x10FE00
    static let escapeRange: ClosedRange<UInt32> = (escapeBase + 0x80)...(escapeBase + 0xFF)

    /// The string that stands for `bytes` (see the type's note).
    package init(lossless bytes: some Collection<UInt8>) {
        // Most arguments are valid UTF-8 with no scalar of the escape block (whose UTF-8 starts F4 8F BA or F4 8F BB).
        if !Self.mayNeedEscapes(bytes), let text = String(validating: bytes, as: UTF8.self) {
            self = text
            return
        }
        self = Self.escaping(Array(bytes))
    }

    /// The string for a C string (a NUL-terminated argv or environ entry).
    package init(losslessCString pointer: UnsafePointer<CChar>) {
        self.init(lossless: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
    }

    /// The bytes this string stands for.
    package var losslessBytes: [UInt8] {
        guard hasEscapes else { return Array(utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            if Self.escapeRange.contains(scalar.value) {
                out.append(UInt8(scalar.value - Self.escapeBase))
            } else {
                out.append(contentsOf: UTF8.encode(scalar)!)
            }
        }
        return out
    }

    /// Whether the bytes this string stands for are valid UTF-8 (it holds no escaped byte): then its UTF-8 is those
    /// bytes.
    package var isLosslessUTF8: Bool { !hasEscapes }

    /// A `malloc`ed NUL-terminated copy of the bytes, for argv and envp (free it with `free`).
    package func losslessCString() -> UnsafeMutablePointer<CChar> {
        let bytes = losslessBytes
        let p = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { memcpy(p, base, bytes.count) }
        }
        p[bytes.count] = 0
        return p
    }

    /// Whether the string holds a scalar of the escape block (its UTF-8 holds F4 8F BA or F4 8F BB).
    var hasEscapes: Bool {
        var copy = self
        return copy.withUTF8 { Self.mayNeedEscapes($0) }
    }

    /// Whether `bytes` holds F4 8F BA or F4 8F BB, the start of a scalar of the escape block.
    static func mayNeedEscapes(_ bytes: some Collection<UInt8>) -> Bool {
        var state = 0
        for byte in bytes {
            switch (state, byte) {
            case (_, 0xF4): state = 1
            case (1, 0x8F): state = 2
            case (2, 0xBA), (2, 0xBB): return true
            default: state = 0
            }
        }
        return false
    }

    /// The slow path: walks the bytes, keeping well-formed sequences (Unicode 15, table 3-7) and escaping the rest.
    static func escaping(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        func escape(_ byte: UInt8) { scalars.append(Unicode.Scalar(escapeBase + UInt32(byte))!) }
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            if lead < 0x80 {
                scalars.append(Unicode.Scalar(lead))
                i += 1
                continue
            }
            // The length and the allowed range of the second byte, by the lead byte; nil: the lead is invalid.
            let shape: (length: Int, second: ClosedRange<UInt8>)?
            switch lead {
            case 0xC2...0xDF: shape = (2, 0x80...0xBF)
            case 0xE0: shape = (3, 0xA0...0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: shape = (3, 0x80...0xBF)
            case 0xED: shape = (3, 0x80...0x9F)  // not a surrogate
            case 0xF0: shape = (4, 0x90...0xBF)
            case 0xF1...0xF3: shape = (4, 0x80...0xBF)
            case 0xF4: shape = (4, 0x80...0x8F)  // not past U+10FFFF
            default: shape = nil
            }
            guard let shape, i + shape.length <= bytes.count, shape.second.contains(bytes[i + 1]),
                (2..<shape.length).allSatisfy({ (0x80...0xBF).contains(bytes[i + $0]) })
            else {
                escape(lead)
                i += 1
                continue
            }
            var value = UInt32(lead) & (shape.length == 2 ? 0x1F : shape.length == 3 ? 0x0F : 0x07)
            for k in 1..<shape.length { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
            if escapeRange.contains(value) {
                for k in 0..<shape.length { escape(bytes[i + k]) }
            } else {
                scalars.append(Unicode.Scalar(value)!)
            }
            i += shape.length
        }
        return String(scalars)
    }
}

extension CommandLine {
    /// argv as given, byte for byte (`String(lossless:)`): `CommandLine.arguments` would have turned every byte that
    /// is not UTF-8 into U+FFFD.
    package static var losslessArguments: [String] {
        (0..<Int(argc)).map { i in unsafeArgv[i].map { String(losslessCString: $0) } ?? "" }
    }
}
