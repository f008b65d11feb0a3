#!/usr/bin/env bash
# Installs safebuild on a build host, as root. Running it again updates and repairs what it installed; it never
# overwrites a host policy an administrator has edited.
#
#   bash Scripts/install.sh [--prefix DIR] [--binary PATH] [--with-sudo]
#   bash Scripts/install.sh --uninstall [--purge] [--prefix DIR]
#
#   --prefix DIR   where to install (default /usr/local)
#   --binary PATH  install this safebuild instead of building the release binary (Scripts/build-release.sh)
#   --with-sudo    also install sudo if it is missing (apt) and /etc/sudoers.d/safebuild, which lets members of the
#                  docker group run exactly `PREFIX/bin/safebuild remedy drop_caches` and `… remedy compact_memory` as
#                  root without a password: the remedies that need root, for builds that do not run as root
#   --uninstall    remove what was installed; keep the journal and the host policy (--purge removes them too)
#
# With PREFIX /usr/local (or /usr) it installs:
#   PREFIX/bin/safebuild
#   PREFIX/lib/safebuild/docker-front/docker   a symlink to it: put this directory first in PATH (README, Install)
#   /etc/safebuild/policy.yml                  a commented host policy (Config/host/policy.yml); an edited one is
#                                              kept, this version's is put beside it as policy.yml.dist
#   /var/log/safebuild                         the journal directory, root:docker 2770 (members create, append and
#                                              rotate; files 0660, never readable by all)
#   /etc/tmpfiles.d/safebuild.conf             /run/safebuild root:docker 0750 with remedies.state,
#                                              admission.ledger and engine.state root:docker 0660 (applied at once,
#                                              and at each boot)
#   PREFIX/share/…                             completion for bash, zsh and fish
#   /etc/sudoers.d/safebuild                   with --with-sudo
# Under any other PREFIX everything stays under it: PREFIX/etc/safebuild/policy.yml (which names the next two),
# PREFIX/var/log/safebuild and PREFIX/run/safebuild (made directly: no tmpfiles.d entry). The binary finds its host
# policy from where it is installed. The group is docker (the docker.io package makes it; made here if missing).
# At the end it runs `safebuild doctor --no-engine`.
set -euo pipefail

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
}

sources=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local
binary=""
with_sudo=0
uninstall=0
purge=0
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --binary) [ $# -ge 2 ] || usage; binary=$2; shift 2 ;;
    --binary=*) binary=${1#--binary=}; shift ;;
    --with-sudo) with_sudo=1; shift ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) usage ;;
    *) usage ;;
  esac
done
[ "$(id -u)" = 0 ] || die "run as root (it installs into $prefix, /etc and /var/log, and sets owners and modes)"
[ "$purge" = 0 ] || [ "$uninstall" = 1 ] || die "--purge goes with --uninstall"
case $prefix in /*) ;; *) die "--prefix needs an absolute path (got '$prefix')" ;; esac
# The sudoers rule names the binary's path: keep it to characters sudoers takes as they are.
[[ $prefix =~ ^[A-Za-z0-9/._+-]+$ ]] || die "--prefix may hold only letters, digits and / . _ + - (got '$prefix')"
while [ "${#prefix}" -gt 1 ] && [ "${prefix%/}" != "$prefix" ]; do prefix=${prefix%/}; done

group=docker
bin=$prefix/bin/safebuild
front=$prefix/lib/safebuild/docker-front
share=$prefix/share
if [ "$prefix" = /usr/local ] || [ "$prefix" = /usr ]; then
  standard=1
  etc=/etc/safebuild
  log=/var/log/safebuild
  run=/run/safebuild
else
  standard=0
  etc=$prefix/etc/safebuild
  log=$prefix/var/log/safebuild
  run=$prefix/run/safebuild
fi
policy=$etc/policy.yml
tmpfiles=/etc/tmpfiles.d/safebuild.conf
sudoers=/etc/sudoers.d/safebuild
completions=("$share/bash-completion/completions/safebuild" "$share/zsh/site-functions/_safebuild"
  "$share/fish/vendor_completions.d/safebuild.fish")

# The runtime directory: root:docker 0750 (only root adds or replaces entries), its files root:docker 0660. Only root
# can write in it, so nothing in it can have been planted: owners and modes are set directly.
runtime_dir() {
  install -d -o root -g "$group" -m 0750 "$run"
  chown root:"$group" "$run"
  chmod 0750 "$run"
  local name
  for name in remedies.state admission.ledger engine.state; do
    if [ -L "$run/$name" ] || { [ -e "$run/$name" ] && [ ! -f "$run/$name" ]; }; then rm -rf "$run/$name"; fi
    [ -e "$run/$name" ] || : >"$run/$name"
    chown root:"$group" "$run/$name"
    chmod 0660 "$run/$name"
  done
}

# The journal directory: root:docker 2770. Files already there are given the group and 0660 only when the directory
# was root's alone until now: in a directory others could write, a file could be swapped for a symlink between the
# look and the chmod, so such files are left as they are (safebuild itself writes new ones 0660).
journal_dir() {
  local was_private=1
  if [ -e "$log" ] || [ -L "$log" ]; then
    [ -d "$log" ] && [ ! -L "$log" ] || die "$log is not a directory"
    [ "$(stat -c %u "$log")" = 0 ] && [ $(( 0$(stat -c %a "$log") & 022 )) = 0 ] || was_private=0
  fi
  install -d -m 0755 "$(dirname "$log")"
  install -d -o root -g "$group" -m 2770 "$log"
  chown root:"$group" "$log"
  chmod 2770 "$log"
  if [ "$was_private" = 1 ]; then
    find "$log" -mindepth 1 -maxdepth 1 -type f -user root -links 1 \
      -exec chgrp "$group" {} + -exec chmod g+rw,o-rwx {} +
  fi
}

host_policy() {
  install -d -m 0755 "$etc"
  local new
  new=$(mktemp)
  sed -e "s|/etc/safebuild/policy.yml|$policy|g" -e "s|/var/log/safebuild|$log|g" -e "s|/run/safebuild|$run|g" \
    "$sources/Config/host/policy.yml" >"$new"
  if [ ! -e "$policy" ]; then
    install -m 0644 "$new" "$policy"
    say "installed the host policy $policy"
  elif cmp -s "$new" "$policy"; then
    rm -f "$policy.dist"
  else
    install -m 0644 "$new" "$policy.dist"
    say "kept $policy as it is (edited); this version's is beside it as $policy.dist"
  fi
  rm -f "$new"
  "$bin" policy check "$policy" >/dev/null || say "warning: $policy does not pass 'safebuild policy check': see above"
}

sudo_rule() {
  if ! command -v sudo >/dev/null || ! command -v visudo >/dev/null; then
    say "installing sudo (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends sudo >/dev/null
  fi
  grep -Eqs '^[@#]includedir[[:space:]]+/etc/sudoers\.d' /etc/sudoers \
    || say "warning: /etc/sudoers does not include /etc/sudoers.d; add '@includedir /etc/sudoers.d' for $sudoers to count"
  local new real
  new=$(mktemp)
  # The path the running binary sees as its own (/proc/self/exe), which is what it asks sudo for.
  real=$(readlink -f "$bin")
  [[ $real =~ ^[A-Za-z0-9/._+-]+$ ]] || die "the binary's real path may hold only letters, digits and / . _ + - (got '$real')"
  cat >"$new" <<EOF
# Installed by safebuild's Scripts/install.sh --with-sudo. Members of the $group group may run the two remedies that
# need root, and nothing else: no other argument, no environment (sudo's env_reset), no password. safebuild runs
# them itself (sudo -n) when a build that does not run as root needs them; each run is recorded in the host journal.
Cmnd_Alias SAFEBUILD_REMEDIES = $real remedy drop_caches, $real remedy compact_memory
%$group ALL=(root) NOPASSWD: SAFEBUILD_REMEDIES
EOF
  visudo -cqf "$new" || { rm -f "$new"; die "visudo refused the rule for $sudoers"; }
  install -d -m 0750 /etc/sudoers.d
  install -o root -g root -m 0440 "$new" "$sudoers"
  rm -f "$new"
  say "installed $sudoers: %$group may run '$real remedy drop_caches' and '… compact_memory' as root"
}

do_install() {
  if ! getent group "$group" >/dev/null; then
    groupadd --system "$group"
    say "made the group $group (the docker package uses it for the docker socket)"
  fi
  if [ -z "$binary" ]; then
    say "building the release binary (Scripts/build-release.sh)"
    binary=$(bash "$sources/Scripts/build-release.sh")
  fi
  [ -f "$binary" ] && [ -x "$binary" ] || die "no executable safebuild at $binary"
  install -d -m 0755 "$prefix/bin"
  if [ ! "$binary" -ef "$bin" ]; then
    install -m 0755 "$binary" "$bin.new"
    mv -f "$bin.new" "$bin"
  fi
  install -d -m 0755 "$front"
  ln -sfn "$bin" "$front/docker"

  host_policy
  journal_dir
  if [ "$standard" = 1 ]; then
    install -d -m 0755 "$(dirname "$tmpfiles")"
    install -m 0644 "$sources/Config/host/tmpfiles.conf" "$tmpfiles"
    if command -v systemd-tmpfiles >/dev/null; then systemd-tmpfiles --create "$tmpfiles" || true; fi
  else
    install -d -m 0755 "$(dirname "$run")"
  fi
  runtime_dir

  local shell file
  for shell in bash zsh fish; do
    case $shell in
      bash) file=${completions[0]} ;;
      zsh) file=${completions[1]} ;;
      fish) file=${completions[2]} ;;
    esac
    install -d -m 0755 "$(dirname "$file")"
    "$bin" --generate-completion-script "$shell" >"$file.new"
    chmod 0644 "$file.new"
    mv -f "$file.new" "$file"
  done

  if [ "$with_sudo" = 1 ]; then sudo_rule; fi

  say "installed $bin ($("$bin" --version)); the docker front is $front/docker"
  say "safebuild doctor --no-engine:"
  "$bin" doctor --no-engine || true
}

do_uninstall() {
  rm -f "$bin" "$bin.new" "$front/docker" "${completions[@]}"
  rmdir "$front" "$prefix/lib/safebuild" 2>/dev/null || true
  if [ -f "$sudoers" ] && grep -qF "$(readlink -f "$(dirname "$bin")")/safebuild remedy" "$sudoers"; then rm -f "$sudoers"; fi
  if [ "$standard" = 1 ]; then rm -f "$tmpfiles"; fi
  rm -rf "$run"
  if [ "$purge" = 1 ]; then
    rm -f "$policy" "$policy.dist"
    rmdir "$etc" 2>/dev/null || true
    rm -rf "$log"
    say "removed safebuild, its host policy and its journal"
  else
    rm -f "$policy.dist"
    say "removed safebuild; kept $policy and the journal $log (--purge removes them)"
  fi
}

if [ "$uninstall" = 1 ]; then do_uninstall; else do_install; fi
