// Classic RMSA/RMBSA heuristics, each a policy object: the simulator uses them to replay a
// network's life, the environments use them for warm-up, as baselines and as expert actions,
// and the PCE uses them as its fallback.
//
//   auto h = MakeHeuristic("ksp-ff", HeuristicOptions{});
//   Decision d = h->Decide(request, state);              // among the model's k paths
//   Decision e = h->DecideAmong(request, state, paths);  // among caller-owned paths (PCE
//                                                        // include/exclude constraints)
//   if (d.accepted) state.Provision(request, d.candidate, d.slot, release_time);
//
// The rules (K candidate paths in the model's order, bands in the plan's preference order,
// path-major: (path 0, C), (path 0, L), (path 1, C), ...):
//   sp-ff          shortest path only, first fit
//   ksp-ff/bf/lf   the first (path, band) with a free block, first / best / last fit
//   ksp-ef         the KSP-FF (path, band); exact fit (a free run of exactly the width) there,
//                  else first fit
//   ff-ksp         the lowest first-fit start slot over every (path, band) (bands in order,
//                  ties to the earlier path)
//   ksp-mscl       the KSP-FF (path, band); there the start slot of least capacity loss
//   mscl-ksp       the (path, band, start slot) of least capacity loss over all; ties to the
//                  earlier path, then band, then lowest slot
//   wmscl-ksp      as mscl-ksp, but the loss counts each route's placements weighted by that
//                  route's own request-size distribution (CapacityLoss::ExpectedLoss): ours,
//                  not from the literature
//   lmscl-ksp      as mscl-ksp, but under the traffic's latency bound (HeuristicOptions::
//                  latency_bound_us) each node pair's reference route in the loss is its first
//                  candidate within the bound, not its first candidate (CapacityLoss): ours;
//                  without a bound it is mscl-ksp
//   qot-aware      fewest slots, then highest GSNR margin
//   latency-aware  lowest latency
//   energy-aware   least incremental power
// The capacity-loss rules are XLRON's ksp_mscl / mscl_ksp (twin/capacity_loss.h); they cost
// ~10-60 us per request on NSFNET K = 5 (bench/twin CapacityLoss*), the others ~1 us.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "twin/network.h"

namespace eonops::twin {

struct Decision {
  bool accepted = false;
  BlockCause cause = BlockCause::kNoPath;  // why not, when !accepted
  Candidate candidate;                     // path, band, modulation, width
  int slot = -1;                           // first slot of the block
};

// The candidate paths of one request: the model's first k paths of its node pair (with their
// cached modulation and latency), or an explicit, caller-owned list (evaluated on the spot).
class CandidatePaths {
 public:
  CandidatePaths(const NetworkModel& model, const Request& request, int k);
  CandidatePaths(const NetworkModel& model, const Request& request, const std::vector<Path>& paths);

  int size() const { return size_; }
  Candidate Evaluate(int index, int band) const;

 private:
  const NetworkModel& model_;
  const Request& request_;
  const std::vector<Path>* explicit_ = nullptr;
  int size_ = 0;
};

class Heuristic {
 public:
  virtual ~Heuristic() = default;
  virtual std::string Name() const = 0;
  // Chooses among the model's candidate paths of the request.
  virtual Decision Decide(const Request& request, const NetworkState& state) const = 0;
  // Chooses among `paths` (all of them, in their order) with the same rule. Rules that cannot
  // (a trained policy sees only the model's candidates) refuse with BlockCause::kNoPath.
  virtual Decision DecideAmong(const Request& request, const NetworkState& state,
                               const std::vector<Path>& paths) const;
};

struct HeuristicOptions {
  int k = 0;  // candidate paths to consider; 0 = all the model has (SP-* use 1)
  FitPolicy fit = FitPolicy::kFirstFit;  // spectrum rule of qot-/latency-/energy-aware
  // The largest request the traffic can bring: sets W, the widest request the capacity-loss
  // rules account for (CapacityLoss::MaxRequestWidth).
  double max_bit_rate_gbps = 100.0;
  // The bit rates the traffic brings, with their probabilities (TrafficConfig::
  // BitRateDistribution): what wmscl-ksp weighs each route's request sizes by. Empty: every
  // request at max_bit_rate_gbps.
  std::vector<std::pair<double, double>> bit_rates;
  // The latency bound the traffic puts on every request (TrafficConfig::latency_bound_us;
  // infinite: none): the routes lmscl-ksp's capacity loss counts.
  double latency_bound_us = std::numeric_limits<double>::infinity();

  // What the traffic sets (the widest request, the bit-rate mix, the loosest bound), k = all.
  static HeuristicOptions ForTraffic(const TrafficConfig& traffic);
};

// Names: sp-ff, ksp-ff, ksp-bf, ksp-lf, ksp-ef, ff-ksp, ksp-mscl, mscl-ksp, wmscl-ksp, lmscl-ksp, qot-aware,
// latency-aware, energy-aware. Throws std::invalid_argument listing the known names for an
// unknown one. The capacity-loss rules build their route tables on first use, for the model of
// the state they are given.
std::unique_ptr<Heuristic> MakeHeuristic(const std::string& name, const HeuristicOptions& options = {});
std::vector<std::string> HeuristicNames();
bool IsHeuristicName(const std::string& name);

// Given the usable/unusable candidates seen, the cause to report for a block: no spectrum if
// any candidate was usable, else QoT if any met its latency bound, else latency.
BlockCause AggregateCause(bool any_usable, bool any_latency_ok, bool any_candidate);

}  // namespace eonops::twin
