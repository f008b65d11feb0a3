#!/usr/bin/env bash
# Builds the Debian package of safebuild, dist/safebuild_VERSION_ARCH.deb, with `dpkg-deb --root-owner-group`.
#
#   bash Scripts/package-deb.sh [--binary PATH] [--compress xz|gzip|zstd|none]
#
#   --binary PATH      package this safebuild instead of building the release binary (Scripts/build-release.sh)
#   --compress TYPE    dpkg-deb's compressor (default xz; the tests use none: the binary is large)
#
# The package holds what Scripts/install.sh --prefix /usr installs: /usr/bin/safebuild, the docker front
# /usr/lib/safebuild/docker-front/docker, the commented host policy /etc/safebuild/policy.yml (a conffile: dpkg keeps
# an administrator's edits), /usr/lib/tmpfiles.d/safebuild.conf and completion for bash, zsh and fish. Its maintainer
# scripts do the rest of install.sh: postinst makes the group docker when it is missing, the journal directory
# /var/log/safebuild root:docker 2770 and /run/safebuild root:docker 0750 with its files 0660 (systemd-tmpfiles, or
# directly); prerm takes away a sudoers rule for /usr/bin/safebuild; postrm removes /run/safebuild, and on purge the
# journal. The package does not grant sudo by itself: the rule is /usr/share/safebuild/sudoers, to be copied to
# /etc/sudoers.d/safebuild (mode 0440) by an administrator who wants members of docker to get the root remedies.
# Prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'package-deb.sh: %s\n' "$*" >&2; }
usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
}

binary=""
compress=xz
while [ $# -gt 0 ]; do
  case $1 in
    --binary) [ $# -ge 2 ] || usage; binary=$2; shift 2 ;;
    --binary=*) binary=${1#--binary=}; shift ;;
    --compress) [ $# -ge 2 ] || usage; compress=$2; shift 2 ;;
    --compress=*) compress=${1#--compress=}; shift ;;
    *) usage ;;
  esac
done
case $compress in xz|gzip|zstd|none) ;; *) usage ;; esac
if [ -z "$binary" ]; then
  say "building the release binary (Scripts/build-release.sh)"
  binary=$(bash Scripts/build-release.sh)
fi
[ -f "$binary" ] && [ -x "$binary" ] || { say "no executable safebuild at $binary"; exit 1; }

version=$("$binary" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
chmod 0755 "$stage"

install -D -m 0755 "$binary" "$root/usr/bin/safebuild"
install -d -m 0755 "$root/usr/lib/safebuild/docker-front"
ln -s /usr/bin/safebuild "$root/usr/lib/safebuild/docker-front/docker"
install -D -m 0644 Config/host/policy.yml "$root/etc/safebuild/policy.yml"
install -D -m 0644 Config/host/tmpfiles.conf "$root/usr/lib/tmpfiles.d/safebuild.conf"
install -d -m 0755 "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/fish/vendor_completions.d" "$root/usr/share/safebuild" "$root/usr/share/doc/safebuild"
"$binary" --generate-completion-script bash >"$root/usr/share/bash-completion/completions/safebuild"
"$binary" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_safebuild"
"$binary" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/safebuild.fish"
cat >"$root/usr/share/safebuild/sudoers" <<'EOF'
# The rule of Scripts/install.sh --with-sudo, for the packaged /usr/bin/safebuild. To let members of the docker group
# run the two remedies that need root (and nothing else), as root:
#   install -o root -g root -m 0440 /usr/share/safebuild/sudoers /etc/sudoers.d/safebuild && visudo -c
Cmnd_Alias SAFEBUILD_REMEDIES = /usr/bin/safebuild remedy drop_caches, /usr/bin/safebuild remedy compact_memory
%docker ALL=(root) NOPASSWD: SAFEBUILD_REMEDIES
EOF
install -m 0644 README.md "$root/usr/share/doc/safebuild/README.md"
find "$root/usr/share" -type f -exec chmod 0644 {} +
find "$root" -type d -exec chmod 0755 {} +

install -d -m 0755 "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<EOF
Package: safebuild
Version: $version
Architecture: $arch
Maintainer: safebuild maintainers <safebuild@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Section: admin
Priority: optional
Recommends: docker.io | docker-ce, sudo
Description: stands in for docker on build servers, protecting docker build and docker run
 safebuild is called instead of docker. It hands every docker command to the real
 docker unchanged, except build and run, which get memory limits from a policy,
 pre-flight checks, classified failures, remedies, bounded retries and a journal.
EOF
echo /etc/safebuild/policy.yml >"$root/DEBIAN/conffiles"

cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# safebuild: the group, the journal directory and the runtime directory, as Scripts/install.sh makes them.
set -e
if [ "$1" = configure ]; then
    getent group docker >/dev/null || groupadd --system docker
    log=/var/log/safebuild
    private=1
    if [ -d "$log" ] && [ ! -L "$log" ]; then
        if [ "$(stat -c %u "$log")" != 0 ] || [ $(( 0$(stat -c %a "$log") & 022 )) != 0 ]; then private=0; fi
    fi
    install -d -o root -g docker -m 2770 "$log"
    chown root:docker "$log"
    chmod 2770 "$log"
    # Files already there get the group and lose access for all only if nobody else could write the directory
    # until now (otherwise one could have been swapped for a symlink).
    if [ "$private" = 1 ]; then
        find "$log" -mindepth 1 -maxdepth 1 -type f -user root -links 1 \
            -exec chgrp docker {} + -exec chmod g+rw,o-rwx {} +
    fi
    if command -v systemd-tmpfiles >/dev/null; then
        systemd-tmpfiles --create /usr/lib/tmpfiles.d/safebuild.conf || true
    fi
    install -d -o root -g docker -m 0750 /run/safebuild
    chown root:docker /run/safebuild
    chmod 0750 /run/safebuild
    for f in remedies.state admission.ledger engine.state; do
        if [ -L "/run/safebuild/$f" ]; then rm -f "/run/safebuild/$f"; fi
        [ -e "/run/safebuild/$f" ] || : >"/run/safebuild/$f"
        chown root:docker "/run/safebuild/$f"
        chmod 0660 "/run/safebuild/$f"
    done
fi
exit 0
EOF
cat >"$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# safebuild: a sudoers rule for the packaged binary (copied from /usr/share/safebuild/sudoers, or made by
# Scripts/install.sh --with-sudo --prefix /usr) would name a file that is going away.
set -e
if [ "$1" = remove ] && [ -f /etc/sudoers.d/safebuild ] && grep -qF '/usr/bin/safebuild remedy' /etc/sudoers.d/safebuild; then
    rm -f /etc/sudoers.d/safebuild
fi
exit 0
EOF
cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# safebuild: the runtime state goes with the package; the journal only on purge.
set -e
case "$1" in
    remove)
        rm -rf /run/safebuild
        ;;
    purge)
        rm -rf /run/safebuild /var/log/safebuild
        rmdir /etc/safebuild 2>/dev/null || true
        ;;
esac
exit 0
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p dist
out=dist/safebuild_${version}_${arch}.deb
dpkg-deb --root-owner-group -Z"$compress" --build "$root" "$out" >&2
echo "$PWD/$out"
