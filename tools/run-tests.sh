#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite with ctest (what .ci/run calls).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
build_dir="${EONOPS_BUILD_DIR:-build}"
cd "$build_dir"
ctest --output-on-failure -j "${EONOPS_TEST_JOBS:-2}" --timeout 900
