// Slot-continuity capacity loss: the metric of the MSCL heuristics (Almeida Jr. et al., "Slot
// assignment strategy to reduce loss of capacity of contiguous-slot path requests in flexible
// grid optical networks", Electronics Letters 49(5), 2013), defined as XLRON's capacity_loss.
//
// The capacity of a route q in a band is C_q = sum over start slots i of min(run_q[i], W):
// run_q[i] is the free run starting at slot i of q's link-aggregated (OR-ed) spectrum, W the
// largest request in slots (guard included), so C_q counts every placement of every request
// size 1..W. Lighting [s, s + w) on route r lowers C_q of r and of every route sharing a fibre
// with r. The loss of (r, s) is the sum of those drops over the reference route (the first
// candidate path) of every ordered node pair whose route shares a fibre with r, plus r itself
// when r is not its own pair's reference route.
//
// Under a latency bound (`reference_latency_bound_us` finite) a pair's first candidate may be
// a route none of its requests can use (on NSFNET at 20 ms the fewest-hop route of 0-13 is
// 5100 km, 25 ms) while the routes they do use go unguarded. There a pair's reference route is
// its first candidate within the bound (none when all are over it). Ours, not from the
// literature; the rule lmscl-ksp uses it (twin/heuristics.h). Counting every candidate within
// the bound instead (1 to 12 of the 50 fewest-hop paths per NSFNET pair at 20 ms) was tried
// and blocked more (3.88% against mscl-ksp's 3.51%, 3 seeds x 50k).
//
//   CapacityLoss cl(model, /*max_width=*/cl_width);
//   std::vector<int64_t> loss(num_slots);
//   cl.LossAll(state, path, band, width, loss.data());  // loss[s] for every start slot s
//   int64_t one = cl.Loss(state, path, band, slot, width);
//
// How it is computed. Per route and band we keep two prefix arrays over the slots, from the
// route's OR-ed occupancy bitset: cum[i] = sum_{j<i} min(run[j], W), and tm[i] = trunc(i) -
// cum[i], where trunc(i) is what the positions left of i in i's free run lose when their run is
// cut at i (closed form: with D = i - run start, g = run end - i, trunc = sum_{d=1..D}
// min(d+g, W) - min(d, W)). The drop of C_q for a block [s, e) is then tm[s] + cum[e]: O(1).
// A route's arrays are rebuilt only when its OR-ed bitset differs from the one they were built
// from (checked per request: a few word ORs per route), so a request costs one rescan per route
// touched since the previous one (~S integer operations each) plus, per candidate path r,
// 2 S adds per interfering route for LossAll (NSFNET, K = 5: ~60 routes per path). Measured in
// bench/twin (CapacityLoss*).
//
// Within one decision the same routes are asked about many times (every candidate path shares
// most interferers): a Scope, held by the deciding thread for the state it decides on, checks
// each route's bitset once per decision instead of once per call.
//
//   { CapacityLoss::Scope scope(cl, state);  for (...) cl.LossAll(state, ...); }
//
// Thread safety: the per-route cache is guarded by a mutex, so one object may serve several
// threads (the PCE), though each environment or simulation keeps its own. A Scope only speeds
// up the calls of its own thread on its own state; others are checked as without one.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "twin/network.h"

namespace eonops::twin {

class CapacityLoss {
 public:
  // One decision on one state: the state must not change while the scope lives.
  class Scope {
   public:
    Scope(const CapacityLoss& loss, const NetworkState& state);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    const CapacityLoss& loss_;
    bool opened_ = false;  // false for a nested or concurrent scope, which changes nothing
  };

  // `max_width` is W, the widest request in slots (guard included); see MaxRequestWidth.
  // `bit_rates` (bit rate, probability), when given, sets each route's own request-size
  // distribution for ExpectedLoss and CriticalRoutes: the widths requests of that route's pair
  // would need on it, in its format.
  // `reference_latency_bound_us`: infinite for the published reference routes (each pair's
  // first candidate), else each pair's first candidate within that latency (see the top).
  CapacityLoss(const NetworkModel& model, int max_width,
               std::vector<std::pair<double, double>> bit_rates = {},
               double reference_latency_bound_us = std::numeric_limits<double>::infinity());

  // W for requests up to `max_bit_rate_gbps` on any of the model's candidate paths and bands:
  // the slots of that bit rate in the least efficient format any path uses (as XLRON takes
  // the lowest spectral efficiency in its path table).
  static int MaxRequestWidth(const NetworkModel& model, double max_bit_rate_gbps);

  int max_width() const { return w_; }
  double reference_latency_bound_us() const { return reference_bound_us_; }

  // loss[s] for s in [0, num_slots - width] (the drop if [s, s + width) were lit on `path` in
  // `band`); entries past that are left alone. The block need not be free: callers keep only
  // feasible starts. `path` is a path of the model's table or any caller-owned path.
  void LossAll(const NetworkState& state, const Path& path, int band, int width, int64_t* loss) const;
  int64_t Loss(const NetworkState& state, const Path& path, int band, int slot, int width) const;

  // The same drop counted per request size: placements of a request of w slots are lost on
  // route q when they were free and overlap [slot, slot + width). MSCL's loss is their sum over
  // w = 1..W; here each route weighs sizes by its own request-size distribution (the widths
  // its pair's requests need on it), so placements no request would use count for nothing.
  // Needs `bit_rates` at construction; 0 otherwise.
  double ExpectedLoss(const NetworkState& state, const Path& path, int band, int slot, int width) const;
  // How many interfering routes lose their last placement for their largest request.
  int CriticalRoutes(const NetworkState& state, const Path& path, int band, int slot, int width) const;
  // Both at once (one pass over the routes).
  void SizeAwareLoss(const NetworkState& state, const Path& path, int band, int slot, int width,
                     double* expected, int* critical) const;

 private:
  struct RouteArrays {
    std::vector<uint64_t> occupancy;  // the OR-ed bitset they were built from
    std::vector<int32_t> cum, tm;     // S + 1 entries each
    // count[(w - 1) * (S + 1) + i]: start slots j < i with a free run of at least w (w = 1..W),
    // built only when sizes are weighted.
    std::vector<int16_t> count;
    bool built = false;
    uint64_t checked_epoch = 0;  // the Scope epoch in which the bitset was last compared
  };
  // Per (route id, band): each request size's probability on that route, and the largest size.
  struct RouteSizes {
    std::vector<float> p;  // index w = 1..W (p[0] unused)
    int largest = 0;
  };
  const RouteSizes& SizesOf(int route_id, const Path& path, int band) const;
  // Routes: the model's table paths, by id (src * n + dst) * k + index.
  int RouteId(const Path& path) const;  // -1 when `path` is not in the model's table
  const std::vector<int>& Interferers(int route_id) const;
  std::vector<int> InterferersOf(const Path& path) const;
  const RouteArrays& Arrays(const NetworkState& state, int route_id, const Path& path, int band) const;
  void Build(const NetworkState& state, const Path& path, int band, RouteArrays* a) const;

  const NetworkModel& model_;
  int w_;
  std::vector<std::pair<double, double>> bit_rates_;
  mutable std::vector<RouteSizes> sizes_;  // per (route id, band), built on first use
  mutable RouteSizes scratch_sizes_;
  int n_, k_, fibre_words_;
  std::vector<const Path*> routes_;            // by route id; null where a pair has fewer paths
  double reference_bound_us_;
  std::vector<int> references_;                // the reference route ids, ascending (one per pair at most)
  std::vector<std::vector<uint64_t>> fibre_sets_;  // per route id: fibres as a bitset
  mutable std::vector<std::vector<int>> interferers_;  // per route id, built on first use
  mutable std::vector<char> interferers_built_;
  mutable std::vector<RouteArrays> cache_;  // per (route id, band)
  mutable RouteArrays scratch_;             // for paths outside the table
  mutable std::mutex mu_;
  // The open Scope, if any: its thread, its state and its epoch (never 0).
  mutable std::thread::id scope_thread_;
  mutable const NetworkState* scope_state_ = nullptr;
  mutable uint64_t scope_epoch_ = 0;
  mutable std::vector<int32_t> accumulator_;
};

}  // namespace eonops::twin
