#!/usr/bin/env bash
# Builds the device SDK and Mbed TLS for the Cortex-M4 (QEMU mps2-an386).
# Usage: device-sdk/target/build.sh [OUT]   (default build/device-sdk-target)
# Exit 77 (skip) with a message when the cross toolchain is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/device-sdk-target}
if ! command -v arm-none-eabi-gcc >/dev/null || [ ! -e /usr/lib/arm-none-eabi/newlib/libc.a ] && [ ! -d /usr/lib/arm-none-eabi/newlib ]; then
  echo "device-sdk target: arm-none-eabi-gcc with newlib is not installed (scripts/install-deps.sh installs it); skipped"
  exit 77
fi
src=$(ls -d "$root"/build/mbedtls-src/mbedtls-2.28.*/ 2>/dev/null | head -1 || true)
if [ -z "$src" ]; then
  echo "device-sdk target: no Mbed TLS source in build/mbedtls-src (scripts/install-deps.sh fetches it with apt-get source mbedtls)"
  exit 1
fi
mkdir -p "$out"
# Mbed TLS is compiled once and kept in $out/mbedtls; later runs only relink.
nice -n 5 make -s -C "$here" -j "${JOBS:-2}" OUT="$out" MBEDTLS_SRC="${src%/}" all
