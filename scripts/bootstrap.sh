#!/usr/bin/env bash
# Makes this checkout runnable: node dependencies installed, Postgres and Redis answering
# at DATABASE_URL / REDIS_URL. Called (or sourced) by scripts/start.sh and scripts/test.sh.
#
# Fast path first: when everything already answers this costs two ~50 ms probes and no
# apt call, so it can run before every `npm start` / `npm test`.
#
# Order of escalation for each of Postgres and Redis:
#   answers                              -> nothing to do
#   installed but stopped, URL is local  -> start it
#   missing, URL is local, we are root   -> apt-get install it, then start it
#   anything else                        -> stop with a message saying what to set or run
set -euo pipefail

LK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The same defaults as libs/config/src/env.schema.ts (docs/configuration.md#variables).
: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/latchkey}"
: "${REDIS_URL:=redis://127.0.0.1:6379}"
export DATABASE_URL REDIS_URL

lk_log() { echo "bootstrap: $*" >&2; }

lk_fail() {
  cat >&2 <<MSG
bootstrap: $*

Latchkey needs PostgreSQL and Redis. Either
  - point DATABASE_URL (now: $(lk_redact "$DATABASE_URL")) and REDIS_URL (now: $(lk_redact "$REDIS_URL"))
    at servers that are running, or
  - start the ones in docker-compose.yml:  docker compose up -d postgres redis
    (copy .env.example to .env first), then
    DATABASE_URL=postgres://postgres:<POSTGRES_PASSWORD>@127.0.0.1:5432/latchkey, or
  - run this script as root on Debian/Ubuntu, and it installs and starts them itself.
MSG
  exit 1
}

# Never print a password that may sit in a URL.
lk_redact() { sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"; }

# Host and port of a URL, as "host port" (node's URL parser knows IPv6 brackets and defaults).
lk_host_port() {
  node -e '
    const u = new URL(process.argv[1]);
    const fallback = { "postgres:": 5432, "postgresql:": 5432, "redis:": 6379, "rediss:": 6379 }[u.protocol];
    console.log(u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1", u.port || fallback);
  ' "$1" 2>/dev/null
}

# Does a real server of this kind answer at host:port within 2 s? A TCP connect is not
# enough (any process could hold the port), so speak one message of each protocol:
# Postgres answers an SSLRequest with one byte, 'S' or 'N'; Redis answers PING with
# +PONG (or -NOAUTH when it wants a password, which still proves it is Redis).
lk_probe() { # kind host port
  node -e '
    const [kind, host, port] = process.argv.slice(1);
    const net = require("node:net");
    const socket = net.connect({ host, port: Number(port) });
    const done = (ok) => { socket.destroy(); process.exit(ok ? 0 : 1); };
    socket.setTimeout(2000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => {
      if (kind === "postgres") socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
      else socket.write("PING\r\n");
    });
    socket.once("data", (data) => {
      const first = data.toString("latin1", 0, 1);
      done(kind === "postgres" ? first === "S" || first === "N" : first === "+" || first === "-");
    });
  ' "$@"
}

lk_is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]; }

lk_wait_for() { # kind host port
  for _ in $(seq 1 40); do
    lk_probe "$@" && return 0
    sleep 0.5
  done
  return 1
}

# apt-get update at most once per run: it is the slow part, and a second one buys nothing.
LK_APT_UPDATED="${LK_APT_UPDATED:-}"
lk_apt_install() { # package...
  [[ "$(id -u)" == 0 ]] || return 1
  command -v apt-get >/dev/null || return 1
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z "$LK_APT_UPDATED" ]]; then
    lk_log "apt-get update"
    apt-get update -qq >&2
    LK_APT_UPDATED=1
  fi
  lk_log "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >&2
}

# --- node dependencies -----------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install, so comparing it with
# package-lock.json tells whether the lock changed since (a git pull, a new dependency).
lk_ensure_node_modules() {
  if [[ ! -f "$LK_ROOT/node_modules/.package-lock.json" || "$LK_ROOT/package-lock.json" -nt "$LK_ROOT/node_modules/.package-lock.json" ]]; then
    lk_log "installing node dependencies (npm ci)"
    if ! (cd "$LK_ROOT" && npm ci --no-audit --no-fund); then
      # npm ci refuses a lock file that lacks entries for other platforms' optional
      # binaries (@swc/core-darwin-*, ...; npm/cli#4828), which is what a registry
      # mirror serving only Linux packages produces. `npm install --no-save` installs
      # the same locked versions and leaves package.json and package-lock.json as they are.
      lk_log "npm ci failed; installing the locked versions with npm install --no-save"
      (cd "$LK_ROOT" && npm install --no-save --no-audit --no-fund)
    fi
  fi
}

# --- PostgreSQL --------------------------------------------------------------------------
lk_postgres_version() { ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1; }

# A cluster this script created gets passwordless TCP access from this machine only, so
# the default DATABASE_URL (postgres@127.0.0.1, no password) works, as on a developer box.
# Clusters someone else set up are never reconfigured.
lk_trust_loopback() { # version
  local hba="/etc/postgresql/$1/main/pg_hba.conf"
  [[ -f "$hba" ]] || return 0
  sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
}

lk_ensure_postgres() {
  local host port version created=""
  read -r host port < <(lk_host_port "$DATABASE_URL") || lk_fail "DATABASE_URL is not a URL."
  lk_probe postgres "$host" "$port" && return 0
  lk_is_local "$host" || lk_fail "PostgreSQL does not answer at $host:$port (DATABASE_URL)."

  if ! command -v pg_ctlcluster >/dev/null || [[ -z "$(lk_postgres_version)" ]]; then
    lk_apt_install postgresql || lk_fail "PostgreSQL is not installed and this is not a root shell on Debian/Ubuntu."
    created=1 # the package creates cluster 'main'
  fi
  version="$(lk_postgres_version)"
  if [[ ! -d "/etc/postgresql/$version/main" ]]; then
    # The package is there but its cluster is not (e.g. an image that dropped it).
    lk_log "creating PostgreSQL $version cluster 'main' on port $port"
    pg_createcluster --port "$port" "$version" main >&2
    created=1
  fi
  [[ -z "$created" ]] || lk_trust_loopback "$version"

  if lk_probe postgres "$host" "$port"; then
    # The package's post-install already started it (systemd machines): apply pg_hba.
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload >&2
  else
    lk_log "starting PostgreSQL $version/main"
    # --skip-systemctl-redirect: works with or without systemd (containers have none).
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 ||
      lk_fail "Could not start PostgreSQL $version/main (is it running on a port other than $port?)."
  fi
  lk_wait_for postgres "$host" "$port" || lk_fail "PostgreSQL was started but does not answer at $host:$port (DATABASE_URL)."
  lk_log "PostgreSQL answers at $host:$port"
}

# --- Redis -------------------------------------------------------------------------------
lk_ensure_redis() {
  local host port
  read -r host port < <(lk_host_port "$REDIS_URL") || lk_fail "REDIS_URL is not a URL."
  lk_probe redis "$host" "$port" && return 0
  lk_is_local "$host" || lk_fail "Redis does not answer at $host:$port (REDIS_URL)."

  if ! command -v redis-server >/dev/null; then
    lk_apt_install redis-server || lk_fail "Redis is not installed and this is not a root shell on Debian/Ubuntu."
    # On systemd machines the package starts its own service on 6379.
    lk_probe redis "$host" "$port" && return 0
  fi
  lk_log "starting Redis on port $port"
  # A throw-away development Redis: no persistence, loopback only. (Production Redis
  # needs persistence and noeviction for BullMQ; see docker-compose.yml.)
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no >&2
  lk_wait_for redis "$host" "$port" || lk_fail "Redis was started but does not answer at $host:$port (REDIS_URL)."
  lk_log "Redis answers at $host:$port"
}

lk_bootstrap() {
  command -v node >/dev/null || { echo "bootstrap: Node.js 20 or newer is required (https://nodejs.org)" >&2; exit 1; }
  lk_ensure_node_modules
  lk_ensure_postgres
  lk_ensure_redis
}

lk_bootstrap
