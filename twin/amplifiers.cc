#include "twin/amplifiers.h"

#include <nlohmann/json.hpp>

#include "twin/json_util.h"

namespace eonops::twin {

BandAmplifiers BandAmplifiers::Load(const std::string& path, const BandPlan& plan) {
  return FromJson(ReadJsonFile(path), path, plan);
}

BandAmplifiers BandAmplifiers::FromJson(const nlohmann::json& j, const std::string& origin,
                                        const BandPlan& plan) {
  if (!j.is_object()) ConfigError(origin, "expected a JSON object");
  const auto& bands = Require(j, "bands", origin);
  const std::string where = origin + ".bands";
  if (!bands.is_object()) ConfigError(where, "expected an object keyed by band name");
  BandAmplifiers out;
  for (const Band& band : plan.bands()) {
    if (!bands.contains(band.name)) {
      ConfigError(where + "." + band.name, "missing (the band plan has band " + band.name + ")");
    }
    const auto& a = bands[band.name];
    const std::string w = where + "." + band.name;
    if (!a.is_object()) ConfigError(w, "expected an object");
    for (auto it = a.begin(); it != a.end(); ++it) {
      static const char* kKeys[] = {"type", "noise_figure_db", "max_gain_db",
                                    "max_output_power_dbm", "electrical_power_w"};
      bool known = it.key().rfind("_", 0) == 0;
      for (const char* k : kKeys) known = known || it.key() == k;
      if (!known) ConfigError(w + "." + it.key(), "unknown key");
    }
    Amplifier amp;
    amp.type = RequireString(a, "type", w);
    amp.noise_figure_db = RequireNumber(a, "noise_figure_db", w);
    // A noise figure below the 3 dB quantum limit of a high-gain phase-insensitive amplifier is
    // a typo, not an amplifier.
    if (amp.noise_figure_db < 3.0) ConfigError(w + ".noise_figure_db", "must be at least 3 dB");
    amp.max_gain_db = RequirePositive(a, "max_gain_db", w);
    amp.max_output_power_dbm = RequireNumber(a, "max_output_power_dbm", w);
    amp.electrical_power_w = RequireNumber(a, "electrical_power_w", w);
    if (amp.electrical_power_w < 0) ConfigError(w + ".electrical_power_w", "must not be negative");
    out.amplifiers_.push_back(amp);
  }
  return out;
}

}  // namespace eonops::twin
