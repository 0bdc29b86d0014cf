// Power of the network and of a candidate lightpath (configs/energy.json, and the amplifiers'
// electrical power from configs/amplifiers.json).
//
// Transponders: P = watts_per_gbps * line capacity + base, at each end; the line capacity of a
// block is the bit rate the slot rule puts in it (NetworkModel::LineCapacityGbps). ROADMs: base +
// per degree (always on) + per add/drop port in use. In-line amplifiers: one per span, per band,
// lit only while the band carries at least one lightpath on that fibre, each drawing its band's
// amplifier's electrical power (an S-band TDFA draws more than a C-band EDFA).
//
//   EnergyModel e = EnergyModel::Load("configs/energy.json", plan, amplifiers);
//   double dp_w = e.IncrementalPowerW(topology, spectrum, path, band, capacity_gbps);
//   double total_w = e.NetworkPowerW(topology, spectrum, active_transponder_w, active_ports);
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "twin/amplifiers.h"
#include "twin/bands.h"
#include "twin/paths.h"
#include "twin/spectrum.h"
#include "twin/topology.h"

namespace eonops::twin {

struct EnergyModel {
  double transponder_w_per_gbps = 0.0;
  double transponder_base_w = 0.0;
  int transponder_ends = 2;
  double roadm_per_degree_w = 0.0;
  double roadm_per_port_w = 0.0;
  double roadm_base_w = 0.0;
  std::vector<double> amplifier_w_per_span;  // indexed like the BandPlan's bands

  static EnergyModel Load(const std::string& path, const BandPlan& plan,
                          const BandAmplifiers& amplifiers);
  static EnergyModel FromJson(const nlohmann::json& j, const std::string& origin, const BandPlan& plan,
                              const BandAmplifiers& amplifiers);

  // Both ends' transponders of one lightpath.
  double TransponderPowerW(double line_capacity_gbps) const {
    return transponder_ends * (transponder_w_per_gbps * line_capacity_gbps + transponder_base_w);
  }
  // What lighting this lightpath adds: its transponders, the add/drop ports at both ends, and
  // the amplifiers of every fibre on the path whose band is dark now.
  double IncrementalPowerW(const Topology& topology, const SpectrumState& spectrum, const Path& path,
                           int band, double line_capacity_gbps) const;
  // Amplifier power of fibres on the path where `band` is dark (part of the increment).
  double NewAmplifierPowerW(const Topology& topology, const SpectrumState& spectrum, const Path& path,
                            int band) const;
  // Always-on ROADM power of the whole network.
  double RoadmBasePowerW(const Topology& topology) const;
  // Total power now, given the active transponders' power and add/drop ports in use.
  double NetworkPowerW(const Topology& topology, const SpectrumState& spectrum, double active_transponder_w,
                       int active_ports) const;
};

}  // namespace eonops::twin
