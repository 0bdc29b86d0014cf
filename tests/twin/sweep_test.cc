// twin/sweep.h: the (policy x load x seed) sweep behind `eonops simulate` and eonops.simulate.
#include "twin/sweep.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "tests/twin/twin_fixtures.h"
#include "twin/simulator.h"

namespace eonops::twin {
namespace {

Scenario SmallScenario() {
  Scenario s = fixtures::DeepRmsaScenario();
  s.measurement.warmup = 300;
  s.measurement.requests = 3000;
  s.measurement.batch_size = 1000;
  return s;
}

nlohmann::json WithoutTimings(nlohmann::json row) {
  row.erase("wall_seconds");
  row.erase("steps_per_second");
  return row;
}

TEST(SweepTest, OneSeedIsThatRunWithItsBatchMeans) {
  const Scenario s = SmallScenario();
  SweepOptions opt;
  opt.seed = 4;
  const auto rows = SimulateSweep(fixtures::DeepRmsaModel(), s, {HeuristicPolicy("ksp-ff", s)}, opt);
  ASSERT_EQ(rows.size(), 1u);
  SimulationOptions so;
  so.requests = s.measurement.requests;
  so.warmup = s.measurement.warmup;
  so.batch_size = s.measurement.batch_size;
  so.seed = 4;
  nlohmann::json direct = Simulate(fixtures::DeepRmsaModel(), s.traffic, *MakeHeuristic("ksp-ff"), so).ToJson();
  direct["seeds"] = 1;
  direct["ci_method"] = "batch-means";
  EXPECT_EQ(WithoutTimings(rows[0]), WithoutTimings(direct));
}

TEST(SweepTest, SeveralSeedsAverageTheRunsAndAddTheirCounts) {
  const Scenario s = SmallScenario();
  SweepOptions opt;
  opt.seeds = 3;
  opt.seed = 10;
  opt.loads = {200, 300};
  const auto rows = SimulateSweep(fixtures::DeepRmsaModel(), s, {HeuristicPolicy("sp-ff", s), HeuristicPolicy("ksp-ff", s)}, opt);
  ASSERT_EQ(rows.size(), 4u);  // policies outer, loads inner
  EXPECT_EQ(rows[1]["policy"], "sp-ff");
  EXPECT_EQ(rows[1]["load_erlang"], 300.0);
  EXPECT_EQ(rows[2]["policy"], "ksp-ff");
  std::vector<double> blocking;
  int64_t blocked = 0;
  for (int seed = 10; seed < 13; ++seed) {
    SimulationOptions so;
    so.requests = s.measurement.requests;
    so.warmup = s.measurement.warmup;
    so.batch_size = s.measurement.batch_size;
    so.seed = seed;
    TrafficConfig t = s.traffic;
    t.load_erlang = 300;
    const SimulationResult r = Simulate(fixtures::DeepRmsaModel(), t, *MakeHeuristic("ksp-ff"), so);
    blocking.push_back(r.blocking.mean);
    blocked += r.blocked;
  }
  const Estimate e = MeanCi(blocking);
  EXPECT_EQ(rows[3]["ci_method"], "independent-seeds");
  EXPECT_EQ(rows[3]["seeds"], 3);
  EXPECT_DOUBLE_EQ(rows[3]["blocking_probability"].get<double>(), e.mean);
  EXPECT_DOUBLE_EQ(rows[3]["blocking_ci95"].get<double>(), e.ci95);
  EXPECT_EQ(rows[3]["blocked"], blocked);
  EXPECT_EQ(rows[3]["requests"], 3 * s.measurement.requests);
  EXPECT_FALSE(rows[3].contains("seed"));
}

TEST(SweepTest, ThreadsChangeNothingButTheWallClock) {
  const Scenario s = SmallScenario();
  SweepOptions one, four;
  one.seeds = four.seeds = 2;
  one.loads = four.loads = {150, 250, 350};
  four.threads = 4;
  std::atomic<int> calls{0};
  double most = 0;  // calls are serialised, but not necessarily in the order of their fraction
  four.progress = [&](double f) {
    ++calls;
    EXPECT_GE(f, 0.0);
    EXPECT_LE(f, 1.0 + 1e-9);
    most = std::max(most, f);
  };
  const std::vector<SweepPolicy> p = {HeuristicPolicy("ksp-bf", s), HeuristicPolicy("ksp-mscl", s)};
  const auto a = SimulateSweep(fixtures::DeepRmsaModel(), s, p, one);
  const auto b = SimulateSweep(fixtures::DeepRmsaModel(), s, p, four);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(WithoutTimings(a[i]), WithoutTimings(b[i])) << i;
  EXPECT_GT(calls.load(), 0);
  EXPECT_NEAR(most, 1.0, 1e-9);
}

TEST(SweepTest, ReportIsOneRowOrResultsPlusTheScenario) {
  const Scenario s = SmallScenario();
  const nlohmann::json row = {{"policy", "ksp-ff"}};
  const nlohmann::json one = SweepReport({row}, s);
  EXPECT_EQ(one["policy"], "ksp-ff");
  EXPECT_EQ(one["scenario"], s.ToJson());
  const nlohmann::json two = SweepReport({row, row}, s);
  EXPECT_EQ(two["results"].size(), 2u);
  EXPECT_EQ(two["scenario"], s.ToJson());
}

TEST(SweepTest, BadArgumentsAreRefusedWithAReason) {
  const Scenario s = SmallScenario();
  const auto& m = fixtures::DeepRmsaModel();
  EXPECT_THROW(HeuristicPolicy("magic", s), std::invalid_argument);
  EXPECT_THROW(SimulateSweep(m, s, {}, {}), std::invalid_argument);
  SweepOptions bad;
  bad.seeds = 0;
  EXPECT_THROW(SimulateSweep(m, s, {HeuristicPolicy("ksp-ff", s)}, bad), std::invalid_argument);
  bad = {};
  bad.threads = 0;
  EXPECT_THROW(SimulateSweep(m, s, {HeuristicPolicy("ksp-ff", s)}, bad), std::invalid_argument);
  bad = {};
  bad.loads = {100, -5};
  EXPECT_THROW(SimulateSweep(m, s, {HeuristicPolicy("ksp-ff", s)}, bad), std::invalid_argument);
  EXPECT_THROW(SimulateSweep(m, s, {SweepPolicy{"empty", nullptr}}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace eonops::twin
