# shellcheck shell=bash
# RabbitMQ 3.10 for @ilkkun/amqp: guest/guest on 127.0.0.1:5672.
SVC_PORT=5672
SVC_TIMEOUT=90
SVC_ENV=ILKKUN_AMQP_URL
SVC_URL=amqp://guest:guest@127.0.0.1:5672
SVC_START_CMD='rabbitmq-server -detached'

# Speaks the first step of AMQP 0-9-1: the broker answers the protocol header with a method frame (type 1).
svc_healthy() {
  timeout 5 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$SVC_PORT"' || exit 1
    printf "AMQP\x00\x00\x09\x01" >&3
    [[ $(head -c 1 <&3 | od -An -tx1 | tr -d " \n") == 01 ]]' 2>/dev/null
}
svc_installed() { command -v rabbitmq-server >/dev/null; }
svc_install() {
  apt_install rabbitmq-server
  # Loopback only: AMQP listener, Erlang distribution and epmd.
  cat >/etc/rabbitmq/rabbitmq-env.conf <<'CONF'
NODENAME=rabbit@localhost
ERL_EPMD_ADDRESS=127.0.0.1
export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
CONF
  echo 'listeners.tcp.local = 127.0.0.1:5672' >/etc/rabbitmq/rabbitmq.conf
}
svc_start() {
  # Without a configured listener RabbitMQ binds every interface: pin it to loopback.
  if ! grep -qs '^listeners\.tcp' /etc/rabbitmq/rabbitmq.conf; then export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1; fi
  export ERL_EPMD_ADDRESS=127.0.0.1
  eval "$SVC_START_CMD"
}
