// Default sanitizer run-time options, compiled into every test and fuzz executable of a
// sanitizer tree (cmake/sanitizers.cmake), so a test run by hand reports exactly as under ctest.
// ASAN_OPTIONS / UBSAN_OPTIONS / LSAN_OPTIONS in the environment still override them.
//
// No suppressions are listed here; any that become necessary go to
// tools/sanitizer/*.supp with the reason written next to each line.

extern "C" {

// detect_stack_use_after_return: also catch pointers to a returned function's locals.
// check_initialization_order / strict_init_order: static initialisers that read another
// translation unit's globals. strict_string_checks: str* calls on unterminated buffers.
// detect_container_overflow stays at its default (on); it only has effect with container
// annotations, which libstdc++ compiles in only with _GLIBCXX_SANITIZE_VECTOR, not defined here:
// vectors cross into uninstrumented Debian libraries (libtorch, gRPC, protobuf), where
// annotations would report false overflows.
const char* __asan_default_options() {
  return "detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:"
         "strict_string_checks=1:detect_leaks=1";
}

// The build already aborts on the first report (-fno-sanitize-recover); the stack says where.
const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

// A data race fails the test; both stacks of a lock-order inversion are shown.
const char* __tsan_default_options() { return "halt_on_error=1:second_deadlock_stack=1"; }

}  // extern "C"
