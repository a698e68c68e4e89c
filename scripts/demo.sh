#!/usr/bin/env bash
# `pnpm demo`: ilkkun on the embedded SQLite backend, no server needed.
# Steps: 1 build · 2 a fresh demo store · 3 the CLI · 4 the seed 002 photo app under load · 5 the queues.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 TURBO_NO_UPDATE_NOTIFIER=1

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ilkkun() {
  local shown=() arg
  for arg in "$@"; do [[ $arg =~ ^[A-Za-z0-9_.:/=+-]+$ ]] && shown+=("$arg") || shown+=("'$arg'"); done
  printf '$ ilkkun %s\n' "${shown[*]}"
  node packages/cli/dist/bin.js "$@"
}

say '1. build'
pnpm turbo run build --output-logs=errors-only

say '2. a fresh demo store (SQLite file, no server)'
mkdir -p .ilkkun
rm -f .ilkkun/demo.db .ilkkun/demo.db-wal .ilkkun/demo.db-shm
export ILKKUN_URL=sqlite:./.ilkkun/demo.db
echo "ILKKUN_URL=$ILKKUN_URL"

say '3. the CLI: add jobs by hand (to queues no worker in this demo serves, so they stay waiting)'
ilkkun add emails '{"to":"ada@example.com","template":"welcome"}' --priority 10
ilkkun add reports '{"day":"2026-01-01"}' --unique-key report:2026-01-01
ilkkun add reports '{"day":"2026-01-01"}' --unique-key report:2026-01-01 # same key: not added again
ilkkun stats

say '4. seed 002: 300 photo uploads answered at once; crop, thumbnail and push jobs worked behind them'
node apps/demo/dist/main.js

say '5. the queues afterwards (dead jobs stay for inspection and retry)'
ilkkun stats
