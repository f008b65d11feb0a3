#!/usr/bin/env bash
# Real-fault benchmark (issue 16, item 5): faults made for real on this machine, no injection, run three ways:
#   plain      docker once
#   naive      up to 3 attempts; between them `docker image prune -f`, `docker builder prune -f` and
#              `sync; echo 1 > /proc/sys/vm/drop_caches` (the host-wide clean-up such scripts do)
#   safebuild  safebuild with the built-in policy (short backoff, prune_floor 2s, locks in this run's directory)
# Jobs: good run and build, user errors (run exit 3, build RUN exit 1), the user-caused ENOMEM (run --ulimit
# data=1000000), an OOM under a tight -m (run -m 16m holding 40 MB), and a build on a full disk (a private engine
# whose data root is a 150 MB tmpfs holding 70 MB of dangling images from earlier builds; its RUN step writes 50 MB).
# Each row: jobs finished, attempts, host-wide remedies run, wall time.
#
#   bash Scripts/real-faults-bench.sh     as root (tmpfs, drop_caches); starts its engines and stops them
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ "$(id -u)" = 0 ] || { echo "real-faults-bench: run as root (tmpfs mounts, drop_caches)" >&2; exit 64; }
[ -n "${DOCKER_HOST:-}" ] || exec bash Scripts/engine.sh with -- bash Scripts/real-faults-bench.sh "$@"

work=$(mktemp -d /tmp/sbrb.XXXXXX)
docker=${SAFEBUILD_TEST_DOCKER:-/usr/bin/docker}
image=${SAFEBUILD_TEST_IMAGE:-safebuild-test/busybox:latest}
export DOCKER_BUILDKIT=0
safebuild=${SAFEBUILD_BIN:-$root/.build/debug/safebuild}
[ -x "$safebuild" ] || swift build --product safebuild >&2
# journal.path is host-only (SAFEBUILD_JOURNAL only chooses what `safebuild journal` reads): a copy of the binary whose
# host policy, $work/etc/safebuild/policy.yml, names the journal; each run's records are the lines it adds.
mkdir -p "$work/bin" "$work/etc/safebuild" && cp "$safebuild" "$work/bin/safebuild" && safebuild=$work/bin/safebuild
printf 'version: 1\njournal:\n  path: %s\n' "$work/journal.jsonl" >"$work/etc/safebuild/policy.yml"
main_host=$DOCKER_HOST
disk_dir=/tmp/sbrb-disk.$$
disk_mnt=$disk_dir-mnt
cleanup() {
  bash Scripts/engine.sh stop "$disk_dir" >/dev/null 2>&1 || true
  umount "$disk_mnt" 2>/dev/null || true
  rmdir "$disk_mnt" 2>/dev/null || true
  rm -rf "$work" "$disk_dir"
}
trap cleanup EXIT

cat >"$work/policy.yml" <<EOF
version: 1
retry:
  backoff: {initial: 1s, max: 2s, jitter: 0}
  raise_memory: {factor: 4, cap: 256m}
  healthy_host_enomem: once
remedies:
  prune_floor: 2s
  state_dir: $work/locks
EOF
export SAFEBUILD_POLICY=$work/policy.yml

mkdir -p "$work/ok" "$work/exit1" "$work/big"
printf 'FROM %s\nRUN echo ok\n' "$image" >"$work/ok/Dockerfile"
printf 'FROM %s\nRUN echo "this build is broken" >&2; exit 1\n' "$image" >"$work/exit1/Dockerfile"
printf 'FROM %s\nRUN head -c 50000000 /dev/zero > /big\n' "$image" >"$work/big/Dockerfile"
hog='x=$(head -c 40000000 /dev/zero | tr "\0" a); echo ${#x}'

# name|host|arguments (one string, split on spaces; the hog is passed apart)
jobs=(
  "run-fine|main|run --rm --network=none $image true"
  "build-fine|main|build --network=none $work/ok"
  "run-exit3|main|run --rm --network=none $image sh -c exit\ 3"
  "build-exit1|main|build --network=none $work/exit1"
  "run-ulimit-enomem|main|run --rm --network=none --ulimit data=1000000 $image true"
  "run-oom|main|run --rm --network=none -m 16m $image sh -c HOG"
  "build-full-disk|disk|build --network=none $work/big"
)

# The full-disk engine, filled anew before each way: 70 MB of dangling images, 3 s old.
disk_engine() {
  bash Scripts/engine.sh stop "$disk_dir" >/dev/null 2>&1 || true
  umount "$disk_mnt" 2>/dev/null || true
  rm -rf "$disk_dir"; mkdir -p "$disk_mnt"
  mount -t tmpfs -o size=150m tmpfs "$disk_mnt"
  bash Scripts/engine.sh start "$disk_dir" --dockerd-arg "--data-root=$disk_mnt/root" >/dev/null 2>"$work/disk-engine.log"
  for i in 1 2; do
    printf 'FROM %s\nRUN head -c 35000000 /dev/urandom > /blob%s\n' "$image" "$i" |
      DOCKER_HOST=unix://$disk_dir/docker.sock "$docker" build -q - >/dev/null
  done
  sleep 3
}

run_job() { # way host arguments… ; prints: attempts status host-wide-remedies-run
  local way=$1 host=$2; shift 2
  local attempts=0 status=1 ran=0
  case $way in
    plain) attempts=1; DOCKER_HOST=$host "$docker" "$@" >/dev/null 2>&1 && status=0 || status=$? ;;
    naive)
      for i in 1 2 3; do
        attempts=$i
        if DOCKER_HOST=$host "$docker" "$@" >/dev/null 2>&1; then status=0; break; fi
        [ "$i" = 3 ] && break
        DOCKER_HOST=$host "$docker" image prune -f >/dev/null 2>&1 || true
        DOCKER_HOST=$host "$docker" builder prune -f >/dev/null 2>&1 || true
        sync; echo 1 >/proc/sys/vm/drop_caches
        ran=$((ran + 3))
        sleep 1
      done ;;
    safebuild)
      local journal=$work/this-run.jsonl seen
      seen=$( { wc -l <"$work/journal.jsonl"; } 2>/dev/null || echo 0)
      DOCKER_HOST=$host SAFEBUILD_DOCKER=$docker "$safebuild" "$@" >/dev/null 2>>"$work/safebuild.log" \
        && status=0 || status=$?
      tail -n +"$((seen + 1))" "$work/journal.jsonl" >"$journal" 2>/dev/null || : >"$journal"
      attempts=$(grep -c '"kind":"attempt"' "$journal" 2>/dev/null || echo 0)
      ran=$(python3 - "$journal" <<'PY'
import json, sys
host_wide = {"prune_build_cache", "prune_dangling_images", "free_disk", "drop_caches", "compact_memory"}
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") == "attempt":
        n += sum(1 for m in r.get("remedies", []) if m.get("ran") and m.get("name") in host_wide)
print(n)
PY
) ;;
  esac
  echo "$attempts $status $ran"
}

printf '| way | jobs finished | attempts | host-wide remedies run | wall time |\n| --- | --- | --- | --- | --- |\n'
for way in plain naive safebuild; do
  disk_engine
  remedies_run=0; finished=0; total_attempts=0
  start=$(date +%s.%N)
  for job in "${jobs[@]}"; do
    IFS='|' read -r name where words <<<"$job"
    host=$main_host; [ "$where" = disk ] && host=unix://$disk_dir/docker.sock
    read -r -a args <<<"${words//\\ / }"
    # Words that held a space, and the hog: put back.
    for k in "${!args[@]}"; do
      [ "${args[$k]}" = HOG ] && args[$k]=$hog
    done
    if [ "$name" = run-exit3 ]; then args=(run --rm --network=none "$image" sh -c "exit 3"); fi
    read -r attempts status ran < <(run_job "$way" "$host" "${args[@]}")
    remedies_run=$((remedies_run + ran))
    total_attempts=$((total_attempts + attempts))
    [ "$status" = 0 ] && finished=$((finished + 1))
    echo "$way $name: exit $status after $attempts attempt(s)" >&2
  done
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  printf '| %s | %d/%d | %d | %d | %.1f s |\n' "$way" "$finished" "${#jobs[@]}" "$total_attempts" "$remedies_run" "$wall"
done
