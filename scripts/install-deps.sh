#!/usr/bin/env bash
# Installs the Debian packages Armored builds, tests and demos with.
# Idempotent and quiet when everything is present; uses sudo only when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
  libssl-dev openssl libsqlite3-dev sqlite3 libpq-dev postgresql
  libasio-dev libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libpcap-dev libgtest-dev libgmock-dev libbenchmark-dev
  mosquitto mosquitto-clients python3 python3-paho-mqtt tcpdump tshark
  testssl.sh
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer before installing.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts mosquitto and postgresql services on install where it can;
# Armored's tests start their own instances on 127.0.0.1, so stop the system ones.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi
echo "install-deps: done"
