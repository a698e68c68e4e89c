# shellcheck shell=bash
# FerretDB (Mongo wire protocol on PostgreSQL) for @ilkkun/mongodb. NOT AUTOMATED YET: the
# issue that adds the mongodb backend implements svc_install/svc_start here (build a small
# launcher that embeds github.com/FerretDB/FerretDB/ferretdb at v1.24.1 and listens on
# 127.0.0.1:27017; see shared/research/test-servers.md §1.2). It needs `postgres` first.
SVC_PORT=27017
SVC_TIMEOUT=30
SVC_ENV=ILKKUN_MONGODB_URL
SVC_URL='mongodb://127.0.0.1:27017/test?directConnection=true&retryWrites=false'
SVC_START_CMD='(not automated yet: see scripts/services/ferretdb.sh)'

svc_healthy() { port_open "$SVC_PORT"; }
svc_installed() { return 0; }
svc_install() { return 1; }
svc_start() {
  echo 'ferretdb: starting is not automated yet (scripts/services/ferretdb.sh)' >&2
  return 1
}
