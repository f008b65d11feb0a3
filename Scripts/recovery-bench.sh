#!/usr/bin/env bash
# Recovery benchmark (issue 5, item 6): one schedule of builds and runs, under injected ENOMEM (through the docker-fault
# front), real OOM kills under a small -m, user errors and plain good jobs, run three ways:
#   plain      docker once (through the fault front, so it sees the same faults)
#   naive      for i in 1 2 3; do docker … && break; done
#   safebuild  safebuild with the policy below (SAFEBUILD_DOCKER = the fault front)
# and a table: jobs succeeded, attempts, wall time, jobs wrongly retried (a user error run more than once).
#
#   bash Scripts/recovery-bench.sh     uses $DOCKER_HOST if set, else starts a private engine (and stops it after)
#
# Binaries: $SAFEBUILD_BIN and $DOCKER_FAULT_BIN, else .build/debug/{safebuild,docker-fault} (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Without an engine, run again inside a private one (Scripts/engine.sh with: started, then stopped whatever happens).
[ -n "${DOCKER_HOST:-}" ] || exec bash Scripts/engine.sh with -- bash Scripts/recovery-bench.sh "$@"

work=$(mktemp -d /tmp/sb-recovery.XXXXXX)
trap 'rm -rf "$work"' EXIT

docker=${SAFEBUILD_TEST_DOCKER:-/usr/bin/docker}
image=${SAFEBUILD_TEST_IMAGE:-safebuild-test/busybox:latest}
export DOCKER_BUILDKIT=0

safebuild=${SAFEBUILD_BIN:-$root/.build/debug/safebuild}
fault=${DOCKER_FAULT_BIN:-$root/.build/debug/docker-fault}
if [ ! -x "$safebuild" ] || [ ! -x "$fault" ]; then
  swift build --product safebuild >&2 && swift build --product docker-fault >&2
fi

# The policy safebuild runs with: the built-in one, with a shorter backoff (so that the table is about recovery,
# not waiting), a raise factor of 4, the ladders used although this host is healthy (its ENOMEMs are injected) and
# its locks in this run's directory. Its injected faults stand for a host short of memory, which this one is not: the
# host-wide remedies are declared needed (drop_caches and compact_memory otherwise run only when /proc/meminfo and
# /proc/buddyinfo say they can help). These are host-only keys: the binary is copied to $work/bin, whose host policy
# is $work/etc/safebuild/policy.yml.
mkdir -p "$work/bin" "$work/etc/safebuild"
cp "$safebuild" "$work/bin/safebuild"
safebuild=$work/bin/safebuild
cat >"$work/etc/safebuild/policy.yml" <<EOF
version: 1
retry:
  max_attempts: 3
  backoff: {initial: 1s, max: 5s, jitter: 0.2}
  raise_memory: {factor: 4, cap: 1g}
  healthy_host_enomem: ladder
remedies:
  lock_dir: $work/locks
  drop_caches_min_cache: 0
  drop_caches_max_available: 100%
  compact_memory_max_free: 8p
journal:
  path: $work/journal.jsonl
EOF

# Build contexts.
mkdir -p "$work/ok" "$work/oom" "$work/exit1"
hog='x=$(head -c 12000000 /dev/zero | tr "\0" a); echo ${#x}'  # a 12 MB string: killed under -m 8m, fine under 32m
printf 'FROM %s\nLABEL bench=recovery\n' "$image" >"$work/ok/Dockerfile"
printf 'FROM %s\nRUN %s\n' "$image" "$hog" >"$work/oom/Dockerfile"
printf 'FROM %s\nRUN echo "this build is broken" >&2; exit 1\n' "$image" >"$work/exit1/Dockerfile"

# The schedule: name, fault kind (- none), failing calls, user error (1: must not be retried).
jobs=(
  "build-fine - 0 0"
  "run-fine - 0 0"
  "build-veth veth 1 0"
  "run-overlay overlay 1 0"
  "build-console console 1 0"
  "build-fork-x2 fork 2 0"
  "run-runc-seccomp runc_seccomp 1 0"
  "build-disk-full disk 1 0"
  "run-daemon-x2 daemon 2 0"
  "run-oom-8m - 0 0"
  "build-oom-8m - 0 0"
  "build-run-exit1 - 0 1"
  "run-exit3 - 0 1"
)
args_of() {
  case $1 in
    build-oom-8m) args=(build --network=none --force-rm --no-cache -q -m 8m "$work/oom") ;;
    build-run-exit1) args=(build --network=none --force-rm --no-cache -q "$work/exit1") ;;
    build-*) args=(build --network=none --force-rm --no-cache -q "$work/ok") ;;
    run-oom-8m) args=(run --rm --network=none -m 8m "$image" sh -c "$hog") ;;
    run-exit3) args=(run --rm --network=none "$image" sh -c 'echo "user error" >&2; exit 3') ;;
    run-*) args=(run --rm --network=none "$image" echo ok) ;;
  esac
}

now() { date +%s.%N; }
declare -A ok attempts wrong wall status
for way in plain naive safebuild; do
  ok[$way]=0 attempts[$way]=0 wrong[$way]=0
  start=$(now)
  for job in "${jobs[@]}"; do
    read -r name kind count usererr <<<"$job"
    args_of "$name"
    env=(DOCKER_FAULT_REAL="$docker" DOCKER_FAULT_STATE="$work/$way-$name.count" DOCKER_FAULT_COUNT="$count")
    [ "$kind" = - ] || env+=(DOCKER_FAULT_KIND="$kind")
    [ "$count" -gt 0 ] || env=(DOCKER_FAULT_REAL="$docker")  # no fault: the front only execs docker
    log="$work/$way-$name.log"
    n=0 rc=0
    case $way in
      plain)
        n=1
        env "${env[@]}" "$fault" "${args[@]}" >"$log" 2>&1 || rc=$? ;;
      naive)
        for i in 1 2 3; do
          n=$i rc=0
          env "${env[@]}" "$fault" "${args[@]}" >>"$log" 2>&1 && break || rc=$?
        done ;;
      safebuild)
        # The host journal (journal.path is host-only): this run's records are the lines it adds.
        seen=$( { wc -l <"$work/journal.jsonl"; } 2>/dev/null || echo 0)
        env "${env[@]}" SAFEBUILD_DOCKER="$fault" "$safebuild" "${args[@]}" >"$log" 2>&1 || rc=$?
        n=$(tail -n +"$((seen + 1))" "$work/journal.jsonl" 2>/dev/null | grep -c '"kind":"attempt"' || true) ;;
    esac
    attempts[$way]=$((attempts[$way] + n))
    [ "$rc" -ne 0 ] || ok[$way]=$((ok[$way] + 1))
    [ "$usererr" = 0 ] || [ "$n" -le 1 ] || wrong[$way]=$((wrong[$way] + 1))
    status[$way,$name]="$rc/$n"
  done
  wall[$way]=$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')
done

total=${#jobs[@]}
users=0
for job in "${jobs[@]}"; do read -r _ _ _ u <<<"$job"; users=$((users + u)); done
echo "engine: $DOCKER_HOST ($("$docker" version --format '{{.Server.Version}}')), $total jobs ($users user errors that must fail once)"
echo
echo "| way | jobs succeeded | attempts | wall time | jobs wrongly retried |"
echo "| --- | --- | --- | --- | --- |"
for way in plain naive safebuild; do
  printf '| %s | %d / %d | %d | %.1f s | %d |\n' "$way" "${ok[$way]}" "$total" "${attempts[$way]}" "${wall[$way]}" "${wrong[$way]}"
done
echo
echo "Per job, exit status / attempts:"
echo
echo "| job | fault | plain | naive | safebuild |"
echo "| --- | --- | --- | --- | --- |"
for job in "${jobs[@]}"; do
  read -r name kind count usererr <<<"$job"
  what=$kind
  [ "$kind" = - ] || what="$kind ENOMEM x$count"
  [ "$kind" != daemon ] || what="daemon unreachable x$count"
  [ "$kind" != disk ] || what="disk full x$count"
  case $name in *oom*) what="real OOM kill (-m 8m)" ;; *exit*) what="user error" ;; *fine) what="none" ;; esac
  echo "| $name | $what | ${status[plain,$name]} | ${status[naive,$name]} | ${status[safebuild,$name]} |"
done
echo
echo "safebuild's remedies over the whole schedule (host-wide ones run at most once per cooldown):"
echo
cat "$work"/*.jsonl | grep -o '"name":"[a-z_]*","ran":[a-z]*' | sed 's/"name":"\([a-z_]*\)","ran":\(.*\)/\1 \2/' |
  awk '{ n[$1]++; if ($2 == "true") r[$1]++ } END { for (k in n) printf "- %s: ran %d, skipped %d\n", k, r[k], n[k] - r[k] }' | sort
