#include "twin/heuristics.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/twin/twin_fixtures.h"
#include "twin/capacity_loss.h"
#include "twin/engine.h"
#include "twin/rng.h"

namespace eonops::twin {
namespace {

using fixtures::MakeRequest;
using fixtures::Occupy;

// True when some (path, band) among the first k candidates has a free block for the request.
bool AnyFeasible(const Request& r, const NetworkState& s, int k) {
  const NetworkModel& m = s.model();
  const int paths = static_cast<int>(m.paths().Get(r.src, r.dst).size());
  for (int p = 0; p < std::min(k, paths); ++p) {
    for (int b = 0; b < m.NumBands(); ++b) {
      const Candidate c = m.Evaluate(r, p, b);
      if (!c.usable()) continue;
      for (int slot = 0; slot + c.width <= m.plan().band(b).num_slots; ++slot) {
        if (s.spectrum().IsFree(c.path->fibres, b, slot, c.width)) return true;
      }
    }
  }
  return false;
}

TEST(HeuristicsTest, SpFfBlocksWhereKspFfTakesTheOtherWayRound) {
  const auto model = fixtures::MakeModel(fixtures::RingOptions({"C"}, 16));
  NetworkState s(model);
  // 0->1: the direct 400 km hop, or 0-3-2-1 (1200 km). Fill the direct fibre.
  ASSERT_EQ(model->paths().Get(0, 1).size(), 2u);
  ASSERT_EQ(model->paths().Get(0, 1)[0].hops, 1);
  Occupy(s, 0, 1, 0, 0, 0, 16);
  const Request r = MakeRequest(0, 1, 50);
  const Decision sp = MakeHeuristic("sp-ff")->Decide(r, s);
  EXPECT_FALSE(sp.accepted);
  EXPECT_EQ(sp.cause, BlockCause::kNoSpectrum);
  const Decision ksp = MakeHeuristic("ksp-ff")->Decide(r, s);
  ASSERT_TRUE(ksp.accepted);
  EXPECT_EQ(ksp.cause, BlockCause::kNone);
  EXPECT_EQ(ksp.candidate.path_index, 1);
  EXPECT_EQ(ksp.candidate.path->nodes, (std::vector<int>{0, 3, 2, 1}));
  EXPECT_EQ(ksp.slot, 0);
  // 1200 km is 8QAM: ceil(50 / 37.5) + 1 = 3 slots, not the 2 of the direct hop's 16QAM.
  EXPECT_EQ(ksp.candidate.width, 3);
  EXPECT_EQ(model->modulations().format(ksp.candidate.modulation).name, "8QAM");
  // With k = 1 KSP-FF is SP-FF.
  HeuristicOptions one;
  one.k = 1;
  EXPECT_FALSE(MakeHeuristic("ksp-ff", one)->Decide(r, s).accepted);
  // Commit it; then the other way round is full on its first fibre too and both block.
  ASSERT_GE(s.Provision(r, ksp.candidate, ksp.slot, 1.0), 0);
  Occupy(s, 0, 3, 0, 0, 3, 13);
  const Decision none = MakeHeuristic("ksp-ff")->Decide(r, s);
  EXPECT_FALSE(none.accepted);
  EXPECT_EQ(none.cause, BlockCause::kNoSpectrum);
  EXPECT_EQ(s.CheckInvariants(), "");
}

TEST(HeuristicsTest, FirstLastAndBestFitPickTheHandComputedSlots) {
  const auto model = fixtures::MakeModel(fixtures::RingOptions({"C"}, 16));
  NetworkState s(model);
  const Request r = MakeRequest(0, 2, 25);  // 800 km: 8QAM, ceil(25 / 37.5) + 1 = 2 slots
  const Path& p = model->paths().Get(0, 2)[0];
  ASSERT_EQ(p.hops, 2);
  const int a = p.nodes[0], b = p.nodes[1], c = p.nodes[2];
  // Occupancy over the path is the OR of its fibres: a->b holds {0, 4, 5, 6}, b->c {9, 15}.
  //   slot  0123456789012345
  //   a->b  #...###.........
  //   b->c  .........#.....#
  //   path  #...###..#.....#   free runs: 1-3 (3), 7-8 (2), 10-14 (5)
  Occupy(s, a, b, 0, 0, 0, 1);
  Occupy(s, a, b, 0, 0, 4, 3);
  Occupy(s, b, c, 0, 0, 9, 1);
  Occupy(s, b, c, 0, 0, 15, 1);
  ASSERT_EQ(model->Evaluate(r, 0, 0).width, 2);
  const Decision ff = MakeHeuristic("ksp-ff")->Decide(r, s);
  const Decision lf = MakeHeuristic("ksp-lf")->Decide(r, s);
  const Decision bf = MakeHeuristic("ksp-bf")->Decide(r, s);
  for (const Decision* d : {&ff, &lf, &bf}) {
    ASSERT_TRUE(d->accepted);
    EXPECT_EQ(d->candidate.path_index, 0);
    EXPECT_EQ(d->candidate.width, 2);
  }
  EXPECT_EQ(ff.slot, 1);   // lowest free block
  EXPECT_EQ(lf.slot, 13);  // flush with the top of the highest run (13, 14)
  EXPECT_EQ(bf.slot, 7);   // the exact 2-slot hole
  // A 3-slot request: first fit 1 (exact), best fit 1 too, last fit 12.
  const Request r3 = MakeRequest(0, 2, 50);  // ceil(50 / 37.5) + 1 = 3
  ASSERT_EQ(model->Evaluate(r3, 0, 0).width, 3);
  EXPECT_EQ(MakeHeuristic("ksp-ff")->Decide(r3, s).slot, 1);
  EXPECT_EQ(MakeHeuristic("ksp-bf")->Decide(r3, s).slot, 1);
  EXPECT_EQ(MakeHeuristic("ksp-lf")->Decide(r3, s).slot, 12);
  // 6 slots fit nowhere on this path: the other way round (empty) takes it at slot 0 / 10.
  const Request r6 = MakeRequest(0, 2, 180);  // ceil(4.8) + 1 = 6
  ASSERT_EQ(model->Evaluate(r6, 0, 0).width, 6);
  const Decision ff6 = MakeHeuristic("ksp-ff")->Decide(r6, s);
  ASSERT_TRUE(ff6.accepted);
  EXPECT_EQ(ff6.candidate.path_index, 1);
  EXPECT_EQ(ff6.slot, 0);
  EXPECT_EQ(MakeHeuristic("ksp-lf")->Decide(r6, s).slot, 10);
  // SP-FF and the fit option of the best-of policies.
  EXPECT_EQ(MakeHeuristic("sp-ff")->Decide(r, s).slot, 1);
  HeuristicOptions last;
  last.fit = FitPolicy::kLastFit;
  EXPECT_EQ(MakeHeuristic("latency-aware", last)->Decide(r, s).slot, 13);
}

TEST(HeuristicsTest, BandsAreTriedInThePlansOrder) {
  for (const auto& bands : std::vector<std::vector<std::string>>{{"C", "L"}, {"L", "C"}}) {
    const auto model = fixtures::MakeModel(fixtures::RingOptions(bands, 8));
    NetworkState s(model);
    const Request r = MakeRequest(0, 1, 50);  // 2 slots on the direct hop
    Decision d = MakeHeuristic("ksp-ff")->Decide(r, s);
    ASSERT_TRUE(d.accepted);
    EXPECT_EQ(model->plan().band(d.candidate.band).name, bands[0]);
    EXPECT_EQ(d.candidate.path_index, 0);
    // First band full on the direct hop: the second band of the same path comes before the
    // second path.
    Occupy(s, 0, 1, 0, 0, 0, 8);
    d = MakeHeuristic("ksp-ff")->Decide(r, s);
    ASSERT_TRUE(d.accepted);
    EXPECT_EQ(model->plan().band(d.candidate.band).name, bands[1]);
    EXPECT_EQ(d.candidate.path_index, 0);
  }
}

TEST(HeuristicsTest, LatencyAwarePicksTheLowestLatencyFeasiblePath) {
  // Ordered by hops, NSFNET's first candidate is often not the shortest: KSP-FF takes the first,
  // the latency-aware policy the lowest-latency one.
  NetworkOptions o = fixtures::DeepRmsaScenario().network;
  o.path_order = PathOrder::kHops;
  const auto model = fixtures::MakeModel(o);
  const auto latency_aware = MakeHeuristic("latency-aware");
  const auto ksp_ff = MakeHeuristic("ksp-ff");
  int pairs = 0;
  for (int a = 0; a < 14; ++a) {
    for (int b = 0; b < 14; ++b) {
      if (a == b) continue;
      const Request r = MakeRequest(a, b, 40);
      int best = 0;
      for (int k = 1; k < model->k(); ++k) {
        if (model->Evaluate(r, k, 0).latency_us < model->Evaluate(r, best, 0).latency_us) best = k;
      }
      if (best == 0) continue;
      ++pairs;
      NetworkState s(model);
      Decision d = latency_aware->Decide(r, s);
      ASSERT_TRUE(d.accepted);
      EXPECT_EQ(d.candidate.path_index, best) << a << "->" << b;
      EXPECT_EQ(ksp_ff->Decide(r, s).candidate.path_index, 0);
      // Fill one fibre of the best path: the policy falls back to the best feasible one.
      const Path& p = model->paths().Get(a, b)[best];
      const int32_t fill = Occupy(s, p.nodes[0], p.nodes[1], 0, 0, 0, 100);
      ASSERT_EQ(s.Find(fill)->path->fibres, std::vector<int>{p.fibres[0]});
      int next = -1;
      for (int k = 0; k < model->k(); ++k) {
        const Candidate c = model->Evaluate(r, k, 0);
        bool blocked = false;
        for (int f : c.path->fibres) blocked |= f == p.fibres[0];
        if (!blocked && (next < 0 || c.latency_us < model->Evaluate(r, next, 0).latency_us))
          next = k;
      }
      d = latency_aware->Decide(r, s);
      EXPECT_EQ(d.accepted, next >= 0) << a << "->" << b;
      if (next >= 0) {
        EXPECT_EQ(d.candidate.path_index, next) << a << "->" << b;
      }
    }
  }
  EXPECT_GT(pairs, 10);  // hop order differs from length order on many NSFNET pairs
}

TEST(HeuristicsTest, LatencyBoundAndQotBlocksReportTheirCause) {
  const auto& model = fixtures::DeepRmsaModel();
  NetworkState s(model);
  // A bound below every candidate's latency.
  const Request tight = MakeRequest(0, 13, 100, 100.0);
  for (const auto& name : HeuristicNames()) {
    const Decision d = MakeHeuristic(name)->Decide(tight, s);
    EXPECT_FALSE(d.accepted) << name;
    EXPECT_EQ(d.cause, BlockCause::kLatency) << name;
  }
  // Every format below threshold: QoT.
  NetworkOptions o = fixtures::RingOptions({"C"}, 16);
  o.modulation_mode = ModulationMode::kGsnr;
  o.gsnr_margin_db = 100;
  NetworkState q(fixtures::MakeModel(o));
  for (const auto& name : HeuristicNames()) {
    const Decision d = MakeHeuristic(name)->Decide(MakeRequest(0, 1, 50), q);
    EXPECT_FALSE(d.accepted) << name;
    EXPECT_EQ(d.cause, BlockCause::kQot) << name;
  }
  // Wider than the whole band on every candidate: a spectrum block, not a QoT one.
  const auto narrow = fixtures::MakeModel(fixtures::RingOptions({"C"}, 4));
  NetworkState n(narrow);
  const Request wide = MakeRequest(0, 1, 400);  // 16QAM: ceil(8) + 1 = 9 slots > 4
  ASSERT_EQ(narrow->Evaluate(wide, 0, 0).cause, BlockCause::kNoSpectrum);
  for (const auto& name : HeuristicNames()) {
    const Decision d = MakeHeuristic(name)->Decide(wide, n);
    EXPECT_FALSE(d.accepted) << name;
    EXPECT_EQ(d.cause, BlockCause::kNoSpectrum) << name;
  }
  EXPECT_EQ(AggregateCause(true, true, true), BlockCause::kNoSpectrum);
  EXPECT_EQ(AggregateCause(false, true, true), BlockCause::kQot);
  EXPECT_EQ(AggregateCause(false, false, true), BlockCause::kLatency);
  EXPECT_EQ(AggregateCause(false, false, false), BlockCause::kNoPath);
}

TEST(HeuristicsTest, EnergyAwarePrefersABandAlreadyLit) {
  const auto model = fixtures::MakeModel(fixtures::RingOptions({"C", "L"}, 16));
  NetworkState s(model);
  const Request r = MakeRequest(0, 2, 25);
  const auto energy = MakeHeuristic("energy-aware");
  // Dark network: every option lights the same number of amplifiers; ties go to the first.
  Decision d = energy->Decide(r, s);
  ASSERT_TRUE(d.accepted);
  EXPECT_EQ(d.candidate.path_index, 0);
  EXPECT_EQ(d.candidate.band, 0);
  // The second path's L band is lit end to end: no new amplifier there.
  Occupy(s, 0, 2, 1, 1, 0, 2);
  d = energy->Decide(r, s);
  ASSERT_TRUE(d.accepted);
  EXPECT_EQ(d.candidate.path_index, 1);
  EXPECT_EQ(d.candidate.band, 1);
  EXPECT_EQ(d.slot, 2);
  EXPECT_DOUBLE_EQ(
      s.IncrementalPowerW(d.candidate),
      model->energy().TransponderPowerW(model->LineCapacityGbps(2, d.candidate.modulation)) +
          2 * model->energy().roadm_per_port_w);
  const Decision ff = MakeHeuristic("ksp-ff")->Decide(r, s);
  EXPECT_EQ(ff.candidate.path_index, 0);
  EXPECT_EQ(ff.candidate.band, 0);
  // Half lit beats dark: light the first path's first fibre in C; the second path's L still wins
  // (no new amplifier), and once that leaves, the half-lit C of the first path wins over dark L.
  const Path& p0 = model->paths().Get(0, 2)[0];
  Occupy(s, p0.nodes[0], p0.nodes[1], 0, 0, 10, 2);
  EXPECT_EQ(energy->Decide(r, s).candidate.path_index, 1);
  NetworkState t(model);
  Occupy(t, p0.nodes[0], p0.nodes[1], 0, 1, 10, 2);  // first fibre lit in L only
  d = energy->Decide(r, t);
  EXPECT_EQ(d.candidate.path_index, 0);
  EXPECT_EQ(d.candidate.band, 1);
}

TEST(HeuristicsTest, QotAwarePrefersFewerSlotsThenMoreMargin) {
  // Bands in the order S, C, L: KSP-FF takes the S band first, whose worst-case GSNR (ISRS drains
  // it into C and L) needs more slots than C's, so the QoT-aware choice differs from it.
  NetworkOptions o = fixtures::NsfnetClsGsnrOptions();
  o.bands = {"S", "C", "L"};
  const auto model = fixtures::MakeModel(o);
  NetworkState s(model);
  const auto qot = MakeHeuristic("qot-aware");
  const auto ksp = MakeHeuristic("ksp-ff");
  int fewer_than_ksp = 0;
  for (int a = 0; a < 14; ++a) {
    for (int b = 0; b < 14; ++b) {
      if (a == b) continue;
      const Request r = MakeRequest(a, b, 400);
      int min_width = std::numeric_limits<int>::max();
      double best_margin = -1e9;
      for (int k = 0; k < model->k(); ++k) {
        for (int band = 0; band < model->NumBands(); ++band) {
          const Candidate c = model->Evaluate(r, k, band);
          if (!c.usable()) continue;
          const double margin =
              c.gsnr_db - model->modulations().format(c.modulation).gsnr_threshold_db;
          if (c.width < min_width) {
            min_width = c.width;
            best_margin = margin;
          } else if (c.width == min_width) {
            best_margin = std::max(best_margin, margin);
          }
        }
      }
      const Decision d = qot->Decide(r, s);
      ASSERT_TRUE(d.accepted) << a << "->" << b;
      EXPECT_EQ(d.candidate.width, min_width) << a << "->" << b;
      EXPECT_NEAR(d.candidate.gsnr_db -
                      model->modulations().format(d.candidate.modulation).gsnr_threshold_db,
                  best_margin, 1e-9)
          << a << "->" << b;
      const Decision f = ksp->Decide(r, s);
      ASSERT_TRUE(f.accepted);
      EXPECT_LE(d.candidate.width, f.candidate.width);
      fewer_than_ksp += d.candidate.width < f.candidate.width;
    }
  }
  EXPECT_GT(fewer_than_ksp, 0);
}

TEST(HeuristicsTest, EveryPolicyChoosesAFreeBlockAndBlocksOnlyWhenNothingFits) {
  // On a loaded NSFNET (C, L, S; GSNR-based), every accepted decision must be a usable candidate
  // whose block is free on every fibre, and every block must be one where no candidate fits.
  const auto& model = fixtures::NsfnetClsGsnrModel();
  TrafficConfig traffic;
  traffic.load_erlang = 3000;
  traffic.bit_rate_min_gbps = 100;
  traffic.bit_rate_max_gbps = 400;
  Engine engine(model, traffic, 3);
  const auto warm = MakeHeuristic("ksp-ff");
  for (int i = 0; i < 4000; ++i) {
    const Request& r = engine.Advance();
    const Decision d = warm->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  std::vector<std::unique_ptr<Heuristic>> policies;
  for (const auto& name : HeuristicNames()) policies.push_back(MakeHeuristic(name));
  int accepted = 0, blocked = 0;
  for (int i = 0; i < 300; ++i) {
    const Request& r = engine.Advance();
    const NetworkState& s = engine.state();
    for (const auto& h : policies) {
      const Decision d = h->Decide(r, s);
      if (d.accepted) {
        ++accepted;
        ASSERT_TRUE(d.candidate.usable()) << h->Name();
        EXPECT_EQ(d.cause, BlockCause::kNone);
        ASSERT_TRUE(s.spectrum().IsFree(d.candidate.path->fibres, d.candidate.band, d.slot,
                                        d.candidate.width))
            << h->Name();
        EXPECT_EQ(d.candidate.path, &model->paths().Get(r.src, r.dst)[d.candidate.path_index]);
        if (h->Name() == "sp-ff") {
          EXPECT_EQ(d.candidate.path_index, 0);
        }
      } else {
        ++blocked;
        EXPECT_FALSE(AnyFeasible(r, s, h->Name() == "sp-ff" ? 1 : model->k())) << h->Name();
        EXPECT_NE(d.cause, BlockCause::kNone);
      }
    }
    const Decision d = warm->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(blocked, 10);  // the load is high enough that blocking is tested too
}

TEST(HeuristicsTest, ExactFitAndFfKspPickTheHandComputedSlots) {
  const auto model = fixtures::MakeModel(fixtures::RingOptions({"C"}, 16));
  NetworkState s(model);
  const Path& p = model->paths().Get(0, 2)[0];
  const int a = p.nodes[0], b = p.nodes[1], c = p.nodes[2];
  // path 0: #...###..#.....#  free runs 1-3 (3), 7-8 (2), 10-14 (5), as above
  Occupy(s, a, b, 0, 0, 0, 1);
  Occupy(s, a, b, 0, 0, 4, 3);
  Occupy(s, b, c, 0, 0, 9, 1);
  Occupy(s, b, c, 0, 0, 15, 1);
  const Request r2 = MakeRequest(0, 2, 25);  // 2 slots: the exact hole 7-8
  const Request r4 = MakeRequest(0, 2, 100);  // ceil(100 / 37.5) + 1 = 4: no exact run, first fit 10
  EXPECT_EQ(MakeHeuristic("ksp-ef")->Decide(r2, s).slot, 7);
  EXPECT_EQ(MakeHeuristic("ksp-ef")->Decide(r4, s).slot, 10);
  EXPECT_EQ(MakeHeuristic("ksp-ef")->Decide(r4, s).candidate.path_index, 0);
  // FF-KSP: path 0's first fit for 2 slots is slot 1, but the other way round (empty) offers
  // slot 0, which is lower.
  const Decision f = MakeHeuristic("ff-ksp")->Decide(r2, s);
  ASSERT_TRUE(f.accepted);
  EXPECT_EQ(f.candidate.path_index, 1);
  EXPECT_EQ(f.slot, 0);
  // Ties go to the earlier path: on an empty ring both paths offer slot 0.
  NetworkState empty(model);
  EXPECT_EQ(MakeHeuristic("ff-ksp")->Decide(r2, empty).candidate.path_index, 0);
}

TEST(HeuristicsTest, MsclRulesChooseTheLeastCapacityLoss) {
  const auto& model = fixtures::DeepRmsaModel();
  TrafficConfig traffic;
  traffic.load_erlang = 250;
  Engine engine(model, traffic, 11);
  const auto warm = MakeHeuristic("ksp-ff");
  for (int i = 0; i < 3000; ++i) {
    const Request& r = engine.Advance();
    const Decision d = warm->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  CapacityLoss cl(*model, CapacityLoss::MaxRequestWidth(*model, 100));
  const auto ksp_mscl = MakeHeuristic("ksp-mscl");
  const auto mscl_ksp = MakeHeuristic("mscl-ksp");
  const auto ksp_ff = MakeHeuristic("ksp-ff");
  int differs = 0;
  for (int i = 0; i < 200; ++i) {
    const Request& r = engine.Advance();
    const NetworkState& s = engine.state();
    const Decision ff = ksp_ff->Decide(r, s);
    const Decision a = ksp_mscl->Decide(r, s);
    const Decision b = mscl_ksp->Decide(r, s);
    ASSERT_EQ(a.accepted, ff.accepted);
    if (!ff.accepted) continue;
    ASSERT_TRUE(b.accepted);
    EXPECT_EQ(a.candidate.path_index, ff.candidate.path_index);  // KSP path, MSCL slot
    const int64_t la = cl.Loss(s, *a.candidate.path, 0, a.slot, a.candidate.width);
    const int64_t lb = cl.Loss(s, *b.candidate.path, 0, b.slot, b.candidate.width);
    // Nothing feasible on any path beats mscl-ksp; nothing on the KSP path beats ksp-mscl.
    for (int k = 0; k < model->k(); ++k) {
      const Candidate c = model->Evaluate(r, k, 0);
      if (!c.usable()) continue;
      for (int slot = 0; slot + c.width <= 100; ++slot) {
        if (!s.spectrum().IsFree(c.path->fibres, 0, slot, c.width)) continue;
        const int64_t l = cl.Loss(s, *c.path, 0, slot, c.width);
        EXPECT_GE(l, lb);
        if (k == a.candidate.path_index) EXPECT_GE(l, la);
      }
    }
    differs += a.slot != ff.slot;
    const Decision d = mscl_ksp->Decide(r, s);
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  EXPECT_GT(differs, 10);  // the rule is not first fit in disguise
}

TEST(HeuristicsTest, LmsclKspIsMsclKspWithBoundedReferenceRoutes) {
  // Hop-ordered NSFNET under an 18 ms bound on every request: some pairs' fewest-hop routes
  // are over it. lmscl-ksp takes the least loss counted over each pair's first route within
  // the bound; without a bound it is mscl-ksp.
  NetworkOptions o = fixtures::DeepRmsaScenario().network;
  o.path_order = PathOrder::kHops;
  const auto model = fixtures::MakeModel(o);
  TrafficConfig traffic;
  traffic.load_erlang = 250;
  traffic.latency_bound_us = 18000.0;
  Engine engine(model, traffic, 3);
  const HeuristicOptions bounded = HeuristicOptions::ForTraffic(traffic);
  EXPECT_EQ(bounded.latency_bound_us, 18000.0);
  const auto lmscl = MakeHeuristic("lmscl-ksp", bounded);
  const auto mscl = MakeHeuristic("mscl-ksp", bounded);
  const auto unbounded = MakeHeuristic("lmscl-ksp");
  CapacityLoss cl(*model, CapacityLoss::MaxRequestWidth(*model, 100), {}, 18000.0);
  int differs = 0, checked = 0;
  for (int i = 0; i < 4000; ++i) {
    const Request& r = engine.Advance();
    const NetworkState& s = engine.state();
    const Decision a = lmscl->Decide(r, s);
    const Decision b = mscl->Decide(r, s);
    const Decision c = unbounded->Decide(r, s);
    ASSERT_EQ(a.accepted, b.accepted);  // the same feasible set, another ranking
    ASSERT_EQ(c.accepted, b.accepted);
    if (b.accepted) {
      EXPECT_EQ(c.candidate.path_index, b.candidate.path_index);
      EXPECT_EQ(c.slot, b.slot);
      differs += a.candidate.path_index != b.candidate.path_index || a.slot != b.slot;
    }
    if (a.accepted && i % 100 == 0) {
      const int64_t la = cl.Loss(s, *a.candidate.path, 0, a.slot, a.candidate.width);
      for (int k = 0; k < model->k(); ++k) {
        const Candidate x = model->Evaluate(r, k, 0);
        if (!x.usable()) continue;
        for (int slot = 0; slot + x.width <= 100; ++slot) {
          if (s.spectrum().IsFree(x.path->fibres, 0, slot, x.width)) EXPECT_GE(cl.Loss(s, *x.path, 0, slot, x.width), la);
        }
      }
      ++checked;
    }
    if (a.accepted) engine.Commit(a.candidate, a.slot);
  }
  EXPECT_GT(checked, 20);
  EXPECT_GT(differs, 0);
  HeuristicOptions bad;
  bad.latency_bound_us = -1;
  EXPECT_THROW(MakeHeuristic("lmscl-ksp", bad), std::invalid_argument);
}

TEST(HeuristicsTest, DecideAmongTheModelsOwnPathsDecidesAsDecide) {
  // The explicit-candidate entry (PCE constraints) with a copy of the model's candidate list
  // gives the same path index, band and slot as the table-based one, for every rule.
  const auto& model = fixtures::NsfnetClsGsnrModel();
  TrafficConfig traffic;
  traffic.load_erlang = 3000;
  traffic.bit_rate_min_gbps = 100;
  traffic.bit_rate_max_gbps = 400;
  Engine engine(model, traffic, 5);
  const auto warm = MakeHeuristic("ksp-ff");
  for (int i = 0; i < 3000; ++i) {
    const Request& r = engine.Advance();
    const Decision d = warm->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  HeuristicOptions opt;
  opt.max_bit_rate_gbps = 400;
  for (int i = 0; i < 40; ++i) {
    const Request& r = engine.Advance();
    const std::vector<Path> copy = model->paths().Get(r.src, r.dst);
    for (const auto& name : HeuristicNames()) {
      if (name == "sp-ff") continue;  // SP-FF takes one path whatever it is given
      const auto h = MakeHeuristic(name, opt);
      const Decision a = h->Decide(r, engine.state());
      const Decision b = h->DecideAmong(r, engine.state(), copy);
      ASSERT_EQ(a.accepted, b.accepted) << name;
      EXPECT_EQ(a.cause, b.cause) << name;
      if (!a.accepted) continue;
      EXPECT_EQ(a.candidate.path_index, b.candidate.path_index) << name;
      EXPECT_EQ(a.candidate.band, b.candidate.band) << name;
      EXPECT_EQ(a.slot, b.slot) << name;
      EXPECT_EQ(b.candidate.path, &copy[b.candidate.path_index]) << name;
    }
    const Decision d = warm->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
}

TEST(HeuristicsTest, KnownNamesAndUnknownNameError) {
  for (const auto& name : HeuristicNames()) EXPECT_EQ(MakeHeuristic(name)->Name(), name);
  try {
    MakeHeuristic("ksp-worst-fit");
    FAIL() << "unknown policy accepted";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("ksp-worst-fit"), std::string::npos) << msg;
    for (const auto& name : HeuristicNames()) EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace eonops::twin
