// End-to-end latency of a lightpath: fibre propagation (group index), ROADMs passed, in-line
// amplifiers, and transponder processing at both ends. Values from configs/latency.json.
//
//   LatencyModel lat = LatencyModel::Load("configs/latency.json");
//   double us = lat.PathLatencyUs(path);
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "twin/paths.h"

namespace eonops::twin {

struct LatencyModel {
  static constexpr double kSpeedOfLightMPerS = 299792458.0;

  double group_index = 1.468;
  double roadm_delay_us = 0.0;
  double amplifier_delay_us = 0.0;
  double transponder_delay_us = 0.0;

  static LatencyModel Load(const std::string& path);
  static LatencyModel FromJson(const nlohmann::json& j, const std::string& origin);

  double PropagationUsPerKm() const { return group_index / kSpeedOfLightMPerS * 1e3 * 1e6; }
  // Propagation + (hops + 1) ROADMs + amplifiers + 2 transponders.
  double PathLatencyUs(const Path& path) const;
};

}  // namespace eonops::twin
