#!/usr/bin/env bash
# Build a Debian minbase image with debootstrap and `docker import`: no registry is needed.
# Skipped when the image exists. Kinds:
#   target   the Molecule/demo target (python3, ca-certificates; no nginx): mtls-nginx-target:<suite>
#   ssh      the same with an SSH server, a host as AWX reaches it (make test-ee): mtls-nginx-target:<suite>-ssh
#   ee-base  the execution environment's base (python3, pip, an SSH client): mtls-ee-base:<suite>
# Usage: scripts/build-image.sh [suite [kind]]   (default: bookworm target)
set -euo pipefail

suite=${1:-bookworm}
kind=${2:-target}
case "$kind" in
  target) packages=python3,ca-certificates; default_image=mtls-nginx-target:$suite ;;
  ssh) packages=python3,ca-certificates,openssh-server; default_image=mtls-nginx-target:$suite-ssh ;;
  ee-base) packages=python3,python3-pip,ca-certificates,openssh-client; default_image=mtls-ee-base:$suite ;;
  *) echo "build-image: unknown kind $kind (target, ssh or ee-base)" >&2; exit 2 ;;
esac
image=$default_image
[ "$kind" = target ] && image=${MTLS_TARGET_IMAGE:-$default_image}

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
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
  >"$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
# Keep the image small and its apt lists fresh enough for the role's install step.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["sleep", "infinity"]' \
  --change 'ENV LANG=C.UTF-8' - "$image" >/dev/null
echo "build-image: built $image"
