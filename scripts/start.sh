#!/usr/bin/env bash
# `npm start`: the whole platform in one process (TARGET=all) on http://localhost:3000,
# or any services named in TARGET (e.g. TARGET=org-api npm start). First run installs
# what is missing (node modules, Postgres, Redis), builds, and migrates the database.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/bootstrap.sh

# Build only when a source, tsconfig or the lock file is newer than the last build:
# a no-op start stays instant, a changed file costs one incremental tsc (~6 s).
stamp=dist/.build-stamp
if [[ ! -f "$stamp" ]]; then
  # tsc's incremental state lives in node_modules/.cache; without dist/ it would
  # believe everything is already emitted and write nothing.
  rm -f node_modules/.cache/tsc/build.tsbuildinfo
  needs_build=1
elif [[ -n "$(find apps libs tsconfig.json tsconfig.build.json package-lock.json -newer "$stamp" -print -quit)" ]]; then
  needs_build=1
else
  needs_build=""
fi
if [[ -n "$needs_build" ]]; then
  echo "start: building (npm run build)" >&2
  npm run --silent build
  touch "$stamp"
fi

# Creates the database when missing and applies pending migrations; idempotent.
node dist/libs/db/src/migrate.js

if [[ -z "${SMTP_URL:-}" ]]; then
  echo "start: SMTP_URL is unset: mails (verification, invitations, password resets) are written to the log instead of sent" >&2
fi

# exec: the Node process gets Ctrl-C / SIGTERM directly and shuts down cleanly.
exec node dist/apps/latchkey/src/main.js
