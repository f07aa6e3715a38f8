#!/usr/bin/env bash
# Build the Molecule/demo target image (Debian minbase + python3 + ca-certificates, no nginx)
# with debootstrap and `docker import`: no registry is needed. Skipped when the image exists.
# Usage: scripts/build-image.sh [suite]   (default: bookworm)
set -euo pipefail

suite=${1:-bookworm}
image=${MTLS_TARGET_IMAGE:-mtls-nginx-target:$suite}

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "build-image: $image exists, nothing to do"
  exit 0
fi

# The mirror comes from this machine's own apt configuration, never a hard-coded host.
mirror_from_apt_sources() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ && !/security/ {print $2; exit}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  if [ -f /etc/apt/sources.list ]; then
    awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' \
      /etc/apt/sources.list
  fi
}
mirror=${MTLS_DEBIAN_MIRROR:-$(mirror_from_apt_sources)}
if [ -z "$mirror" ]; then
  echo "build-image: no Debian mirror found in /etc/apt/sources.list{,.d}; set MTLS_DEBIAN_MIRROR" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

rootfs=$(mktemp -d /tmp/mtls-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "build-image: debootstrap $suite from $mirror"
debootstrap --variant=minbase --include=python3,ca-certificates "$suite" "$rootfs" "$mirror" \
  >"$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
# Keep the image small and its apt lists fresh enough for the role's install step.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["sleep", "infinity"]' \
  --change 'ENV LANG=C.UTF-8' - "$image" >/dev/null
echo "build-image: built $image"
