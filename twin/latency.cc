#include "twin/latency.h"

#include "twin/json_util.h"

namespace eonops::twin {

LatencyModel LatencyModel::Load(const std::string& path) { return FromJson(ReadJsonFile(path), path); }

LatencyModel LatencyModel::FromJson(const nlohmann::json& j, const std::string& origin) {
  RejectUnknownKeys(
      j, {"group_index", "roadm_delay_us", "amplifier_delay_us", "transponder_delay_us"}, origin);
  LatencyModel m;
  m.group_index = RequirePositive(j, "group_index", origin);
  m.roadm_delay_us = NumberOr(j, "roadm_delay_us", 0.0, origin);
  m.amplifier_delay_us = NumberOr(j, "amplifier_delay_us", 0.0, origin);
  m.transponder_delay_us = NumberOr(j, "transponder_delay_us", 0.0, origin);
  if (m.roadm_delay_us < 0) ConfigError(origin + ".roadm_delay_us", "must not be negative");
  if (m.amplifier_delay_us < 0) ConfigError(origin + ".amplifier_delay_us", "must not be negative");
  if (m.transponder_delay_us < 0) ConfigError(origin + ".transponder_delay_us", "must not be negative");
  return m;
}

double LatencyModel::PathLatencyUs(const Path& path) const {
  return path.length_km * PropagationUsPerKm() + (path.hops + 1) * roadm_delay_us +
         path.num_amplifiers * amplifier_delay_us + 2 * transponder_delay_us;
}

}  // namespace eonops::twin
