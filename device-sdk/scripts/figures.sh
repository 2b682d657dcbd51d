#!/usr/bin/env bash
# Prints the device SDK's Cortex-M4 figures (flash, RAM, stack, instructions)
# as recorded in device-sdk/README.md. Builds what it needs:
#   device-sdk/scripts/figures.sh [BUILD_PRESET] [--cost-file FILE]   (default preset: debug)
# --cost-file also writes the instruction counts per seal, announcement and
# command open as a crypto cost file for `armored energy --crypto-costs FILE`
# (docs/energy.md, "Crypto cost files"; config/energy/measured-cm4.json is one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
preset=debug
cost_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cost-file) cost_args=(--cost-file "$(realpath -m "$2")"); shift 2 ;;
    -*) echo "usage: figures.sh [BUILD_PRESET] [--cost-file FILE]" >&2; exit 2 ;;
    *) preset=$1; shift ;;
  esac
done
out="$root/build/device-sdk-target"
"$root/device-sdk/target/build.sh" "$out" >/dev/null
# The same minimal firmware with AES-GCM as Mbed TLS's only AEAD (its own
# Mbed TLS build, kept in $out/gcm-only).
src=$(ls -d "$root"/build/mbedtls-src/mbedtls-2.28.*/ | head -1)
nice -n 5 make -s -C "$root/device-sdk/target" -j 2 OUT="$out/gcm-only" CONFIG_DIR="$root/device-sdk/target/gcm-only" \
  MBEDTLS_SRC="${src%/}" "$out/gcm-only/fw_min.elf" >/dev/null
cd "$root"
cmake --preset "$preset" >/dev/null
nice -n 5 cmake --build --preset "$preset" -j 2 --target armored_device_spec_commands >/dev/null
python3 "$here/figures.py" "$out" "$root/build/$preset/device-sdk/armored_device_spec_commands" "${cost_args[@]}"
