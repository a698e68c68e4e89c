# shellcheck shell=bash
# fauxqs (SQS emulator) for @ilkkun/sqs. NOT AUTOMATED YET: the issue that adds the sqs backend
# implements svc_install/svc_start here. Facts (shared/research/test-servers.md §2): pin
# fauxqs@1.9.2 (2.x needs Node 22); its CLI binds 0.0.0.0, so run a wrapper that calls
# buildApp() and listens on 127.0.0.1:4566; health is GET /health.
SVC_PORT=4566
SVC_TIMEOUT=20
SVC_ENV=ILKKUN_SQS_URL
SVC_URL='sqs://127.0.0.1:4566?region=us-east-1&tls=false'
SVC_START_CMD='(not automated yet: see scripts/services/fauxqs.sh)'

svc_healthy() { timeout 3 curl -fsS "http://127.0.0.1:$SVC_PORT/health" >/dev/null 2>&1; }
svc_installed() { return 0; }
svc_install() { return 1; }
svc_start() {
  echo 'fauxqs: starting is not automated yet (scripts/services/fauxqs.sh)' >&2
  return 1
}
