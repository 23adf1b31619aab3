#!/usr/bin/env bash
# Start a Mosquitto of our own (anonymous, loopback, set_tcp_nodelay true) on
# a free port for manual benchmarks or `relais devices simulate`. The Go
# benchmarks start their own; this is for trying things by hand.
#   bench/mosquitto-nodelay.sh [PORT]      (default 18830; Ctrl-C stops it)
set -euo pipefail
PORT="${1:-18830}"
CONF="$(mktemp)"
trap 'rm -f "$CONF"' EXIT
cat >"$CONF" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
CONF
echo "mosquitto with set_tcp_nodelay on tcp://127.0.0.1:$PORT"
mosquitto -c "$CONF"
