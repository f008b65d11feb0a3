#!/usr/bin/env bash
# safebuild's cost, measured in one run against a real engine, printed as ratios.
#
#   bash Scripts/bench.sh            uses $DOCKER_HOST if set, else installs and starts a private engine
#   RUNS=200 bash Scripts/bench.sh   more runs per command (default 60)
#   SCALE=1 bash Scripts/bench.sh    only the scale rows (issue 13): protected run and build against plain docker on an
#                                    engine holding 0, then 300 images / 150 stopped containers, then SCALE_IMAGES /
#                                    SCALE_CONTAINERS (default 3000 / 1000); 16 concurrent runs at each size. The
#                                    fixture is added to the engine in place (minutes): use a private engine.
#   RELAY=1 bash Scripts/bench.sh    only the relay rows: 500 MB of line-heavy output through a protected run, from a
#                                    stand-in docker (the relay alone) and from a container (RELAY_ALONE=1: not that)
#   BEFORE=PATH bash Scripts/bench.sh  adds an older safebuild binary to the dry-run, relay and protected-run rows
#   BENCH_SAFEBUILD=PATH               measures that safebuild binary instead of building the release one
#   WARMUP=N, PAR_RUNS=N, RELAY_RUNS=N warm-up runs per round (3), runs of the 16-concurrent rows (RUNS), of the relay (10)
#   ALT_RUNS=N                         rounds of the alternated rows of a protected run (60; pass-through: 400)
#   PAR_ALT_RUNS=N                     rounds of the alternated 16-concurrent row with -m 256m (20)
#
# Each row is one call at the bottom of this file: `ratio` times commands with hyperfine (no shell in between) and
# prints their medians against the first one; `alternate` (Scripts/alternate.py) runs the commands in turn, run by
# run, and adds the median of the paired differences: the rows the issues set targets on, since this VM's docker
# drifts by ±20% within a minute; `rss` prints peak RSS from /usr/bin/time -v. Add rows there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Without an engine, run again inside a private one (Scripts/engine.sh with: started, then stopped whatever happens).
[ -n "${DOCKER_HOST:-}" ] || exec bash Scripts/engine.sh with -- bash Scripts/bench.sh "$@"
command -v hyperfine >/dev/null && [ -x /usr/bin/time ] || bash Scripts/engine.sh install

runs=${RUNS:-60}
work=$(mktemp -d /tmp/sb-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

docker=${SAFEBUILD_TEST_DOCKER:-/usr/bin/docker}
[ -x "$docker" ] || docker=$(command -v docker)
export SAFEBUILD_DOCKER=$docker

# BENCH_SAFEBUILD=PATH measures that binary instead of building the release one.
safebuild=${BENCH_SAFEBUILD:-}
[ -n "$safebuild" ] || safebuild=$(bash Scripts/build-release.sh 2>"$work/build.log") || { cat "$work/build.log" >&2; exit 1; }

# The two-line bash wrapper the issue compares against.
printf '#!/bin/bash\nexec %s "$@"\n' "$docker" >"$work/docker-wrapper"
chmod +x "$work/docker-wrapper"
# The least any front to docker can cost: a static C program that only execs it (pass-through's real baseline).
printf '#include <unistd.h>\nint main(int c, char **v) { (void)c; v[0] = "%s"; execv(v[0], v); return 127; }\n' \
  "$docker" >"$work/exec-wrapper.c"
cc -O2 -static -o "$work/exec-wrapper" "$work/exec-wrapper.c" 2>/dev/null || cc -O2 -o "$work/exec-wrapper" "$work/exec-wrapper.c"
# The least a front written in Swift can cost: the same exec from a static Swift executable (the runtime started, no
# Foundation), so that the rows show what is Swift's and what is safebuild's.
printf 'import Glibc\nlet docker = "%s"\nvar argv = CommandLine.arguments.map { strdup($0) }\nargv[0] = strdup(docker)\nargv.append(nil)\nexecv(docker, argv)\nexit(127)\n' \
  "$docker" >"$work/swift-exec-wrapper.swift"
swiftc -O -static-executable -o "$work/swift-exec-wrapper" "$work/swift-exec-wrapper.swift" 2>/dev/null ||
  swiftc -O -o "$work/swift-exec-wrapper" "$work/swift-exec-wrapper.swift" 2>/dev/null
before=${BEFORE:-}
# A docker that times docker: forks the real one, waits, appends its wall time (ns) to $TIMED_LOG. safebuild's own
# time around docker is then the whole command's time less docker's, run by run, whatever docker's own spread.
cat >"$work/timed-docker.c" <<EOF
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
int main(int c, char **v) {
  struct timespec a, b; int st; pid_t p; const char *log; FILE *f; (void)c;
  clock_gettime(CLOCK_MONOTONIC, &a);
  if ((p = fork()) == 0) { v[0] = "$docker"; execv(v[0], v); _exit(127); }
  waitpid(p, &st, 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  if ((log = getenv("TIMED_LOG")) && (f = fopen(log, "a"))) {
    fprintf(f, "%lld\\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)); fclose(f);
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
EOF
cc -O2 -o "$work/timed-docker" "$work/timed-docker.c"

echo "safebuild: $safebuild ($(stat -c %s "$safebuild") bytes), docker: $docker ($("$docker" --version)), engine: $DOCKER_HOST"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "hyperfine, no shell in between; $runs runs per command in ${ROUNDS:-5} rounds of rotated order; median wall time"
echo

# ratio TITLE BASELINE COMMAND…: median wall time of every command, and each one's ratio to (and difference from)
# BASELINE. The machine may be shared: hyperfine runs all runs of one command, then the next, so a load that comes and
# goes favours whichever ran in the quiet. Each row is therefore measured in $ROUNDS rounds, the order of the
# commands rotated each round, and the median of the rounds' medians is printed.
rounds=${ROUNDS:-5}
ratio() {
  local title=$1; shift
  local commands=("$@") n=$# r i
  : >"$work/medians"
  for ((r = 0; r < rounds; r++)); do
    local order=()
    for ((i = 0; i < n; i++)); do order+=("${commands[(i + r) % n]}"); done
    hyperfine -N -i --warmup "${WARMUP:-3}" --runs "$(( (runs + rounds - 1) / rounds ))" --style none --export-csv "$work/row.csv" \
      "${order[@]}" >/dev/null 2>"$work/hyperfine.err" || { cat "$work/hyperfine.err" >&2; return 1; }
    awk -F, 'NR > 1 { cmd = $1; gsub(/"/, "", cmd); print cmd "\t" $4 * 1000 }' "$work/row.csv" >>"$work/medians"
  done
  echo "$title  [load average after: $(cut -d' ' -f1-3 /proc/loadavg)]"
  for ((i = 0; i < n; i++)); do
    awk -F'\t' -v c="${commands[i]}" '$1 == c { print $2 }' "$work/medians" | sort -g |
      awk -v c="$(short "${commands[i]}")" '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print c "\t" m }'
  done | awk -F'\t' 'NR == 1 { base = $2 } { printf "  %-44s %8.2f ms  %5.2fx  %+7.2f ms\n", $1, $2, $2 / base, $2 - base }'
  echo
}

# own TITLE COMMAND…: safebuild's own time around docker, run by run: COMMAND's wall time less the wall time of the
# docker it ran (docker is $work/timed-docker, which logs it), median and quartiles over $runs runs; and the same for
# timed-docker run alone (`floor`: the fork, wait and clock reads of the measurement itself).
own() {
  local title=$1; shift
  local i t0 t1 label
  echo "$title  [own ms: the command's wall time less docker's, $runs runs; load before: $(cut -d' ' -f1-3 /proc/loadavg)]"
  for label in floor safebuild; do
    rm -f "$work/own-docker" "$work/own-total"
    # One unlogged run first: a build asks this docker's version once (then kept in the engine state).
    [ "$label" = floor ] || SAFEBUILD_DOCKER=$work/timed-docker "$@" >/dev/null 2>&1 || true
    for ((i = 0; i < runs; i++)); do
      t0=$(date +%s%N)
      if [ "$label" = floor ]; then
        TIMED_LOG=$work/own-docker "$work/timed-docker" "${@:2}" >/dev/null 2>&1 || true
      else
        TIMED_LOG=$work/own-docker SAFEBUILD_DOCKER=$work/timed-docker "$@" >/dev/null 2>&1 || true
      fi
      t1=$(date +%s%N)
      echo $((t1 - t0)) >>"$work/own-total"
    done
    paste "$work/own-total" "$work/own-docker" | awk '{ print ($1 - $2) / 1e6 }' | sort -g |
      awk -v l="$label" '{ v[NR] = $1 } END { printf "  %-12s median %6.1f ms  (p25 %.1f, p75 %.1f)\n", l, v[int(NR / 2) + 1], v[int(NR / 4) + 1], v[int(3 * NR / 4) + 1] }'
  done
  echo
}

# alternate TITLE ROUNDS COMMAND…: the commands run in turn, ROUNDS times (Scripts/alternate.py): medians, ratios to
# the first, and the median of the per-round differences from it.
alternate() {
  python3 Scripts/alternate.py "$@"
}

# rss LABEL COMMAND…: peak resident set size of one run.
rss() {
  local label=$1; shift
  local kb
  kb=$(/usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { print $2 }')
  printf '  %-58s %8.1f MiB\n' "$label" "$(echo "$kb" | awk '{ print $1 / 1024 }')"
}

# A command as printed: without the long directories.
short() {
  local text=${1//$work\//}
  text=${text//$(dirname "$safebuild")\//}
  echo "$text"
}

# ---- rows ----------------------------------------------------------------------------------------------------------

image=${SAFEBUILD_TEST_IMAGE:-safebuild-test/busybox:latest}

# A build context whose every step is cached after the first build (classic builder: DOCKER_BUILDKIT=0 from
# Scripts/engine.sh): what is timed is docker's and safebuild's own work, not a RUN step.
mkdir -p "$work/ctx"
printf 'FROM %s\nRUN true\n' "$image" >"$work/ctx/Dockerfile"
printf '.git\n' >"$work/ctx/.dockerignore"
"$docker" build -q "$work/ctx" >/dev/null

# par16 NAME COMMAND…: a script that starts 16 copies of COMMAND at once and waits for all of them.
par16() {
  local name=$1; shift
  { echo '#!/bin/bash'; printf 'for i in $(seq 16); do'; printf ' %q' "$@"; echo ' >/dev/null 2>&1 & done; wait'; } >"$work/$name"
  chmod +x "$work/$name"
}
par16 par16-docker "$docker" run --rm --network=none "$image" true
par16 par16-safebuild "$safebuild" run --rm --network=none "$image" true
# The same with -m 256m: 16 reservations fit the host's admission budget, so the batch shows safebuild's cost, not
# admission holding jobs back (with the built-in 25% limit a reservation is a quarter of the host: 3 run at once).
par16 par16-docker-m "$docker" run -m 256m --rm --network=none "$image" true
par16 par16-safebuild-m "$safebuild" run -m 256m --rm --network=none "$image" true

# scale_rows LABEL: the rows measured at each size of the engine.
scale_rows() {
  local label=$1
  local sbs=("$safebuild")
  [ -z "$before" ] || sbs+=("$before")
  local runs_cmds=("$docker run --rm --network=none $image true")
  for sb in "${sbs[@]}"; do runs_cmds+=("$sb run --rm --network=none $image true"); done
  alternate "protected run --rm --network=none IMAGE true, $label (target: at most 1.05x docker)" "${ALT_RUNS:-60}" \
    "${runs_cmds[@]}"
  ratio "protected run --rm --network=none IMAGE true, $label (hyperfine)" "${runs_cmds[@]}"
  ratio "protected build (classic, cached), $label" "$docker build -q $work/ctx" "$safebuild build -q $work/ctx"
  own "protected run, $label" "$safebuild" run --rm --network=none "$image" true
  own "protected build (classic, cached), $label" "$safebuild" build -q "$work/ctx"
  local saved=$runs
  runs=${PAR_RUNS:-$runs}
  ratio "16 concurrent runs, $label (batch wall time; admission runs 3 of the built-in 25% limits at once)" \
    "$work/par16-docker" "$work/par16-safebuild"
  runs=$saved
  alternate "16 concurrent runs -m 256m, $label (batch wall time; all 16 fit the admission budget)" "${PAR_ALT_RUNS:-20}" \
    "$work/par16-docker-m" "$work/par16-safebuild-m"
}

# grow IMAGES CONTAINERS: adds imported images (each a one-file tar of its own, a few hundred bytes: vfs copies
# every layer) and stopped containers until the engine holds at least that many, 8 at a time.
grow() {
  local want_images=$1 want_containers=$2 have
  mkdir -p "$work/fixture"
  have=$("$docker" images -q --filter reference='sbscale/*' | wc -l)
  if [ "$have" -lt "$want_images" ]; then
    seq "$have" $((want_images - 1)) | xargs -P 8 -I{} sh -c '
      d=$(mktemp -d "$0/i.XXXXXX"); echo "{}" >"$d/id"; tar -C "$d" -cf "$d.tar" id
      "$1" import "$d.tar" "sbscale/i:{}" >/dev/null; rm -rf "$d" "$d.tar"' "$work/fixture" "$docker"
  fi
  have=$("$docker" ps -aq --filter label=sbscale | wc -l)
  if [ "$have" -lt "$want_containers" ]; then
    seq "$have" $((want_containers - 1)) | xargs -P 8 -I{} \
      "$docker" create --label sbscale --network=none "sbscale/i:0" /id >/dev/null
  fi
  echo "engine now: $("$docker" images -q | wc -l) images, $("$docker" ps -aq | wc -l) containers;" \
    "GET /system/df: $( { /usr/bin/time -f %e curl -s --unix-socket "${DOCKER_HOST#unix://}" http://x/system/df -o /dev/null; } 2>&1 ) s"
  echo
}

if [ -n "${SCALE:-}" ]; then
  scale_rows "empty engine"
  grow 300 150
  scale_rows "300 images / 150 containers"
  grow "${SCALE_IMAGES:-3000}" "${SCALE_CONTAINERS:-1000}"
  scale_rows "${SCALE_IMAGES:-3000} images / ${SCALE_CONTAINERS:-1000} containers"
  exit 0
fi

# relay_row: 500 MB of 71-byte lines through docker and through a protected run; MB/s from the medians.
relay_row() {
  local gen="yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 524288000"
  local cmds=("$docker run --rm --network=none $image sh -c '$gen'" "$safebuild run --rm --network=none $image sh -c '$gen'")
  [ -z "$before" ] || cmds+=("$before run --rm --network=none $image sh -c '$gen'")
  local saved=$runs
  runs=${RELAY_RUNS:-10}
  ratio "relay: 500 MB of line-heavy output (71-byte lines) through run --rm, stdout to /dev/null" "${cmds[@]}"
  runs=$saved
}

# relay_alone_row: the same 500 MB from a stand-in docker (a script that prints it, no daemon in between), so that
# safebuild's relay is the only difference: wall time against the stand-in alone, then CPU time (user+sys of the
# whole tree, /usr/bin/time) of each.
relay_alone_row() {
  printf '#!/bin/sh\ncase "$1" in run) exec sh -c %q ;; esac\nexit 0\n' \
    "yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 524288000" >"$work/fake-docker"
  chmod +x "$work/fake-docker"
  local sbs=("$safebuild")
  [ -z "$before" ] || sbs+=("$before")
  local cmds=("$work/fake-docker run") sb
  for sb in "${sbs[@]}"; do cmds+=("env SAFEBUILD_DOCKER=$work/fake-docker $sb run --rm --network=none $image true"); done
  ratio "relay alone: 500 MB of 71-byte lines from a stand-in docker (no daemon)" "${cmds[@]}"
  echo "  CPU seconds of one run (user / sys, the stand-in's yes and head included):"
  for sb in "" "${sbs[@]}"; do
    if [ -z "$sb" ]; then
      /usr/bin/time -f "    stand-in alone        %U / %S" "$work/fake-docker" run >/dev/null
    else
      /usr/bin/time -f "    $(short "$sb") %U / %S" env SAFEBUILD_DOCKER="$work/fake-docker" "$sb" run --rm --network=none "$image" true >/dev/null
    fi
  done 2>&1
  echo
}

if [ -n "${RELAY:-}" ]; then
  relay_alone_row
  [ -n "${RELAY_ALONE:-}" ] || relay_row
  exit 0
fi

alternate "pass-through: docker ps against a static C exec wrapper (target: safebuild at most 1.03x the C wrapper)" \
  "${ALT_RUNS:-400}" "$work/exec-wrapper ps" "$work/swift-exec-wrapper ps" "$safebuild ps" "$docker ps"
ratio "pass-through: docker ps against a static C exec wrapper (hyperfine)" \
  "$work/exec-wrapper ps" "$safebuild ps" "$docker ps" "$work/docker-wrapper ps"

# A container that SIGKILLs itself, no OOM (issue 14: at most +50 ms). --init: a PID 1 shell ignores its own SIGKILL.
alternate "exit 137 without an OOM: run --init --rm IMAGE sh -c 'kill -9 \$\$' (target: at most +50 ms)" \
  "${ALT_RUNS:-40}" "$docker run --init --rm --network=none $image sh -c 'kill -9 \$\$'" \
  "$safebuild run --init --rm --network=none $image sh -c 'kill -9 \$\$'"

# SIGKILL during run --rm (issue 14): the front is SIGKILLed 0.5 s into a 2 s container; the time until the engine has
# removed the container. docker itself leaves a `Created` container when the kill lands between create and start.
echo "SIGKILL 0.5 s into run --rm IMAGE sleep 2: from the kill until the container is gone  [load: $(cut -d' ' -f1-3 /proc/loadavg)]"
for front in "$docker" "$safebuild"; do
  for i in 1 2 3 4 5; do
    "$front" run --rm --network=none --label "sbkill=$i" "$image" sleep 2 >/dev/null 2>&1 &
    pid=$!
    sleep 0.5
    t0=$(date +%s%N)
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    left=""
    while [ -n "$("$docker" ps -aq --filter "label=sbkill=$i")" ]; do
      if [ $(( $(date +%s%N) - t0 )) -gt 10000000000 ]; then
        left=$("$docker" ps -a --filter "label=sbkill=$i" --format '{{.Status}}')
        "$docker" rm -f $("$docker" ps -aq --filter "label=sbkill=$i") >/dev/null
        break
      fi
      sleep 0.05
    done
    if [ -n "$left" ]; then echo "  $(short "$front")  left a container ($left) for 10 s: removed by hand"
    else echo "  $(short "$front")  $(( ($(date +%s%N) - t0) / 1000000 )) ms"; fi
  done
done
echo

ratio "start-up: safebuild --version (target: within 2 ms of /bin/true)" \
  "/bin/true" "$safebuild --version"

ratio "safebuild's own part of a pass-through (everything before the exec)" \
  "/bin/true" "$safebuild --sb-dry-run ps"

dry=("$safebuild --sb-dry-run ps" "$safebuild --sb-dry-run run --rm $image true")
[ -z "$before" ] || dry+=("$before --sb-dry-run run --rm $image true")
ratio "policy load + memory injection: dry-run run minus dry-run ps (target: at most +2 ms)" "${dry[@]}" \
  "$safebuild --sb-policy Config/default-policy.yml --sb-dry-run run --rm $image true"

# Issue 4: every /proc and cgroup probe with the kernel log's OOM kills, as `doctor --no-engine` (start-up and the
# text report included), then the whole doctor with the engine's API calls (bounded by --timeout).
ratio "host probes: safebuild doctor --no-engine (target: probes under 5 ms), then with the engine" \
  "/bin/true" "$safebuild doctor --no-engine" "$safebuild doctor"

# A protected run end to end (policy, pre-flight with its engine queries, --cidfile, inspect, rm) and its output
# relay: 64 MB through safebuild's pipe against docker writing it straight to /dev/null.
ratio "protected run streaming 64 MB of output (docker run --rm vs safebuild run --rm)" \
  "$docker run --rm --network=none $image head -c 67108864 /dev/zero" \
  "$safebuild run --rm --network=none $image head -c 67108864 /dev/zero"

relay_alone_row
relay_row

echo "peak RSS (target: safebuild's own under 12 MiB)"
rss "safebuild --version" "$safebuild" --version
rss "safebuild --sb-dry-run ps (safebuild's own part)" "$safebuild" --sb-dry-run ps
rss "safebuild --sb-dry-run run (policy loaded and applied)" "$safebuild" --sb-dry-run run --rm "$image" true
rss "safebuild ps (after the exec this is docker's)" "$safebuild" ps
rss "docker ps" "$docker" ps
rss "/bin/true" /bin/true
