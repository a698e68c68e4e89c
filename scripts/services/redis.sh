# shellcheck shell=bash
# Redis 7 for @ilkkun/redis: its own instance, no persistence, loopback only.
SVC_PORT=6379
SVC_TIMEOUT=15
SVC_ENV=ILKKUN_REDIS_URL
SVC_URL=redis://127.0.0.1:6379
SVC_START_CMD='redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'

svc_healthy() { timeout 3 redis-cli -h 127.0.0.1 -p "$SVC_PORT" ping 2>/dev/null | grep -q PONG; }
svc_installed() { command -v redis-server >/dev/null && command -v redis-cli >/dev/null; }
svc_install() { apt_install redis-server; }
svc_start() {
  local log="$SERVICES_LOG_DIR/redis-server.log"
  eval "$SVC_START_CMD --logfile '$log'"
}
