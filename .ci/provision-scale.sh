#!/usr/bin/env bash
# Makes PostgreSQL and nginx available for the scale-out tier (test/scale/*.scale.ts) on a
# Debian-family host (run as root): installs Debian's `postgresql` and `nginx` packages when
# their programs are missing. Starts nothing and enables no system service: the tier starts its
# own PostgreSQL and nginx on loopback, in temporary directories, and stops them. Idempotent.
set -euo pipefail

log() { echo "provision-scale: $*" >&2; }

have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }

missing=()
have_postgres || missing+=(postgresql)
have_nginx || missing+=(nginx)
if [ ${#missing[@]} -eq 0 ]; then
  log "PostgreSQL and nginx are installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "missing ${missing[*]}; this script needs root to install them"
  exit 1
fi
log "installing ${missing[*]} from the distribution's packages"
export DEBIAN_FRONTEND=noninteractive
# The packages' own services are not wanted (the tier starts its own instances): policy-rc.d
# answers "not allowed" to every service start during the install.
policy=/usr/sbin/policy-rc.d
restore_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  restore_policy=1
fi
trap '[ -n "$restore_policy" ] && rm -f "$policy"' EXIT
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
have_postgres && have_nginx || { log "the install left PostgreSQL or nginx missing"; exit 1; }
log "installed ${missing[*]}"
