#!/usr/bin/env python3
"""Times commands alternated run by run, for ratios that a drifting machine cannot skew.

    python3 Scripts/alternate.py TITLE N COMMAND...

Runs every COMMAND (split like a shell line, run without a shell, stdio on /dev/null) once per round, N rounds, the
order rotated each round. Prints, for each command (absolute paths shortened to their last part), its median wall
time with its quartiles, its ratio to the first command's median, and the median of its per-round differences from
the first (paired: a load that comes and goes hits both commands of a round alike, which hyperfine, running all runs
of one command and then the next, cannot give)."""
import os
import shlex
import statistics
import subprocess
import sys
import time


def main() -> None:
    title, rounds, commands = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    argvs = [shlex.split(c) for c in commands]
    times: list[list[float]] = [[] for _ in argvs]
    for r in range(rounds):
        for k in range(len(argvs)):
            i = (k + r) % len(argvs)
            start = time.perf_counter_ns()
            subprocess.run(argvs[i], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[i].append((time.perf_counter_ns() - start) / 1e6)
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"{title}  [{rounds} alternated rounds; load average after: {load}]")
    base = statistics.median(times[0])
    for argv, t in zip(argvs, times):
        command = " ".join(os.path.basename(a) if a.startswith("/") else a for a in argv)
        q1, median, q3 = statistics.quantiles(t, n=4)
        paired = statistics.median(a - b for a, b in zip(t, times[0]))
        print(f"  {command:<56.56} {median:8.2f} ms (p25 {q1:.1f}, p75 {q3:.1f})  {median / base:5.3f}x"
              f"  paired {paired:+7.2f} ms")
    print()


if __name__ == "__main__":
    main()
