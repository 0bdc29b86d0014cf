// The in-line amplifier of each band (configs/amplifiers.json): its noise figure for the GSNR
// model, the limits a line design must respect, and its electrical power for the energy model.
// One amplifier per span and per band; a band's amplifiers on a fibre run while it is lit there.
//
//   BandAmplifiers amps = BandAmplifiers::Load(ConfigDir() + "/amplifiers.json", plan);
//   double nf_db = amps.band(0).noise_figure_db;
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "twin/bands.h"

namespace eonops::twin {

struct Amplifier {
  std::string type;  // "EDFA", "TDFA", ...
  double noise_figure_db = 0.0;
  double max_gain_db = 0.0;           // no span may lose more
  double max_output_power_dbm = 0.0;  // the band at full load must not need more
  double electrical_power_w = 0.0;
};

class BandAmplifiers {
 public:
  // One entry per band of `plan`, in plan order. Throws std::runtime_error("<file>: <field>: ...").
  static BandAmplifiers Load(const std::string& path, const BandPlan& plan);
  static BandAmplifiers FromJson(const nlohmann::json& j, const std::string& origin,
                                 const BandPlan& plan);

  const Amplifier& band(int b) const { return amplifiers_.at(b); }
  int NumBands() const { return static_cast<int>(amplifiers_.size()); }

 private:
  std::vector<Amplifier> amplifiers_;
};

}  // namespace eonops::twin
