#!/usr/bin/env bash
# Makes a Docker engine available on a Debian-family host (run as root):
# installs docker.io from the distribution's packages when missing, starts the daemon
# when it is not running (clearing pid files a killed daemon left behind), and waits
# until it answers. Idempotent; returns at once when Docker already answers.
set -euo pipefail

log() { echo "provision-docker: $*" >&2; }

if docker info >/dev/null 2>&1; then
  log "Docker is up"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "Docker is not reachable and this script needs root to install or start it"
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io from the distribution's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q docker.io >&2
fi

started=""
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl start docker >/dev/null 2>&1 && started=systemd || true
fi

if [ -z "$started" ] && ! docker info >/dev/null 2>&1; then
  # A killed daemon leaves pid files behind that stop the next one from starting. A pid
  # file is stale unless its process is alive (not a zombie) and is that daemon.
  running() { # pid name
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)
    [ "$state" != Z ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
  }
  for entry in /var/run/docker.pid:dockerd /run/docker.pid:dockerd \
    /var/run/docker/containerd/containerd.pid:containerd /run/containerd/containerd.pid:containerd; do
    pidfile=${entry%%:*}
    name=${entry##*:}
    if [ -f "$pidfile" ] && ! running "$(cat "$pidfile" 2>/dev/null)" "$name"; then
      log "removing stale $pidfile"
      rm -f "$pidfile"
    fi
  done
  log "starting dockerd (log: /var/log/isol8-dockerd.log)"
  nohup dockerd >/var/log/isol8-dockerd.log 2>&1 </dev/null &
  started=dockerd
fi

for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    log "Docker is up ($started)"
    exit 0
  fi
  sleep 0.5
done
log "dockerd did not answer within 60 s; last lines of its log:"
tail -n 20 /var/log/isol8-dockerd.log >&2 || true
exit 1
