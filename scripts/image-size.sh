#!/usr/bin/env bash
# Measures what the runtime stage of packaging/Dockerfile weighs without a container engine: a
# Debian 12 minbase root made by debootstrap with debian:12-slim's dpkg excludes stands in for the
# base image, then the stage's steps are replayed in it with chroot (the cvagent user, the SDK
# excluded, the .deb installed with ca-certificates and curl, apt lists removed). Prints the base
# and final sizes. Needs root, debootstrap and a Debian mirror.
#
#   scripts/image-size.sh path/to/cvagent_<version>_amd64.deb [MIRROR]
set -euo pipefail
deb=$(realpath "${1:?usage: image-size.sh CVAGENT_DEB [MIRROR]}")
mirror=${2:-http://deb.debian.org/debian}
root=$(mktemp -d /tmp/cvagent-image.XXXXXX)
cleanup() {
  for m in proc dev; do umount "$root/rootfs/$m" 2>/dev/null || true; done
  rm -rf "$root"
}
trap cleanup EXIT
rootfs=$root/rootfs
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
# What the slim images exclude (debuerreotype's slimify list).
printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
  'path-exclude /usr/share/man/*' 'path-exclude /usr/share/groff/*' 'path-exclude /usr/share/info/*' \
  'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
  'path-exclude /usr/share/lintian/*' 'path-exclude /usr/share/linda/*' \
  >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$root/debootstrap.log" 2>&1 ||
  { tail -20 "$root/debootstrap.log" >&2; exit 1; }
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
size() { du -sb --exclude=proc --exclude=dev "$rootfs" | cut -f1; }
base=$(size)
mount -t proc proc "$rootfs/proc"
mount --bind /dev "$rootfs/dev"
cp "$deb" "$rootfs/tmp/"
chroot "$rootfs" /bin/bash -euc '
  groupadd --system --gid 10001 cvagent
  useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/cvagent --no-create-home \
    --shell /usr/sbin/nologin cvagent
  printf "%s\n" "path-exclude=/usr/include/cvagent/*" "path-exclude=/usr/lib/*/cmake/cvagent/*" \
    "path-exclude=/usr/lib/*/libcvagent_plugin_api.a" >/etc/dpkg/dpkg.cfg.d/cvagent-no-sdk
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends /tmp/cvagent_*.deb ca-certificates curl >/dev/null
  rm -rf /var/lib/apt/lists/* /tmp/cvagent_*.deb /var/cache/apt/archives/*.deb /var/cache/apt/*.bin
  test ! -e /usr/include/cvagent/plugin.h  # the SDK left out
  cvagent --version | head -1
' >"$root/chroot.log" 2>&1 || { tail -20 "$root/chroot.log" >&2; exit 1; }
umount "$rootfs/proc" "$rootfs/dev"
final=$(size)
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "base (debian 12 minbase, slim excludes): $(mib "$base")"
echo "runtime image (base + cvagent .deb + ca-certificates + curl): $(mib "$final")"
echo "added by cvagent and its libraries: $(mib $((final - base)))"
echo "cvagent: $(tail -1 "$root/chroot.log")"
