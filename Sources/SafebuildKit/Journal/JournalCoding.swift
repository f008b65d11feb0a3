import Foundation
import Glibc

/// JSON encoding and decoding of records.
enum JournalCoding {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }

    /// An invocation record as one line of UTF-8 ending in "\n" (JSON escapes every newline inside strings).
    static func line(_ record: InvocationRecord) throws -> [UInt8] {
        try line(record, schema: record.schema, kind: record.kind)
    }

    /// An attempt record as one line.
    static func line(_ record: AttemptRecord) throws -> [UInt8] {
        try line(record, schema: record.schema, kind: record.kind)
    }

    /// A remedy's audit record as one line.
    static func line(_ record: RemedyAuditRecord) throws -> [UInt8] {
        try line(record, schema: record.schema, kind: record.kind)
    }

    /// Any record as one line.
    static func line(_ record: JournalRecord) throws -> [UInt8] {
        switch record {
        case .invocation(let r): return try line(r)
        case .attempt(let r): return try line(r)
        case .remedy(let r): return try line(r)
        }
    }

    /// Keys sorted, so that lines are stable; `schema` and `kind` moved first, so that lines are easy to read. The
    /// moved keys are always followed by another key (`outcome`, `started`, `preflight`), hence the comma.
    static func line(_ record: some Encodable, schema: Int, kind: String) throws -> [UInt8] {
        let head = "\"schema\":\(schema),", kindKey = "\"kind\":\"\(kind)\","
        var text = String(decoding: try encoder().encode(record), as: UTF8.self)
        for key in [head, kindKey] {
            if let range = text.range(of: key) { text.removeSubrange(range) }
        }
        text.insert(contentsOf: head + kindKey, at: text.index(after: text.startIndex))
        return Array((text + "\n").utf8)
    }

    private struct Header: Decodable {
        var kind: String?
    }

    static let invocationPrefix = Array("{\"schema\":1,\"kind\":\"invocation\",".utf8)
    static let attemptPrefix = Array("{\"schema\":1,\"kind\":\"attempt\",".utf8)

    /// Decodes one line; nil when it is not a record of a kind this version knows. Lines as safebuild writes them
    /// are recognised by their first bytes; others (edited by hand, from elsewhere) by a first decoding pass.
    static func decode(_ line: Data, with decoder: JSONDecoder) -> JournalRecord? {
        var kind: String?
        if line.starts(with: attemptPrefix) {
            kind = "attempt"
        } else if line.starts(with: invocationPrefix) {
            kind = "invocation"
        } else {
            kind = (try? decoder.decode(Header.self, from: line))?.kind
        }
        switch kind {
        case "invocation": return (try? decoder.decode(InvocationRecord.self, from: line)).map { .invocation($0) }
        case "attempt": return (try? decoder.decode(AttemptRecord.self, from: line)).map { .attempt($0) }
        case "remedy": return (try? decoder.decode(RemedyAuditRecord.self, from: line)).map { .remedy($0) }
        default: return nil
        }
    }
}
