import Glibc

/// A minimal Engine API client: one HTTP/1.1 request per connection over the daemon's unix socket
/// (`Connection: close`), content-length, chunked or read-to-close bodies, and a hard deadline on every step.
package struct EngineClient: Sendable {
    package var socketPath: String

    package init(socketPath: String) { self.socketPath = socketPath }

    package struct Response: Sendable, Equatable {
        package var status: Int
        package var body: [UInt8]
        /// The daemon's pid (SO_PEERCRED on the socket), to find its cgroup.
        package var peerPID: Int32?
        /// Wall time of the call in seconds.
        package var seconds: Double
        /// The response's header fields, names in lower case (`/_ping`'s `builder-version`, `ostype`).
        package var headers: [String: String] = [:]
        /// The daemon's `Api-Version` header: the newest API version it speaks (moby sets it on every answer,
        /// api/server/middleware/version.go).
        package var apiVersion: String? { headers["api-version"].flatMap { $0.isEmpty ? nil : $0 } }
    }

    /// Sends `GET`/`POST path` and returns the response, or throws when the deadline (monotonic seconds) passes.
    package func request(_ path: String, method: String = "GET", deadline: Double) throws(ProbeError) -> Response {
        let started = Clock.now()
        let source = "\(method) \(path)"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw ProbeError(source, "cannot create a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ProbeError(socketPath, "socket path longer than 107 bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in pathBytes.enumerated() { raw[i] = b }
            raw[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected != 0 {
            guard errno == EINPROGRESS || errno == EAGAIN else {
                throw ProbeError(socketPath, "cannot connect: \(String(cString: strerror(errno)))")
            }
            try wait(fd, POLLOUT, deadline, source)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 { throw ProbeError(socketPath, "cannot connect: \(String(cString: strerror(error)))") }
        }
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (socket(7)); Glibc hides it behind _GNU_SOURCE.
        var credentials: (Int32, UInt32, UInt32) = (0, 0, 0)
        var credentialsLength = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        let peer: Int32? =
            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &credentialsLength) == 0 && credentials.0 > 0
            ? credentials.0 : nil

        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: docker\r\nUser-Agent: safebuild\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if errno == EAGAIN || errno == EINTR {
                try wait(fd, POLLOUT, deadline, source)
            } else {
                throw ProbeError(source, "cannot send: \(String(cString: strerror(errno)))")
            }
        }
        var raw: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                raw.append(contentsOf: buffer[..<n])
                if let complete = HTTPResponse.completeLength(raw), raw.count >= complete { break }
            } else if n == 0 {
                break
            } else if errno == EAGAIN || errno == EINTR {
                try wait(fd, POLLIN, deadline, source)
            } else {
                throw ProbeError(source, "cannot read: \(String(cString: strerror(errno)))")
            }
        }
        let parsed = try HTTPResponse.parse(raw, source: source)
        let fields = HTTPResponse.headerEnd(raw).map { HTTPResponse.headers(raw, end: $0).fields } ?? [:]
        return Response(
            status: parsed.status, body: parsed.body, peerPID: peer, seconds: Clock.now() - started, headers: fields)
    }

    private func wait(_ fd: Int32, _ events: Int32, _ deadline: Double, _ source: String) throws(ProbeError) {
        while true {
            let left = deadline - Clock.now()
            if left <= 0 { throw ProbeError(source, "no answer from \(socketPath) in time (engine_timeout)") }
            var p = pollfd(fd: fd, events: Int16(events), revents: 0)
            let rc = poll(&p, 1, Int32(min(left * 1000, 600_000)) + 1)
            if rc > 0 { return }
            if rc < 0 && errno != EINTR { throw ProbeError(source, "poll failed: \(String(cString: strerror(errno)))") }
        }
    }
}

/// HTTP/1.1 response parsing over raw bytes.
enum HTTPResponse {
    static let separator: [UInt8] = [13, 10, 13, 10]

    static func headerEnd(_ raw: [UInt8]) -> Int? {
        guard raw.count >= 4 else { return nil }
        for i in 0...(raw.count - 4) where raw[i] == 13 && raw[i + 1] == 10 && raw[i + 2] == 13 && raw[i + 3] == 10 {
            return i
        }
        return nil
    }

    static func headers(_ raw: [UInt8], end: Int) -> (status: Int?, fields: [String: String]) {
        let text = String(decoding: raw[..<end], as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        let statusLine = lines.popFirst() ?? ""
        let words = statusLine.split(separator: " ")
        let status = words.count >= 2 && words[0].hasPrefix("HTTP/1.") ? Int(words[1]) : nil
        var fields: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].trimmingSpaces)
        }
        return (status, fields)
    }

    /// The total length of a complete content-length response, to stop reading early; nil: read to close.
    static func completeLength(_ raw: [UInt8]) -> Int? {
        guard let end = headerEnd(raw) else { return nil }
        let (_, fields) = headers(raw, end: end)
        if fields["transfer-encoding"]?.lowercased().contains("chunked") == true {
            return chunkedEnd(raw, from: end + 4)
        }
        guard let length = fields["content-length"].flatMap({ Int($0) }), length >= 0, length <= 1 << 40 else { return nil }
        return end + 4 + length
    }

    /// Where a complete chunked body ends, or nil when more is needed.
    static func chunkedEnd(_ raw: [UInt8], from start: Int) -> Int? {
        var i = start
        while true {
            guard let lineEnd = crlf(raw, from: i) else { return nil }
            let sizeText = String(decoding: raw[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            // A size beyond what was read cannot complete yet (and must not overflow the index).
            guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0, size <= raw.count else { return nil }
            i = lineEnd + 2
            if size == 0 {
                // Trailers end with an empty line.
                while true {
                    guard let e = crlf(raw, from: i) else { return nil }
                    if e == i { return e + 2 }
                    i = e + 2
                }
            }
            i += size + 2
            if i > raw.count { return nil }
        }
    }

    static func crlf(_ raw: [UInt8], from start: Int) -> Int? {
        var i = start
        while i + 1 < raw.count {
            if raw[i] == 13 && raw[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }

    static func parse(_ raw: [UInt8], source: String) throws(ProbeError) -> (status: Int, body: [UInt8]) {
        guard let end = headerEnd(raw) else { throw ProbeError(source, "the daemon's answer ended inside the headers") }
        let (status, fields) = headers(raw, end: end)
        guard let status else { throw ProbeError(source, "not an HTTP/1.x status line") }
        let start = end + 4
        if fields["transfer-encoding"]?.lowercased().contains("chunked") == true {
            var body: [UInt8] = []
            var i = start
            while true {
                guard let lineEnd = crlf(raw, from: i),
                    let size = Int((String(decoding: raw[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "").trimmingSpaces, radix: 16)
                else { throw ProbeError(source, "malformed chunked body") }
                guard size >= 0, size <= raw.count - lineEnd else { throw ProbeError(source, "chunked body cut short") }
                i = lineEnd + 2
                if size == 0 { break }
                guard i + size <= raw.count else { throw ProbeError(source, "chunked body cut short") }
                body.append(contentsOf: raw[i..<i + size])
                i += size + 2
            }
            return (status, body)
        }
        if let length = fields["content-length"].flatMap({ Int($0) }) {
            guard length >= 0, length <= raw.count - start else { throw ProbeError(source, "body cut short (\(raw.count - start) of \(length) bytes)") }
            return (status, Array(raw[start..<start + length]))
        }
        return (status, Array(raw[start...]))
    }
}
