// The whole loop on tiny settings, as `tools/lifecycle-demo.sh` runs it but in one process: a
// tracking store, a PCE serving a trained champion behind its TAPI server, the lifecycle service
// with its threads reading the trace over HTTP, and the load generator's phases: uniform
// traffic, then a hot spot at a higher load. The service detects the drift, retrains on the
// calibrated twin (warm-started, 512 steps), registers a challenger with its lineage, replays,
// decides; then a poor version promoted by hand is rolled back. No request fails.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include "lifecycle/contender.h"
#include "lifecycle/server.h"
#include "lifecycle/service.h"
#include "tapi/loadgen.h"
#include "tapi/server.h"
#include "tests/lifecycle/lifecycle_test_util.h"
#include "tests/lifecycle/live_pce.h"

namespace eonops::lifecycle {
namespace {

using testing::WaitFor;

std::vector<tracking::ModelDecision> Decisions(tracking::TrackingStore& s, const std::string& kind) {
  return testing::DecisionsOf(s, kind);
}

TEST(EndToEnd, DriftRetrainReplayDecideThenRollBackAPoorPromotion) {
  pce::testing::TempDir dir;
  tracking::TrackingStore store(pce::testing::StoreIn(dir));
  pce::PceConfig config = testing::ShippedBoundConfig();
  const int64_t champion = pce::testing::RegisterPolicy(
      store, pce::testing::TrainTinyPolicy(config, dir / "champion", 1, 2048), "rmsa", "champion");
  testing::LivePce live(config, store, dir / "pce-scratch");
  pce::Pce& pce = live.pce();
  const std::string url = live.url();

  LifecycleConfig lc = testing::SmallLifecycleConfig();
  lc.drift.window_requests = 800;
  lc.retrain.calibration_requests = 1500;
  lc.gate.trace_requests = 1500;
  lc.gate.min_trace_requests = 500;
  lc.retrain.cooldown_s = 3600;  // one attempt in this test
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
  const int status_port = status.Start();
  {
    // One owner per port: a second status server on it is refused, naming the port.
    LifecycleServer second(svc, {"127.0.0.1", status_port, ""});
    try {
      second.Start();
      ADD_FAILURE() << "a second lifecycle server listened on port " << status_port;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
    }
  }

  // Uniform at 250 Erlang, then a hot spot on node 6 at 400 Erlang; paced so that the PCE's clock
  // sees the twin's rates and holding times.
  const int n = pce.model().topology().NumNodes();
  nlohmann::json m = nlohmann::json::array();
  for (int s = 0; s < n; ++s) {
    nlohmann::json row = nlohmann::json::array();
    for (int d = 0; d < n; ++d) row.push_back(s == d ? 0 : (s == 6 || d == 6) ? 12 : 1);
    m.push_back(row);
  }
  std::ofstream(dir / "hot.json") << nlohmann::json{{"traffic_matrix", m}}.dump();
  std::ofstream(dir / "phases.json")
      << nlohmann::json{{"phases",
                         {{{"at_request", 0}, {"label", "uniform"}},
                          {{"at_request", 2500}, {"label", "hot"}, {"load_erlang", 400},
                           {"traffic_matrix", "hot.json"}}}}}
             .dump();
  tapi::LoadgenOptions lo;
  lo.pce_url = url;
  lo.scenario = config.ToScenario();
  lo.scenario.measurement.warmup = 0;
  lo.scenario.measurement.requests = 7000;
  lo.rate_per_s = 600;
  lo.phases = tapi::LoadTrafficPhases(dir / "phases.json", n);
  auto drift_load = std::async(std::launch::async, [&] { return tapi::RunLoadgen(lo); });
  ASSERT_TRUE(WaitFor([&] { return !Decisions(store, "refuse").empty() || !Decisions(store, "promote").empty(); }, 120))
      << log.Dump();
  const tapi::LoadgenResult r1 = drift_load.get();
  EXPECT_EQ(r1.errors, 0) << r1.last_error;
  ASSERT_TRUE(WaitFor([&] { return svc.Idle(); }, 60));
  auto dump = [&] {
    std::string out;
    for (const auto& d : store.GetModelDecisions("rmsa"))
      out += d.kind + " v" + std::to_string(d.version) + ": " + d.reason + "\n";
    return out + log.Dump();
  };

  // Drift recorded with its figures, before the decision; only the hot phase drifted.
  const auto drift = Decisions(store, "drift");
  ASSERT_FALSE(drift.empty());
  const auto df = nlohmann::json::parse(drift[0].figures_json);
  EXPECT_TRUE(df["pairs_drifted"].get<bool>() || df["load_drifted"].get<bool>()) << df.dump();
  EXPECT_GE(df["window"].get<int64_t>(), 3) << "drift before the traffic changed: " << df.dump();
  // The challenger: registered with lineage, challenger alias, judged on the replay and the twin.
  // The retrained challenger (a refused one may be followed by the best heuristic's attempt).
  std::map<std::string, std::string> tags;
  tracking::SearchModelsRequest vq;
  vq.filter = "name = 'rmsa'";
  for (const auto& v : store.SearchModelVersions(vq).items) {
    std::map<std::string, std::string> t;
    for (const auto& x : v.tags) t[x.key] = x.value;
    if (t[kTagKind] == "drl") tags = t;
  }
  ASSERT_FALSE(tags.empty()) << dump();
  EXPECT_EQ(tags[kTagParent], std::to_string(champion));
  EXPECT_EQ(nlohmann::json::parse(tags[kTagTrigger])["kind"], "drift") << dump();
  EXPECT_TRUE(nlohmann::json::parse(tags[kTagScenario]).contains("traffic_matrix"));
  const auto decided = store.GetModelDecisions("rmsa");
  const auto verdict = std::find_if(decided.begin(), decided.end(), [](const auto& d) {
    return d.kind == "promote" || d.kind == "refuse";
  });
  ASSERT_NE(verdict, decided.end());
  const auto gf = nlohmann::json::parse(verdict->figures_json);
  EXPECT_TRUE(gf["replay"]["difference"].contains("ci95_high")) << gf.dump();
  EXPECT_EQ(gf["twin"]["seeds"], lc.gate.twin_seeds);
  EXPECT_GT(gf["trace"]["initial_lightpaths"].get<int64_t>(), 50);  // replayed from a loaded network

  // Then an operator promotes a near-untrained policy: it is rolled back under load. Not under
  // a sanitizer: ASan slows the PCE several-fold, the 800 requests/s generator then offers a
  // different load to the poor version than the champion's baseline saw, and the comparison
  // (a timing-bound statistic, not memory safety) confirms the poor version instead. Everything
  // above, which exercises the same code, still runs there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "rollback under live load is timing-bound; checked in the Release suite";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  GTEST_SKIP() << "rollback under live load is timing-bound; checked in the Release suite";
#endif
#endif
  // The operator first serves the best heuristic as champion, so that the phase below starts
  // from a known, stable champion (whatever the loop promoted in the hot phase may itself be
  // rolled back once uniform traffic returns, which is not what this phase checks), and so that
  // the poor version's regression is large: KSP-FF blocks about 5% here, the near-untrained
  // policy about 10% (it rarely blocks on its own; the fallback rescues it, but its longer paths
  // cost spectrum).
  const int64_t strong = testing::RegisterHeuristic(store, "rmsa", "ksp-ff");
  store.SetAlias("rmsa", "champion", strong, "operator");
  const int64_t poor = pce::testing::RegisterPolicy(
      store, pce::testing::TrainTinyPolicy(config, dir / "poor", 5, 64), "rmsa", "");
  lo.phases.clear();
  lo.scenario.measurement.requests = 9000;
  lo.rate_per_s = 800;
  lo.seed = 2;
  auto rollback_load = std::async(std::launch::async, [&] { return tapi::RunLoadgen(lo); });
  // The strong champion's baseline (rollback.baseline_requests = 1500) on the live traffic.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  ASSERT_EQ(store.GetModelVersionByAlias("rmsa", "champion").version, strong) << dump();
  const size_t rollbacks = Decisions(store, "rollback").size();
  store.SetAlias("rmsa", "champion", poor, "operator");
  ASSERT_TRUE(WaitFor([&] { return Decisions(store, "rollback").size() > rollbacks; }, 60)) << dump();
  const tapi::LoadgenResult r2 = rollback_load.get();
  EXPECT_EQ(r2.errors, 0) << r2.last_error;
  const int64_t before = strong;
  std::cout << "rollback: " << Decisions(store, "rollback").back().reason << "\n";
  EXPECT_EQ(store.GetModelVersionByAlias("rmsa", "champion").version, before) << dump();

  // KPIs per served version reached the store; status answers over HTTP.
  const auto exp = store.GetExperimentByName("lifecycle");
  ASSERT_TRUE(exp);
  tracking::SearchRunsRequest q;
  q.experiment_ids = {exp->experiment_id};
  EXPECT_GE(store.SearchRuns(q).items.size(), 2u);
  httplib::Client cli("127.0.0.1", status_port);
  auto st = cli.Get("/status");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, 200);
  const auto sj = nlohmann::json::parse(st->body);
  EXPECT_EQ(sj["use_cases"]["deeprmsa"]["champion"], before);
  auto bad = cli.Post("/retrain", "{\"use_case\": \"nope\"}", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  svc.Stop();
}

}  // namespace
}  // namespace eonops::lifecycle
