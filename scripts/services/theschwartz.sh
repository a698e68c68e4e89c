# shellcheck shell=bash
# Perl TheSchwartz 1.12 (Debian libtheschwartz-perl) + DBD::mysql, for the @ilkkun/mysql interop
# tests (a Perl client inserts jobs an ilkkun worker completes, a Perl worker works ilkkun jobs).
# Not a server: nothing listens, so this file replaces lib.sh's ensure_service with an
# install-and-check. It needs no database of its own (the tests use the `mariadb` service).
SVC_PORT=
SVC_TIMEOUT=
SVC_ENV=
SVC_URL=
SVC_START_CMD='(a Perl library: nothing to start)'

# Loads every module the interop helper scripts use (shared/research/seed-anchors/*.pl).
svc_healthy() {
  timeout 20 perl -MTheSchwartz -MTheSchwartz::Job -MDBD::mysql -MJSON::PP -MStorable -e 1 >/dev/null 2>&1
}
svc_installed() { svc_healthy; }
svc_install() { apt_install libtheschwartz-perl libdbd-mysql-perl; }

ensure_service() {
  local name=$1 log="$SERVICES_LOG_DIR/$1.log"
  mkdir -p "$SERVICES_LOG_DIR"
  if svc_healthy; then
    svc_log "$name: installed ($(perl -MTheSchwartz -e 'print "TheSchwartz $TheSchwartz::VERSION"' 2>/dev/null))"
    return 0
  fi
  svc_log "$name: not installed; installing libtheschwartz-perl libdbd-mysql-perl"
  svc_install >>"$log" 2>&1 || {
    svc_log "$name: FAILED to install (log: $log)"
    tail -n 20 "$log" >&2 || true
    return 1
  }
  if ! svc_healthy; then
    svc_log "$name: FAILED: installed, but perl -MTheSchwartz -MDBD::mysql still does not load"
    return 1
  fi
  svc_log "$name: installed"
}
