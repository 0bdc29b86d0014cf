#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite with ctest (what .ci/run calls).
#
#   bash tools/run-tests.sh              Release tree build/ (g++): every test, and every fuzz
#                                        target's corpus (seeds + regressions) replayed once
#   bash tools/run-tests.sh --sanitize   ASan + UBSan tree build-asan/ (clang, -O1, reports are
#                                        fatal): every test, every corpus, and each fuzz target
#                                        fuzzing for EONOPS_FUZZ_SECONDS (default 5) with libFuzzer
#   bash tools/run-tests.sh --tsan       TSan tree build-tsan/ (clang): the tests of the
#                                        concurrent parts (EONOPS_TSAN_TESTS, a ctest -R pattern)
#
# EONOPS_SANITIZE=address,undefined (or thread) in the environment selects the same trees.
# Arguments after the mode go to ctest (e.g. `--sanitize -R tracking`). No benchmarks are built
# in the sanitizer trees; EONOPS_JOBS / EONOPS_TEST_JOBS set build / test parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${EONOPS_SANITIZE:-}"
case "${1:-}" in
  --sanitize) mode="address,undefined"; shift ;;
  --tsan) mode="thread"; shift ;;
esac

if [ -z "$mode" ]; then
  bash tools/build.sh
  cd "${EONOPS_BUILD_DIR:-build}"
  exec ctest --output-on-failure -j "${EONOPS_TEST_JOBS:-2}" --timeout 900 "$@"
fi

bash tools/install-deps.sh
jobs="${EONOPS_JOBS:-$(nproc)}"
ctest_args=(--output-on-failure -j "${EONOPS_TEST_JOBS:-2}" --timeout 1800)
case "$mode" in
  thread)
    build_dir="${EONOPS_BUILD_DIR:-build-tsan}"
    fuzz=OFF
    # The tests that run threads against shared state: the PCE's locking and policy swaps, the
    # TAPI server under concurrent clients, the tracking server and store under concurrent
    # writers, VecEnv's worker threads, the gRPC twin/policy services.
    ctest_args+=(-R "${EONOPS_TSAN_TESTS:-Concurren|Parallel|Thread|VecEnv|Swap|Poll|Durab|Remote|Worker|LogBatch}")
    targets=(twin_tests tracking_tests pce_tests tapi_tests proto_tests)
    ;;
  *)
    build_dir="${EONOPS_BUILD_DIR:-build-asan}"
    fuzz=ON
    targets=(test_executables)  # every test and fuzz executable, no CLI, no benchmark
    ;;
esac
# clang for every sanitizer tree: libFuzzer exists only there, and one compiler for the ASan
# tree means one build serves both the tests and the fuzz targets.
cmake -S . -B "$build_dir" -DCMAKE_CXX_COMPILER="${EONOPS_SANITIZE_CXX:-clang++}" \
  -DCMAKE_BUILD_TYPE=Release -DEONOPS_SANITIZE="$mode" -DEONOPS_FUZZ="$fuzz" \
  -DEONOPS_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"
cd "$build_dir"
exec ctest "${ctest_args[@]}" "$@"
