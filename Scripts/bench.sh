#!/usr/bin/env bash
# safebuild's cost, measured in one run against a real engine, printed as ratios.
#
#   bash Scripts/bench.sh            uses $DOCKER_HOST if set, else installs and starts a private engine
#   RUNS=200 bash Scripts/bench.sh   more runs per command (default 60)
#
# Each row is one call at the bottom of this file: `ratio` times commands with hyperfine (no shell in between) and
# prints their medians against the first one; `rss` prints peak RSS from /usr/bin/time -v. Add rows there.
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

safebuild=$(bash Scripts/build-release.sh 2>"$work/build.log") || { cat "$work/build.log" >&2; exit 1; }

# The two-line bash wrapper the issue compares against.
printf '#!/bin/bash\nexec %s "$@"\n' "$docker" >"$work/docker-wrapper"
chmod +x "$work/docker-wrapper"

echo "safebuild: $safebuild ($(stat -c %s "$safebuild") bytes), docker: $docker ($("$docker" --version)), engine: $DOCKER_HOST"
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
    hyperfine -N -i --warmup 3 --runs "$(( (runs + rounds - 1) / rounds ))" --style none --export-csv "$work/row.csv" \
      "${order[@]}" >/dev/null 2>"$work/hyperfine.err" || { cat "$work/hyperfine.err" >&2; return 1; }
    awk -F, 'NR > 1 { cmd = $1; gsub(/"/, "", cmd); print cmd "\t" $4 * 1000 }' "$work/row.csv" >>"$work/medians"
  done
  echo "$title"
  for ((i = 0; i < n; i++)); do
    awk -F'\t' -v c="${commands[i]}" '$1 == c { print $2 }' "$work/medians" | sort -g |
      awk -v c="$(short "${commands[i]}")" '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print c "\t" m }'
  done | awk -F'\t' 'NR == 1 { base = $2 } { printf "  %-44s %8.2f ms  %5.2fx  %+7.2f ms\n", $1, $2, $2 / base, $2 - base }'
  echo
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

ratio "pass-through: docker ps (target: safebuild at most 1.10x docker)" \
  "$docker ps" "$safebuild ps" "$work/docker-wrapper ps"

ratio "start-up: safebuild --version (target: within 2 ms of /bin/true)" \
  "/bin/true" "$safebuild --version"

ratio "safebuild's own part of a pass-through (everything before the exec)" \
  "/bin/true" "$safebuild --sb-dry-run ps"

image=${SAFEBUILD_TEST_IMAGE:-safebuild-test/busybox:latest}
ratio "policy load + memory injection: dry-run run minus dry-run ps (target: at most +2 ms)" \
  "$safebuild --sb-dry-run ps" "$safebuild --sb-dry-run run --rm $image true" \
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

echo "peak RSS (target: safebuild's own under 12 MiB)"
rss "safebuild --version" "$safebuild" --version
rss "safebuild --sb-dry-run ps (safebuild's own part)" "$safebuild" --sb-dry-run ps
rss "safebuild --sb-dry-run run (policy loaded and applied)" "$safebuild" --sb-dry-run run --rm "$image" true
rss "safebuild ps (after the exec this is docker's)" "$safebuild" ps
rss "docker ps" "$docker" ps
rss "/bin/true" /bin/true
