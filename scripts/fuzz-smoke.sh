#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset "fuzz") and runs each one
# briefly over its seed corpus plus fresh mutations. A crash, leak or
# sanitizer report fails the run. Usage: fuzz-smoke.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${ARMORED_FUZZ_SECONDS:-10}}
log_dir=$(mktemp -d)
cmake --preset fuzz >"$log_dir/configure.log" 2>&1 || { cat "$log_dir/configure.log"; exit 1; }
cmake --build --preset fuzz --target armored_fuzzers -j "$(nproc)" >"$log_dir/build.log" 2>&1 ||
  { tail -40 "$log_dir/build.log"; echo "fuzz-smoke: building the fuzzers failed"; exit 1; }
shopt -s nullglob
# Only the fuzzer executables: the same directory also holds CMake's own files.
targets=()
for f in build/fuzz/fuzz/*; do
  if [ -f "$f" ] && [ -x "$f" ]; then targets+=("$f"); fi
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz-smoke: no fuzz targets built"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work" "$log_dir"' EXIT
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
