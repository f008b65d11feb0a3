import Foundation
import Testing

@testable import SafebuildKit

/// The corpus of real failure texts (Fixtures/corpus, see its README) and the classifier measured on it: the corpus is
/// well formed, the figures are printed separately for the training cases and the held-out fifth, and the goals of
/// issue 11 are asserted.
@Suite struct FailureCorpusTests {
    @Test func corpusIsWellFormed() throws {
        let cases = try FailureCorpus.load()
        #expect(cases.count >= 150, "the corpus holds \(cases.count) cases")

        let numbers = cases.map(\.number)
        #expect(Set(numbers).count == numbers.count, "two cases share a number")
        #expect(numbers == Array(1...cases.count), "cases are numbered 001… without gaps")

        let holdout = cases.filter { $0.split == .holdout }
        let share = Double(holdout.count) / Double(cases.count)
        #expect((0.18...0.22).contains(share), "holdout is \(holdout.count) of \(cases.count)")

        // Every class has a real case, except those no public source was found for (see the corpus README); a class
        // on that list must really be absent, so whoever adds its first case also takes it off the list.
        for failureClass in FailureClass.allCases {
            let present = cases.contains { $0.expected == failureClass }
            if FailureCorpus.classesWithoutARealCase.contains(failureClass) {
                #expect(!present, "\(failureClass.rawValue) has a case now: take it off classesWithoutARealCase")
            } else {
                #expect(present, "no case of \(failureClass.rawValue)")
            }
        }
        let failures = cases.filter { $0.expected != .notMemory }.count
        let share2 = Double(failures) / Double(cases.count)
        #expect((0.55...0.75).contains(share2), "memory, disk and daemon failures are \(failures) of \(cases.count)")
        #expect(Set(cases.map(\.builder)) == [.classic, .buildkit, .none])
        #expect(Set(cases.map(\.cgroup)).isSuperset(of: [.v1, .v2]))
    }

    @Test func theParserNamesTheFileAndLineOfAMalformedCase() {
        let good = """
            source: https://example.org/issue/1
            docker: 20.10
            builder: none
            cgroup: v1
            command: run
            exit: 125
            oom_killed: false
            class: not_memory
            split: train
            stream: stderr
            note: n
            ---
            docker: Error response from daemon: x.
            """
        #expect(throws: Never.self) { try FailureCorpus.parse(good, file: "001-ok.txt") }
        let bad: [(String, String, Int)] = [
            (good.replacingOccurrences(of: "exit: 125", with: "exit: none"), "001-a.txt", 6),
            (good.replacingOccurrences(of: "class: not_memory", with: "class: out_of_memory"), "001-b.txt", 8),
            (good.replacingOccurrences(of: "split: train", with: "split: holdout"), "001-c.txt", 9),
            (good.replacingOccurrences(of: "oom_killed: false\n", with: ""), "001-d.txt", 11),
            (good.replacingOccurrences(of: "builder: none", with: "builder: classic"), "001-e.txt", 3),
            (good.replacingOccurrences(of: "note: n\n", with: "note n\n"), "001-f.txt", 11),
            (good.replacingOccurrences(of: "\n---\n", with: "\n"), "001-g.txt", 12),
            (good.replacingOccurrences(of: "stream: stderr", with: "stream: mixed"), "001-h.txt", 10),
            (good, "1-short.txt", 1),
        ]
        for (text, file, line) in bad {
            do {
                _ = try FailureCorpus.parse(text, file: file)
                Issue.record("\(file) parsed")
            } catch let error as CorpusError {
                #expect(error.file == file)
                #expect(error.line == line, "\(error)")
                #expect(error.description.hasPrefix("\(file):\(line): "))
            } catch {
                Issue.record("\(file): \(error)")
            }
        }
    }

    /// The figures: memory, disk and daemon failures recognised (retryable with the class whose ladder they need) and
    /// retried at all; user errors retried (should be none); by class; the misses. SAFEBUILD_CORPUS_VERBOSE=1 prints
    /// every case's verdict.
    @Test func figures() throws {
        let cases = try FailureCorpus.load()
        var report = ["failure corpus, \(cases.count) cases:"]
        for split in [CorpusCase.Split.train, .holdout] {
            report.append("  \(split.rawValue): \(CorpusFigures(cases.filter { $0.split == split }).summary)")
        }
        report.append("  all: \(CorpusFigures(cases).summary)")
        report.append("  by class (recognised / cases; user errors: retried / cases):")
        for failureClass in FailureClass.allCases {
            let f = CorpusFigures(cases.filter { $0.expected == failureClass })
            let line = failureClass == .notMemory
                ? "\(f.userErrorsRetried.count) retried / \(f.userErrors)"
                : "\(f.recognised.count) / \(f.failures) (retried \(f.retried.count))"
            report.append("    \(failureClass.rawValue): \(line)")
        }
        report.append("  misses:")
        for (c, v) in CorpusFigures(cases).misses {
            report.append("    \(c.file) [\(c.split.rawValue)] expected \(c.expected.rawValue), got \(v.failureClass.rawValue) (retryable \(v.retryable)): \(v.reason)")
        }
        if ProcessInfo.processInfo.environment["SAFEBUILD_CORPUS_VERBOSE"] != nil {
            report.append("  every case:")
            for c in cases {
                let v = c.classify()
                report.append("    \(c.file): \(v.failureClass.rawValue) [\(v.strength.map { "\($0)" } ?? "-")] \(v.line ?? "")")
            }
        }
        print(report.joined(separator: "\n"))
        #expect(!cases.isEmpty)
    }

    /// Issue 11's goals: at least 95% of the training part's memory, disk and daemon failures retried with their
    /// class's ladder; no user error retried in the whole corpus; the held-out fifth within 5 points of the rest.
    /// Measured once the classifier was done (corpus README, "Figures"); nothing was tuned on the held-out fifth.
    @Test func goals() throws {
        let cases = try FailureCorpus.load()
        let train = CorpusFigures(cases.filter { $0.split == .train })
        let holdout = CorpusFigures(cases.filter { $0.split == .holdout })
        let all = CorpusFigures(cases)
        #expect(train.recognisedShare >= 0.95, "train: \(train.summary)")
        #expect(all.userErrorsRetried.isEmpty, "user errors retried: \(all.userErrorsRetried.map(\.file))")
        #expect(abs(holdout.recognisedShare - train.recognisedShare) <= 0.05, "train \(train.summary); holdout \(holdout.summary)")
    }
}

/// The figures of one part of the corpus.
struct CorpusFigures {
    var failures = 0
    var userErrors = 0
    var recognised: [CorpusCase] = []
    var retried: [CorpusCase] = []
    var userErrorsRetried: [CorpusCase] = []
    var misses: [(CorpusCase, Classification)] = []

    init(_ cases: [CorpusCase]) {
        for c in cases {
            let v = c.classify()
            if c.expected == .notMemory {
                userErrors += 1
                if v.retryable {
                    userErrorsRetried.append(c)
                    misses.append((c, v))
                }
            } else {
                failures += 1
                if v.retryable { retried.append(c) }
                if v.retryable && v.failureClass == c.expected {
                    recognised.append(c)
                } else {
                    misses.append((c, v))
                }
            }
        }
    }

    /// Failures recognised with the right class, as a share of the failures.
    var recognisedShare: Double { failures == 0 ? 1 : Double(recognised.count) / Double(failures) }

    var summary: String {
        func pct(_ n: Int, _ d: Int) -> String { d == 0 ? "-" : String(format: "%.0f%%", 100 * Double(n) / Double(d)) }
        return "failures recognised \(recognised.count)/\(failures) (\(pct(recognised.count, failures))), "
            + "retried at all \(retried.count)/\(failures) (\(pct(retried.count, failures))); "
            + "user errors retried \(userErrorsRetried.count)/\(userErrors) (\(pct(userErrorsRetried.count, userErrors)))"
    }
}
