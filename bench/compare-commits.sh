#!/usr/bin/env bash
# The pipeline's throughput before and after a change, in the same run:
# builds `armored` (release) at BASE_COMMIT in a temporary worktree, then
# runs this tree's pipeline_bench with it as --baseline, so both halves see
# the same machine. Extra arguments go to pipeline_bench.
#
#   bench/compare-commits.sh d74f2e7^ --devices 5000 --rate 200000 --seconds 10
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  echo "usage: bench/compare-commits.sh BASE_COMMIT [pipeline_bench arguments...]" >&2
  echo "example: bench/compare-commits.sh d74f2e7^ --devices 5000 --rate 200000 --seconds 10" >&2
  exit 2
fi
base=$(git rev-parse --verify "$1^{commit}") || { echo "compare-commits: $1 is not a commit" >&2; exit 2; }
shift
work=$(mktemp -d /tmp/armored-baseline-XXXXXX)
trap 'git worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "compare-commits: building armored at ${base:0:12} in $work/src (release)"
git worktree add --detach "$work/src" "$base" >/dev/null
(cd "$work/src" && cmake --preset release >/dev/null && cmake --build --preset release --target armored -j "$(nproc)" >"$work/build.log" 2>&1) ||
  { tail -30 "$work/build.log"; echo "compare-commits: the baseline did not build" >&2; exit 1; }
cp "$work/src/build/release/armored" "$work/armored"
echo "compare-commits: building this tree's pipeline_bench and armored (release)"
cmake --preset release >/dev/null
cmake --build --preset release --target armored pipeline_bench -j "$(nproc)" >"$work/build-this.log" 2>&1 ||
  { tail -30 "$work/build-this.log"; exit 1; }
build/release/bench/pipeline_bench --baseline "$work/armored" "$@"
