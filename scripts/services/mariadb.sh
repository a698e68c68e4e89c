# shellcheck shell=bash
# MariaDB 10.11 for @ilkkun/mysql: root with an empty password on 127.0.0.1:3306, database `test`.
SVC_PORT=3306
SVC_TIMEOUT=60
SVC_ENV=ILKKUN_MYSQL_URL
SVC_URL=mysql://root@127.0.0.1:3306/test
SVC_START_CMD='start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --bind-address=127.0.0.1'

_sql_tcp() { timeout 10 mariadb --protocol=tcp -h 127.0.0.1 -P "$SVC_PORT" -u root --connect-timeout=3 "$@"; }

# `ping` answers even when the login is refused: it only says the server is up.
svc_healthy() {
  timeout 5 mariadb-admin --protocol=tcp -h 127.0.0.1 -P "$SVC_PORT" -u root --connect-timeout=2 ping 2>/dev/null |
    grep -q alive
}
svc_installed() { [[ -x /usr/sbin/mariadbd ]] && command -v mariadb >/dev/null; }
svc_install() {
  apt_install mariadb-server mariadb-client
  # Debian's default already binds 127.0.0.1; say so explicitly for the test server.
  mkdir -p /etc/mysql/mariadb.conf.d
  printf '[mysqld]\nbind-address = 127.0.0.1\n' >/etc/mysql/mariadb.conf.d/90-ilkkun-tests.cnf
  _ILKKUN_MARIADB_FRESH=1
}
svc_start() {
  # mariadbd needs its socket directory, which a reboot of a container removes.
  install -d -o mysql -g mysql /run/mysqld 2>/dev/null || mkdir -p /run/mysqld
  eval "$SVC_START_CMD"
}
svc_prepare() {
  if ! _sql_tcp -e 'SELECT 1' >/dev/null 2>&1; then
    if [[ -n ${_ILKKUN_MARIADB_FRESH:-} ]]; then
      # A server installed just now: Debian's root uses unix_socket only. Allow the test login.
      timeout 10 mariadb -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')"
    else
      echo "root@127.0.0.1 with an empty password is refused; the tests expect it (see docs/testing.md)" >&2
      echo "as root on this machine: mariadb -u root -e \"ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')\"" >&2
      return 1
    fi
  fi
  _sql_tcp -e 'CREATE DATABASE IF NOT EXISTS test'
}
