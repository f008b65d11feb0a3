#!/usr/bin/env bash
# The test bed: a private Docker engine for safebuild's tests, demo and benchmarks, on a fresh Debian machine.
#
#   bash Scripts/engine.sh with [--dir DIR] [--dockerd-arg ARG]… -- CMD [ARG…]
#                                        install what is missing, start an engine, run CMD with the engine's
#                                        variables, stop the engine, exit with CMD's status
#   bash Scripts/engine.sh install      apt packages the tests need (docker.io, busybox-static, hyperfine, time, …)
#                                        and the non-root test user sbuser, a member of the docker group
#   bash Scripts/engine.sh start [DIR] [--dockerd-arg ARG]…
#                                        start dockerd with its own data root under DIR, import the busybox base
#                                        image, print `export DOCKER_HOST=…` lines for the caller to eval
#   bash Scripts/engine.sh stop [DIR]   stop that dockerd by its pid (SIGTERM, then SIGKILL after 10 s)
#   bash Scripts/engine.sh env [DIR]    print the export lines again
#
# `with` runs the engine in a fresh `mktemp -d /tmp/sb-engine.XXXXXX`, removed afterwards; with `--dir DIR` it runs
# in DIR (made if missing) and leaves DIR's files there (dockerd.log, the data root); an engine already running in
# DIR is used and left running. Whatever happens to CMD, the engine it started is stopped: an EXIT trap; SIGINT,
# SIGTERM and SIGHUP are passed on to CMD, and `with` then exits 130, 143 or 129. The engine's socket is
# root:docker 0660 (and DIR root:docker 0750), so that the test user sbuser reaches it. CMD's environment gets
# DOCKER_HOST, SAFEBUILD_TEST_IMAGE, SAFEBUILD_TEST_DOCKER, DOCKER_BUILDKIT=0, SAFEBUILD_TEST_USER (the `env`
# lines), SAFEBUILD_ENGINE_DIR (so `stop`/`env` without DIR mean this engine) and SAFEBUILD_ENGINE_SESSION (the same
# directory: the scripts that use `with` run inside a session they find instead of starting another).
#
# Extra dockerd arguments: `--dockerd-arg ARG` (repeat it; one argument each) and SAFEBUILD_DOCKERD_ARGS (split at
# spaces). They come after the built-in ones, so `--dockerd-arg --data-root=/mnt/small/root` replaces the data root
# and `--dockerd-arg --cgroup-parent=/NAME` puts every container under a cgroup of your making.
#
# DIR of start/stop/env defaults to $SAFEBUILD_ENGINE_DIR, else /tmp/safebuild-engine. The engine never uses the
# system socket (/var/run/docker.sock), so it can run beside another daemon. Its socket is DIR/docker.sock, and a unix
# socket path must stay under 108 bytes: keep DIR short.
set -euo pipefail

image=safebuild-test/busybox:latest
test_user=sbuser

log() { printf 'engine: %s\n' "$*" >&2; }
usage() {
  sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
}

install() {
  local missing=() pip_missing=0
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v hyperfine >/dev/null || missing+=(hyperfine)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v script >/dev/null || missing+=(bsdutils)
  python3 -c 'import prometheus_client' 2>/dev/null || pip_missing=1
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ "$pip_missing" = 1 ]; then
    log "installing prometheus-client (PyPI)"
    python3 -m pip install -q prometheus-client >/dev/null
  fi
  test_user
}

# The non-root user the engine tests run safebuild as: a member of the docker group (docker.io makes the group), as a
# Jenkins agent or a CI runner is.
test_user() {
  getent group docker >/dev/null || groupadd --system docker
  if ! id "$test_user" >/dev/null 2>&1; then
    useradd -m -G docker "$test_user"
    log "made the user $test_user (group docker)"
  elif ! id -nG "$test_user" | tr ' ' '\n' | grep -qx docker; then
    usermod -aG docker "$test_user"
  fi
}

# The docker client of Debian's docker.io, which speaks the engine's API version (a newer client may be on PATH).
client() {
  if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker; fi
}

exports() {
  echo "export DOCKER_HOST=unix://$dir/docker.sock"
  echo "export SAFEBUILD_TEST_IMAGE=$image"
  echo "export SAFEBUILD_TEST_DOCKER=$(client)"
  echo "export DOCKER_BUILDKIT=0"
  echo "export SAFEBUILD_TEST_USER=$test_user"
}

start() {
  case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
  local socket="$dir/docker.sock"
  if [ "${#socket}" -ge 108 ]; then
    log "the socket path $socket is ${#socket} bytes; a unix socket path must stay under 108: use a shorter DIR"
    exit 64
  fi
  mkdir -p "$dir"
  if [ -f "$dir/docker.pid" ] && kill -0 "$(cat "$dir/docker.pid")" 2>/dev/null; then
    log "already running (pid $(cat "$dir/docker.pid"))"
    exports
    return
  fi
  # A kill -9 leaves containerd's pid file behind, and the next start then times out.
  rm -f "$dir/exec/containerd/containerd.pid" "$dir/docker.pid" "$socket"
  local extra=()
  # Beside another daemon (the system's, or another private one, which may own docker0 or may have lost it), run
  # without a bridge of our own: two daemons managing one docker0 break each other's containers.
  if [ -S /var/run/docker.sock ] || ip link show docker0 >/dev/null 2>&1 || grep -qsx dockerd /proc/[0-9]*/comm; then
    extra=(--bridge=none --iptables=false --ip-masq=false)
  fi
  local more=()
  read -r -a more <<<"${SAFEBUILD_DOCKERD_ARGS:-}"
  extra+=(${more[@]+"${more[@]}"} ${dockerd_args[@]+"${dockerd_args[@]}"})
  [ ${#extra[@]} -eq 0 ] || log "dockerd ${extra[*]}"
  # In a session of its own: a Ctrl-C meant for the tests must not stop the engine under them.
  setsid -w dockerd --storage-driver=vfs --data-root="$dir/root" --exec-root="$dir/exec" --pidfile="$dir/docker.pid" \
    -H "unix://$socket" ${extra[@]+"${extra[@]}"} >"$dir/dockerd.log" 2>&1 &
  local pid=$!
  started=1
  local docker; docker=$(client)
  for _ in $(seq 1 150); do
    if DOCKER_HOST="unix://$socket" "$docker" version >/dev/null 2>&1; then break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if ! DOCKER_HOST="unix://$socket" "$docker" version >/dev/null 2>&1; then
    log "dockerd did not answer within 30 s, or exited; its log ($dir/dockerd.log):"
    tail -n 30 "$dir/dockerd.log" >&2
    exit 1
  fi
  if ! DOCKER_HOST="unix://$socket" "$docker" image inspect "$image" >/dev/null 2>&1; then
    import_busybox "$docker"
  fi
  # Members of docker reach the engine, as on a build host: the socket root:docker 0660, its directory passable.
  if getent group docker >/dev/null; then
    chgrp docker "$socket" "$dir"
    chmod 0660 "$socket"
    chmod 0750 "$dir"
  fi
  log "running: pid $(cat "$dir/docker.pid"), socket $socket"
  exports
}

# No registry is reachable: the base image is busybox-static with one link per applet.
import_busybox() {
  local docker=$1 root
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -cf "$dir/busybox.tar" .
  rm -rf "$root"
  DOCKER_HOST="unix://$dir/docker.sock" "$docker" import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' \
    "$dir/busybox.tar" "$image" >/dev/null
  log "imported $image"
}

stop() {
  [ -f "$dir/docker.pid" ] || { log "not running"; return 0; }
  local pid; pid=$(cat "$dir/docker.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "dockerd $pid did not stop in 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/exec/containerd/containerd.pid"
  fi
  rm -f "$dir/docker.pid"
  log "stopped"
}

# with: one engine session around CMD.
child=""
started=0
session_end() {
  local status=$?
  trap - EXIT
  trap '' INT TERM HUP  # a second Ctrl-C must not leave the engine running
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [ "$started" = 1 ]; then stop || true; fi
  if [ "$keep_dir" = 0 ]; then rm -rf "$dir" || log "could not remove $dir"; fi
  exit "$status"
}
# A signal to `with` goes on to CMD; once CMD has ended, `with` exits 128+N (the EXIT trap stops the engine).
on_signal() {
  local signal=$1 status=$2
  if [ -n "$child" ]; then
    kill "-$signal" "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
    child=""
  fi
  exit "$status"
}
with() {
  [ $# -gt 0 ] || usage
  if [ -n "$dir" ]; then
    keep_dir=1
  else
    keep_dir=0
    dir=$(mktemp -d /tmp/sb-engine.XXXXXX)
  fi
  trap session_end EXIT
  trap 'on_signal INT 130' INT
  trap 'on_signal TERM 143' TERM
  trap 'on_signal HUP 129' HUP
  install
  start >/dev/null
  eval "$(exports)"
  export SAFEBUILD_ENGINE_DIR=$dir SAFEBUILD_ENGINE_SESSION=$dir
  # CMD runs in the background so that a signal reaches the trap at once; without job control bash would start it
  # with SIGINT and SIGQUIT ignored and stdin from /dev/null, so both are given back.
  (trap - INT QUIT; exec "$@") 0<&0 &
  child=$!
  local status=0
  wait "$child" || status=$?
  child=""
  exit "$status"
}

cmd=${1:-}
[ $# -eq 0 ] || shift
dir=""
dockerd_args=()
keep_dir=1
while [ $# -gt 0 ]; do
  case $1 in
    --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    --dockerd-arg) [ $# -ge 2 ] || usage; dockerd_args+=("$2"); shift 2 ;;
    --dockerd-arg=*) dockerd_args+=("${1#--dockerd-arg=}"); shift ;;
    --) shift; break ;;
    -*) usage ;;
    *)
      [ "$cmd" != with ] && [ -z "$dir" ] || usage
      dir=$1; shift ;;
  esac
done
[ "$cmd" = with ] || [ $# -eq 0 ] || usage
if [ "$cmd" != with ]; then
  dir=${dir:-${SAFEBUILD_ENGINE_DIR:-/tmp/safebuild-engine}}
  if [ -d "$dir" ]; then dir=$(cd "$dir" && pwd); fi
fi

case "$cmd" in
  with) with "$@" ;;
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) exports ;;
  *) usage ;;
esac
