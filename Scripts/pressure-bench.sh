#!/usr/bin/env bash
# Real-pressure benchmark (issue 10, item 6): no injected faults. A private engine whose containers share one memory
# cgroup limited to 1 GiB (dockerd --cgroup-parent: a small build host), and a mixed schedule started all at once:
#   8 runs    docker run --rm -m 800m, each really holding ~600 MB for a few seconds (dd with a 600M block)
#   4 builds  classic builds (-m 700m) whose RUN step holds 300, 400, 500 and 600 MB
# run four ways:
#   serial     plain docker, one job after another: the ideal serial schedule (each job alone in the pool)
#   plain      plain docker, all at once
#   naive      all at once, each in a retry loop: up to 5 tries, 0-2 s apart
#   safebuild  all at once through safebuild (the built-in policy; pre-flight checks off: the host is shared)
# and a table per way: jobs finished, OOM kills in the pool (the kernel's oom-kill records naming the pool), limits
# raised, wall time against the serial schedule. Then the cost of an admission on a free pool (the journal's
# admission.waited_seconds of 40 sequential commands: finding the pool, the ledger under flock, the pool's usage,
# the decision).
#
#   sudo bash Scripts/pressure-bench.sh [--rounds N]
#
# Needs root (it makes /sys/fs/cgroup/memory/NAME and reads the kernel log) and the cgroup v1 memory controller.
# The safebuild binary: $SAFEBUILD_BIN, else the release build (Scripts/build-release.sh). The cgroup and the engine
# are removed at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

rounds=1
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: bash Scripts/pressure-bench.sh [--rounds N]" >&2; exit 64 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "pressure-bench: run as root (it makes a memory cgroup)" >&2; exit 77; }
[ -d /sys/fs/cgroup/memory ] || { echo "pressure-bench: needs the cgroup v1 memory controller" >&2; exit 77; }

safebuild=${SAFEBUILD_BIN:-}
[ -n "$safebuild" ] || safebuild=$(bash Scripts/build-release.sh)

name=sbbench-$$
cgroup=/sys/fs/cgroup/memory/$name
engine=/tmp/$name
work=$(mktemp -d /tmp/sb-pressure.XXXXXX)
cleanup() {
  bash Scripts/engine.sh stop "$engine" >/dev/null 2>&1 || true
  rm -rf "$engine" "$work"
  for _ in $(seq 1 50); do rmdir "$cgroup" 2>/dev/null && break; sleep 0.1; done
}
trap cleanup EXIT

mkdir "$cgroup"
echo 1G >"$cgroup/memory.limit_in_bytes"
echo 1G >"$cgroup/memory.memsw.limit_in_bytes"
bash Scripts/engine.sh start "$engine" --dockerd-arg "--cgroup-parent=/$name" >"$work/engine.env"
eval "$(cat "$work/engine.env")"
docker=$SAFEBUILD_TEST_DOCKER
image=$SAFEBUILD_TEST_IMAGE
export DOCKER_BUILDKIT=0 SAFEBUILD_DOCKER=$docker

# The policy's keys (the lock directory, the journal) are host-only: the binary is copied to $work/bin, whose host
# policy is $work/etc/safebuild/policy.yml. Every safebuild run is recorded in $work/journal.jsonl; a way's records
# are the lines it adds.
mkdir -p "$work/bin" "$work/etc/safebuild"
cp "$safebuild" "$work/bin/safebuild"
safebuild=$work/bin/safebuild
cat >"$work/etc/safebuild/policy.yml" <<EOF
version: 1
journal:
  path: $work/journal.jsonl
preflight:
  min_available: off
  max_pressure: off
  max_build_cache: off
  min_free_disk: off
  min_free_blocks: off
remedies:
  lock_dir: $work/state
EOF

# The build contexts: a RUN step holding SIZE MB for about 2 s.
build_sizes=(300 400 500 600)
for size in "${build_sizes[@]}"; do
  mkdir -p "$work/ctx-$size"
  printf 'FROM %s\nRUN dd if=/dev/zero of=/dev/null bs=%sM count=8\n' "$image" "$size" >"$work/ctx-$size/Dockerfile"
done

# job N (0-11) as a command line after the docker (or safebuild) word.
job() {
  local n=$1
  if [ "$n" -lt 8 ]; then
    echo "run --rm -m 800m --network=none $image dd if=/dev/zero of=/dev/null bs=600M count=10"
  else
    local size=${build_sizes[$((n - 8))]}
    echo "build -q --no-cache --force-rm -m 700m --network=none -t sbbench/b$size $work/ctx-$size"
  fi
}

now() { date +%s.%N; }

# The kernel's OOM kills of tasks in the pool since $1 seconds after boot (/proc/uptime).
oom_kills_since() {
  dmesg | awk -v since="$1" -v pool="task_memcg=/$name/" '
    /oom-kill:/ && index($0, pool) { t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t); if (t + 0 >= since) n++ }
    END { print n + 0 }'
}

# One way: runs the 12 jobs, prints "finished kills raised seconds".
way() {
  local how=$1 dir=$work/$1 start end marks finished=0 seen
  mkdir -p "$dir"
  seen=$( { wc -l <"$work/journal.jsonl"; } 2>/dev/null || echo 0)
  marks=$(cut -d' ' -f1 /proc/uptime)
  start=$(now)
  case $how in
    serial)
      for n in $(seq 0 11); do
        # shellcheck disable=SC2046
        if "$docker" $(job "$n") >"$dir/$n.out" 2>&1; then echo 0 >"$dir/$n.rc"; else echo $? >"$dir/$n.rc"; fi
      done ;;
    plain)
      for n in $(seq 0 11); do
        # shellcheck disable=SC2046
        ( if "$docker" $(job "$n") >"$dir/$n.out" 2>&1; then echo 0 >"$dir/$n.rc"; else echo $? >"$dir/$n.rc"; fi ) &
      done
      wait ;;
    naive)
      for n in $(seq 0 11); do
        (
          rc=1
          for _ in 1 2 3 4 5; do
            # shellcheck disable=SC2046
            if "$docker" $(job "$n") >>"$dir/$n.out" 2>&1; then rc=0; break; else rc=$?; fi
            sleep "$((RANDOM % 3))"
          done
          echo "$rc" >"$dir/$n.rc"
        ) &
      done
      wait ;;
    safebuild)
      for n in $(seq 0 11); do
        # shellcheck disable=SC2046
        ( if "$safebuild" $(job "$n") \
              >"$dir/$n.out" 2>&1; then echo 0 >"$dir/$n.rc"; else echo $? >"$dir/$n.rc"; fi ) &
      done
      wait ;;
  esac
  end=$(now)
  for n in $(seq 0 11); do [ "$(cat "$dir/$n.rc")" = 0 ] && finished=$((finished + 1)); done
  local raised=0
  if [ "$how" = safebuild ]; then
    raised=$(tail -n +"$((seen + 1))" "$work/journal.jsonl" | grep -o '"name":"raise_memory","ran":true' | wc -l || true)
  fi
  echo "$finished $(oom_kills_since "$marks") $raised $(echo "$end - $start" | bc)"
}

echo "pressure-bench: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -r), docker $("$docker" version --format '{{.Server.Version}}'), pool $cgroup (1 GiB)" >&2
printf '| round | way | jobs finished | OOM kills in the pool | limits raised | wall time | vs serial |\n'
printf '|---|---|---|---|---|---|---|\n'
for round in $(seq 1 "$rounds"); do
  read -r f k r serial < <(way serial)
  printf '| %s | serial (ideal) | %s/12 | %s | %s | %.1f s | 1.00x |\n' "$round" "$f" "$k" "$r" "$serial"
  for how in plain naive safebuild; do
    sleep 2
    read -r f k r t < <(way "$how")
    printf '| %s | %s | %s/12 | %s | %s | %.1f s | %.2fx |\n' "$round" "$how" "$f" "$k" "$r" "$t" "$(echo "$t / $serial" | bc -l)"
  done
done

# The cost of an admission on a free pool: 40 commands one after another, the journal's figure for each.
seen=$( { wc -l <"$work/journal.jsonl"; } 2>/dev/null || echo 0)
for _ in $(seq 1 40); do
  "$safebuild" run --rm -m 64m --network=none \
    "$image" true >/dev/null 2>&1
done
tail -n +"$((seen + 1))" "$work/journal.jsonl" >"$work/cost.jsonl"
python3 - "$work/cost.jsonl" <<'EOF'
import json, sys
waits = sorted(r["admission"]["waited_seconds"] * 1000 for r in map(json.loads, open(sys.argv[1]))
               if r.get("kind") == "attempt" and "admission" in r)
n = len(waits)
pick = lambda p: waits[min(n - 1, max(0, -(-p * n // 100) - 1))]
print(f"\nadmission on a free pool, {n} commands: p50 {pick(50):.3f} ms, p95 {pick(95):.3f} ms, max {waits[-1]:.3f} ms")
EOF
