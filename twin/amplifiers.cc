#include "twin/amplifiers.h"

#include <nlohmann/json.hpp>

#include "twin/json_util.h"

namespace eonops::twin {

BandAmplifiers BandAmplifiers::Load(const std::string& path, const BandPlan& plan) {
  return FromJson(ReadJsonFile(path), path, plan);
}

BandAmplifiers BandAmplifiers::FromJson(const nlohmann::json& j, const std::string& origin,
                                        const BandPlan& plan) {
  RejectUnknownKeys(j, {"bands"}, origin);
  const auto& bands = Require(j, "bands", origin);
  const std::string where = origin + ".bands";
  if (!bands.is_object()) ConfigError(where, "expected an object keyed by band name");
  RejectUnknownKeys(bands, plan.CatalogueNames(), where);
  // Every band's entry is checked, also those this network does not use: never half-read.
  for (auto it = bands.begin(); it != bands.end(); ++it) {
    if (it.key().rfind('_', 0) == 0) continue;
    const std::string w = where + "." + it.key();
    RejectUnknownKeys(it.value(),
                      {"type", "noise_figure_db", "max_gain_db", "max_output_power_dbm",
                       "electrical_power_w"},
                      w);
    RequireString(it.value(), "type", w);
    for (const char* k : {"noise_figure_db", "max_gain_db", "max_output_power_dbm",
                          "electrical_power_w"}) {
      RequireNumber(it.value(), k, w);
    }
  }
  BandAmplifiers out;
  for (const Band& band : plan.bands()) {
    if (!bands.contains(band.name)) {
      ConfigError(where + "." + band.name, "missing (the band plan has band " + band.name + ")");
    }
    const auto& a = bands[band.name];
    const std::string w = where + "." + band.name;
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
