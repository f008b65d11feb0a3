/// Which engine docker would talk to, resolved the way the docker CLI does (cli/command/cli.go resolveContextName):
/// `-H/--host`, then `-c/--context`, then `DOCKER_HOST`, then `DOCKER_CONTEXT`, then config.json `currentContext`,
/// else the default socket. A pure function of its inputs; files are read through `read`.
public struct EngineEndpoint: Codable, Sendable, Equatable {
    /// `unix:///run/docker.sock`, `tcp://host:2376`, `ssh://user@host`.
    public var host: String
    /// The context it came from, when not the default.
    public var context: String?
    /// Where the answer came from, for the report (`DOCKER_HOST`, `context "remote"`, `default`).
    public var origin: String

    /// The socket path for `unix://` hosts; nil means "ask the docker CLI".
    public var socketPath: String? {
        host.hasPrefix("unix://") ? String(host.dropFirst("unix://".count)) : nil
    }

    public static let defaultHost = "unix:///var/run/docker.sock"

    public static func resolve(
        globalFlags: [String], environment: [String: String], read: (String) -> String?
    ) throws(SafebuildError) -> EngineEndpoint {
        var hostFlag: String?, contextFlag: String?, configFlag: String?
        var i = 0
        while i < globalFlags.count {
            let flag = globalFlags[i]
            func value(_ names: [String]) -> String? {
                for name in names {
                    if flag == name, i + 1 < globalFlags.count {
                        i += 1
                        return globalFlags[i]
                    }
                    if name.hasPrefix("--"), flag.hasPrefix(name + "=") { return String(flag.dropFirst(name.count + 1)) }
                }
                return nil
            }
            if let v = value(["-H", "--host"]) { hostFlag = v } else if let v = value(["-c", "--context"]) {
                contextFlag = v
            } else if let v = value(["--config"]) { configFlag = v }
            i += 1
        }
        if let hostFlag { return EngineEndpoint(host: hostFlag, context: nil, origin: "-H \(hostFlag)") }
        let configDir = configFlag ?? environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(environment["HOME"] ?? "/root")/.docker"
        var name: String?
        var origin = "default"
        if let contextFlag {
            name = contextFlag
            origin = "--context \(contextFlag)"
        } else if let host = environment["DOCKER_HOST"], !host.isEmpty {
            return EngineEndpoint(host: host, context: nil, origin: "DOCKER_HOST")
        } else if let env = environment["DOCKER_CONTEXT"], !env.isEmpty {
            name = env
            origin = "DOCKER_CONTEXT=\(env)"
        } else if let config = read("\(configDir)/config.json"), let current = JSONValue.parse(config)?["currentContext"]?.string,
            !current.isEmpty
        {
            name = current
            origin = "currentContext \(current) in \(configDir)/config.json"
        }
        guard let name, name != "default" else {
            return EngineEndpoint(host: defaultHost, context: nil, origin: "default")
        }
        let metaPath = "\(configDir)/contexts/meta/\(SHA256.hex(Array(name.utf8)))/meta.json"
        guard let meta = read(metaPath) else {
            throw SafebuildError(
                .usage, "docker context \"\(name)\" (\(origin)) does not exist: no \(metaPath); run 'docker context ls'")
        }
        guard let host = JSONValue.parse(meta)?["Endpoints"]?["docker"]?["Host"]?.string else {
            throw SafebuildError(.usage, "docker context \"\(name)\": \(metaPath) has no Endpoints.docker.Host")
        }
        return EngineEndpoint(host: host, context: name, origin: origin)
    }
}

/// A small JSON reader over Foundation's JSONSerialization, for the engine's and docker's JSON.
enum JSONValue {
    case object([String: JSONValue]), array([JSONValue]), string(String), number(Double), bool(Bool), null

    static func parse(_ text: String) -> JSONValue? { parse(Array(text.utf8)) }

    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        var parser = JSONParser(bytes: bytes)
        guard let value = parser.value() else { return nil }
        parser.skipSpace()
        return parser.index == bytes.count ? value : nil
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var number: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    var int64: Int64? { number.map { Int64($0) } }

    var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// A strict, small recursive-descent JSON parser (no Foundation at start-up).
struct JSONParser {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[index]) { index += 1 }
    }

    mutating func literal(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w else { return false }
        index += w.count
        return true
    }

    mutating func value() -> JSONValue? {
        skipSpace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var object: [String: JSONValue] = [:]
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let v = value() else { return nil }
                object[key] = v
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { return nil }
                index += 1
                return .object(object)
            }
        case UInt8(ascii: "["):
            index += 1
            var array: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            }
            while true {
                guard let v = value() else { return nil }
                array.append(v)
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "]") else { return nil }
                index += 1
                return .array(array)
            }
        case UInt8(ascii: "\""):
            return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        default:
            let start = index
            while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
            guard index > start, let n = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else { return nil }
            return .number(n)
        }
    }

    mutating func string() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                continue
            }
            guard index < bytes.count else { return nil }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "u"):
                guard index + 4 <= bytes.count, var code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                else { return nil }
                index += 4
                if (0xD800..<0xDC00).contains(code), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    let low = UInt32(String(decoding: bytes[index + 2..<index + 6], as: UTF8.self), radix: 16)
                {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(code) ?? "?")).utf8))
            default: out.append(e)
            }
        }
        return nil
    }
}

/// SHA-256 (FIPS 180-4), for docker's context directory names (`contexts/meta/<sha256(name)>`).
enum SHA256 {
    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ]

    static func hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var data = message
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        let bits = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for t in 0..<16 {
                let b = chunk + t * 4
                w[t] = UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8 | UInt32(data[b + 3])
            }
            for t in 16..<64 {
                let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for t in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
            h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
        }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for word in h {
            for shift in stride(from: 28, through: 0, by: -4) { out.append(digits[Int((word >> UInt32(shift)) & 0xf)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
