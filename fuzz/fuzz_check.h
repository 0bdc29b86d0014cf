// What the fuzz targets share: a check that aborts (libFuzzer then saves the input as a crash)
// with a message saying which property broke, and the split of a raw input into its parts.
//
//   EONOPS_FUZZ_CHECK(reply.status != 500, "a client's request got a 500: " + reply.body);
//   std::string_view rest = AsText(data, size);
//   std::string_view line = TakeLine(&rest);   // up to '\n' (excluded); rest moves past it
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace eonops::fuzz {

[[noreturn]] inline void Fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: fuzz property violated: %s\n", file, line, what.c_str());
  std::abort();
}

// A fuzz input as text (bytes as they are: not necessarily UTF-8).
inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// The first line of `*rest` (without its '\n'); `*rest` keeps what follows.
inline std::string_view TakeLine(std::string_view* rest) {
  const size_t end = rest->find('\n');
  std::string_view line = rest->substr(0, end);
  rest->remove_prefix(end == std::string_view::npos ? rest->size() : end + 1);
  return line;
}

// Error messages may quote megabytes of input; a failure report needs only the start.
inline std::string Shown(std::string_view s, size_t max = 400) {
  return std::string(s.substr(0, max)) + (s.size() > max ? "..." : "");
}

}  // namespace eonops::fuzz

#define EONOPS_FUZZ_CHECK(cond, what)                              \
  do {                                                             \
    if (!(cond)) ::eonops::fuzz::Fail(__FILE__, __LINE__, (what)); \
  } while (0)
