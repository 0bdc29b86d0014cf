// The web UI in headless Chromium: the server runs on a temporary store with known runs, the
// pages are loaded with --dump-dom after their scripts ran, and the runs and numbers on screen
// must be the ones in the store. Screenshots land in the build directory.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>
#include <sstream>

#include "tests/tracking/chromium.h"
#include "tests/tracking/test_util.h"
#include "tracking/store.h"

namespace eonops::tracking {
namespace {

using testing::ChromiumAvailable;
using testing::DumpDom;

// The HTML of the element that starts with `open` (e.g. `<tr data-run-id="x"`), up to `close`.
std::string Element(const std::string& dom, const std::string& open, const std::string& close) {
  size_t a = dom.find(open);
  if (a == std::string::npos) return "";
  size_t b = dom.find(close, a);
  return dom.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

// The text of the cell `data-key="<key>"` inside `html`.
std::string Cell(const std::string& html, const std::string& key) {
  std::smatch m;
  std::regex re("data-key=\"" +
                std::regex_replace(key, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                "\"[^>]*>([^<]*)<");
  if (!std::regex_search(html, m, re)) return "<missing>";
  return m[1];
}

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

class WebUiTest : public testing::DatabaseTest {
 protected:
  struct Seeded {
    std::string name, algo;
    double reward, blocking;
    std::string id;
  };

  void SetUp() override {
    if (!ChromiumAvailable()) GTEST_SKIP() << "/usr/bin/chromium is not installed";
    DatabaseTest::SetUp();
    if (IsSkipped()) return;
    store_ = std::make_unique<TrackingStore>(db_->Options());
    exp_ = store_->CreateExperiment("rmsa/nsfnet");
    // Values chosen to have exact short decimal forms, so the page must show them verbatim.
    runs_ = {{"ppo-seed1", "ppo", 87.5, 0.0125, ""},
             {"dqn-seed1", "dqn", -12.25, 0.0625, ""},
             {"ppo-seed2", "ppo", 90.75, 0.00875, ""}};
    for (size_t i = 0; i < runs_.size(); ++i) {
      CreateRunOptions o;
      o.experiment_id = exp_;
      o.run_name = runs_[i].name;
      o.start_time_ms = 1700000000000 + static_cast<int64_t>(i) * 1000;
      runs_[i].id = store_->CreateRun(o).info.run_id;
      std::vector<Metric> metrics = {{"reward", runs_[i].reward, 1, 500},
                                     {"blocking", runs_[i].blocking, 1, 500}};
      for (int load : {100, 200, 300}) {
        metrics.push_back(
            {"blocking@load=" + std::to_string(load), runs_[i].blocking * load / 200.0, 1, 0});
        metrics.push_back(
            {"blocking@load=" + std::to_string(load) + "/ksp-ff", 0.02 * load / 200.0, 1, 0});
      }
      store_->LogBatch(
          runs_[i].id, metrics,
          {{"algo", runs_[i].algo}, {"topology", "nsfnet"}, {"seed", std::to_string(i + 1)}}, {});
      std::vector<Episode> eps;
      for (int e = 0; e < 500; ++e) {
        Episode ep;
        ep.episode = e;
        ep.reward = runs_[i].reward * e / 500.0;
        ep.length = 100;
        ep.blocking = runs_[i].blocking;
        ep.energy = 1.0;
        eps.push_back(ep);
      }
      store_->LogEpisodes(runs_[i].id, eps);
      store_->EndRun(runs_[i].id);
    }
    store_->CreateRegisteredModel("rmsa-nsfnet", "RMSA policy on NSFNET");
    store_->CreateModelVersion("rmsa-nsfnet", "runs:/" + runs_[0].id + "/policy", runs_[0].id);
    store_->CreateModelVersion("rmsa-nsfnet", "runs:/" + runs_[2].id + "/policy", runs_[2].id);
    store_->SetAlias("rmsa-nsfnet", "champion", 1, "alice");
    store_->SetAlias("rmsa-nsfnet", "champion", 2, "bob");
    store_->TransitionStage("rmsa-nsfnet", 2, Stage::kProduction, true, "bob");
    ServerOptions so;
    so.port = 0;
    server_ = std::make_unique<TrackingServer>(*store_, so);
    base_ = "http://127.0.0.1:" + std::to_string(server_->Start()) + "/";
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  // Where a view's screenshot goes: one file per backend, since ctest runs the sqlite and
  // postgres instances of a test at the same time and one would delete the other's picture.
  std::string ScreenshotPath(const std::string& view) const {
    return std::string(EONOPS_BINARY_DIR) + "/tracking_ui_" + view + "_" +
           testing::BackendName(::testing::TestParamInfo<testing::Backend>(GetParam(), 0)) + ".png";
  }

  std::string Page(const std::string& hash) {
    auto r = DumpDom(base_ + hash);
    EXPECT_EQ(r.exit_code, 0);
    // Every page sets data-rendered="1" on <body> once drawn; "error" if an API call failed.
    EXPECT_NE(r.out.find("data-rendered=\"1\""), std::string::npos)
        << hash << ": page did not finish rendering:\n"
        << r.out.substr(0, 3000);
    return r.out;
  }

  std::unique_ptr<TrackingStore> store_;
  std::unique_ptr<TrackingServer> server_;
  std::string exp_, base_;
  std::vector<Seeded> runs_;
};

TEST_P(WebUiTest, ExperimentsPageListsExperimentsWithRunCounts) {
  std::string dom = Page("#/");
  std::string row = Element(dom, "<tr data-experiment-id=\"" + exp_ + "\"", "</tr>");
  ASSERT_FALSE(row.empty()) << dom.substr(0, 2000);
  EXPECT_NE(row.find("rmsa/nsfnet"), std::string::npos);
  EXPECT_EQ(Cell(row, "run_count"), "3");
  EXPECT_NE(dom.find("Default"), std::string::npos);
}

TEST_P(WebUiTest, RunsTableShowsTheStoredParamsAndFinalMetrics) {
  std::string dom = Page("#/experiments/" + exp_);
  for (const auto& r : runs_) {
    std::string row = Element(dom, "<tr data-run-id=\"" + r.id + "\"", "</tr>");
    ASSERT_FALSE(row.empty()) << "run " << r.name << " missing";
    EXPECT_NE(row.find(">" + r.name + "<"), std::string::npos);
    EXPECT_EQ(Cell(row, "status"), "FINISHED");
    EXPECT_EQ(Cell(row, "params.algo"), r.algo);
    // The numbers are the store's, not rounded away or made up.
    tracking::Run stored = store_->GetRun(r.id);
    for (const auto& m : stored.data.metrics) {
      if (m.key != "reward" && m.key != "blocking") continue;
      std::ostringstream expected;
      expected << m.value;
      EXPECT_EQ(Cell(row, "metrics." + m.key), expected.str()) << r.name << " " << m.key;
    }
  }
  // Newest first (server-side default order): ppo-seed2, dqn-seed1, ppo-seed1.
  EXPECT_LT(dom.find(runs_[2].id), dom.find(runs_[1].id));
  EXPECT_LT(dom.find(runs_[1].id), dom.find(runs_[0].id));
}

TEST_P(WebUiTest, RunsTableFiltersAndSortsOnTheServer) {
  std::string dom = Page("#/experiments/" + exp_ + "?filter=" +
                         "params.algo%20%3D%20'ppo'&order=metrics.%60reward%60%20DESC");
  EXPECT_NE(dom.find(runs_[0].id), std::string::npos);
  EXPECT_NE(dom.find(runs_[2].id), std::string::npos);
  EXPECT_EQ(dom.find("data-run-id=\"" + runs_[1].id), std::string::npos);  // dqn filtered out
  EXPECT_LT(dom.find("data-run-id=\"" + runs_[2].id), dom.find("data-run-id=\"" + runs_[0].id))
      << "90.75 sorts before 87.5 descending";
  EXPECT_NE(dom.find("sorted-desc"), std::string::npos);
}

TEST_P(WebUiTest, CompareViewOverlaysCurvesAndDiffsParams) {
  const std::string ids = runs_[0].id + "," + runs_[1].id + "," + runs_[2].id;
  std::string dom = Page("#/compare?runs=" + ids);
  // Reward and blocking curves: one path per run in each chart, from 500 episodes each.
  std::string reward = Element(dom, "id=\"chart-reward\"", "</svg>");
  std::string blocking = Element(dom, "id=\"chart-blocking\"", "</svg>");
  std::string load = Element(dom, "id=\"chart-load\"", "</svg>");
  for (const auto& r : runs_) {
    EXPECT_NE(reward.find("data-series=\"" + r.name + "\" data-points=\"500\""), std::string::npos)
        << r.name;
    EXPECT_NE(blocking.find("data-series=\"" + r.name + "\""), std::string::npos) << r.name;
    EXPECT_NE(load.find("data-series=\"" + r.name + "\" data-points=\"3\""), std::string::npos);
  }
  EXPECT_EQ(Count(load, "data-series=\"ksp-ff (heuristic)\""), 1u);  // drawn once, dashed
  EXPECT_NE(load.find("stroke-dasharray"), std::string::npos);
  // Param diff: algo and seed differ, topology does not (hidden by "only those that differ").
  EXPECT_NE(dom.find("<tr class=\"differs\" data-param=\"algo\">"), std::string::npos);
  EXPECT_NE(dom.find("<tr class=\"differs\" data-param=\"seed\">"), std::string::npos);
  EXPECT_NE(dom.find("<tr class=\"same\" data-param=\"topology\" hidden"), std::string::npos);
  // Final metrics table carries the stored values.
  std::string metric_row = Element(dom, "<tr data-metric=\"reward\"", "</tr>");
  EXPECT_NE(metric_row.find(">87.5<"), std::string::npos);
  EXPECT_NE(metric_row.find(">-12.25<"), std::string::npos);
  EXPECT_NE(metric_row.find(">90.75<"), std::string::npos);

  const std::string png = ScreenshotPath("compare");
  std::filesystem::remove(png);
  auto shot = testing::Screenshot(base_ + "#/compare?runs=" + ids, png);
  EXPECT_EQ(shot.exit_code, 0);
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 20000u);  // a real picture, not an empty page
}

TEST_P(WebUiTest, ModelPageShowsVersionsAliasesAndAliasHistory) {
  std::string dom = Page("#/models/rmsa-nsfnet");
  std::string alias = Element(dom, "<tr data-alias=\"champion\"", "</tr>");
  EXPECT_NE(alias.find("v2"), std::string::npos);
  EXPECT_EQ(Count(dom, "class=\"alias-move\""), 2u);
  // Newest move first: v1 -> v2 by bob, then (new) -> v1 by alice.
  std::string first = Element(dom, "<tr class=\"alias-move\"", "</tr>");
  EXPECT_NE(first.find("v1"), std::string::npos);
  EXPECT_NE(first.find("v2"), std::string::npos);
  EXPECT_NE(first.find("bob"), std::string::npos);
  EXPECT_NE(dom.find("alice"), std::string::npos);
  std::string v2 = Element(dom, "<tr data-version=\"2\"", "</tr>");
  EXPECT_NE(v2.find("Production"), std::string::npos);
  EXPECT_NE(v2.find("@champion"), std::string::npos);
  EXPECT_EQ(Count(dom, "class=\"stage-move\""), 1u);

  std::string models = Page("#/models");
  EXPECT_NE(Element(models, "<tr data-model=\"rmsa-nsfnet\"", "</tr>").find("@champion → v2"),
            std::string::npos);

  const std::string png = ScreenshotPath("model");
  auto shot = testing::Screenshot(base_ + "#/models/rmsa-nsfnet", png);
  EXPECT_TRUE(std::filesystem::exists(png));
}

TEST_P(WebUiTest, RunPageShowsParamsMetricsAndCurves) {
  std::string dom = Page("#/runs/" + runs_[1].id);
  EXPECT_EQ(Cell(dom, "params.algo"), "dqn");
  EXPECT_EQ(Cell(dom, "metrics.reward"), "-12.25");
  EXPECT_NE(dom.find("data-series=\"dqn-seed1\" data-points=\"500\""), std::string::npos);
  const std::string png = ScreenshotPath("runs");
  testing::Screenshot(base_ + "#/experiments/" + exp_, png);
  EXPECT_TRUE(std::filesystem::exists(png));
}

TEST_P(WebUiTest, ModelTrendsDrawOneChartPerKpiWithVersionChangesMarked) {
  // The lifecycle service's KPI runs for v1 and v2 and its decisions, as it logs them.
  const std::string lifecycle = store_->GetOrCreateExperiment("lifecycle");
  // KPIs around now, so that the alias moves of SetUp and the rollback fall inside the charts.
  const int64_t t0 = NowMs() - 30000;
  for (int v : {1, 2}) {
    CreateRunOptions o;
    o.experiment_id = lifecycle;
    o.run_name = "rmsa-nsfnet v" + std::to_string(v);
    o.tags = {{"eonops.lifecycle.model", "rmsa-nsfnet"},
              {"eonops.lifecycle.version", std::to_string(v)},
              {"eonops.lifecycle.use_case", "deeprmsa"}};
    const std::string run = store_->CreateRun(o).info.run_id;
    std::vector<Metric> m;
    for (int i = 0; i < 20; ++i) {
      const int64_t t = t0 + (v - 1) * 20000 + i * 1000;
      m.push_back({"kpi/blocking", 0.05 * v, t, i});
      m.push_back({"kpi/network_power_w", 150000.0 + v, t, i});
    }
    store_->LogBatch(run, m, {}, {});
  }
  RecordDecisionRequest r;
  r.name = "rmsa-nsfnet";
  r.version = 1;
  r.kind = "rollback";
  r.reason = "v2 blocks 10% against v1's 5%";
  r.figures_json = R"({"baseline": {"blocking": 0.05}, "live": {"blocking": 0.1}})";
  r.alias = "champion";
  store_->RecordModelDecision(r, "eonops-lifecycle");
  std::string dom = Page("#/models/rmsa-nsfnet/trends");
  EXPECT_NE(dom.find("data-kpi=\"kpi/blocking\""), std::string::npos);
  EXPECT_NE(dom.find("data-kpi=\"kpi/network_power_w\""), std::string::npos);
  const std::string chart = Element(dom, "data-kpi=\"kpi/blocking\"", "</svg>");
  EXPECT_NE(chart.find("data-series=\"v1 (deeprmsa)\" data-points=\"20\""), std::string::npos) << chart;
  EXPECT_NE(chart.find("data-series=\"v2 (deeprmsa)\" data-points=\"20\""), std::string::npos) << chart;
  EXPECT_GE(Count(chart, "class=\"marker\""), 2u);  // champion moves and the rollback
  EXPECT_NE(chart.find("rollback"), std::string::npos);
  std::string model = Page("#/models/rmsa-nsfnet");
  const std::string row = Element(model, "<tr class=\"decision decision-rollback\"", "</tr>");
  EXPECT_NE(row.find("v2 blocks 10%"), std::string::npos) << row;
  EXPECT_NE(row.find("baseline blocking 0.05"), std::string::npos) << row;
  EXPECT_NE(model.find("#/models/rmsa-nsfnet/trends"), std::string::npos);
  const std::string png = ScreenshotPath("trends");
  testing::Screenshot(base_ + "#/models/rmsa-nsfnet/trends", png);
  EXPECT_TRUE(std::filesystem::exists(png));
}

TEST_P(WebUiTest, ApiErrorsAreShownNotSwallowed) {
  std::string dom = DumpDom(base_ + "#/runs/ffffffffffffffffffffffffffffffff").out;
  EXPECT_NE(dom.find("data-rendered=\"error\""), std::string::npos);
  EXPECT_NE(dom.find("RESOURCE_DOES_NOT_EXIST"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, WebUiTest, testing::kBothBackends, testing::BackendName);

}  // namespace
}  // namespace eonops::tracking
