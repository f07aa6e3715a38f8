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

# A daemon killed with SIGKILL leaves pid files and sockets behind; dockerd and containerd
# refuse to start (or clients talk to a dead socket) until they are gone.
for pidfile in /var/run/docker.pid /run/docker/containerd/containerd.pid; do
  if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; then
    rm -f "$pidfile"
  fi
done
if ! pgrep -x dockerd >/dev/null 2>&1; then
  rm -f /var/run/docker.sock /run/docker/containerd/containerd.sock \
        /run/docker/containerd/containerd-debug.sock
  echo "docker-engine: starting dockerd (log: $log)"
  nohup dockerd --bridge=none --iptables=false --ip6tables=false >"$log" 2>&1 &
fi

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
