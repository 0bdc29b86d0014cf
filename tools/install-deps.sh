#!/usr/bin/env bash
# Installs exactly the Debian 12 packages eonops builds and tests with. Idempotent and
# non-interactive: packages already present are skipped by apt-get itself.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache
  libtorch-dev
  # Gloo's headers: c10d's ProcessGroupGloo (in libtorch) for data-parallel training.
  libgloo-dev
  # Debian's libtorch calls the system BLAS (libblas.so.3); the reference BLAS makes training
  # ~8x slower than OpenBLAS, which registers itself as the higher-priority alternative.
  libopenblas0-pthread
  # CBLAS header and libblas.so for agents/fused_mlp.cc (the same alternative libtorch calls).
  libblas-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libboost-graph-dev
  libcpp-httplib-dev
  nlohmann-json3-dev
  libsqlite3-dev sqlite3
  # The tracking store on PostgreSQL (libpq), and the server its tests start (initdb, pg_ctl).
  libpq-dev postgresql
  libgtest-dev libgmock-dev
  libbenchmark-dev
  chromium  # headless browser for the tracking web UI test (tests/tracking)
  # The Python package (python/, tests/python, examples/python). Gymnasium is not in Debian 12:
  # the environments then use eonops.spaces' stand-ins, and a real gymnasium.Env when present.
  pybind11-dev python3-dev python3-numpy python3-pytest python3-torch python3-matplotlib
  # The sanitizer and fuzzing trees (tools/run-tests.sh --sanitize / --tsan): clang, its
  # sanitizer runtimes and libFuzzer (libclang-rt-14-dev, only recommended by clang so named
  # here), and llvm-symbolizer (package llvm) so reports show file:line.
  clang libclang-rt-14-dev llvm
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
