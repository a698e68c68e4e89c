# shellcheck shell=bash
# Helpers shared by scripts/services/<name>.sh. Sourced, never run.
#
# A service file defines:
#   SVC_PORT          TCP port on 127.0.0.1
#   SVC_TIMEOUT       seconds to wait for health after starting (bounded)
#   SVC_START_CMD     the exact command that starts it (printed on failure, run by svc_start)
#   SVC_ENV / SVC_URL the variable tests read and its default value (empty for helper services)
#   svc_healthy       quick, bounded check: 0 when the server answers its protocol
#   svc_installed     0 when the server binary is present
#   svc_install       installs it (Debian packages) and configures it for loopback-only tests
#   svc_start         starts it in the background (default: eval "$SVC_START_CMD")
#   svc_prepare       optional, after health: create the test database etc. (idempotent)

SERVICES_STATE="${ILKKUN_SERVICES_DIR:-/var/tmp/ilkkun-services}"
SERVICES_LOG_DIR="$SERVICES_STATE/log"

svc_log() { printf '[services] %s\n' "$*" >&2; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# wait_until SECONDS CMD...: run CMD every half second until it succeeds or time runs out
wait_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

# apt_install PKG...: install Debian packages without prompts (apt-get update once per run)
apt_install() {
  if [[ $(id -u) != 0 ]]; then
    svc_log "need root to install: apt-get install $*"
    return 1
  fi
  if [[ -z ${_ILKKUN_APT_UPDATED:-} ]]; then
    timeout 300 apt-get update -qq
    export _ILKKUN_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "$@"
}

svc_start() { eval "$SVC_START_CMD"; }
svc_prepare() { :; }

# ensure_service NAME: reuse a healthy server, else install if needed, start and wait for it.
ensure_service() {
  local name=$1 log="$SERVICES_LOG_DIR/$1.log"
  mkdir -p "$SERVICES_LOG_DIR"
  if svc_healthy; then
    svc_log "$name: already running on 127.0.0.1:$SVC_PORT"
  else
    if port_open "$SVC_PORT"; then
      # Perhaps still starting up; if it never answers, something else holds the port.
      svc_log "$name: port $SVC_PORT is open but not answering yet; waiting up to ${SVC_TIMEOUT}s"
      if ! wait_until "$SVC_TIMEOUT" svc_healthy; then
        svc_log "$name: FAILED: 127.0.0.1:$SVC_PORT is held by something that does not answer as $name"
        return 1
      fi
    else
      if ! svc_installed; then
        svc_log "$name: not installed; installing"
        svc_install >>"$log" 2>&1 || {
          svc_log "$name: FAILED to install (log: $log)"
          tail -n 20 "$log" >&2 || true
          return 1
        }
      fi
      svc_log "$name: starting: $SVC_START_CMD"
      local rc=0
      svc_start >>"$log" 2>&1 || rc=$?
      if ((rc != 0)) || ! wait_until "$SVC_TIMEOUT" svc_healthy; then
        local why="not healthy after ${SVC_TIMEOUT}s"
        ((rc == 0)) || why="the start command exited with $rc"
        svc_log "$name: FAILED: $why. Start it by hand with:"
        printf '    %s\n' "$SVC_START_CMD" >&2
        svc_log "$name: last lines of $log:"
        tail -n 20 "$log" >&2 || true
        return 1
      fi
      svc_log "$name: started"
    fi
  fi
  svc_prepare >>"$log" 2>&1 || {
    svc_log "$name: FAILED to prepare the test database (log: $log)"
    tail -n 20 "$log" >&2 || true
    return 1
  }
  if [[ -n ${SVC_ENV:-} ]]; then svc_log "$name: ready; tests use ${SVC_ENV}=${!SVC_ENV:-$SVC_URL}"; fi
}
