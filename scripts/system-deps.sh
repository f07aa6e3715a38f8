#!/usr/bin/env bash
# Install the Debian packages that `make test` needs and the machine lacks, so that the README's
# two commands are the whole setup on a fresh machine:
#   docker.io, debootstrap   the engine and the target images (scripts/docker-engine.sh, build-image.sh)
#   python3-venv             the virtual environments
#   openssl, curl            the tests' independent checks
#   libnss3-tools, default-jre-headless, chromium
#                            the clients the kit tests import each user's bundles into
#   redis-tools              redis-cli and the Redis server behind the TCP-service test
#   (and shellcheck)         ansible-test sanity checks the shell scripts with it
# Usage: scripts/system-deps.sh [package ...]   (default: all of the above)
set -euo pipefail

packages=("$@")
if [ ${#packages[@]} -eq 0 ]; then
  packages=(docker.io debootstrap python3-venv openssl curl make libnss3-tools
            default-jre-headless chromium redis-tools shellcheck)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing Debian packages: ${missing[*]}; run as root or install them:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
