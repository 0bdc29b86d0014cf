// Classic RMSA/RMBSA heuristics, each a policy object: the simulator uses them to replay a
// network's life, the environments use them for warm-up and as baselines, and the PCE uses
// them as its fallback.
//
//   auto h = MakeHeuristic("ksp-ff", HeuristicOptions{});   // or sp-ff, ksp-bf, ksp-lf,
//                                                           // qot-aware, latency-aware, energy-aware
//   Decision d = h->Decide(request, state);
//   if (d.accepted) state.Provision(request, d.candidate, d.slot, release_time);
//
// Every heuristic looks at the model's k candidate paths (ordered by length or hops, as the
// model was built) and its bands in the plan's order (C then L then S by default).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "twin/network.h"

namespace eonops::twin {

struct Decision {
  bool accepted = false;
  BlockCause cause = BlockCause::kNoPath;  // why not, when !accepted
  Candidate candidate;                     // path, band, modulation, width
  int slot = -1;                           // first slot of the block
};

class Heuristic {
 public:
  virtual ~Heuristic() = default;
  virtual std::string Name() const = 0;
  virtual Decision Decide(const Request& request, const NetworkState& state) const = 0;
};

struct HeuristicOptions {
  int k = 0;  // candidate paths to consider; 0 = all the model has (SP-* use 1)
  FitPolicy fit = FitPolicy::kFirstFit;
};

// Names: sp-ff, ksp-ff, ksp-bf, ksp-lf, qot-aware, latency-aware, energy-aware.
// Throws std::invalid_argument listing the known names for an unknown one.
std::unique_ptr<Heuristic> MakeHeuristic(const std::string& name, const HeuristicOptions& options = {});
std::vector<std::string> HeuristicNames();

// Given the usable/unusable candidates seen, the cause to report for a block: no spectrum if
// any candidate was usable, else QoT if any met its latency bound, else latency.
BlockCause AggregateCause(bool any_usable, bool any_latency_ok, bool any_candidate);

}  // namespace eonops::twin
