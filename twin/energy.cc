#include "twin/energy.h"

#include <stdexcept>

#include "twin/json_util.h"

namespace eonops::twin {

EnergyModel EnergyModel::Load(const std::string& path, const BandPlan& plan,
                              const BandAmplifiers& amplifiers) {
  return FromJson(ReadJsonFile(path), path, plan, amplifiers);
}

EnergyModel EnergyModel::FromJson(const nlohmann::json& j, const std::string& origin, const BandPlan& plan,
                                  const BandAmplifiers& amplifiers) {
  RejectUnknownKeys(j, {"transponder", "roadm", "amplifier_w_per_span"}, origin);
  EnergyModel m;
  const auto& trx = Require(j, "transponder", origin);
  RejectUnknownKeys(trx, {"watts_per_gbps", "base_w", "ends"}, origin + ".transponder");
  m.transponder_w_per_gbps = RequireNumber(trx, "watts_per_gbps", origin + ".transponder");
  m.transponder_base_w = RequireNumber(trx, "base_w", origin + ".transponder");
  m.transponder_ends = trx.contains("ends") ? RequireInt(trx, "ends", origin + ".transponder") : 2;
  if (m.transponder_w_per_gbps < 0 || m.transponder_base_w < 0 || m.transponder_ends < 1) {
    ConfigError(origin + ".transponder", "powers must not be negative and ends must be >= 1");
  }
  const auto& roadm = Require(j, "roadm", origin);
  RejectUnknownKeys(roadm, {"per_degree_w", "per_add_drop_port_w", "base_w"}, origin + ".roadm");
  m.roadm_per_degree_w = RequireNumber(roadm, "per_degree_w", origin + ".roadm");
  m.roadm_per_port_w = RequireNumber(roadm, "per_add_drop_port_w", origin + ".roadm");
  m.roadm_base_w = RequireNumber(roadm, "base_w", origin + ".roadm");
  if (j.contains("amplifier_w_per_span")) {
    ConfigError(origin + ".amplifier_w_per_span",
                "the amplifiers' electrical power is in amplifiers.json (electrical_power_w)");
  }
  if (amplifiers.NumBands() != plan.NumBands()) {
    throw std::invalid_argument("EnergyModel: " + std::to_string(amplifiers.NumBands()) +
                                " amplifiers for " + std::to_string(plan.NumBands()) + " bands");
  }
  for (int b = 0; b < plan.NumBands(); ++b) {
    m.amplifier_w_per_span.push_back(amplifiers.band(b).electrical_power_w);
  }
  return m;
}

double EnergyModel::NewAmplifierPowerW(const Topology& topology, const SpectrumState& spectrum, const Path& path,
                                       int band) const {
  double w = 0.0;
  for (int f : path.fibres) {
    if (spectrum.Lightpaths(f, band) == 0) {
      w += amplifier_w_per_span[band] * static_cast<double>(topology.fibre(f).spans_km.size());
    }
  }
  return w;
}

double EnergyModel::IncrementalPowerW(const Topology& topology, const SpectrumState& spectrum, const Path& path,
                                      int band, double line_capacity_gbps) const {
  return TransponderPowerW(line_capacity_gbps) + 2 * roadm_per_port_w +
         NewAmplifierPowerW(topology, spectrum, path, band);
}

double EnergyModel::RoadmBasePowerW(const Topology& topology) const {
  double w = 0.0;
  for (int n = 0; n < topology.NumNodes(); ++n) w += roadm_base_w + roadm_per_degree_w * topology.Degree(n);
  return w;
}

double EnergyModel::NetworkPowerW(const Topology& topology, const SpectrumState& spectrum,
                                  double active_transponder_w, int active_ports) const {
  double w = RoadmBasePowerW(topology) + active_transponder_w + active_ports * roadm_per_port_w;
  for (int f = 0; f < topology.NumFibres(); ++f) {
    for (int b = 0; b < spectrum.NumBands(); ++b) {
      if (spectrum.Lightpaths(f, b) > 0) {
        w += amplifier_w_per_span[b] * static_cast<double>(topology.fibre(f).spans_km.size());
      }
    }
  }
  return w;
}

}  // namespace eonops::twin
