#include "twin/capacity_loss.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <limits>
#include <optional>
#include <vector>

#include "tests/twin/twin_fixtures.h"
#include "twin/engine.h"
#include "twin/heuristics.h"

namespace eonops::twin {
namespace {

// C_q = sum_i min(run[i], W) over q's OR-ed spectrum, counted slot by slot, with `extra` (a
// block on `extra_fibres`) treated as occupied.
int64_t BruteCapacity(const NetworkState& s, const Path& q, int band, int w, const std::vector<int>& extra_fibres,
                      int slot, int width) {
  const int slots = s.model().plan().band(band).num_slots;
  std::vector<char> busy(slots, 0);
  for (int f : q.fibres) {
    for (int i = 0; i < slots; ++i) busy[i] |= s.spectrum().IsOccupied(f, band, i);
    if (std::find(extra_fibres.begin(), extra_fibres.end(), f) != extra_fibres.end()) {
      for (int i = slot; i < slot + width; ++i) busy[i] = 1;
    }
  }
  int64_t c = 0;
  for (int i = 0; i < slots; ++i) {
    int run = 0;
    while (i + run < slots && !busy[i + run]) ++run;
    c += std::min(run, w);
  }
  return c;
}

bool SharesFibre(const Path& a, const Path& b) {
  for (int f : a.fibres) {
    if (std::find(b.fibres.begin(), b.fibres.end(), f) != b.fibres.end()) return true;
  }
  return false;
}

// The definition, recounted from scratch: the drop of C over the reference route of every
// ordered pair sharing a fibre with `path` (its first path; under a latency bound its first
// path within the bound, if any), plus `path` itself when it is not such a reference route.
int64_t BruteLoss(const NetworkState& s, const Path& path, int band, int slot, int width, int w,
                  double bound_us = std::numeric_limits<double>::infinity()) {
  const NetworkModel& m = s.model();
  int64_t loss = 0;
  bool self = false;
  for (int a = 0; a < m.topology().NumNodes(); ++a) {
    for (int b = 0; b < m.topology().NumNodes(); ++b) {
      if (a == b) continue;
      const Path* ref = nullptr;
      for (const Path& p : m.paths().Get(a, b)) {
        if (m.latency().PathLatencyUs(p) <= bound_us) {
          ref = &p;
          break;
        }
      }
      if (ref == nullptr) continue;
      const Path& q = *ref;
      if (!SharesFibre(q, path)) continue;
      self |= q.nodes == path.nodes;
      loss += BruteCapacity(s, q, band, w, {}, 0, 0) - BruteCapacity(s, q, band, w, path.fibres, slot, width);
    }
  }
  if (!self) {
    loss += BruteCapacity(s, path, band, w, {}, 0, 0) - BruteCapacity(s, path, band, w, path.fibres, slot, width);
  }
  return loss;
}

TEST(CapacityLossTest, MatchesABruteForceRecountOnALoadedNsfnet) {
  const auto& model = fixtures::DeepRmsaModel();
  const int w = CapacityLoss::MaxRequestWidth(*model, 100);
  EXPECT_EQ(w, 9);  // 100 Gb/s in BPSK (some K = 5 paths exceed 2500 km): 8 + 1 guard slot
  CapacityLoss cl(*model, w);
  TrafficConfig traffic;
  traffic.load_erlang = 200;
  Engine engine(model, traffic, 7);
  const auto ff = MakeHeuristic("ksp-ff");
  std::vector<int64_t> all(100);
  int checked = 0;
  for (int i = 0; i < 3000; ++i) {
    const Request& r = engine.Advance();
    if (i % 250 == 249) {
      // Every start slot of every candidate path, occupied or not, against the recount; every
      // other check inside a Scope (each route's bitset compared once for the decision).
      std::optional<CapacityLoss::Scope> scope;
      if (i % 500 == 499) scope.emplace(cl, engine.state());
      for (int k = 0; k < model->k(); ++k) {
        const Candidate c = model->Evaluate(r, k, 0);
        if (!c.usable()) continue;
        cl.LossAll(engine.state(), *c.path, 0, c.width, all.data());
        for (int slot = 0; slot + c.width <= 100; slot += 3) {
          const int64_t expect = BruteLoss(engine.state(), *c.path, 0, slot, c.width, w);
          ASSERT_EQ(all[slot], expect) << "request " << i << " path " << k << " slot " << slot;
          ASSERT_EQ(cl.Loss(engine.state(), *c.path, 0, slot, c.width), expect);
          ++checked;
        }
        // A caller-owned copy of the path (not in the table) gives the same figures.
        const Path copy = *c.path;
        EXPECT_EQ(cl.Loss(engine.state(), copy, 0, 0, c.width), all[0]);
      }
    }
    const Decision d = ff->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  EXPECT_GT(checked, 1000);
}

// Under a latency bound the reference route of a pair is its first candidate within the bound.
// NSFNET over the 5 fewest-hop paths at 18 ms: the fewest-hop routes of some pairs are over
// the bound (so another route, or none, stands in), and the loss is recounted from scratch.
TEST(CapacityLossTest, LatencyBoundedReferencesMatchTheRecount) {
  NetworkOptions o = fixtures::DeepRmsaScenario().network;
  o.path_order = PathOrder::kHops;
  const auto model = fixtures::MakeModel(o);
  const double bound = 18000.0;
  int replaced = 0, dropped = 0;
  for (int a = 0; a < model->topology().NumNodes(); ++a) {
    for (int b = 0; b < model->topology().NumNodes(); ++b) {
      if (a == b) continue;
      const auto& ps = model->paths().Get(a, b);
      if (model->latency().PathLatencyUs(ps[0]) <= bound) continue;
      bool any = false;
      for (const Path& p : ps) any |= model->latency().PathLatencyUs(p) <= bound;
      ++(any ? replaced : dropped);
    }
  }
  ASSERT_GT(replaced, 0);  // the test would not tell the two definitions apart otherwise
  const int w = CapacityLoss::MaxRequestWidth(*model, 100);
  CapacityLoss bounded(*model, w, {}, bound);
  CapacityLoss published(*model, w);
  EXPECT_EQ(bounded.reference_latency_bound_us(), bound);
  TrafficConfig traffic;
  traffic.load_erlang = 200;
  Engine engine(model, traffic, 11);
  const auto ff = MakeHeuristic("ksp-ff");
  std::vector<int64_t> all(100);
  int checked = 0, differ = 0;
  for (int i = 0; i < 2000; ++i) {
    const Request& r = engine.Advance();
    if (i % 400 == 399) {
      for (int k = 0; k < model->k(); ++k) {
        const Candidate c = model->Evaluate(r, k, 0);
        if (!c.usable()) continue;
        bounded.LossAll(engine.state(), *c.path, 0, c.width, all.data());
        for (int slot = 0; slot + c.width <= 100; slot += 7) {
          const int64_t expect = BruteLoss(engine.state(), *c.path, 0, slot, c.width, w, bound);
          ASSERT_EQ(all[slot], expect) << "request " << i << " path " << k << " slot " << slot;
          ASSERT_EQ(bounded.Loss(engine.state(), *c.path, 0, slot, c.width), expect);
          differ += published.Loss(engine.state(), *c.path, 0, slot, c.width) != expect;
          ++checked;
        }
      }
    }
    const Decision d = ff->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  EXPECT_GT(checked, 100);
  EXPECT_GT(differ, 0);
  EXPECT_THROW(CapacityLoss(*model, w, {}, 0.0), std::invalid_argument);
  EXPECT_THROW(CapacityLoss(*model, w, {}, std::nan("")), std::invalid_argument);
}

TEST(CapacityLossTest, HandComputedOnAFourNodeRing) {
  // ring4, 16 slots, W = 3. Route 0->1 is the direct fibre (every other pair whose first path
  // uses fibre 0->1 is counted too). On an empty ring a 2-slot block at slot 0 of the direct
  // hop: each affected route loses min(run, 3) at slots 0 and 1 (3 + 3) and nothing left of
  // slot 0 -> 6 per route; a block at slot 7 loses 3 + 3 inside plus, left of it, the runs of
  // slots 5 and 6 cut from 3 to 2 and 1 (1 + 2) -> 9 per route.
  const auto model = fixtures::MakeModel(fixtures::RingOptions({"C"}, 16));
  NetworkState s(model);
  CapacityLoss cl(*model, 3);
  const Path& p = model->paths().Get(0, 1)[0];
  int routes = 0;
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      if (a != b && SharesFibre(model->paths().Get(a, b)[0], p)) ++routes;
    }
  }
  ASSERT_GE(routes, 1);
  EXPECT_EQ(cl.Loss(s, p, 0, 0, 2), 6 * routes);
  EXPECT_EQ(cl.Loss(s, p, 0, 7, 2), 9 * routes);
  EXPECT_EQ(cl.Loss(s, p, 0, 14, 2), 6 * routes);  // flush with the top: no run right of it
  EXPECT_EQ(cl.Loss(s, p, 0, 15, 2), std::numeric_limits<int64_t>::max());  // past the band
}

}  // namespace
}  // namespace eonops::twin
