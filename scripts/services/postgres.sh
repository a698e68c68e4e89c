# shellcheck shell=bash
# PostgreSQL 15: the store behind FerretDB (the Mongo-protocol test server). No backend of its own.
SVC_PORT=5432
SVC_TIMEOUT=30
SVC_ENV=
SVC_URL=
SVC_START_CMD='pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | sort -V | tail -n 1) main start'

svc_healthy() { timeout 5 pg_isready -q -h 127.0.0.1 -p "$SVC_PORT" -t 3 2>/dev/null; }
svc_installed() { command -v pg_ctlcluster >/dev/null && [[ -n $(ls /etc/postgresql 2>/dev/null) ]]; }
svc_install() {
  apt_install postgresql
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  mkdir -p "/etc/postgresql/$version/main/conf.d"
  echo "listen_addresses = '127.0.0.1'" >"/etc/postgresql/$version/main/conf.d/90-ilkkun-tests.conf"
  # Test server only: trust local and loopback logins, as the tests connect without a password.
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  grep -q 'ilkkun-tests' "$hba" || sed -i '1i local all all trust # ilkkun-tests\nhost all all 127.0.0.1/32 trust # ilkkun-tests' "$hba"
}
svc_prepare() {
  local exists
  exists=$(timeout 10 psql -h 127.0.0.1 -p "$SVC_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'")
  [[ $exists == 1 ]] || timeout 10 psql -h 127.0.0.1 -p "$SVC_PORT" -U postgres -d postgres -qc 'CREATE DATABASE test'
}
