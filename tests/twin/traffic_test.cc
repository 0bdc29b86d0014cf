#include "twin/traffic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace eonops::twin {
namespace {

constexpr int kNsfnetNodes = 14;

std::string ErrorOf(const nlohmann::json& j) {
  try {
    TrafficConfig::FromJson(j, "exp.json:traffic");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(TrafficTest, SameSeedSameSequenceOtherSeedAnother) {
  TrafficConfig cfg;
  TrafficGenerator a(cfg, kNsfnetNodes, 7), b(cfg, kNsfnetNodes, 7), c(cfg, kNsfnetNodes, 8);
  int differences = 0;
  for (int i = 0; i < 2000; ++i) {
    const Request x = a.Next(), y = b.Next(), z = c.Next();
    ASSERT_EQ(x.id, i);
    // Bitwise equality: the sequence must not depend on anything but the seed.
    ASSERT_EQ(x.arrival_time, y.arrival_time) << i;
    ASSERT_EQ(x.holding_time, y.holding_time) << i;
    ASSERT_EQ(x.src, y.src) << i;
    ASSERT_EQ(x.dst, y.dst) << i;
    ASSERT_EQ(x.bit_rate_gbps, y.bit_rate_gbps) << i;
    if (x.arrival_time != z.arrival_time || x.src != z.src || x.bit_rate_gbps != z.bit_rate_gbps)
      ++differences;
  }
  EXPECT_GT(differences, 1900);
}

TEST(TrafficTest, PinnedSequenceForSeedOne) {
  // The generator is portable (own RNG and distributions): these values hold on any machine and
  // compiler. A change here changes every published result, so it must be deliberate.
  TrafficConfig cfg;  // 250 Erlang, holding 25, 25..100 Gb/s
  TrafficGenerator gen(cfg, kNsfnetNodes, 1);
  std::vector<Request> r;
  for (int i = 0; i < 3; ++i) r.push_back(gen.Next());
  // Recompute from the RNG by hand: arrival gap, holding time, src, dst, bit rate, in that order.
  Rng rng(1);
  double t = 0;
  for (int i = 0; i < 3; ++i) {
    t += rng.Exponential(0.1);
    const double hold = rng.Exponential(25.0);
    const int src = static_cast<int>(rng.UniformInt(0, kNsfnetNodes - 1));
    int dst = static_cast<int>(rng.UniformInt(0, kNsfnetNodes - 2));
    if (dst >= src) ++dst;
    const double rate = static_cast<double>(rng.UniformInt(25, 100));
    EXPECT_DOUBLE_EQ(r[i].arrival_time, t);
    EXPECT_DOUBLE_EQ(r[i].holding_time, hold);
    EXPECT_EQ(r[i].src, src);
    EXPECT_EQ(r[i].dst, dst);
    EXPECT_EQ(r[i].bit_rate_gbps, rate);
  }
}

TEST(TrafficTest, ArrivalRateAndHoldingTimeMatchTheLoad) {
  const int n = 200000;
  for (double load : {250.0, 40.0}) {
    TrafficConfig cfg;
    cfg.load_erlang = load;
    cfg.mean_holding_time = 25.0;
    TrafficGenerator gen(cfg, kNsfnetNodes, 3);
    double hold_sum = 0, last = 0, prev = 0;
    bool increasing = true;
    for (int i = 0; i < n; ++i) {
      const Request r = gen.Next();
      hold_sum += r.holding_time;
      increasing = increasing && r.arrival_time > prev;
      prev = last = r.arrival_time;
    }
    EXPECT_TRUE(increasing);
    // Relative standard error of both means is 1/sqrt(n) = 0.22%: 1.5% is about 7 sigma.
    const double rate = n / last;
    EXPECT_NEAR(rate, load / 25.0, 0.015 * load / 25.0) << "load " << load;
    EXPECT_NEAR(hold_sum / n, 25.0, 0.015 * 25.0) << "load " << load;
    // Offered load = arrival rate x mean holding time.
    EXPECT_NEAR(rate * hold_sum / n, load, 0.03 * load);
  }
}

TEST(TrafficTest, TruncatedHoldingTimesAreRedrawnNotClipped) {
  TrafficConfig cfg;
  cfg.mean_holding_time = 25.0;
  cfg.holding_truncate_factor = 2.0;
  TrafficGenerator gen(cfg, kNsfnetNodes, 5);
  const int n = 200000;
  double sum = 0, max = 0;
  int near_cap = 0;
  for (int i = 0; i < n; ++i) {
    const double h = gen.Next().holding_time;
    sum += h;
    max = std::max(max, h);
    if (h > 49.0) ++near_cap;
  }
  EXPECT_LT(max, 50.0);
  // Redrawing an exponential of mean m while >= 2m leaves the truncated distribution on [0, 2m):
  // mean m (1 - 3 e^-2) / (1 - e^-2) = 0.68697 m. Clipping at 2m would give 0.8647 m instead.
  const double expected = 25.0 * (1 - 3 * std::exp(-2.0)) / (1 - std::exp(-2.0));
  EXPECT_NEAR(sum / n, expected, 0.01 * expected);
  // A clipped generator piles up mass at the cap; the truncated density there is small:
  // P(49 < h < 50) = (e^-1.96 - e^-2) / (1 - e^-2) = 0.61% of draws.
  EXPECT_LT(near_cap, 0.01 * n);
  EXPECT_GT(near_cap, 0.003 * n);
}

TEST(TrafficTest, UniformPairsNeverLoopAndAreUniform) {
  TrafficConfig cfg;
  TrafficGenerator gen(cfg, kNsfnetNodes, 11);
  const int n = 182 * 1000;
  std::vector<int> counts(kNsfnetNodes * kNsfnetNodes, 0);
  for (int i = 0; i < n; ++i) {
    const Request r = gen.Next();
    ASSERT_NE(r.src, r.dst);
    ASSERT_GE(r.src, 0);
    ASSERT_LT(r.src, kNsfnetNodes);
    ASSERT_GE(r.dst, 0);
    ASSERT_LT(r.dst, kNsfnetNodes);
    ++counts[r.src * kNsfnetNodes + r.dst];
  }
  // Chi-square over the 182 ordered pairs (181 degrees of freedom: mean 181, sd 19).
  const double expected = n / 182.0;
  double chi2 = 0;
  for (int s = 0; s < kNsfnetNodes; ++s) {
    for (int d = 0; d < kNsfnetNodes; ++d) {
      if (s == d) continue;
      const double c = counts[s * kNsfnetNodes + d];
      chi2 += (c - expected) * (c - expected) / expected;
    }
  }
  EXPECT_LT(chi2, 181 + 6 * 19);
  // Two nodes: the only pairs are 0->1 and 1->0.
  TrafficGenerator two(cfg, 2, 1);
  int forward = 0;
  for (int i = 0; i < 10000; ++i) {
    const Request r = two.Next();
    ASSERT_NE(r.src, r.dst);
    forward += r.src == 0;
  }
  EXPECT_NEAR(forward, 5000, 300);
}

TEST(TrafficTest, BitRatesAreIntegersOnTheWholeRange) {
  TrafficConfig cfg;
  cfg.bit_rate_min_gbps = 25;
  cfg.bit_rate_max_gbps = 100;
  cfg.latency_bound_us = 5000;
  TrafficGenerator gen(cfg, kNsfnetNodes, 2);
  std::map<int, int> seen;
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const Request r = gen.Next();
    ASSERT_EQ(r.bit_rate_gbps, std::floor(r.bit_rate_gbps));
    ASSERT_GE(r.bit_rate_gbps, 25);
    ASSERT_LE(r.bit_rate_gbps, 100);
    ASSERT_EQ(r.traffic_class, -1);
    ASSERT_EQ(r.latency_bound_us, 5000);
    ++seen[static_cast<int>(r.bit_rate_gbps)];
    sum += r.bit_rate_gbps;
  }
  EXPECT_EQ(seen.size(), 76u);  // both ends included
  EXPECT_EQ(seen.begin()->first, 25);
  EXPECT_EQ(seen.rbegin()->first, 100);
  EXPECT_NEAR(sum / n, 62.5, 0.5);  // sd 21.9 / sqrt(n) = 0.07
}

TEST(TrafficTest, ClassesFollowTheirWeightsAndCarryTheirLatencyBound) {
  TrafficConfig cfg;
  cfg.classes = {{100.0, 1.0, 2000.0}, {400.0, 3.0, std::numeric_limits<double>::infinity()}};
  TrafficGenerator gen(cfg, kNsfnetNodes, 4);
  const int n = 100000;
  int first = 0;
  for (int i = 0; i < n; ++i) {
    const Request r = gen.Next();
    ASSERT_TRUE(r.traffic_class == 0 || r.traffic_class == 1);
    if (r.traffic_class == 0) {
      ++first;
      ASSERT_EQ(r.bit_rate_gbps, 100.0);
      ASSERT_EQ(r.latency_bound_us, 2000.0);
    } else {
      ASSERT_EQ(r.bit_rate_gbps, 400.0);
      ASSERT_TRUE(std::isinf(r.latency_bound_us));
    }
  }
  EXPECT_NEAR(double(first) / n, 0.25, 0.01);  // sd 0.0014
}

TEST(TrafficTest, TrafficMatrixDrawsOnlyWeightedPairsInProportion) {
  // 4 nodes: 0->1 weight 1, 2->3 weight 3, a diagonal weight that must be ignored, the rest 0.
  TrafficConfig cfg;
  cfg.traffic_matrix = {0, 1, 0, 0,  //
                        0, 5, 0, 0,  //
                        0, 0, 0, 3,  //
                        0, 0, 0, 0};
  TrafficGenerator gen(cfg, 4, 9);
  const int n = 100000;
  int a = 0, b = 0;
  for (int i = 0; i < n; ++i) {
    const Request r = gen.Next();
    const bool is_a = r.src == 0 && r.dst == 1, is_b = r.src == 2 && r.dst == 3;
    ASSERT_TRUE(is_a || is_b) << r.src << "->" << r.dst;
    a += is_a;
    b += is_b;
  }
  EXPECT_NEAR(double(a) / n, 0.25, 0.01);
  // A matrix for another node count is refused at construction, naming the field.
  try {
    TrafficGenerator wrong(cfg, kNsfnetNodes, 1);
    FAIL() << "a 4 x 4 matrix on 14 nodes was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("traffic_matrix"), std::string::npos) << e.what();
  }
}

TEST(TrafficTest, ReconfigureChangesTheTrafficAndKeepsTheClockAndIds) {
  // Phase 1: uniform pairs at 100 Erlang; phase 2: only 0->1 at 400 Erlang (4x the rate).
  TrafficConfig uniform;
  uniform.load_erlang = 100;
  uniform.mean_holding_time = 10;
  TrafficGenerator gen(uniform, 4, 3);
  Request last;
  for (int i = 0; i < 1000; ++i) last = gen.Next();
  TrafficConfig hot = uniform;
  hot.load_erlang = 400;
  hot.traffic_matrix = std::vector<double>(16, 0.0);
  hot.traffic_matrix[1] = 1.0;
  gen.Reconfigure(hot);
  const double t0 = last.arrival_time;
  const int n = 4000;
  Request r;
  for (int i = 0; i < n; ++i) {
    r = gen.Next();
    ASSERT_EQ(r.id, 1000 + i);  // ids go on
    ASSERT_TRUE(r.src == 0 && r.dst == 1) << r.src << "->" << r.dst;
  }
  EXPECT_GT(r.arrival_time, t0);
  // 4000 arrivals at 40 per time unit: 100 time units, +-5%.
  EXPECT_NEAR((r.arrival_time - t0) / (n / hot.ArrivalRate()), 1.0, 0.05);
  // A bad phase is refused and leaves the generator as it was.
  TrafficConfig bad = hot;
  bad.traffic_matrix.resize(9);
  EXPECT_THROW(gen.Reconfigure(bad), std::invalid_argument);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(gen.Next().src, 0);
}

TEST(TrafficTest, JsonRoundTripAndDefaults) {
  const nlohmann::json j = {{"load_erlang", 300},
                            {"mean_holding_time", 10},
                            {"holding_truncate_factor", 2},
                            {"classes",
                             {{{"bit_rate_gbps", 100}, {"weight", 2}, {"latency_bound_us", 1500}},
                              {{"bit_rate_gbps", 400}}}},
                            {"traffic_matrix", {{0, 1}, {2, 0}}}};
  const TrafficConfig c = TrafficConfig::FromJson(j, "t.json");
  EXPECT_EQ(c.load_erlang, 300);
  EXPECT_EQ(c.ArrivalRate(), 30);
  ASSERT_EQ(c.classes.size(), 2u);
  EXPECT_EQ(c.classes[0].latency_bound_us, 1500);
  EXPECT_EQ(c.classes[1].weight, 1.0);
  EXPECT_TRUE(std::isinf(c.classes[1].latency_bound_us));
  ASSERT_EQ(c.traffic_matrix.size(), 4u);
  EXPECT_EQ(c.traffic_matrix[2], 2);  // row-major: row 1, column 0
  const TrafficConfig d = TrafficConfig::FromJson(c.ToJson(), "again");
  EXPECT_EQ(d.ToJson(), c.ToJson());
  // An empty object is the DeepRMSA-like default.
  const TrafficConfig e = TrafficConfig::FromJson(nlohmann::json::object(), "empty");
  EXPECT_EQ(e.load_erlang, 250);
  EXPECT_EQ(e.mean_holding_time, 25);
}

TEST(TrafficTest, BadConfigsNameTheField) {
  struct Case {
    nlohmann::json j;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"load", 250}}, "exp.json:traffic.load"},
      {{{"load_erlang", -5}}, "load_erlang"},
      {{{"load_erlang", 0}}, "load_erlang"},
      {{{"mean_holding_time", 0}}, "mean_holding_time"},
      {{{"holding_truncate_factor", 0.5}}, "holding_truncate_factor"},
      {{{"bit_rate_min_gbps", 100}, {"bit_rate_max_gbps", 25}}, "bit_rate_min_gbps"},
      {{{"bit_rate_min_gbps", 2.5}}, "bit_rate_min_gbps"},
      {{{"traffic_matrix", {{0, 1}, {1}}}}, "traffic_matrix[1]"},
      {{{"traffic_matrix", {{0, 1, 1}, {1, 0, 1}}}}, "traffic_matrix[0]"},
      {{{"traffic_matrix", {{0, -1}, {1, 0}}}}, "traffic_matrix"},
      {{{"traffic_matrix", {{3, 0}, {0, 3}}}}, "traffic_matrix"},
      {{{"classes", {{{"weight", 1}}}}}, "classes[0].bit_rate_gbps"},
      {{{"classes", {{{"bit_rate_gbps", 100}, {"weight", -1}}}}}, "classes[0].weight"},
      {{{"latency_bound_us", -1}}, "latency_bound_us"},
  };
  for (const auto& c : cases) {
    const std::string err = ErrorOf(c.j);
    EXPECT_FALSE(err.empty()) << c.j.dump() << " was accepted";
    EXPECT_NE(err.find(c.field), std::string::npos) << c.j.dump() << " gave: " << err;
    EXPECT_NE(err.find("exp.json:traffic"), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace eonops::twin
