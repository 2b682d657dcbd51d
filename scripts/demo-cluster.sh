#!/usr/bin/env bash
# `make demo-cluster`: the scaled cloud on one machine (docs/scale-out.md):
# a three-node NATS JetStream cluster, PostgreSQL, two fronts and three
# ingest workers of `armored cloud`, one gateway and a fleet. Half way a
# worker and then the front the gateway uses are killed with SIGKILL; the
# summary counts what was sealed, stored, lost and duplicated.
# Usage: demo-cluster.sh PATH/TO/armored [DEVICES] [SPEEDUP] [SECONDS]
# PostgreSQL: ARMORED_PG_DSN (default "dbname=armored_test", which
# scripts/start-services.sh provides); the demo uses a schema of its own
# and drops it at the end.
set -euo pipefail
. "$(dirname "$0")/demo-lib.sh"
demo=demo-cluster
armored=$(realpath "${1:-build/release/armored}")
devices=${2:-200}
speedup=${3:-60}
seconds=${4:-40}
dsn=${ARMORED_PG_DSN:-dbname=armored_test}
schema="armored_demo_$$"
stream="ARMORED_DEMO_$$"

work=$(mktemp -d "${TMPDIR:-/tmp}/armored-cluster-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$dsn" -qc "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cd "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg() { psql "$dsn" -qtAc "SET search_path TO \"$schema\"; $1" | tail -1; }

command -v nats-server >/dev/null || { echo "demo-cluster: nats-server is missing (scripts/install-deps.sh)" >&2; exit 1; }
psql "$dsn" -qtAc "SELECT 1" >/dev/null || { echo "demo-cluster: PostgreSQL unreachable with '$dsn' (scripts/start-services.sh)" >&2; exit 1; }

say "1. A three-node NATS JetStream cluster on 127.0.0.1"
client=() route=()
for n in 0 1 2; do client+=("$(free_port)"); route+=("$(free_port)"); done
for n in 0 1 2; do
  {
    echo "server_name: n$n"
    echo "listen: 127.0.0.1:${client[$n]}"
    echo "jetstream { store_dir: \"$work/nats-$n\", max_file_store: 2GB, max_memory_store: 64MB }"
    echo "cluster { name: armored-demo, listen: 127.0.0.1:${route[$n]}, routes: ["
    for r in "${route[@]}"; do echo "  nats-route://127.0.0.1:$r"; done
    echo "] }"
  } >"nats-$n.conf"
  nats-server -c "nats-$n.conf" >"nats-$n.out" 2>&1 &
  pids+=($!)
done
nats_list=$(printf '"nats://127.0.0.1:%s", ' "${client[@]}")
nats_list="[${nats_list%, }]"
echo "nodes on ports ${client[*]}"

say "2. PKI and E3 enrolment: a cloud certificate all fronts share, one gateway, $devices wearables"
fleet_pki "$devices"
"$armored" enroll --pki pki --e3 e3 >/dev/null

role_config() {  # ROLE NAME
  cloud_listen_tls_toml
  cat <<TOML
ticket_key_file = "$2.tickets"
[e3]
dir = "e3"
pki_dir = "pki"
state_file = "$2.e3state"
[storage]
backend = "postgresql"
postgresql_conninfo = "$dsn"
postgresql_schema = "$schema"
[admin]
enabled = false
[status]
interval_s = 10
[cluster]
role = "$1"
nats = $nats_list
stream = "$stream"
replicas = 3
TOML
}

say "3. Two fronts (TLS 1.3 + MQTT; PUBACK once JetStream has stored the PUBLISH) and three workers"
front_ports=()
front_pids=()
for f in 1 2; do
  role_config front "front-$f" >"front-$f.toml"
  "$armored" cloud --config "front-$f.toml" >"front-$f.out" 2>"front-$f.err" &
  pids+=($!)
  front_pids+=($!)
  wait_for_line "front-$f.out" "listening on" 40
  front_ports+=("$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "front-$f.out")")
done
echo "fronts on ports ${front_ports[*]}"
worker_pids=()
for w in 1 2 3; do
  role_config worker "worker-$w" >"worker-$w.toml"
  "$armored" cloud --config "worker-$w.toml" >"worker-$w.out" 2>"worker-$w.err" &
  pids+=($!)
  worker_pids+=($!)
  wait_for_line "worker-$w.out" "worker consuming" 40
done
echo "three workers consuming $stream"

say "4. The gateway forwards to the first front, with the second as its alternate"
gateway_toml "${front_ports[0]}" "[\"localhost:${front_ports[1]}\"]" >gateway.toml
"$armored" gateway --config gateway.toml >gateway.out 2>gateway.err &
gateway_pid=$!
pids+=($gateway_pid)
wait_for_line gateway.out "listening on udp" 30
gw_port=$(sed -n 's/.*udp 127.0.0.1:\([0-9]*\).*/\1/p' gateway.out | tail -1)

say "5. $devices wearables for ${seconds} s (one reading every 30 s, sped up ${speedup}x); a worker, then front 1, killed with SIGKILL"
"$armored" --json fleet --devices "$devices" --interval 30s --speedup "$speedup" --duration "${seconds}s" \
  --gateway "127.0.0.1:$gw_port" --pki pki --e3 e3 --state device-state >fleet.json 2>fleet.err &
fleet_pid=$!
start=$(date +%s.%N)
sleep $((seconds / 3))
{ kill -9 "${worker_pids[0]}" && wait "${worker_pids[0]}"; } 2>/dev/null || true
echo "worker 1 killed: its unacknowledged messages go to the other workers"
sleep $((seconds / 3))
{ kill -9 "${front_pids[0]}" && wait "${front_pids[0]}"; } 2>/dev/null || true
echo "front 1 killed: the gateway moves to front 2 and sends what was not acknowledged again"
wait "$fleet_pid" || true
sealed=$(python3 -c 'import json; print(json.load(open("fleet.json"))["readings"])')
for _ in $(seq 600); do
  stored=$(pg "SELECT count(*) FROM readings" 2>/dev/null || echo 0)
  [ "${stored:-0}" -ge "$sealed" ] && break
  sleep 0.2
done
end=$(date +%s.%N)
stored=$(pg "SELECT count(*) FROM readings")
distinct=$(pg "SELECT count(*) FROM (SELECT DISTINCT device, epoch, seq FROM readings) d")
python3 - "$sealed" "$stored" "$distinct" "$start" "$end" "$devices" "$speedup" <<'PY'
import sys
sealed, stored, distinct = map(int, sys.argv[1:4])
secs = float(sys.argv[5]) - float(sys.argv[4])
offered = int(sys.argv[6]) * float(sys.argv[7]) / 30
print()
print("== Summary")
print(f"readings sealed by the fleet        : {sealed}")
print(f"readings stored in PostgreSQL       : {stored} ({distinct} distinct device/epoch/sequence)")
print(f"lost                                : {sealed - distinct}")
print(f"duplicated                          : {stored - distinct}")
print(f"killed under load                   : worker 1 (SIGKILL), front 1 (SIGKILL)")
print(f"offered by the fleet                : {offered:,.0f} readings/s (throughput: bench/, docs/scale-out.md)")
PY
grep -h "next attempt goes to" gateway.err | head -1 || true
echo "logs: $work/{front-*,worker-*,gateway,nats-*}.{out,err}"
[ "$distinct" -eq "$sealed" ] && [ "$stored" -eq "$distinct" ]
