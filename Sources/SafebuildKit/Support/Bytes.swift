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
}
