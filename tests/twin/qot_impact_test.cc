// Pins twin/qot_impact.h: tracked GSNRs equal the actual-occupancy model's, and the impact of a
// candidate (its lowest margin among the lit lightpaths it touches) is what lighting it and
// recomputing gives.
#include "twin/qot_impact.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "tests/twin/test_util.h"
#include "tests/twin/twin_fixtures.h"
#include "twin/heuristics.h"
#include "twin/network.h"

namespace eonops::twin {
namespace {

// NSFNET, C+L+S, GSNR modulation, loaded by KSP-FF with `n` lightpaths of 100-400 Gb/s.
std::unique_ptr<NetworkState> Loaded(int n, uint64_t seed, bool track = true) {
  auto state = std::make_unique<NetworkState>(fixtures::NsfnetClsGsnrModel());
  if (track) state->EnableQotTracking();
  const auto ksp = MakeHeuristic("ksp-ff");
  uint64_t x = seed;
  auto next = [&x] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x >> 33;
  };
  int lit = 0;
  for (int r = 0; r < 20 * n && lit < n; ++r) {
    const int a = static_cast<int>(next() % 14), b = static_cast<int>(next() % 14);
    if (a == b) continue;
    Request q = fixtures::MakeRequest(a, b, 100.0 * (1 + next() % 4));
    q.id = r;
    const Decision d = ksp->Decide(q, *state);
    if (d.accepted && state->Provision(q, d.candidate, d.slot, 1e9) >= 0) ++lit;
  }
  return state;
}

// The GSNR the actual-occupancy model gives a lit lightpath in `state`.
double RecomputedGsnrDb(const NetworkState& state, const Lightpath& lp) {
  const QotModel& q = state.model().qot();
  auto lit = [&](int fibre, std::vector<ActiveChannel>* out) {
    for (const Lightpath* o : state.Lightpaths()) {
      if (o->id == lp.id) continue;
      for (int f : o->path->fibres) {
        if (f == fibre) out->push_back(q.BlockChannel(o->band, o->slot, o->width));
      }
    }
  };
  return q.ActualGsnrDb(lp.path->fibres, lp.band, lp.slot, lp.width, lit);
}

TEST(QotImpactTest, TrackedGsnrIsTheActualOccupancyGsnr) {
  auto state = Loaded(120, 7);
  ASSERT_EQ(state->CheckInvariants(), "");
  const auto lps = state->Lightpaths();
  ASSERT_GT(lps.size(), 100u);
  for (size_t i = 0; i < lps.size(); i += 9) {
    EXPECT_NEAR(state->LightpathGsnrDb(lps[i]->id), RecomputedGsnrDb(*state, *lps[i]), 1e-9);
    // ... and never below the worst case the modulation was chosen from.
    EXPECT_GE(state->LightpathGsnrDb(lps[i]->id), lps[i]->gsnr_db - 1e-9);
  }
  // Releases keep it exact too.
  for (size_t i = 0; i < lps.size(); i += 3) state->Release(lps[i]->id);
  for (const Lightpath* lp : state->Lightpaths()) {
    EXPECT_NEAR(state->LightpathGsnrDb(lp->id), RecomputedGsnrDb(*state, *lp), 1e-9);
  }
  EXPECT_TRUE(std::isnan(state->LightpathGsnrDb(lps[0]->id)));
  // Untracked states answer nothing rather than something wrong.
  auto plain = Loaded(10, 7, /*track=*/false);
  EXPECT_TRUE(std::isnan(plain->LightpathGsnrDb(plain->Lightpaths()[0]->id)));
  EXPECT_EQ(plain->QotImpactOf(Candidate{}, 0, 0.0).touched, 0);
}

TEST(QotImpactTest, ImpactPredictsTheMarginsAfterLighting) {
  auto state = Loaded(300, 11);
  const auto ksp = MakeHeuristic("ksp-ff");
  const auto& m = state->model();
  int checked = 0;
  double worst_error_db = 0.0;
  for (int r = 0; r < 60; ++r) {
    const Request q = fixtures::MakeRequest(r % 14, (r * 5 + 3) % 14, 200.0);
    if (q.src == q.dst) continue;
    const Decision d = ksp->Decide(q, *state);
    if (!d.accepted) continue;
    const QotImpact impact = state->QotImpactOf(d.candidate, d.slot, /*margin_db=*/0.5);
    // Before: every touched lightpath's margin now.
    std::map<int32_t, double> before;
    for (const Lightpath* lp : state->Lightpaths()) before[lp->id] = state->LightpathGsnrDb(lp->id);
    NetworkState after = *state;
    const int32_t id = after.Provision(q, d.candidate, d.slot, 1e9);
    ASSERT_GE(id, 0);
    int touched = 0;
    double min_margin = std::numeric_limits<double>::infinity();
    int32_t worst = -1;
    for (const Lightpath* lp : after.Lightpaths()) {
      if (lp->id == id) continue;
      bool shares = false;
      for (int f : lp->path->fibres) {
        for (int g : d.candidate.path->fibres) shares = shares || f == g;
      }
      if (!shares) {
        EXPECT_NEAR(after.LightpathGsnrDb(lp->id), before[lp->id], 1e-9);  // untouched
        continue;
      }
      ++touched;
      const double margin = after.LightpathGsnrDb(lp->id) -
                            m.modulations().format(lp->modulation).gsnr_threshold_db - 0.5;
      if (margin < min_margin) {
        min_margin = margin;
        worst = lp->id;
      }
      EXPECT_LT(after.LightpathGsnrDb(lp->id), before[lp->id] + 0.05);  // nobody gains much
    }
    EXPECT_EQ(impact.touched, touched);
    if (touched == 0) continue;
    ++checked;
    worst_error_db = std::max(worst_error_db, std::abs(impact.min_margin_db - min_margin));
    EXPECT_NEAR(impact.min_margin_db, min_margin, 0.02) << "request " << r;
    if (std::abs(impact.min_margin_db - min_margin) < 1e-3) EXPECT_EQ(impact.worst_lightpath, worst);
    state = std::make_unique<NetworkState>(after);  // keep loading
  }
  EXPECT_GT(checked, 30);
  std::cout << "impact: " << checked << " candidates, largest error in the lowest margin "
            << worst_error_db << " dB\n";
}

// What the PCE validates a candidate with when the state tracks its lightpaths: its own GSNR read
// off the tracked fibres, against a Raman solution per fibre with it lit.
TEST(QotImpactTest, CandidateGsnrFromTheTrackedFibresMatchesTheActualOccupancyModel) {
  auto state = Loaded(300, 5);
  const auto ksp = MakeHeuristic("ksp-ff");
  const QotModel& q = state->model().qot();
  int checked = 0;
  double worst = 0.0;
  for (int r = 0; r < 40; ++r) {
    const Request req = fixtures::MakeRequest(r % 14, (r * 3 + 5) % 14, 100.0 * (1 + r % 4));
    if (req.src == req.dst) continue;
    const Decision d = ksp->Decide(req, *state);
    if (!d.accepted) continue;
    auto lit = [&](int fibre, std::vector<ActiveChannel>* out) {
      for (const Lightpath* o : state->Lightpaths()) {
        for (int f : o->path->fibres) {
          if (f == fibre) out->push_back(q.BlockChannel(o->band, o->slot, o->width));
        }
      }
    };
    const double exact = q.ActualGsnrDb(d.candidate.path->fibres, d.candidate.band, d.slot,
                                        d.candidate.width, lit);
    const double fast = state->CandidateGsnrDb(d.candidate, d.slot);
    worst = std::max(worst, std::abs(fast - exact));
    EXPECT_NEAR(fast, exact, 0.05) << "request " << r;
    ++checked;
  }
  EXPECT_GT(checked, 20);
  std::cout << "candidate GSNR from the tracked fibres: largest difference " << worst << " dB\n";
}

}  // namespace
}  // namespace eonops::twin
