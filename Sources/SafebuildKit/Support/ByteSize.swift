/// Byte counts as people read them.
package enum ByteSize {
    /// Binary units with one decimal: `512 B`, `1.5 KiB`, `23.4 GiB`.
    package static func describe(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        return "\(formatFixed(value, decimals: 1)) \(units[unit])"
    }

    /// docker's own rendering (go-units `HumanSize`: decimal units, `%.4g`), as `docker system df` prints sizes.
    package static func dockerHuman(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        var value = Double(bytes), unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return formatG4(value) + units[unit]
    }

    /// `%.4g` for the non-negative values HumanSize formats (below 1000 after scaling, so never exponent form).
    static func formatG4(_ value: Double) -> String {
        if value == 0 { return "0" }
        let digitsBefore = value >= 1 ? Int(log10Floor(value)) + 1 : 1
        let decimals = max(0, 4 - digitsBefore)
        var text = formatFixed(value, decimals: decimals)
        // Rounding may carry into a new digit (999.95 -> "1000.0"); %g keeps 4 significant digits.
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    private static func log10Floor(_ value: Double) -> Int {
        var v = value, n = 0
        while v >= 10 {
            v /= 10
            n += 1
        }
        return n
    }

    static func formatFixed(_ value: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded(.toNearestOrEven) / scale
        let whole = UInt64(rounded)
        if decimals == 0 { return String(whole) }
        let fraction = UInt64(((rounded - Double(whole)) * scale).rounded())
        var fractionText = String(fraction)
        while fractionText.count < decimals { fractionText = "0" + fractionText }
        return "\(whole).\(fractionText)"
    }
}
