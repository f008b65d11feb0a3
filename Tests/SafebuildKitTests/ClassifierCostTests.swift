import Glibc
import Testing

@testable import SafebuildKit

/// The classifier's cost on a long, line-heavy build output, fed the way `ChildProcess` feeds it: chunks of 64 KiB
/// through `LineSplitter`, each line to `Classifier.observe`. A benchmark, not a timed test: run it with
/// `SAFEBUILD_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter classifierCost` to print the numbers
/// (`@testable` needs `-enable-testing` in a release build; SAFEBUILD_BENCH_MB sets the size, 500 by default).
///
/// The output is synthetic but shaped like real builds (the corpus' texts and this engine's captures): BuildKit's
/// plain progress (`#12 3.456 …`, most of a BuildKit build's stderr), a classic build's step output on stdout with its
/// `Step N/M :` headers, words that look like the hints the classifier reads (`will`, `still`, `filled`, `space`),
/// BuildKit's `------` summaries and docker's own lines. It ends with an OOM-killed step so that the verdict is
/// checked too.
@Test(.enabled(if: getenv("SAFEBUILD_BENCH") != nil)) func classifierCostOnALongBuildOutput() {
    let megabytes = getenv("SAFEBUILD_BENCH_MB").flatMap { Int(String(cString: $0)) } ?? 500
    let target = megabytes << 20

    let stderrLines: [String] = [
        "#12 3.456 gcc -O2 -c src/util/strings.c -o build/util/strings.o",
        "#12 3.457 In file included from src/util/strings.c:12:",
        "#12 3.458 warning: this will be removed in a future release; still compiling",
        "#7 12.01 Downloading https://files.pythonhosted.org/packages/aa/bb/numpy-1.26.4-cp311-cp311-manylinux.whl (18.2 MB)",
        "#7 12.44      ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 18.2/18.2 MB 42.1 MB/s eta 0:00:00",
        "#9 [builder 4/7] RUN make -j4",
        "#9 sha256:3f1c0b7a8e9d2c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b 21.0MB / 21.0MB 1.2s done",
        "#12 3.460 npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory. Do not use it.",
        "#12 3.461 disk space check: 4.2 GB free, filled 12 %",
        " => [builder 5/7] COPY . /src                                                                  0.4s",
    ]
    let stdoutLines: [String] = [
        "Step 7/12 : RUN ./configure --prefix=/usr && make -j2",
        " ---> Running in 5f2a8c1d9e3b",
        "checking for gcc... gcc",
        "checking whether the C compiler works... yes",
        "  CC       lib/libfoo_la-alloc.lo",
        "make[2]: Entering directory '/src/lib' (will build 214 objects, still 180 to go)",
        "Removing intermediate container 5f2a8c1d9e3b",
        " ---> 0c9d8e7f6a5b",
    ]
    var stderrBlock: [UInt8] = []
    for line in stderrLines { stderrBlock += Array(line.utf8) + [0x0A] }
    var stdoutBlock: [UInt8] = []
    for line in stdoutLines { stdoutBlock += Array(line.utf8) + [0x0A] }
    let ending = Array(
        ("------\n > [builder 6/7] RUN make -j8:\n#14 611.2 Killed\n------\n"
            + "ERROR: failed to solve: process \"/bin/sh -c make -j8\" did not complete successfully: exit code: 137\n").utf8)

    func chunks(of block: [UInt8], total: Int) -> [UInt8] {
        var chunk: [UInt8] = []
        chunk.reserveCapacity(64 << 10 + block.count)
        while chunk.count < total { chunk += block }
        return chunk
    }
    let errChunk = chunks(of: stderrBlock, total: 64 << 10)
    let outChunk = chunks(of: stdoutBlock, total: 64 << 10)

    func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    /// CPU seconds of this thread (RUSAGE_THREAD): steadier than wall time on a shared machine.
    func cpu() -> Double {
        var usage = rusage()
        getrusage(1 /* RUSAGE_THREAD */, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
    func peakRSS() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss  // KiB
    }

    let rssBefore = peakRSS()
    var classifier = Classifier(command: .build(.docker))
    var outSplitter = LineSplitter()
    var errSplitter = LineSplitter()
    var bytes = 0
    var lines = 0
    var round = 0
    let start = now()
    let cpuStart = cpu()
    while bytes < target {
        // Four chunks of stderr to one of stdout: a BuildKit-heavy mix with classic step output between.
        let (chunk, stream) = round % 5 == 4 ? (outChunk, OutputStream.stdout) : (errChunk, OutputStream.stderr)
        chunk.withUnsafeBytes { raw in
            if stream == .stdout {
                outSplitter.feed(raw) { line in
                    lines += 1
                    classifier.observe(line: line, stream: .stdout)
                }
            } else {
                errSplitter.feed(raw) { line in
                    lines += 1
                    classifier.observe(line: line, stream: .stderr)
                }
            }
        }
        bytes += chunk.count
        round += 1
    }
    ending.withUnsafeBytes { raw in
        errSplitter.feed(raw) { line in classifier.observe(line: line, stream: .stderr) }
    }
    let seconds = now() - start
    let cpuSeconds = cpu() - cpuStart
    let verdict = classifier.verdict(exitStatus: .exited(1), containerState: nil)
    let rssAfter = peakRSS()
    func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value * scale).rounded() / scale
        return digits == 0 ? String(Int(scaled)) : String(scaled)
    }
    print(
        "classifier: \(bytes >> 20) MB, \(lines) lines in \(fixed(cpuSeconds, 2)) s of CPU (\(fixed(seconds, 2)) s wall): "
            + "\(fixed(cpuSeconds * 1e9 / Double(lines), 1)) ns per line, \(fixed(Double(bytes) / 1e6 / cpuSeconds, 0)) MB/s; "
            + "peak RSS \(fixed(Double(rssAfter) / 1024, 1)) MiB (\(fixed(Double(rssBefore) / 1024, 1)) MiB before); "
            + "verdict \(verdict.failureClass.rawValue)")
    #expect(verdict.failureClass == .oomBuildStep)
}
