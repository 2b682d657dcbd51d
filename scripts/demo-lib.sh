# What scripts/demo.sh and scripts/demo-cluster.sh share; sourced, not run.
# The caller sets `armored` (the binary) and `demo` (its name for messages),
# and runs in its work directory.

say() { printf '\n== %s\n' "$*"; }

wait_for_line() {  # FILE PATTERN [SECONDS, default 20]: wait for a line
  for _ in $(seq $((${3:-20} * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$demo: timed out waiting for '$2' in $1" >&2
  cat "$1" "${1%.out}.err" >&2 2>/dev/null || true
  return 1
}

fleet_pki() {  # DEVICES: root and issuing CA, the cloud, gateway home-router, DEVICES wearables
  "$armored" pki init --dir pki --name "Demo Fleet CA" >/dev/null
  "$armored" pki issue cloud --id cloud --dns localhost --ip 127.0.0.1 --dir pki >/dev/null
  "$armored" pki issue gateway --id home-router --dir pki >/dev/null
  "$armored" pki fleet --count "$1" --prefix wearable --dir pki 2>/dev/null | head -1
}

cloud_listen_tls_toml() {  # the cloud's [listen] on 127.0.0.1 and its [tls] from fleet_pki
  cat <<TOML
[listen]
address = "127.0.0.1"
port = 0
[tls]
ca = "pki/root-ca.crt"
certificate = "pki/cloud/cloud.crt"
intermediates = "pki/issuing-ca.crt"
key = "pki/cloud/cloud.key"
crl = "pki/crl.pem"
TOML
}

gateway_toml() {  # PORT [ALTERNATES as a TOML array]: gateway home-router's config
  cat <<TOML
id = "home-router"
[udp]
address = "127.0.0.1"
port = 0
[cloud]
host = "localhost"
port = $1
${2:+alternates = $2}
ca = "pki/root-ca.crt"
certificate = "pki/gateway/home-router.crt"
intermediates = "pki/issuing-ca.crt"
key = "pki/gateway/home-router.key"
ticket_dir = "gateway-tickets"
[spool]
dir = "gateway-spool"
[status]
interval_s = 10
TOML
}
