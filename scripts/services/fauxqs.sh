# shellcheck shell=bash
# fauxqs (SQS emulator) for @ilkkun/sqs, loopback only.
# Facts (shared/research/test-servers.md §2): fauxqs 2.x needs Node >= 22.5, so a 1.x release is
# pinned (1.13.0 is the last 1.x upstream, but the npm registry reachable here serves only 1.9.2,
# the version the research tested). Its CLI binds 0.0.0.0, so fauxqs-launcher.mjs calls the
# exported buildApp() and listens on 127.0.0.1. It is installed outside the workspace
# (FAUXQS_PREFIX) so the pnpm lockfile never sees it. In-memory: a restart loses every queue.
SVC_PORT=4566
SVC_TIMEOUT=20
SVC_ENV=ILKKUN_SQS_URL
SVC_URL='sqs://127.0.0.1:4566?region=us-east-1&tls=false'
FAUXQS_VERSION=1.9.2
FAUXQS_PREFIX="${ILKKUN_FAUXQS_PREFIX:-/var/tmp/ilkkun-fauxqs}"
FAUXQS_LAUNCHER="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fauxqs-launcher.mjs"
FAUXQS_PID_FILE="$SERVICES_STATE/run/fauxqs.pid"
SVC_START_CMD="nohup node $FAUXQS_LAUNCHER $FAUXQS_PREFIX $SVC_PORT >>$SERVICES_LOG_DIR/fauxqs-server.log 2>&1 &"

svc_healthy() { timeout 3 curl -fsS "http://127.0.0.1:$SVC_PORT/health" 2>/dev/null | grep -q '"ok"'; }

# Installed = the pinned version is in the prefix (an older or newer one is replaced).
svc_installed() {
  grep -q "\"version\": \"$FAUXQS_VERSION\"" "$FAUXQS_PREFIX/node_modules/fauxqs/package.json" 2>/dev/null
}

svc_install() {
  command -v node >/dev/null && command -v npm >/dev/null || {
    echo 'fauxqs: node and npm are needed' >&2
    return 1
  }
  mkdir -p "$FAUXQS_PREFIX"
  [[ -f $FAUXQS_PREFIX/package.json ]] || echo '{"private":true,"type":"module"}' >"$FAUXQS_PREFIX/package.json"
  timeout 300 npm install --prefix "$FAUXQS_PREFIX" --no-audit --no-fund --no-save --loglevel=error "fauxqs@$FAUXQS_VERSION"
}

# Background process with a pid file; the pid file lets a later run tell our server from a stranger.
svc_start() {
  mkdir -p "$(dirname "$FAUXQS_PID_FILE")" "$SERVICES_LOG_DIR"
  nohup node "$FAUXQS_LAUNCHER" "$FAUXQS_PREFIX" "$SVC_PORT" >>"$SERVICES_LOG_DIR/fauxqs-server.log" 2>&1 </dev/null &
  echo $! >"$FAUXQS_PID_FILE"
}
