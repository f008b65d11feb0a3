#!/usr/bin/env bash
# Real-fault benchmark (issue 16, item 5): faults made for real on this machine, no injection, run three ways:
#   plain      docker once
#   naive      up to 3 attempts; between them `docker image prune -f`, `docker builder prune -f` and
#              `sync; echo 1 > /proc/sys/vm/drop_caches` (the host-wide clean-up such scripts do), then 1 s
#   safebuild  safebuild installed with a host policy (the built-in one, a short backoff, prune_floor 2s, its
#              journal and locks in this run's directory)
# Scenarios, each a table (jobs finished, attempts, host-wide remedies run, wall time):
#   good jobs        a run and a build that succeed
#   user errors      run exit 3, build whose RUN step exits 1 (must not be retried)
#   user ENOMEM      run --ulimit data=1000000: ENOMEM from runc on a healthy host (no host-wide remedy can help)
#   tight -m OOM     run -m 16m holding a 40 MB string (OOM-killed; fits under a raised limit)
#   full disk        a private engine whose data root is a 150 MB tmpfs holding 70 MB of dangling images from earlier
#                    builds; the build's RUN step writes 50 MB
#   contention       a private engine whose containers share a 1 GiB memory cgroup (dockerd --cgroup-parent); 4 runs
#                    -m 800m started together, each holding 600 MB (dd bs=600M) for a few seconds
#
#   bash Scripts/real-faults-bench.sh     as root (tmpfs, cgroup, drop_caches); starts its engines and stops them
#   KEEP_JOURNAL=FILE                     keep a copy of safebuild's journal (else removed with the run's directory)
#
# The safebuild binary: $SAFEBUILD_BIN, else .build/debug/safebuild (built if missing). It is copied to $work/bin,
# whose host policy is $work/etc/safebuild/policy.yml (host-only keys such as journal.path, remedies.state_dir and
# admission are read only there). Per job: the journal's invocation (tagged with BUILD_NUMBER) and its attempts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ "$(id -u)" = 0 ] || { echo "real-faults-bench: run as root (tmpfs mounts, a memory cgroup, drop_caches)" >&2; exit 64; }
[ -d /sys/fs/cgroup/memory ] || { echo "real-faults-bench: needs the cgroup v1 memory controller" >&2; exit 77; }
[ -n "${DOCKER_HOST:-}" ] || exec bash Scripts/engine.sh with -- bash Scripts/real-faults-bench.sh "$@"

work=$(mktemp -d /tmp/sbrb.XXXXXX)
chmod 755 "$work"
docker=${SAFEBUILD_TEST_DOCKER:-/usr/bin/docker}
image=${SAFEBUILD_TEST_IMAGE:-safebuild-test/busybox:latest}
export DOCKER_BUILDKIT=0
built=${SAFEBUILD_BIN:-$root/.build/debug/safebuild}
[ -x "$built" ] || swift build --product safebuild >&2
main_host=$DOCKER_HOST
disk_dir=/tmp/sbrb-disk.$$
disk_mnt=$disk_dir-mnt
pool=sbrb-pool-$$
cgroup=/sys/fs/cgroup/memory/$pool
pool_dir=/tmp/sbrb-pool.$$
cleanup() {
  [ -z "${KEEP_JOURNAL:-}" ] || cp "$work/journal.jsonl" "$KEEP_JOURNAL" 2>/dev/null || true
  bash Scripts/engine.sh stop "$disk_dir" >/dev/null 2>&1 || true
  bash Scripts/engine.sh stop "$pool_dir" >/dev/null 2>&1 || true
  umount "$disk_mnt" 2>/dev/null || true
  rmdir "$disk_mnt" 2>/dev/null || true
  for _ in $(seq 1 50); do [ -d "$cgroup" ] || break; rmdir "$cgroup" 2>/dev/null && break; sleep 0.1; done
  rm -rf "$work" "$disk_dir" "$pool_dir"
}
trap cleanup EXIT

# safebuild as installed: $work/bin/safebuild reads $work/etc/safebuild/policy.yml.
mkdir -p "$work/bin" "$work/etc/safebuild"
cp "$built" "$work/bin/safebuild"
safebuild=$work/bin/safebuild
journal=$work/journal.jsonl
cat >"$work/etc/safebuild/policy.yml" <<EOF
version: 1
retry:
  backoff: {initial: 1s, max: 2s, jitter: 0}
  raise_memory: {factor: 4, cap: 256m}
remedies:
  prune_floor: 2s
  state_dir: $work/locks
journal:
  path: $journal
EOF
"$safebuild" policy check "$work/etc/safebuild/policy.yml" >&2

mkdir -p "$work/ok" "$work/exit1" "$work/big"
printf 'FROM %s\nRUN echo ok\n' "$image" >"$work/ok/Dockerfile"
printf 'FROM %s\nRUN echo "this build is broken" >&2; exit 1\n' "$image" >"$work/exit1/Dockerfile"
printf 'FROM %s\nRUN head -c 50000000 /dev/zero > /big\n' "$image" >"$work/big/Dockerfile"
hog='x=$(head -c 40000000 /dev/zero | tr "\0" a); echo ${#x}'

# The jobs of each scenario: "name|engine" (main, disk or pool); their arguments from args_of.
scenarios=("good jobs" "user errors" "user ENOMEM" "tight -m OOM" "full disk" "contention")
jobs_of() {
  case $1 in
    "good jobs") echo "run-fine|main build-fine|main" ;;
    "user errors") echo "run-exit3|main build-exit1|main" ;;
    "user ENOMEM") echo "run-ulimit-enomem|main" ;;
    "tight -m OOM") echo "run-oom-16m|main" ;;
    "full disk") echo "build-full-disk|disk" ;;
    contention) echo "run-600m-1|pool run-600m-2|pool run-600m-3|pool run-600m-4|pool" ;;
  esac
}
args_of() {
  case $1 in
    run-fine) args=(run --rm --network=none "$image" true) ;;
    build-fine) args=(build -q --network=none "$work/ok") ;;
    run-exit3) args=(run --rm --network=none "$image" sh -c 'echo "user error" >&2; exit 3') ;;
    build-exit1) args=(build -q --network=none "$work/exit1") ;;
    run-ulimit-enomem) args=(run --rm --network=none --ulimit data=1000000 "$image" true) ;;
    run-oom-16m) args=(run --rm --network=none -m 16m "$image" sh -c "$hog") ;;
    build-full-disk) args=(build -q --network=none "$work/big") ;;
    run-600m-*) args=(run --rm --network=none -m 800m "$image" dd if=/dev/zero of=/dev/null bs=600M count=10) ;;
  esac
}

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

# The contention engine: every container under one 1 GiB memory cgroup.
mkdir "$cgroup"
echo 1G >"$cgroup/memory.limit_in_bytes"
echo 1G >"$cgroup/memory.memsw.limit_in_bytes"
bash Scripts/engine.sh start "$pool_dir" --dockerd-arg "--cgroup-parent=/$pool" >/dev/null 2>"$work/pool-engine.log"

host_of() {
  case $1 in
    main) echo "$main_host" ;;
    disk) echo "unix://$disk_dir/docker.sock" ;;
    pool) echo "unix://$pool_dir/docker.sock" ;;
  esac
}

# One job one way; writes "status attempts host-wide-remedies-run seconds" to $out.
run_job() { # way tag host out arguments…
  local way=$1 tag=$2 host=$3 out=$4; shift 4
  local attempts=0 status=1 ran=0 start
  start=$(date +%s.%N)
  case $way in
    plain) attempts=1; if DOCKER_HOST=$host "$docker" "$@" >/dev/null 2>&1; then status=0; else status=$?; fi ;;
    naive)
      for i in 1 2 3; do
        attempts=$i
        if DOCKER_HOST=$host "$docker" "$@" >/dev/null 2>&1; then status=0; break; else status=$?; fi
        [ "$i" = 3 ] && break
        DOCKER_HOST=$host "$docker" image prune -f >/dev/null 2>&1 || true
        DOCKER_HOST=$host "$docker" builder prune -f >/dev/null 2>&1 || true
        sync; echo 1 >/proc/sys/vm/drop_caches
        ran=$((ran + 3))
        sleep 1
      done ;;
    safebuild)
      if DOCKER_HOST=$host SAFEBUILD_DOCKER=$docker JOB_NAME=real-faults-bench BUILD_NUMBER=$tag \
          "$safebuild" "$@" >/dev/null 2>>"$work/safebuild-$tag.log"; then status=0; else status=$?; fi
      read -r attempts ran < <(python3 - "$journal" "$tag" <<'PY'
import json, sys
host_wide = {"prune_build_cache", "prune_dangling_images", "free_disk", "drop_caches", "compact_memory"}
records = []
for line in open(sys.argv[1]):
    try: records.append(json.loads(line))
    except ValueError: pass  # a line another job is writing

ids = {r["id"] for r in records if r.get("kind") == "invocation" and r.get("ci", {}).get("build_number") == sys.argv[2]}
attempts = [r for r in records if r.get("kind") == "attempt" and r.get("invocation") in ids]
ran = sum(1 for a in attempts for m in a.get("remedies", []) if m.get("ran") and m.get("name") in host_wide)
print(len(attempts), ran)
PY
) ;;
  esac
  echo "$status $attempts $ran $(echo "$(date +%s.%N) - $start" | bc)" >"$out"
}

echo "real-faults-bench: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), docker $("$docker" version --format '{{.Server.Version}}'), $(date -u +%Y-%m-%dT%H:%MZ)" >&2
results=$work/results.tsv
: >"$results"
for way in plain naive safebuild; do
  disk_engine
  for scenario in "${scenarios[@]}"; do
    read -r -a jobs <<<"$(jobs_of "$scenario")"
    start=$(date +%s.%N)
    n=0
    for job in "${jobs[@]}"; do
      IFS='|' read -r name where <<<"$job"
      args_of "$name"
      n=$((n + 1))
      if [ "$scenario" = contention ]; then
        run_job "$way" "$way-$name" "$(host_of "$where")" "$work/$way-$name.out" "${args[@]}" &
      else
        run_job "$way" "$way-$name" "$(host_of "$where")" "$work/$way-$name.out" "${args[@]}"
      fi
    done
    wait
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    for job in "${jobs[@]}"; do
      IFS='|' read -r name _ <<<"$job"
      read -r status attempts ran seconds <"$work/$way-$name.out"
      echo "$way $name: exit $status after $attempts attempt(s), $ran host-wide remedies, $seconds s" >&2
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$way" "$name" "$status" "$attempts" "$ran" "$wall" >>"$results"
    done
    sleep 1
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$results" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
scenarios = []
for r in rows:
    if r[0] not in scenarios: scenarios.append(r[0])
for s in scenarios:
    print(f"\n### {s}\n")
    print("| way | jobs finished | attempts | host-wide remedies run | wall time | exit statuses |")
    print("| --- | --- | --- | --- | --- | --- |")
    for way in ("plain", "naive", "safebuild"):
        mine = [r for r in rows if r[0] == s and r[1] == way]
        done = sum(1 for r in mine if r[3] == "0")
        attempts = sum(int(r[4]) for r in mine)
        ran = sum(int(r[5]) for r in mine)
        wall = float(mine[0][6])
        statuses = ", ".join(f"{r[2]} {r[3]}" for r in mine)
        print(f"| {way} | {done}/{len(mine)} | {attempts} | {ran} | {wall:.1f} s | {statuses} |")
PY
