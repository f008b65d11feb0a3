import Foundation
import Glibc

/// What was read from a journal and its rotated files.
package struct JournalContents: Sendable {
    /// Every record, oldest file first, in file order.
    package var records: [JournalRecord] = []
    /// Lines that were not a record this version understands (torn, hand-edited, or from a newer schema).
    package var unparsable = 0
    /// The files read, oldest first.
    package var files: [String] = []

    /// One record per invocation, the last written (the final record completes the `running` one written at its
    /// start); one still `running` whose safebuild is gone from this host is `killed`.
    package var invocations: [InvocationRecord] {
        let all = records.compactMap { record -> InvocationRecord? in
            if case .invocation(let r) = record { return r } else { return nil }
        }
        var last: [String: Int] = [:]
        for (i, r) in all.enumerated() { last[r.id] = i }
        let host = Journal.Context.hostName()
        return all.enumerated().compactMap { i, r in
            guard last[r.id] == i else { return nil }
            guard r.outcome == .running, r.host == host, let process = r.process,
                ProcessIdentity.of(process.pid) != process
            else { return r }
            var killed = r
            killed.outcome = .killed
            return killed
        }
    }

    package var attempts: [AttemptRecord] {
        records.compactMap { if case .attempt(let r) = $0 { return r } else { return nil } }
    }

    /// The privileged entry's audit records.
    package var remedyAudits: [RemedyAuditRecord] {
        records.compactMap { if case .remedy(let r) = $0 { return r } else { return nil } }
    }
}

/// Reads the journal: `path.N` … `path.1`, then `path`.
package enum JournalReader {
    package static func read(path: String) throws(SafebuildError) -> JournalContents {
        var contents = JournalContents()
        var rotated: [String] = []
        var n = 1
        while n <= 1000, access("\(path).\(n)", F_OK) == 0 {
            rotated.append("\(path).\(n)")
            n += 1
        }
        let decoder = JSONDecoder()
        for file in rotated.reversed() + [path] {
            guard let data = try readRegularFile(file) else { continue }
            contents.files.append(file)
            parse(data, into: &contents, decoder: decoder)
        }
        return contents
    }

    /// The contents of a journal file; nil when it is missing or not a regular file (a FIFO or a device someone put
    /// in the shared directory is passed over, never waited on).
    static func readRegularFile(_ file: String) throws(SafebuildError) -> Data? {
        let fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SafebuildError(
                .noInput, "cannot read the journal \(file): \(JournalWriter.errorText()); check its permissions")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw SafebuildError(.noInput, "cannot read the journal \(file): \(error)")
        }
    }

    static func parse(_ data: Data, into contents: inout JournalContents, decoder: JSONDecoder) {
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: 10) ?? data.endIndex
            let line = data[start..<end]
            if !line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) {
                if let record = JournalCoding.decode(Data(line), with: decoder) {
                    contents.records.append(record)
                } else {
                    contents.unparsable += 1
                }
            }
            start = end < data.endIndex ? data.index(after: end) : end
        }
    }
}
