// Pins lifecycle/drift.h: identical traffic raises no alarm over many windows; a hot-spot shift,
// a load step and a bit-rate shift each cross their threshold within one window.
#include "lifecycle/drift.h"

#include <gtest/gtest.h>

#include <cmath>

#include "twin/rng.h"
#include "twin/traffic.h"

namespace eonops::lifecycle {
namespace {

constexpr int kNodes = 14;  // NSFNET

twin::TrafficConfig Nsfnet() {
  twin::TrafficConfig t;  // pce.json's traffic
  t.load_erlang = 250;
  t.mean_holding_time = 25;
  t.holding_truncate_factor = 2;
  t.bit_rate_min_gbps = 25;
  t.bit_rate_max_gbps = 100;
  return t;
}

// Half the traffic between a few pairs around node 3, the rest uniform.
std::vector<double> HotSpot() {
  std::vector<double> m(kNodes * kNodes, 1.0);
  for (int i = 0; i < kNodes; ++i) m[i * kNodes + i] = 0.0;
  for (int d : {0, 5, 9}) {
    m[3 * kNodes + d] = 30.0;
    m[d * kNodes + 3] = 30.0;
  }
  return m;
}

// Feeds `n` arrivals of `gen` to `d` in the twin's own time unit, every service completing with
// its drawn holding time (as a PCE that blocks nothing would see them).
std::vector<DriftFigures> Feed(DriftDetector& d, twin::TrafficGenerator& gen, int64_t n) {
  std::vector<DriftFigures> out;
  for (int64_t i = 0; i < n; ++i) {
    const twin::Request r = gen.Next();
    d.AddHolding(r.holding_time);
    if (auto f = d.AddArrival(r.src, r.dst, r.bit_rate_gbps, r.arrival_time)) out.push_back(*f);
  }
  return out;
}

TEST(Drift, DivergenceAndQuantiles) {
  EXPECT_DOUBLE_EQ(JensenShannonBits({1, 2, 3}, {2, 4, 6}), 0.0);
  EXPECT_NEAR(JensenShannonBits({1, 0}, {0, 1}), 1.0, 1e-12);  // disjoint: one bit
  EXPECT_NEAR(NormalQuantile(0.975), 1.959964, 1e-5);
  EXPECT_NEAR(NormalQuantile(1e-6), -4.753424, 1e-4);
  EXPECT_NEAR(ChiSquareQuantile(10, 0.95), 18.307, 0.05);
  EXPECT_NEAR(ChiSquareQuantile(100, 0.999), 149.449, 0.3);  // tables
  // The noise floor grows with the bins and shrinks with the samples; with few samples per bin
  // it is well above the small-deviation chi-square form.
  const std::vector<double> pairs(182, 1.0);
  const double sparse = JsNullQuantileBits(pairs, 1000, 1e-6);
  EXPECT_GT(sparse, ChiSquareQuantile(181, 1 - 1e-6) / (8 * 1000 * std::log(2.0)));
  EXPECT_GT(JsNullQuantileBits(pairs, 100, 1e-6), 0.3);
  EXPECT_LT(JsNullQuantileBits(pairs, 100000, 1e-6), 0.002);
  EXPECT_EQ(JsNullQuantileBits(pairs, 1000, 1e-6), sparse);  // seeded: reproducible
  // Its tail: over 2000 fresh windows of identical draws, about 2 exceed the 1e-3 quantile.
  const double q3 = JsNullQuantileBits(pairs, 1000, 1e-3);
  twin::Rng rng(77);
  int above = 0;
  for (int r = 0; r < 2000; ++r) {
    std::vector<double> c(182, 0.0);
    for (int i = 0; i < 1000; ++i) c[rng.Next() % 182] += 1;
    above += JensenShannonBits(c, pairs) > q3;
  }
  EXPECT_LE(above, 10);
  EXPECT_THROW(JensenShannonBits({1, 2}, {1}), std::invalid_argument);
}

TEST(Drift, ReferenceOfTheTrainingScenario) {
  const TrafficReference r = TrafficReference::Make(Nsfnet(), kNodes);
  ASSERT_EQ(r.pairs.size(), size_t(kNodes * kNodes));
  EXPECT_NEAR(r.pairs[1], 1.0 / (kNodes * (kNodes - 1)), 1e-12);
  // DeepRMSA's truncation at 2x the mean: the generator offers 0.687 x 250 Erlang.
  EXPECT_NEAR(TruncatedMeanFactor(2.0), 0.6870, 1e-4);
  EXPECT_NEAR(r.load_erlang, 250 * 0.6870, 0.1);
  EXPECT_EQ(r.pairs[0], 0.0);
  EXPECT_EQ(r.bit_rates.size(), 76u);         // 25..100 Gb/s
  EXPECT_EQ(r.bit_rate_p.back(), 0.0);        // the "other rate" bin
  EXPECT_EQ(r.BitRateBin(400), 76);
  ASSERT_EQ(r.holding_edges.size(), 9u);      // 10 equiprobable bins of holding / mean
  for (size_t i = 1; i < r.holding_edges.size(); ++i)
    EXPECT_GT(r.holding_edges[i], r.holding_edges[i - 1]);
}

TEST(Drift, IdenticalTrafficRaisesNoAlarmOverManyWindows) {
  DriftOptions o;  // configs/lifecycle.json's defaults
  for (const bool weighted : {false, true}) {
    twin::TrafficConfig t = Nsfnet();
    if (weighted) t.traffic_matrix = HotSpot();  // the reference itself may be skewed
    DriftDetector d(TrafficReference::Make(t, kNodes), o);
    twin::TrafficGenerator gen(t, kNodes, weighted ? 11 : 7);
    const auto windows = Feed(d, gen, 300 * o.window_requests);
    ASSERT_EQ(windows.size(), 300u);
    double worst_pairs = 0, worst_load = 0;
    for (const auto& f : windows) {
      EXPECT_FALSE(f.drifted()) << "window " << f.window << ": " << f.Summary();
      worst_pairs = std::max(worst_pairs, f.js_pairs);
      worst_load = std::max(worst_load, std::abs(std::log(f.load_ratio)));
      ASSERT_TRUE(std::isfinite(f.js_holding));
    }
    EXPECT_LT(worst_pairs, windows.front().threshold_pairs);
    EXPECT_LT(worst_load, std::log(1.0 + o.load_ratio));
  }
}

TEST(Drift, HotSpotShiftAtHigherLoadIsDetectedWithinOneWindow) {
  DriftOptions o;
  twin::TrafficConfig t = Nsfnet();
  DriftDetector d(TrafficReference::Make(t, kNodes), o);
  twin::TrafficGenerator gen(t, kNodes, 3);
  for (const auto& f : Feed(d, gen, 5 * o.window_requests)) ASSERT_FALSE(f.drifted()) << f.Summary();
  twin::TrafficConfig hot = t;
  hot.traffic_matrix = HotSpot();
  hot.load_erlang = 400;
  gen.Reconfigure(hot);
  const auto after = Feed(d, gen, o.window_requests);  // the first window after the shift
  ASSERT_EQ(after.size(), 1u);
  EXPECT_TRUE(after[0].pairs_drifted) << after[0].Summary();
  EXPECT_GT(after[0].js_pairs, 2 * after[0].threshold_pairs);
  EXPECT_TRUE(after[0].load_drifted) << after[0].Summary();
  EXPECT_NEAR(after[0].load_ratio, 1.6, 0.2);
  EXPECT_FALSE(after[0].bit_rate_drifted);
  EXPECT_EQ(d.consecutive(), 1);
}

TEST(Drift, BitRateShiftIsDetectedAndAUniformShiftIsNotAPairDrift) {
  DriftOptions o;
  twin::TrafficConfig t = Nsfnet();
  DriftDetector d(TrafficReference::Make(t, kNodes), o);
  twin::TrafficConfig heavy = t;
  heavy.classes = {{100, 1.0}, {400, 1.0}};  // 400 Gb/s was never in the training scenario
  twin::TrafficGenerator gen(heavy, kNodes, 5);
  const auto w = Feed(d, gen, o.window_requests);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_TRUE(w[0].bit_rate_drifted) << w[0].Summary();
  EXPECT_FALSE(w[0].pairs_drifted) << w[0].Summary();
}

TEST(Drift, TooFewCompletedServicesLeaveHoldingAndLoadUnjudged) {
  DriftOptions o;
  o.window_requests = 100;
  DriftDetector d(TrafficReference::Make(Nsfnet(), kNodes), o);
  std::optional<DriftFigures> f;
  for (int i = 0; i < 100; ++i) f = d.AddArrival(i % kNodes, (i + 1) % kNodes, 50, i * 0.1);
  ASSERT_TRUE(f);
  EXPECT_TRUE(std::isnan(f->js_holding));
  EXPECT_TRUE(std::isnan(f->load_ratio));
  EXPECT_FALSE(f->load_drifted);
  // The small window's pair threshold is raised above the configured 0.05 (182 bins, 100 draws).
  EXPECT_GT(f->threshold_pairs, 0.3);
  // Bad end-points are ignored, not counted.
  EXPECT_FALSE(d.AddArrival(3, 3, 50, 11.0));
  EXPECT_FALSE(d.AddArrival(-1, 3, 50, 11.0));
}

}  // namespace
}  // namespace eonops::lifecycle
