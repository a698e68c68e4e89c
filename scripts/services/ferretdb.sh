# shellcheck shell=bash
# FerretDB v1.24.1 (Mongo wire protocol on PostgreSQL) for @ilkkun/mongodb, on 127.0.0.1:27017.
# Needs `postgres` first (start.sh postgres ferretdb). The server is a small launcher of our own
# (scripts/services/ferretdb-launcher) that embeds FerretDB's `ferretdb` package: the stock CLI
# built by `go install …/cmd/ferretdb@v1.24.1` panics at start (version.txt is not in the module).
# The binary is built into a cache outside the repo and reused while the launcher source and the
# Go version are unchanged.
SVC_PORT=27017
SVC_TIMEOUT=30
SVC_ENV=ILKKUN_MONGODB_URL
SVC_URL='mongodb://127.0.0.1:27017/ilkkun_test'

FERRETDB_CACHE="${ILKKUN_FERRETDB_CACHE:-/var/tmp/ilkkun-ferretdb}"
FERRETDB_BIN="$FERRETDB_CACHE/bin/ferretdb-launcher"
FERRETDB_PID="$FERRETDB_CACHE/ferretdb.pid"
FERRETDB_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ferretdb-launcher"
FERRETDB_PG_DB=ferretdb
FERRETDB_PG_URL="postgres://postgres@127.0.0.1:5432/$FERRETDB_PG_DB"
SVC_START_CMD="FERRETDB_LISTEN_ADDR=127.0.0.1:$SVC_PORT FERRETDB_POSTGRESQL_URL=$FERRETDB_PG_URL nohup $FERRETDB_BIN >>$SERVICES_LOG_DIR/ferretdb-server.log 2>&1 &"

# A `hello` over raw TCP (OP_MSG, no driver needed): 0 when a Mongo-protocol server answers ok:1.
ferretdb_hello() {
  timeout 3 node --input-type=module -e '
    import net from "node:net";
    const body = Buffer.from([0x11,0,0,0, 0x10,0x68,0x65,0x6c,0x6c,0x6f,0, 1,0,0,0, 0x02,0x24,0x64,0x62,0,6,0,0,0,0x61,0x64,0x6d,0x69,0x6e,0, 0]);
    body.writeInt32LE(body.length, 0);
    const msg = Buffer.alloc(16 + 4 + 1 + body.length);
    msg.writeInt32LE(msg.length, 0); msg.writeInt32LE(1, 4); msg.writeInt32LE(0, 8); msg.writeInt32LE(2013, 12);
    msg.writeInt32LE(0, 16); msg.writeUInt8(0, 20); body.copy(msg, 21);
    const s = net.connect(Number(process.argv[1]), "127.0.0.1", () => s.write(msg));
    let got = Buffer.alloc(0);
    s.on("data", (d) => { got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= got.readInt32LE(0)) { s.end(); process.exit(got.includes(Buffer.from("ok")) ? 0 : 1); } });
    s.on("error", () => process.exit(1));
  ' "$SVC_PORT" 2>/dev/null
}

svc_healthy() { port_open "$SVC_PORT" && ferretdb_hello; }

# hash of what decides the binary: launcher source + Go version
ferretdb_src_hash() {
  { cat "$FERRETDB_SRC/go.mod" "$FERRETDB_SRC/main.go" "$FERRETDB_SRC/go.sum" 2>/dev/null; go version; } | sha256sum | cut -c1-16
}

svc_installed() {
  command -v go >/dev/null || return 1
  [[ -x $FERRETDB_BIN && -f "$FERRETDB_BIN.hash" && $(cat "$FERRETDB_BIN.hash") == "$(ferretdb_src_hash)" ]]
}

svc_install() {
  command -v go >/dev/null || { echo 'ferretdb: Go is required to build the launcher' >&2; return 1; }
  local work="$FERRETDB_CACHE/src" started=$SECONDS
  rm -rf "$work" && mkdir -p "$work" "$FERRETDB_CACHE/bin"
  cp "$FERRETDB_SRC/go.mod" "$FERRETDB_SRC/main.go" "$work/"
  [[ -f "$FERRETDB_SRC/go.sum" ]] && cp "$FERRETDB_SRC/go.sum" "$work/"
  (
    set -e
    cd "$work"
    export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
    # fails at once with the registry's answer if the module proxy does not serve v1.24.1
    timeout 300 go mod download github.com/FerretDB/FerretDB@v1.24.1 || {
      echo 'ferretdb: the Go module proxy does not serve github.com/FerretDB/FerretDB@v1.24.1 here' >&2
      exit 1
    }
    timeout 300 go mod tidy
    timeout 900 go build -trimpath -tags ferretdb_no_sqlite -o "$FERRETDB_BIN.tmp" .
  ) || { echo 'ferretdb: launcher build failed (see above)' >&2; return 1; }
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  ferretdb_src_hash >"$FERRETDB_BIN.hash"
  echo "ferretdb: launcher built in $((SECONDS - started)) s" >&2
}

svc_start() {
  # PostgreSQL must answer, and FerretDB's database must exist (never dropped by us).
  timeout 5 pg_isready -q -h 127.0.0.1 -p 5432 -t 3 || {
    echo 'ferretdb: PostgreSQL is not running on 127.0.0.1:5432; run: bash scripts/services/start.sh postgres' >&2
    return 1
  }
  local exists
  exists=$(timeout 10 psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$FERRETDB_PG_DB'")
  [[ $exists == 1 ]] || timeout 10 psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $FERRETDB_PG_DB"
  if [[ -f $FERRETDB_PID ]] && kill -0 "$(cat "$FERRETDB_PID")" 2>/dev/null; then
    echo "ferretdb: launcher already running (pid $(cat "$FERRETDB_PID"))" >&2
    return 0
  fi
  FERRETDB_LISTEN_ADDR="127.0.0.1:$SVC_PORT" FERRETDB_POSTGRESQL_URL="$FERRETDB_PG_URL" \
    nohup "$FERRETDB_BIN" >>"$SERVICES_LOG_DIR/ferretdb-server.log" 2>&1 </dev/null &
  echo $! >"$FERRETDB_PID"
}
