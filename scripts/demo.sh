#!/usr/bin/env bash
# The main job, run by `make demo`: a fleet of wearables -> an untrusted
# gateway -> the cloud, on 127.0.0.1, with a crash of the gateway in the
# middle. Usage: demo.sh PATH/TO/armored [DEVICES] [SPEEDUP] [SECONDS]
set -euo pipefail
. "$(dirname "$0")/demo-lib.sh"
demo=demo
armored=$(realpath "${1:-build/release/armored}")
devices=${2:-5000}
speedup=${3:-60}
seconds=${4:-60}

work=$(mktemp -d "${TMPDIR:-/tmp}/armored-demo-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
cd "$work"

say "1. A fleet PKI: root and issuing CA, the cloud, one gateway, $devices wearables (each its own key)"
fleet_pki "$devices"

say "2. E3 enrolment: a random pseudonymous key ID per device; the cloud's E3 key stays with the cloud"
"$armored" enroll --pki pki --e3 e3

{ cloud_listen_tls_toml; cat <<TOML; } >cloud.toml
[e3]
dir = "e3"
pki_dir = "pki"
state_file = "cloud.e3state"
[storage]
sqlite_path = "cloud.db"
[status]
interval_s = 10
TOML

say "3. The cloud: mutual TLS 1.3 + MQTT on 127.0.0.1, storage in SQLite"
"$armored" cloud --config cloud.toml >cloud.out 2>cloud.err &
pids+=($!)
cloud_pid=$!
wait_for_line cloud.out "listening on"
cloud_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' cloud.out)
echo "cloud listening on 127.0.0.1:$cloud_port (TLS 1.3 only, client certificates required)"

gateway_toml "$cloud_port" >gateway.toml

start_gateway() {
  "$armored" gateway --config gateway.toml >gateway.out 2>>gateway.err &
  gateway_pid=$!
  pids+=($gateway_pid)
  wait_for_line gateway.out "listening on udp"
}
say "4. The gateway: holds no E3 key; spools what devices send and forwards it in batches"
: >gateway.out
start_gateway
gw_port=$(sed -n 's/.*udp 127.0.0.1:\([0-9]*\).*/\1/p' gateway.out | tail -1)
# The fleet keeps sending to this port across the gateway's restart.
sed -i "0,/^port = 0/s//port = $gw_port/" gateway.toml

say "5. $devices wearables, one reading every 30 s sped up ${speedup}x, for ${seconds} s; the gateway is killed (kill -9) half way"
"$armored" --json fleet --devices "$devices" --interval 30s --speedup "$speedup" --duration "${seconds}s" \
  --gateway "127.0.0.1:$gw_port" --pki pki --e3 e3 --state device-state >fleet.json 2>fleet.err &
fleet_pid=$!
start=$(date +%s.%N)
sleep $((seconds / 2))
{ kill -9 "$gateway_pid" && wait "$gateway_pid"; } 2>/dev/null || true
echo "gateway killed with SIGKILL; restarting it from its spool and saved session ticket"
sleep 2
: >gateway.out
start_gateway

say "6. Device commands through the cloud's admin socket (cloud.sock, owner-only): one accepted, one refused"
sleep 2
# A device the cloud has heard from (the route to it is learned from its
# traffic). The database may be busy with a commit: wait for it, briefly.
dev=""
for _ in $(seq 1 20); do
  dev=$(sqlite3 -cmd ".timeout 2000" cloud.db "SELECT device FROM readings LIMIT 1" 2>/dev/null || true)
  [ -n "$dev" ] && break
  sleep 1
done
dev=${dev:-wearable-0001}
# Accepted: the cloud seals it for the device, the gateway relays it, the
# device changes its interval and answers with a sealed acknowledgement.
"$armored" command send --config cloud.toml --device "$dev" --wait 20 set_interval seconds=60 \
  >command-accepted.txt 2>&1 || true
cat command-accepted.txt
# Refused: out of range; the schema stops it before it leaves this machine.
"$armored" command send --config cloud.toml --device "$dev" set_interval seconds=99999 \
  >command-refused.txt 2>&1 || echo "(exit $?)" >>command-refused.txt
cat command-refused.txt
"$armored" command status --config cloud.toml --device "$dev" --limit 3 || true
wait "$fleet_pid" || true
# Let the gateway drain its spool to the cloud.
for _ in $(seq 100); do
  stored=$(sqlite3 cloud.db "SELECT count(*) FROM readings" 2>/dev/null || echo 0)
  sealed=$(python3 -c 'import json,sys; print(json.load(open("fleet.json"))["readings"])')
  [ "$stored" -ge "$sealed" ] && break
  sleep 0.2
done
end=$(date +%s.%N)
kill -TERM "$gateway_pid" "$cloud_pid"
wait "$gateway_pid" "$cloud_pid" 2>/dev/null || true
pids=()

stored=$(sqlite3 cloud.db "SELECT count(*) FROM readings")
distinct=$(sqlite3 cloud.db "SELECT count(*) FROM (SELECT DISTINCT device, epoch, seq FROM readings)")
# Duplicates the replay window dropped: "redelivered" (the gateway marked the
# re-send DUP) or "replayed" (e.g. a device re-sent to the restarted gateway).
rejected=$(sqlite3 cloud.db "SELECT count(*) FROM security_events WHERE kind NOT IN ('connected', 'command_refused') AND (kind <> 'rejected_envelope' OR (reason NOT LIKE 'replayed%' AND reason <> 'redelivered'))")
replays=$(sqlite3 cloud.db "SELECT count(*) FROM security_events WHERE kind = 'rejected_envelope' AND (reason LIKE 'replayed%' OR reason = 'redelivered')")
python3 - "$stored" "$distinct" "$rejected" "$replays" "$start" "$end" <<'PY'
import json, re, sys
stored, distinct, rejected, replays = map(int, sys.argv[1:5])
secs = float(sys.argv[6]) - float(sys.argv[5])
f = json.load(open("fleet.json"))
line = open("cloud.out").read().strip().splitlines()[-1]
hs = {kind: n for n, kind in re.findall(r"(\d+) (full|resumed|0-RTT|failed)", line)}
dups = re.search(r"(\d+) duplicates dropped", line)
print()
print("== Summary")
print(f"readings sealed and sent by {f['devices']} devices : {f['readings']}")
print(f"readings stored in the cloud                 : {stored} ({distinct} distinct device/epoch/sequence)")
print(f"lost                                         : {f['readings'] - stored}")
print(f"duplicates dropped (re-sends after the crash): {int(dups.group(1)) if dups else 0} in storage, {replays} by the E3 replay window")
print(f"rejected (forged, malformed, other)          : {rejected}")
print(f"TLS handshakes full / resumed / 0-RTT        : {hs.get('full','0')} / {hs.get('resumed','0')} / {hs.get('0-RTT','0')}")
print(f"throughput                                   : {stored / secs:,.0f} readings/s stored over {secs:.0f} s")
print(f"command accepted                             : {' '.join(open('command-accepted.txt').read().split())}")
print(f"command refused                              : {' '.join(open('command-refused.txt').read().split())}")
PY
echo "database                                     : $work/cloud.db"
echo "logs                                         : $work/{cloud,gateway,fleet}.err"
