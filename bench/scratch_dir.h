// A temporary directory for a benchmark binary's files (stores, policies, state), removed when
// the binary exits.
//
//   const std::string db = bench::Scratch("eonops-bench-pce").dir + "/tracking.db";
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace eonops::bench {

struct ScratchDir {
  std::string dir;
  explicit ScratchDir(const std::string& prefix) {
    std::string t = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!mkdtemp(t.data())) std::abort();
    dir = t;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// The binary's one scratch directory, made on first use.
inline ScratchDir& Scratch(const std::string& prefix) {
  static ScratchDir s(prefix);
  return s;
}

}  // namespace eonops::bench
