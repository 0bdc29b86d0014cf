#include "twin/capacity_loss.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// The definition, recounted from scratch: the drop of C over the first path of every ordered
// pair sharing a fibre with `path`, plus `path` itself when it is not such a first path.
int64_t BruteLoss(const NetworkState& s, const Path& path, int band, int slot, int width, int w) {
  const NetworkModel& m = s.model();
  int64_t loss = 0;
  bool self = false;
  for (int a = 0; a < m.topology().NumNodes(); ++a) {
    for (int b = 0; b < m.topology().NumNodes(); ++b) {
      if (a == b) continue;
      const Path& q = m.paths().Get(a, b)[0];
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
      // Every start slot of every candidate path, occupied or not, against the recount.
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
