import CSafebuild
import Glibc

enum Bytes {
    /// Whether `needle` occurs in `haystack` (memchr(3) for its first byte, then memcmp(3)).
    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { n in
            haystack.withUnsafeBytes { h in
                guard let nb = n.baseAddress, !n.isEmpty else { return true }
                guard var p = h.baseAddress, h.count >= n.count else { return false }
                let end = h.baseAddress! + (h.count - n.count + 1)
                let first = Int32(nb.pointee)
                while p < end {
                    guard let hit = memchr(p, first, end - p) else { return false }
                    if memcmp(hit, nb, n.count) == 0 { return true }
                    p = UnsafeRawPointer(hit) + 1
                }
                return false
            }
        }
    }

    /// Whether `needle` occurs in the raw bytes `haystack` (sb_memmem(3)).
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        guard let h = haystack.baseAddress, haystack.count >= needle.utf8CodeUnitCount else { return false }
        return sb_memmem(h, haystack.count, needle.utf8Start, needle.utf8CodeUnitCount) != nil
    }

    /// Whether the byte occurs in `haystack` (memchr(3)).
    static func contains(_ haystack: UnsafeRawBufferPointer, byte: UInt8) -> Bool {
        guard let h = haystack.baseAddress, !haystack.isEmpty else { return false }
        return memchr(h, Int32(byte), haystack.count) != nil
    }

    /// Whether `needle` occurs in the raw bytes `haystack` (memmem(3)).
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let h = haystack.baseAddress, !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        return needle.withUnsafeBytes { sb_memmem(h, haystack.count, $0.baseAddress!, $0.count) != nil }
    }

    /// The first place `needle` occurs in the raw bytes `haystack`.
    static func range(of needle: [UInt8], in haystack: UnsafeRawBufferPointer, from start: Int = 0) -> Range<Int>? {
        guard let h = haystack.baseAddress, !needle.isEmpty, start >= 0, haystack.count - start >= needle.count else {
            return nil
        }
        return needle.withUnsafeBytes { n in
            guard let hit = sb_memmem(h + start, haystack.count - start, n.baseAddress!, n.count) else { return nil }
            let at = UnsafeRawPointer(hit) - h
            return at..<(at + n.count)
        }
    }

    /// The first place `needle` occurs in `haystack`, as indices of `haystack`.
    static func range(of needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Range<Int>? {
        guard !needle.isEmpty, start >= 0, haystack.count - start >= needle.count else { return nil }
        return haystack.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in
                guard let hit = sb_memmem(h.baseAddress! + start, h.count - start, n.baseAddress!, n.count) else {
                    return nil
                }
                let at = UnsafeRawPointer(hit) - h.baseAddress!
                return at..<(at + n.count)
            }
        }
    }

    /// The last place `needle` occurs in `haystack`.
    static func lastRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        var found: Range<Int>?
        var from = 0
        while let r = range(of: needle, in: haystack, from: from) {
            found = r
            from = r.lowerBound + 1
        }
        return found
    }
}
