# shellcheck shell=bash
# Debian's Chromium for @ilkkun/dashboard's end-to-end tests, driven by playwright-core with
# executablePath /usr/bin/chromium (a test tool's own browser download cannot work here).
# Not a server: nothing listens, so this file replaces lib.sh's ensure_service with an
# install-and-check, like theschwartz.sh. apt_install runs `apt-get update` once per run.
SVC_PORT=
SVC_TIMEOUT=
SVC_ENV=
SVC_URL=
SVC_START_CMD='(a browser the tests launch themselves: nothing to start)'
CHROMIUM_BIN=/usr/bin/chromium

# Bounded: a broken install must fail the check, not hang the test run.
svc_healthy() { [[ -x $CHROMIUM_BIN ]] && timeout 30 "$CHROMIUM_BIN" --version >/dev/null 2>&1; }
svc_installed() { svc_healthy; }
# fonts-liberation: readable text in the screenshots (Chromium falls back to it for sans-serif)
svc_install() { apt_install chromium fonts-liberation; }

ensure_service() {
  local name=$1 log="$SERVICES_LOG_DIR/$1.log"
  mkdir -p "$SERVICES_LOG_DIR"
  if svc_healthy; then
    svc_log "$name: installed ($("$CHROMIUM_BIN" --version 2>/dev/null))"
    return 0
  fi
  svc_log "$name: not installed; installing Debian's chromium"
  svc_install >>"$log" 2>&1 || {
    svc_log "$name: FAILED to install (log: $log)"
    tail -n 20 "$log" >&2 || true
    return 1
  }
  if ! svc_healthy; then
    svc_log "$name: FAILED: installed, but $CHROMIUM_BIN --version does not run"
    return 1
  fi
  svc_log "$name: installed ($("$CHROMIUM_BIN" --version 2>/dev/null))"
}
