#!/usr/bin/env bash
# Makes gVisor available to Docker as the runtime "runsc" (isol8's security.runtime "gvisor"),
# run as root on a Debian-family host: installs the distribution's runsc package when it is
# missing, registers it in /etc/docker/daemon.json by merging (every key already there is kept;
# an existing runsc entry keeps its own arguments and gains the ones below), and makes a
# running dockerd reload its runtimes with SIGHUP (never a restart: containers keep running).
# A dockerd started later reads the file itself. Idempotent.
#
# The arguments isol8 needs (src/doctor/checks/gvisor.ts checks the same list):
#   --network=none   isol8 gives sandboxes no network of their own; gVisor's netstack is left off
#   --host-uds=open  filtered mode: the supervisor reaches the proxy's bind-mounted unix socket
#   --oci-seccomp    the container's seccomp profile is enforced inside gVisor too
set -euo pipefail

CONFIG=${ISOL8_DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
ARGS=(--network=none --host-uds=open --oci-seccomp)
log() { echo "provision-gvisor: $*" >&2; }

registered() { # the daemon lists runsc with every argument above
  local info
  info=$(docker info --format '{{json .Runtimes.runsc}}' 2>/dev/null) || return 1
  for arg in "${ARGS[@]}"; do [[ "$info" == *"\"$arg\""* ]] || return 1; done
}

if registered; then
  log "gVisor (runsc) is registered with Docker"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "gVisor is not registered with Docker and this script needs root to install and register it"
  exit 1
fi

if ! command -v runsc >/dev/null 2>&1; then
  log "installing runsc from the distribution's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q runsc >&2
fi
RUNSC=$(command -v runsc)

mkdir -p "$(dirname "$CONFIG")"
# Merge with node (present wherever isol8 builds): a file that is not a JSON object is left
# alone and the script fails, rather than replacing the user's configuration.
node - "$CONFIG" "$RUNSC" "${ARGS[@]}" <<'JS'
const fs = require("node:fs");
const [file, runsc, ...required] = process.argv.slice(2);
let config = {};
if (fs.existsSync(file)) {
  const text = fs.readFileSync(file, "utf8");
  try {
    if (text.trim()) config = JSON.parse(text);
  } catch (error) {
    config = error.message;
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    console.error(`provision-gvisor: cannot merge into ${file}: not a JSON object${typeof config === "string" ? ` (${config})` : ""}; left as it is`);
    process.exit(1);
  }
}
const runtimes = { ...(config.runtimes ?? {}) };
const own = runtimes.runsc ?? {};
const flagName = (arg) => arg.split("=")[0];
const kept = (own.runtimeArgs ?? []).filter((arg) => !required.some((r) => flagName(r) === flagName(arg)));
runtimes.runsc = { ...own, path: own.path ?? runsc, runtimeArgs: [...kept, ...required] };
const next = `${JSON.stringify({ ...config, runtimes }, null, 2)}\n`;
if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === next) process.exit(0);
if (fs.existsSync(file) && !fs.existsSync(`${file}.before-isol8`)) fs.copyFileSync(file, `${file}.before-isol8`);
fs.writeFileSync(`${file}.isol8-tmp`, next);
fs.renameSync(`${file}.isol8-tmp`, file);
JS
log "runsc registered in $CONFIG"

pid=$(cat "${ISOL8_DOCKER_PIDFILE:-/var/run/docker.pid}" 2>/dev/null || true)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
  log "dockerd is not running: it reads $CONFIG when it starts"
  exit 0
fi
log "reloading dockerd's runtimes (SIGHUP to $pid; running containers are not touched)"
kill -HUP "$pid"
for _ in $(seq 1 40); do
  if registered; then
    log "gVisor (runsc) is registered with Docker"
    exit 0
  fi
  sleep 0.25
done
log "dockerd did not pick up runsc from $CONFIG (is the file valid? a runtime given on dockerd's command line with the same name conflicts)"
exit 1
