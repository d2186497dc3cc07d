#!/usr/bin/env bash
# Makes the linux-arm64 release binary runnable on an x86-64 Debian host (run as root): user-mode
# emulation (qemu-user-static) and the arm64 C library (libc6-arm64-cross, in
# /usr/aarch64-linux-gnu), both from the distribution's packages, installed when missing.
# Idempotent; returns at once when both are there.
set -euo pipefail

log() { echo "provision-qemu: $*" >&2; }

if command -v qemu-aarch64-static >/dev/null 2>&1 && [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
  log "qemu-aarch64-static and the arm64 C library are there"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "qemu-user-static and libc6-arm64-cross are missing and this script needs root to install them"
  exit 1
fi
log "installing qemu-user-static and libc6-arm64-cross from the distribution's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends qemu-user-static libc6-arm64-cross >&2
