#!/usr/bin/env bash
# Installs the Debian dependencies (when run as root) and builds eonops in Release into
# ${EONOPS_BUILD_DIR:-build}: every target, or only those given as arguments (e.g. `eonops`).
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
build_dir="${EONOPS_BUILD_DIR:-build}"
jobs="${EONOPS_JOBS:-$(nproc)}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ $# -gt 0 ]; then
  cmake --build "$build_dir" -j "$jobs" --target "$@"
else
  cmake --build "$build_dir" -j "$jobs"
fi
