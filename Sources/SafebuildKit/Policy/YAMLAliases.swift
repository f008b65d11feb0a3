/// Finds a YAML alias (`*name`) in a text before it is composed. A policy takes none: Yams composes an alias by sharing
/// the anchored node, so a few hundred aliases of aliases ("billion laughs") stay small in memory but expand
/// exponentially for whatever walks or hashes them, and Yams hashes every mapping key to find duplicates (measured
/// here, debug build: a key aliasing 59 049 nodes took 0.12 s, so one aliasing the 387 million nodes of nine levels
/// of nine would take some 13 minutes). Nesting needs no such check: libyaml refuses more than 1000 levels ("Maximum
/// nesting level reached").
///
/// The scan is conservative: it reads `*` as an alias where YAML would, at the start of a node (at the start of a
/// line, after `- `, `? `, `: `, `[`, `{` or `,`), outside quoted scalars, comments and block scalars (`|`, `>`).
/// Anything it cannot rule out counts: a block scalar's line that starts with `*` and is indented no more than its
/// key is read as an alias, and so refused.
enum YAMLAliases {
    /// Line and column (1-based) of the first alias in `text`, or nil.
    static func first(in text: String) -> (line: Int, column: Int)? {
        let bytes = Array(text.utf8)
        var line = 1
        var lineStart = 0
        /// Inside a quoted scalar: its quote.
        var quote: UInt8?
        /// Inside a block scalar: the column its lines must be indented beyond.
        var blockIndent: Int?
        var flowDepth = 0
        var i = 0

        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        func isBlank(_ b: UInt8) -> Bool { b == space || b == tab }
        func isBreak(_ b: UInt8) -> Bool { b == newline || b == cr }

        /// Whether a node may start at `j`: only blanks since the start of the line, or an indicator before the blanks.
        func nodeStart(_ j: Int) -> Bool {
            var k = j - 1
            var blanks = false
            while k >= lineStart, isBlank(bytes[k]) {
                k -= 1
                blanks = true
            }
            if k < lineStart { return true }
            switch bytes[k] {
            case UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","): return true
            case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"): return blanks
            default: return false
            }
        }

        /// The column of the key (or `-`) that owns a block scalar indicator at `j`.
        func owner(_ j: Int) -> Int {
            var k = lineStart
            while k < j, isBlank(bytes[k]) { k += 1 }
            var column = k - lineStart
            // `- key: |`: the key; `- |`: the dash.
            while k + 1 < j, bytes[k] == UInt8(ascii: "-") || bytes[k] == UInt8(ascii: "?"), isBlank(bytes[k + 1]) {
                var next = k + 1
                while next < j, isBlank(bytes[next]) { next += 1 }
                if next >= j { break }
                k = next
                column = k - lineStart
            }
            return column
        }

        while i < bytes.count {
            let b = bytes[i]
            if isBreak(b) {
                if b == newline || (b == cr && (i + 1 >= bytes.count || bytes[i + 1] != newline)) { line += 1 }
                i += 1
                if b == cr, i < bytes.count, bytes[i] == newline {
                    line += 1
                    i += 1
                }
                lineStart = i
                if let indent = blockIndent, quote == nil {
                    // Skip the block scalar's lines: blank ones, and those indented beyond its owner.
                    var k = i
                    while k < bytes.count, bytes[k] == space { k += 1 }
                    if k >= bytes.count || isBreak(bytes[k]) || k - i > indent {
                        while i < bytes.count, !isBreak(bytes[i]) { i += 1 }
                        continue
                    }
                    blockIndent = nil
                }
                continue
            }
            if let q = quote {
                if q == UInt8(ascii: "\"") && b == UInt8(ascii: "\\") {
                    i += 2
                    continue
                }
                if b == q {
                    if q == UInt8(ascii: "'"), i + 1 < bytes.count, bytes[i + 1] == q {
                        i += 2
                        continue
                    }
                    quote = nil
                }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "#") where i == lineStart || isBlank(bytes[i - 1]):
                while i < bytes.count, !isBreak(bytes[i]) { i += 1 }
                continue
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                if nodeStart(i) { quote = b }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flowDepth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                flowDepth = max(0, flowDepth - 1)
            case UInt8(ascii: "*") where nodeStart(i):
                if i + 1 < bytes.count, !isBlank(bytes[i + 1]), !isBreak(bytes[i + 1]) {
                    return (line, i - lineStart + 1)
                }
            case UInt8(ascii: "|"), UInt8(ascii: ">"):
                // A block scalar when only indicators and a comment follow on the line.
                guard flowDepth == 0, nodeStart(i) else { break }
                var k = i + 1
                while k < bytes.count, !isBreak(bytes[k]), !isBlank(bytes[k]) { k += 1 }
                while k < bytes.count, isBlank(bytes[k]) { k += 1 }
                if k >= bytes.count || isBreak(bytes[k]) || bytes[k] == UInt8(ascii: "#") {
                    blockIndent = owner(i)
                }
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
