#!/usr/bin/env bash
# The main job, end to end on embedded defaults (the README's first command): sets up, builds,
# then on NSFNET prints every shortest-path lightpath's GSNR, latency and energy and replays
# the DeepRMSA benchmark with the classic heuristics.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
eonops="${EONOPS_BUILD_DIR:-build}/tools/eonops"
out="${EONOPS_OUT:-out/demo}"
mkdir -p "$out"

echo "== 1. Lightpaths on NSFNET (C band, slot 100, 4 slots; fully loaded C+L+S worst case)"
"$eonops" qot --topology nsfnet --all-pairs | tee "$out/lightpaths.txt" | head -25
echo "   ... $(($(wc -l < "$out/lightpaths.txt") - 2)) lightpaths in $out/lightpaths.txt"

echo
echo "== 2. The DeepRMSA NSFNET benchmark at 250 Erlang (3 seeds x 100000 requests)"
"$eonops" simulate --config configs/benchmarks/deeprmsa-nsfnet.json --policies sp-ff,ksp-ff,ksp-bf \
  --seeds 3 --threads 2 --csv "$out/deeprmsa-length.csv"
"$eonops" simulate --config configs/benchmarks/deeprmsa-nsfnet.json --path-order hops --policies ksp-ff \
  --seeds 3 --threads 2 --csv "$out/deeprmsa-hops.csv"
