#!/usr/bin/env bash
# The main job, run by `make demo`. Usage: demo.sh PATH/TO/armored
set -euo pipefail
armored=${1:-build/release/armored}
"$armored" --help
