# Sanitizer and fuzzing builds (tools/run-tests.sh --sanitize / --tsan; README "Memory safety").
#
#   EONOPS_SANITIZE=address,undefined   ASan + UBSan on every target of this tree
#   EONOPS_SANITIZE=thread              TSan (the concurrent parts: PCE locking, VecEnv, servers)
#   EONOPS_FUZZ=ON                      clang only: coverage instrumentation for libFuzzer on every
#                                       target and the fuzz/ targets linked with libFuzzer's main
#
# A sanitizer tree is meant to be built apart from the Release tree (build-asan/, build-tsan/):
# it is compiled at -O1 with line tables (-g1), which is what the sanitizers need for readable
# stacks at the least compile time, with assert() and libstdc++'s cheap bounds checks on.
set(EONOPS_SANITIZE "" CACHE STRING
    "Sanitizers for every target: address,undefined | thread | empty for none")
option(EONOPS_FUZZ "Build the fuzz/ targets with libFuzzer (clang only)" OFF)

if(EONOPS_SANITIZE)
  if(EONOPS_SANITIZE MATCHES "thread" AND EONOPS_SANITIZE MATCHES "address")
    message(FATAL_ERROR "EONOPS_SANITIZE: thread and address cannot be combined")
  endif()
  add_compile_options(
    -fsanitize=${EONOPS_SANITIZE}
    # A report must fail the test that triggered it: UBSan otherwise prints and goes on.
    -fno-sanitize-recover=all
    -fno-omit-frame-pointer
    -O1 -g1
    # Our own invariants (assert) and libstdc++'s bounds checks on operator[], front(), back()
    # of vectors and strings: they catch reads past size() inside capacity, which ASan cannot
    # see without container annotations (off: tests/sanitizer_options.cc says why).
    -UNDEBUG -D_GLIBCXX_ASSERTIONS)
  add_link_options(-fsanitize=${EONOPS_SANITIZE})
  message(STATUS "eonops: sanitizers ${EONOPS_SANITIZE}")
endif()

if(EONOPS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "EONOPS_FUZZ needs clang (libFuzzer): configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ (Debian: clang, libclang-rt-14-dev)")
  endif()
  # Every library a fuzz target links must report its coverage to libFuzzer; only the fuzz
  # executables themselves link libFuzzer's main (fuzz/CMakeLists.txt).
  add_compile_options(
    -fsanitize=fuzzer-no-link
    -fsanitize-coverage-ignorelist=${CMAKE_CURRENT_LIST_DIR}/coverage-ignorelist.txt)
endif()

# The run-time options of a sanitizer tree (tests/sanitizer_options.cc), compiled into `target`
# so that running a test or fuzz executable by hand reports exactly as under ctest.
function(eonops_sanitizer_runtime_options target)
  if(EONOPS_SANITIZE)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/sanitizer_options.cc)
  endif()
endfunction()
