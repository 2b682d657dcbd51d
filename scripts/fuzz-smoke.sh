#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset "fuzz") and runs each one
# briefly over its seed corpus plus fresh mutations. A crash, leak or
# sanitizer report fails the run. Usage: fuzz-smoke.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${ARMORED_FUZZ_SECONDS:-10}}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >/dev/null
shopt -s nullglob
targets=(build/fuzz/fuzz/*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz-smoke: no fuzz targets built"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
  name=$(basename "$t")
  corpus="$work/$name"
  mkdir -p "$corpus"
  if [ -d "fuzz/corpus/$name" ]; then cp -r "fuzz/corpus/$name/." "$corpus/"; fi
  echo "fuzz-smoke: $name for ${secs}s"
  "$t" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 "$corpus" \
      >"$work/$name.log" 2>&1 || { tail -50 "$work/$name.log"; echo "fuzz-smoke: $name FAILED"; exit 1; }
done
echo "fuzz-smoke: ${#targets[@]} targets ran clean"
