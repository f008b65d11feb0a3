#!/usr/bin/env bash
# The test bed: a private Docker engine for safebuild's tests, on a fresh Debian machine.
#
#   Scripts/engine.sh install        apt packages the tests need (docker.io, busybox-static, hyperfine, time)
#   Scripts/engine.sh start [DIR]    start dockerd with its own data root under DIR, import the busybox base image,
#                                    print `export DOCKER_HOST=…` lines for the caller to eval
#   Scripts/engine.sh stop [DIR]     stop that dockerd by its pid (SIGTERM, then SIGKILL)
#   Scripts/engine.sh env [DIR]      print the export lines again
#
# DIR defaults to $SAFEBUILD_ENGINE_DIR or /tmp/safebuild-engine. The engine never uses the system socket
# (/var/run/docker.sock), so it can run beside another daemon. Socket paths must stay under 108 bytes.
set -euo pipefail

cmd=${1:-}
dir=${2:-${SAFEBUILD_ENGINE_DIR:-/tmp/safebuild-engine}}
image=safebuild-test/busybox:latest

log() { printf 'engine: %s\n' "$*" >&2; }

install() {
  local missing=()
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
  if [ "${pip_missing:-0}" = 1 ]; then
    log "installing prometheus-client (PyPI)"
    python3 -m pip install -q prometheus-client >/dev/null
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
}

start() {
  mkdir -p "$dir"
  if [ -f "$dir/docker.pid" ] && kill -0 "$(cat "$dir/docker.pid")" 2>/dev/null; then
    log "already running (pid $(cat "$dir/docker.pid"))"
    exports
    return
  fi
  # A kill -9 leaves containerd's pid file behind, and the next start then times out.
  rm -f "$dir/exec/containerd/containerd.pid" "$dir/docker.pid" "$dir/docker.sock"
  local extra=()
  # Beside another daemon (the system's, or another private one, which may own docker0 or may have lost it), run
  # without a bridge of our own: two daemons managing one docker0 break each other's containers.
  if [ -S /var/run/docker.sock ] || ip link show docker0 >/dev/null 2>&1 || grep -qsx dockerd /proc/[0-9]*/comm; then
    extra=(--bridge=none --iptables=false --ip-masq=false)
  fi
  dockerd --storage-driver=vfs --data-root="$dir/root" --exec-root="$dir/exec" --pidfile="$dir/docker.pid" \
    -H "unix://$dir/docker.sock" "${extra[@]}" >"$dir/dockerd.log" 2>&1 &
  local docker; docker=$(client)
  for _ in $(seq 1 150); do
    if DOCKER_HOST="unix://$dir/docker.sock" "$docker" version >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  if ! DOCKER_HOST="unix://$dir/docker.sock" "$docker" version >/dev/null 2>&1; then
    log "dockerd did not answer within 30 s; its log:"
    tail -n 30 "$dir/dockerd.log" >&2
    exit 1
  fi
  if ! DOCKER_HOST="unix://$dir/docker.sock" "$docker" image inspect "$image" >/dev/null 2>&1; then
    import_busybox "$docker"
  fi
  log "running: pid $(cat "$dir/docker.pid"), socket $dir/docker.sock"
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

case "$cmd" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) exports ;;
  *) echo "usage: $0 install|start|stop|env [DIR]" >&2; exit 64 ;;
esac
