/// The numbers of the kernel's flat-keyed files (`memory.stat`: `key value`; `/proc/meminfo`: `Key:   value kB`;
/// `memory.events`, `memory.oom_control`), found by scanning the UTF-8 bytes: admission reads some of them on every
/// protected command, and splitting them into Characters costs more than the rest of its decision.
package enum KeyedNumbers {
    /// The number after `key` at the start of a line of `text` (then `:` and spaces, or spaces), nil when no line
    /// starts with it.
    package static func value(_ key: String, in text: String) -> UInt64? {
        let k = Array(key.utf8)
        var found: UInt64?
        text.utf8.withContiguousStorageIfAvailable { bytes in found = scan(k, bytes) } ?? {
            let copy = Array(text.utf8)
            copy.withUnsafeBufferPointer { found = scan(k, $0) }
        }()
        return found
    }

    static func scan(_ key: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var lineStart = 0
        let n = bytes.count
        while lineStart < n {
            var end = lineStart
            while end < n && bytes[end] != 10 { end += 1 }
            if end - lineStart > key.count {
                var matches = true
                for j in 0..<key.count where bytes[lineStart + j] != key[j] {
                    matches = false
                    break
                }
                var i = lineStart + key.count
                if matches, bytes[i] == 58 || bytes[i] == 32 || bytes[i] == 9 {
                    while i < end && (bytes[i] == 58 || bytes[i] == 32 || bytes[i] == 9) { i += 1 }
                    var value: UInt64 = 0
                    var digits = 0
                    while i < end, bytes[i] >= 48, bytes[i] <= 57 {
                        let (m, o1) = value.multipliedReportingOverflow(by: 10)
                        let (s, o2) = m.addingReportingOverflow(UInt64(bytes[i] - 48))
                        if o1 || o2 { return nil }
                        value = s
                        digits += 1
                        i += 1
                    }
                    return digits > 0 ? value : nil
                }
            }
            lineStart = end + 1
        }
        return nil
    }
}
