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

# test/e2e/platform/pgbouncer.e2e-spec.ts runs every service through a real PgBouncer in
# transaction mode (test/support/own-pgbouncer.ts starts its own, on a free port).
if ! command -v pgbouncer >/dev/null && [[ ! -x /usr/sbin/pgbouncer ]]; then
  lk_apt_install pgbouncer || echo "test: pgbouncer is missing (run npm test as root once, or install it); its test will fail" >&2
fi

# test/e2e/console/ drives the web console in a real headless Chromium (playwright-core,
# never a downloaded browser: Debian's package, as for nginx).
if [[ ! -x /usr/bin/chromium ]]; then
  lk_apt_install chromium || echo "test: chromium is missing (run npm test as root once, or install it); the console's browser tests will fail" >&2
fi

# The console's e2e tests load what org-api serves: this checkout's build of apps/console.
echo "test: build the console (npm run build:console)" >&2
npm run --silent build:console

# Typecheck everything Jest will load (SWC only strips types, it does not check them).
# A failure is remembered, not fatal: Jest still runs, so CI sees every problem at once.
typecheck=0
echo "test: typecheck (tsc --noEmit)" >&2
npx tsc -p tsconfig.json --noEmit || typecheck=$?
# The console has its own tsconfig (DOM, JSX); the root one leaves apps/console/ out.
npx tsc -p apps/console/tsconfig.json || typecheck=$?

# Type-aware lint (floating promises, exhaustive switches, lib entry points, no
# process.env outside @latchkey/config). Remembered like the typecheck.
lint=0
echo "test: lint (eslint)" >&2
npx eslint . || lint=$?
echo "test: format (prettier --check)" >&2
npx prettier --check . >/dev/null || { npx prettier --list-different . >&2 || true; lint=1; }

# A stale result file must never be read as this run's result.
rm -f .jest-results.json .jest-results-*.json
jest=0
# Every tier on Node 24, the production runtime (Dockerfile); the unit and integration
# tiers again on the system Node when it is older, the lowest version `engines` allows.
# Two workers suit a 2-core box; every e2e file also starts a whole Nest app.
source scripts/node24.sh
if node24="$(lk_node24)"; then
  echo "test: jest on Node $("$node24" --version)" >&2
  "$node24" node_modules/.bin/jest --maxWorkers=2 --json --outputFile=.jest-results-node24.json "$@" || jest=$?
else
  echo "test: could not fetch Node 24; every tier runs on the system Node only" >&2
  # CI must prove the production runtime: there, not having it is a failure.
  [[ "${CI:-}" == "true" ]] && jest=1
  npx jest --maxWorkers=2 --json --outputFile=.jest-results-node24.json "$@" || jest=$?
fi
results=(.jest-results-node24.json)
if [[ "$(node -p 'process.versions.node.split(".")[0]')" -lt 24 && $# -eq 0 ]]; then
  echo "test: unit and integration tiers on the system Node $(node --version)" >&2
  npx jest --maxWorkers=2 --selectProjects unit integration --json --outputFile=.jest-results-system-node.json || jest=$?
  results+=(.jest-results-system-node.json)
fi
# One result file for .ci/run, the counts of every run added up; a run that wrote no
# result could not start at all and counts as a failed suite.
node -e '
  const fs = require("node:fs");
  const [out, ...inputs] = process.argv.slice(1);
  const fields = ["numPassedTests", "numFailedTests", "numRuntimeErrorTestSuites", "numTotalTests"];
  const merged = Object.fromEntries(fields.map((field) => [field, 0]));
  for (const input of inputs) {
    try {
      const result = JSON.parse(fs.readFileSync(input, "utf8"));
      for (const field of fields) merged[field] += result[field];
    } catch {
      merged.numRuntimeErrorTestSuites += 1;
    }
  }
  fs.writeFileSync(out, JSON.stringify(merged));
' .jest-results.json "${results[@]}"

if [[ "$typecheck" != 0 ]]; then
  echo "test: typecheck FAILED (see tsc errors above)" >&2
  exit "$typecheck"
fi
if [[ "$lint" != 0 ]]; then
  echo "test: lint FAILED (see eslint errors above)" >&2
  exit "$lint"
fi
exit "$jest"
