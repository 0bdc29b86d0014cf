// Shared fixtures for the twin tests: paths to the shipped configs.
#pragma once

#include <string>

namespace eonops::twin::testing {

inline std::string ConfigPath(const std::string& rel) { return std::string(EONOPS_SOURCE_DIR) + "/configs/" + rel; }
inline std::string TopologyPath(const std::string& name) { return ConfigPath("topologies/" + name + ".json"); }

}  // namespace eonops::twin::testing
