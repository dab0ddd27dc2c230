#!/bin/sh
# Container entry point: migrate, then run the services named in TARGET (default all).
# MIGRATE_ON_START=false skips the migration, for containers that start only after
# another one has migrated (docker-compose.yml lets org-api do it). Replicas that do
# migrate at once are safe: the runner holds a lock, so one migrates and the others wait.
set -e
if [ "${MIGRATE_ON_START:-true}" != "false" ]; then
  node dist/libs/db/src/migrate.js
fi
# exec: Node becomes PID 1's child directly and receives SIGTERM from `docker stop`.
exec node dist/apps/latchkey/src/main.js "$@"
