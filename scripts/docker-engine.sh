#!/usr/bin/env bash
# Ensure a Docker engine answers on this machine (no systemd, no registry, no bridge).
# Installs Debian's docker.io when dockerd is missing, clears state left by a daemon that was
# killed uncleanly, starts dockerd in the background and waits until `docker info` answers.
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/mtls-dockerd.log}
timeout_s=${DOCKERD_TIMEOUT:-60}

if docker info >/dev/null 2>&1; then
  echo "docker-engine: engine already answering"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker-engine: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

# Live (not zombie) dockerd processes.
live_dockerd() {
  local pid
  for pid in $(pidof dockerd 2>/dev/null); do
    [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" = "Z" ] || echo "$pid"
  done
}

# A daemon that is still starting gets some time; one that never answers is replaced.
if [ -n "$(live_dockerd)" ]; then
  for _ in $(seq 1 20); do docker info >/dev/null 2>&1 && { echo "docker-engine: engine ready"; exit 0; }; sleep 1; done
  echo "docker-engine: dockerd runs but does not answer; restarting it"
  read -r -a stuck <<<"$(live_dockerd | tr '\n' ' ') $(pidof containerd 2>/dev/null)"
  kill -9 "${stuck[@]}" 2>/dev/null || true
fi

# A daemon killed uncleanly (CI ends every process before it runs) leaves pid files and
# sockets behind; dockerd and its containerd refuse to start, or clients talk to a dead
# socket, until they are gone. No daemon runs now, so all of them are stale.
rm -f /var/run/docker.pid /var/run/docker.sock \
      /run/docker/containerd/containerd.pid /run/docker/containerd/containerd.sock \
      /run/docker/containerd/containerd-debug.sock
echo "docker-engine: starting dockerd (log: $log)"
nohup dockerd --bridge=none --iptables=false --ip6tables=false >"$log" 2>&1 </dev/null &

for _ in $(seq 1 "$timeout_s"); do
  if docker info >/dev/null 2>&1; then
    echo "docker-engine: engine ready ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
echo "docker-engine: dockerd did not answer within ${timeout_s}s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
