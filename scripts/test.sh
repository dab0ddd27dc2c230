#!/usr/bin/env bash
# `npm test` (extra arguments go to Jest: `npm test -- libs/config`). Runs against the
# real local Postgres and Redis, which bootstrap makes sure are there; every test file
# makes its own database and Redis key prefix (test/support), so files run in parallel.
# Writes .jest-results.json for CI (.ci/run); exits non-zero if typecheck or Jest fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/bootstrap.sh

# test/e2e/platform/docker-compose.e2e-spec.ts validates docker-compose.yml with the
# compose CLI. There is no Docker engine here; `config` needs none, only the CLI.
if ! command -v docker-compose >/dev/null && ! docker compose version >/dev/null 2>&1; then
  lk_apt_install docker-compose ||
    echo "test: docker-compose is missing (run npm test as root once, or install it); its test will fail" >&2
fi

# test/e2e/auth-check/nginx-auth-request.e2e-spec.ts puts a real nginx (auth_request)
# in front of an upstream, as deploy/nginx/auth-request.example.conf documents.
if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  lk_apt_install nginx || echo "test: nginx is missing (run npm test as root once, or install it); its test will fail" >&2
fi

# Typecheck everything Jest will load (SWC only strips types, it does not check them).
# A failure is remembered, not fatal: Jest still runs, so CI sees every problem at once.
typecheck=0
echo "test: typecheck (tsc --noEmit)" >&2
npx tsc -p tsconfig.json --noEmit || typecheck=$?

# Type-aware lint (floating promises, exhaustive switches, lib entry points, no
# process.env outside @latchkey/config). Remembered like the typecheck.
lint=0
echo "test: lint (eslint)" >&2
npx eslint . || lint=$?
echo "test: format (prettier --check)" >&2
npx prettier --check . >/dev/null || { npx prettier --list-different . >&2; lint=1; }

# A stale result file must never be read as this run's result.
rm -f .jest-results.json
jest=0
# Two workers suit a 2-core box; every e2e file also starts a whole Nest app.
npx jest --maxWorkers=2 --json --outputFile=.jest-results.json "$@" || jest=$?

if [[ "$typecheck" != 0 ]]; then
  echo "test: typecheck FAILED (see tsc errors above)" >&2
  exit "$typecheck"
fi
if [[ "$lint" != 0 ]]; then
  echo "test: lint FAILED (see eslint errors above)" >&2
  exit "$lint"
fi
exit "$jest"
