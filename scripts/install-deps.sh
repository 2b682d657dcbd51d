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
  # metrics: the Prometheus client library, and Prometheus itself (promtool, scrape tests)
  prometheus-cpp-dev prometheus
  # the dashboard's browser test (headless)
  chromium curl
  testssl.sh
  # device-sdk: Cortex-M4 cross build, its emulator, Mbed TLS (host PSA backend)
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm libmbedtls-dev dpkg-dev
  # the scaled cloud (docs/scale-out.md): NATS JetStream and its C client
  nats-server libnats-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# The device SDK's firmware links Mbed TLS built from Debian's own source
# package (never a copy in the repository): a deb-src entry for bookworm main,
# then `apt-get source mbedtls` into build/mbedtls-src, once.
fetch_mbedtls_source() {
  local root dest
  root=$(cd "$(dirname "$0")/.." && pwd)
  dest="$root/build/mbedtls-src"
  ls -d "$dest"/mbedtls-2.28.*/library >/dev/null 2>&1 && return 0
  if ! grep -rqs "^Types:.*deb-src" /etc/apt/sources.list.d/ && ! grep -qs "^deb-src .*bookworm main" /etc/apt/sources.list; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      $SUDO tee /etc/apt/sources.list.d/armored-src.sources >/dev/null
    $SUDO apt-get update -qq
  fi
  echo "install-deps: fetching the mbedtls source package into $dest"
  mkdir -p "$dest"
  (cd "$dest" && apt-get source -qq mbedtls >/dev/null 2>&1) ||
    { $SUDO apt-get update -qq && (cd "$dest" && apt-get source -qq mbedtls >/dev/null); }
}

if [ ${#missing[@]} -eq 0 ]; then
  fetch_mbedtls_source
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer before installing.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts mosquitto and postgresql services on install where it can;
# Armored's tests start their own instances on 127.0.0.1, so stop the system ones.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now mosquitto prometheus nats-server >/dev/null 2>&1 || true
fi
fetch_mbedtls_source
echo "install-deps: done"
