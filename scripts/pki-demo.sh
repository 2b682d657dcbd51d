#!/usr/bin/env bash
# A walk-through of the fleet PKI alone (`make pki-demo`).
# Usage: demo.sh PATH/TO/armored
# Everything happens in a temporary directory that is removed at the end.
set -euo pipefail

armored=${1:-build/release/armored}
if [[ ! -x "$armored" ]]; then
  echo "demo: $armored is not an executable (build first: make release)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/armored-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
pki="$work/pki"

say() { printf '\n== %s\n' "$*"; }

say "1. Create a fleet CA: a root CA and an issuing CA (the root key can then go offline)"
"$armored" pki init --dir "$pki" --name "Demo Fleet CA"

say "2. Give the cloud service its own certificate, valid for localhost and 127.0.0.1"
"$armored" pki issue cloud --id cloud-1 --dns localhost --ip 127.0.0.1 --dir "$pki"

say "3. Give a gateway its own certificate"
"$armored" pki issue gateway --id gateway-1 --dir "$pki"

say "4. Provision 1000 devices, each with its own key pair (progress on stderr)"
"$armored" pki fleet --count 1000 --prefix wearable --dir "$pki"

say "5. A device was lost: revoke wearable-0042 (the CRL is re-signed)"
"$armored" pki revoke --id wearable-0042 --dir "$pki"

say "6. What the PKI holds (first rows and the summary)"
"$armored" pki list --dir "$pki" >"$work/list.txt"
head -n 4 "$work/list.txt"
echo "   ..."
grep -E ' revoked ' "$work/list.txt" || true
tail -n 1 "$work/list.txt"

say "7. Check a good device certificate"
"$armored" pki verify "$pki/device/wearable-0001.crt" --dir "$pki"

say "8. Check the revoked one: it must be refused"
if "$armored" pki verify "$pki/device/wearable-0042.crt" --dir "$pki"; then
  echo "demo: the revoked certificate was accepted" >&2
  exit 1
fi

say "9. The same checks with the stock openssl tool"
if command -v openssl >/dev/null; then
  openssl verify -CAfile "$pki/root-ca.crt" -untrusted "$pki/issuing-ca.crt" "$pki/device/wearable-0001.crt"
  openssl verify -crl_check -CRLfile "$pki/crl.pem" -CAfile "$pki/root-ca.crt" \
    -untrusted "$pki/issuing-ca.crt" "$pki/device/wearable-0042.crt" 2>&1 | grep -m1 'revoked' || true
fi
echo
echo "Demo finished: every identity has its own key; the revoked device is refused. (Temporary files removed.)"
