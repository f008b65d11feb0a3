import Glibc

/// Wall-clock times as the journal writes them: RFC 3339, UTC, milliseconds (`2026-11-23T09:42:36.123Z`).
package enum JournalTime {
    /// Seconds since the epoch, now.
    package static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// `2026-11-23T09:42:36.123Z`.
    package static func format(_ seconds: Double) -> String {
        var whole = time_t(seconds.rounded(.down))
        var millis = Int(((seconds - Double(whole)) * 1000).rounded())
        if millis >= 1000 {
            whole += 1
            millis -= 1000
        }
        var t = tm()
        gmtime_r(&whole, &t)
        return "\(pad(Int(t.tm_year) + 1900, 4))-\(pad(Int(t.tm_mon) + 1, 2))-\(pad(Int(t.tm_mday), 2))T"
            + "\(pad(Int(t.tm_hour), 2)):\(pad(Int(t.tm_min), 2)):\(pad(Int(t.tm_sec), 2)).\(pad(millis, 3))Z"
    }

    /// Reads `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `…:SS`, `…:SS.fff`, with `Z`, `±HH:MM` or nothing (UTC); a space may
    /// stand for `T`. Seconds since the epoch, or nil.
    package static func parse(_ text: String) -> Double? {
        let chars = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= chars.count else { return nil }
            var n = 0
            for c in chars[i..<(i + width)] {
                guard c >= 48, c <= 57 else { return nil }
                n = n * 10 + Int(c - 48)
            }
            i += width
            return n
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < chars.count, chars[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var offset = 0
        if i < chars.count, chars[i] == 84 || chars[i] == 116 || chars[i] == 32 {
            i += 1
            guard let h = number(2), expect(58), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if expect(58) {
                guard let s = number(2), s < 61 else { return nil }
                second = s
                if expect(46) {
                    var scale = 0.1
                    while i < chars.count, chars[i] >= 48, chars[i] <= 57 {
                        fraction += Double(chars[i] - 48) * scale
                        scale /= 10
                        i += 1
                    }
                }
            }
            if expect(90) || expect(122) {
            } else if i < chars.count, chars[i] == 43 || chars[i] == 45 {
                let sign = chars[i] == 45 ? -1 : 1
                i += 1
                guard let oh = number(2), expect(58), let om = number(2) else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            }
        }
        guard i == chars.count else { return nil }
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month - 1)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(hour)
        t.tm_min = Int32(minute)
        t.tm_sec = Int32(second)
        return Double(timegm(&t) - offset) + fraction
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
