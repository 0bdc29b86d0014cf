// Pins the automatic rollback under live load, end to end over HTTP: a PCE serving the
// registry's champion behind its TAPI server, the load generator driving it, the lifecycle
// service reading the PCE's trace over HTTP; a poor version promoted by hand is rolled back,
// the PCE follows within its poll interval, and no request fails.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "lifecycle/server.h"
#include "lifecycle/service.h"
#include "tapi/loadgen.h"
#include "tapi/server.h"
#include "tests/lifecycle/lifecycle_test_util.h"
#include "tests/lifecycle/live_pce.h"

namespace eonops::lifecycle {
namespace {

using testing::RegisterHeuristic;
using testing::WaitFor;

std::optional<tracking::ModelDecision> Find(tracking::TrackingStore& store, const std::string& kind) {
  const auto all = testing::DecisionsOf(store, kind);
  if (all.empty()) return std::nullopt;
  return all.front();
}

TEST(Rollback, PoorVersionPromotedByHandIsRolledBackUnderLiveLoadWithoutAFailedRequest) {
  pce::testing::TempDir dir;
  tracking::TrackingStore store(pce::testing::StoreIn(dir));
  // NSFNET at 250 Erlang, where KSP-FF blocks about 5% and a policy that picks its path almost
  // at random about twice that.
  pce::PceConfig config = testing::ShippedBoundConfig();
  const int64_t good = RegisterHeuristic(store, "rmsa", "ksp-ff", "champion");
  // A deliberately poor version: a policy trained for 64 steps, next to untrained. (A poor
  // heuristic would not do: what it blocks, the PCE's KSP-FF fallback serves.)
  const int64_t poor = pce::testing::RegisterPolicy(
      store, pce::testing::TrainTinyPolicy(config, dir / "poor", 5, 64), "rmsa", "");
  testing::LivePce live(config, store, dir / "pce-scratch");
  pce::Pce& pce = live.pce();
  const std::string url = live.url();

  LifecycleConfig lc = testing::SmallLifecycleConfig();
  lc.retrain.on_drift = false;  // this test is about rollback only
  lc.rollback.baseline_requests = 1500;
  lc.rollback.min_requests = 300;
  lc.rollback.watch_requests = 3000;
  LifecycleSetup ls;
  ls.source = HttpTraceSource(url);
  ls.tracking = pce::StoreConnector(&store, "eonops-lifecycle");
  ls.state_dir = dir / "state";
  testing::Timeline log;
  ls.log = log.Sink();
  LifecycleService svc(lc, config, std::move(ls));
  svc.Start();
  LifecycleServer status(svc, {"127.0.0.1", 0, ""});
  status.Start();

  tapi::LoadgenOptions lo;
  lo.pce_url = url;
  lo.scenario = config.ToScenario();
  lo.scenario.measurement.warmup = 0;
  lo.scenario.measurement.requests = 6000;
  lo.rate_per_s = 800;
  lo.seed = 3;
  auto load = std::async(std::launch::async, [&] { return tapi::RunLoadgen(lo); });

  // The champion's baseline first, then a hand move to the poor version (an operator's mistake).
  // ~1800 arrivals and their releases.
  ASSERT_TRUE(WaitFor([&] { return svc.Status()["trace_cursor"].get<int64_t>() >= 3500; }, 30));
  store.SetAlias("rmsa", "champion", poor, "operator");
  const int64_t promoted_ms = tracking::NowMs();
  ASSERT_TRUE(WaitFor([&] { return Find(store, "rollback").has_value(); }, 30))
      << log.Dump();
  const int64_t rolled_back_ms = tracking::NowMs();
  const tapi::LoadgenResult r = load.get();
  svc.Stop();

  EXPECT_EQ(r.errors, 0) << r.last_error;
  EXPECT_EQ(r.requests, 6000);
  EXPECT_EQ(store.GetModelVersionByAlias("rmsa", "champion").version, good);
  const tracking::ModelDecision d = *Find(store, "rollback");
  EXPECT_EQ(d.from_version, poor);
  EXPECT_EQ(d.to_version, good);
  EXPECT_EQ(d.decided_by, "eonops-lifecycle");
  const auto f = nlohmann::json::parse(d.figures_json);
  EXPECT_EQ(f["promoted_by"], "operator");
  EXPECT_GT(f["live"]["blocking"].get<double>(), 1.05 * f["baseline"]["blocking"].get<double>());
  EXPECT_GE(f["live"]["requests"].get<int64_t>(), lc.rollback.min_requests);
  const int64_t took = f["promotion_to_rollback_ms"].get<int64_t>();
  EXPECT_GT(took, 0);
  EXPECT_LE(took, rolled_back_ms - promoted_ms + 1000);
  // Both versions served live requests, and the PCE serves the good one again.
  EXPECT_GT(r.policy_versions.at("rmsa/" + std::to_string(poor)), 0);
  EXPECT_EQ(pce.ServedFor(twin::UseCase::kDeepRmsa)->ref.version, good);
  EXPECT_TRUE(log.Has("serves v", "after the rollback")) << log.Dump();
  RecordProperty("promotion_to_rollback_ms", std::to_string(took));
}

TEST(Rollback, AGoodVersionPromotedByHandIsConfirmed) {
  pce::testing::TempDir dir;
  tracking::TrackingStore store(pce::testing::StoreIn(dir));
  RegisterHeuristic(store, "rmsa", "sp-ff", "champion");
  const int64_t better = RegisterHeuristic(store, "rmsa", "ksp-ff");
  pce::PceSetup ps;
  ps.tracking = pce::StoreConnector(&store);
  ps.poll_registry = false;
  ps.scratch_dir = dir / "pce-scratch";
  pce::Pce pce(testing::BoundConfig(), ps);
  LifecycleConfig lc = testing::SmallLifecycleConfig();
  lc.retrain.on_drift = false;
  LifecycleSetup ls;
  ls.source = InProcessTraceSource(pce);
  ls.tracking = pce::StoreConnector(&store, "eonops-lifecycle");
  ls.state_dir = dir / "state";
  ls.threads = false;
  LifecycleService svc(lc, pce.config(), std::move(ls));
  svc.Start();
  testing::TrafficDriver drive(pce, pce.config().traffic, 9);
  drive.Run(800);
  svc.PollOnce();
  store.SetAlias("rmsa", "champion", better, "operator");
  pce.RefreshPolicies();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // the registry poll interval
  svc.PollOnce();
  ASSERT_TRUE(svc.Status()["use_cases"]["deeprmsa"]["watch"].is_object());
  for (int i = 0; i < 20; ++i) {
    drive.Run(100);
    svc.PollOnce();
  }
  EXPECT_EQ(store.GetModelVersionByAlias("rmsa", "champion").version, better);
  ASSERT_TRUE(Find(store, "confirm")) << "the watch did not end";
  EXPECT_FALSE(Find(store, "rollback"));
  EXPECT_TRUE(svc.Status()["use_cases"]["deeprmsa"]["watch"].is_null());
}

}  // namespace
}  // namespace eonops::lifecycle
