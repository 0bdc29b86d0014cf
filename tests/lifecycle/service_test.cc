// Pins lifecycle/service.h on an in-process PCE and tracking store, driven by hand (no threads):
// challengers are promoted or refused with their figures in the registry's audit trail, drift
// starts a retraining attempt on a calibrated twin that is registered with its lineage, and live
// KPIs reach the tracking store as time series per served version.
#include "lifecycle/service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "lifecycle/contender.h"
#include "tests/lifecycle/lifecycle_test_util.h"

namespace eonops::lifecycle {
namespace {

using testing::RegisterHeuristic;
using testing::TrafficDriver;

std::string Tag(const tracking::ModelVersion& v, const std::string& key) {
  for (const auto& t : v.tags)
    if (t.key == key) return t.value;
  return "";
}

// The decisions of `kind` among `all`.
std::vector<tracking::ModelDecision> Kind(const std::vector<tracking::ModelDecision>& all,
                                          const std::string& kind) {
  std::vector<tracking::ModelDecision> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out),
               [&](const tracking::ModelDecision& d) { return d.kind == kind; });
  return out;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::make_unique<tracking::TrackingStore>(pce::testing::StoreIn(dir_)); }
  void StartPce() {
    pce::PceSetup ps;
    ps.tracking = pce::StoreConnector(store_.get());
    ps.poll_registry = false;
    ps.scratch_dir = dir_ / "pce-scratch";
    pce_ = std::make_unique<pce::Pce>(testing::BoundConfig(), ps);
  }
  // Drift off by default: unpaced test traffic has no meaningful clock (see the drift test).
  static LifecycleConfig NoDrift() {
    LifecycleConfig c = testing::SmallLifecycleConfig();
    c.retrain.on_drift = false;
    return c;
  }
  std::unique_ptr<LifecycleService> MakeService(LifecycleConfig c = NoDrift()) {
    LifecycleSetup s;
    s.source = InProcessTraceSource(*pce_);
    s.tracking = pce::StoreConnector(store_.get(), "eonops-lifecycle");
    s.state_dir = dir_ / "state";
    s.threads = false;
    s.log = [this](const std::string& line) { log_.push_back(line); };
    auto svc = std::make_unique<LifecycleService>(c, pce_->config(), std::move(s));
    svc->Start();
    return svc;
  }
  pce::testing::TempDir dir_;
  std::unique_ptr<tracking::TrackingStore> store_;
  std::unique_ptr<pce::Pce> pce_;
  std::vector<std::string> log_;
};

TEST_F(ServiceTest, BetterHeuristicChallengerIsPromotedAndThePceServesIt) {
  const int64_t v1 = RegisterHeuristic(*store_, "rmsa", "sp-ff", "champion");
  StartPce();
  ASSERT_TRUE(pce_->ServedFor(twin::UseCase::kDeepRmsa));
  EXPECT_TRUE(pce_->ServedFor(twin::UseCase::kDeepRmsa)->heuristic);
  auto svc = MakeService();
  TrafficDriver drive(*pce_, pce_->config().traffic, 31);
  drive.Run(1000);
  svc->PollOnce();
  std::string why;
  ASSERT_TRUE(svc->RequestRetrain(twin::UseCase::kDeepRmsa, "ksp-ff", &why)) << why;
  EXPECT_FALSE(svc->RequestRetrain(twin::UseCase::kDeepRmsa, "", &why));  // one at a time
  EXPECT_NE(why.find("is at step"), std::string::npos) << why;
  svc->RunPendingAttempt();
  EXPECT_TRUE(svc->Idle());
  const tracking::ModelVersion champion = store_->GetModelVersionByAlias("rmsa", "champion");
  EXPECT_EQ(champion.source, "heuristic:ksp-ff");
  EXPECT_EQ(store_->GetModelVersionByAlias("rmsa", "challenger").version, champion.version);
  EXPECT_EQ(Tag(champion, kTagParent), std::to_string(v1));
  EXPECT_EQ(Tag(champion, kTagKind), "heuristic");
  EXPECT_FALSE(Tag(champion, kTagAttempt).empty());
  const auto decisions = store_->GetModelDecisions("rmsa");
  ASSERT_EQ(Kind(decisions, "challenger").size(), 1u);
  const auto promote = Kind(decisions, "promote");
  ASSERT_EQ(promote.size(), 1u);
  EXPECT_EQ(promote[0].from_version, v1);
  EXPECT_EQ(promote[0].to_version, champion.version);
  EXPECT_EQ(promote[0].decided_by, "eonops-lifecycle");
  const auto figures = nlohmann::json::parse(promote[0].figures_json);
  EXPECT_LT(figures["replay"]["difference"]["ci95_high"].get<double>(), 0.0);
  EXPECT_EQ(figures["compatibility"], "ok");
  // The alias move is in the alias history too, by the lifecycle service.
  const auto moves = store_->GetAliasHistory("rmsa", "champion");
  EXPECT_EQ(moves.back().to_version, champion.version);
  EXPECT_EQ(moves.back().changed_by, "eonops-lifecycle");
  pce_->RefreshPolicies();
  EXPECT_EQ(pce_->ServedFor(twin::UseCase::kDeepRmsa)->ref.version, champion.version);
  // Status reflects it once the service has read the registry again (every registry_poll_ms).
  auto s = svc->Status();
  for (int i = 0; i < 200 && s["use_cases"]["deeprmsa"]["champion"] != champion.version; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    svc->PollOnce();
    s = svc->Status();
  }
  EXPECT_EQ(s["use_cases"]["deeprmsa"]["champion"], champion.version);
  EXPECT_FALSE(s["use_cases"]["deeprmsa"]["decisions"].empty());
}

TEST_F(ServiceTest, WorseHeuristicChallengerIsRefusedAndTheChampionStays) {
  const int64_t v1 = RegisterHeuristic(*store_, "rmsa", "ksp-ff", "champion");
  StartPce();
  auto svc = MakeService();
  TrafficDriver drive(*pce_, pce_->config().traffic, 32);
  drive.Run(1000);
  svc->PollOnce();
  std::string why;
  ASSERT_TRUE(svc->RequestRetrain(twin::UseCase::kDeepRmsa, "sp-ff", &why)) << why;
  svc->RunPendingAttempt();
  EXPECT_EQ(store_->GetModelVersionByAlias("rmsa", "champion").version, v1);
  const auto refuse = Kind(store_->GetModelDecisions("rmsa"), "refuse");
  ASSERT_EQ(refuse.size(), 1u);
  EXPECT_NE(refuse[0].reason.find("not below zero"), std::string::npos) << refuse[0].reason;
  EXPECT_FALSE(refuse[0].to_version.has_value());  // no alias moved
  // Unknown heuristics are refused before anything starts.
  EXPECT_FALSE(svc->RequestRetrain(twin::UseCase::kDeepRmsa, "no-such-rule", &why));
  EXPECT_NE(why.find("no-such-rule"), std::string::npos) << why;
  EXPECT_FALSE(svc->RequestRetrain(twin::UseCase::kEnergyRmsa, "", &why));  // not managed
}

TEST_F(ServiceTest, DriftStartsRetrainingOnACalibratedTwinWithLineageAndKpisAreLogged) {
  const pce::PceConfig config = testing::BoundConfig();
  const std::string policy = pce::testing::TrainTinyPolicy(config, dir_ / "champion", 1);
  const int64_t v1 = pce::testing::RegisterPolicy(*store_, policy, "rmsa", "champion");
  StartPce();
  // This test follows the retrained challenger alone. With heuristics competing, a refused
  // challenger is followed by the best heuristic's attempt whenever the replay finds that rule
  // better than the tiny champion, which depends on the paced trace (a loaded machine changes
  // it); that path has tests of its own (BetterHeuristicChallenger..., the end-to-end loop).
  LifecycleConfig lifecycle = testing::SmallLifecycleConfig();
  lifecycle.gate.heuristics_compete = false;
  auto svc = MakeService(lifecycle);
  // Paced at 10 ms per twin time unit (600 arrivals/s): holding times and the arrival rate on
  // the PCE's clock follow the twin's, so the load estimate means something.
  TrafficDriver drive(*pce_, config.traffic, 33, 0.01);
  // Uniform traffic as trained: no drift. Then a hot spot at a higher load.
  for (int i = 0; i < 8; ++i) {
    drive.Run(100);
    svc->PollOnce();
  }
  EXPECT_TRUE(Kind(store_->GetModelDecisions("rmsa"), "drift").empty());
  twin::TrafficConfig hot = config.traffic;
  const int n = pce_->model().topology().NumNodes();
  hot.traffic_matrix.assign(n * n, 1.0);
  for (int i = 0; i < n; ++i) hot.traffic_matrix[i * n + i] = 0.0;
  for (int d : {1, 4, 7}) hot.traffic_matrix[2 * n + d] = hot.traffic_matrix[d * n + 2] = 40.0;
  hot.load_erlang = config.traffic.load_erlang * 1.6;
  drive.Reconfigure(hot);
  for (int i = 0; i < 12 && svc->Idle(); ++i) {
    drive.Run(100);
    svc->PollOnce();
  }
  const auto drift = Kind(store_->GetModelDecisions("rmsa"), "drift");
  ASSERT_EQ(drift.size(), 1u) << ::testing::PrintToString(log_);
  const auto df = nlohmann::json::parse(drift[0].figures_json);
  EXPECT_TRUE(df["pairs_drifted"].get<bool>()) << df.dump();
  EXPECT_EQ(drift[0].version, v1);
  ASSERT_FALSE(svc->Idle()) << "drift did not start an attempt: " << ::testing::PrintToString(log_);
  svc->RunPendingAttempt();
  ASSERT_TRUE(svc->Idle());
  // The challenger: registered with its lineage, alias challenger, judged, decided.
  const tracking::ModelVersion ch = store_->GetModelVersionByAlias("rmsa", "challenger");
  EXPECT_GT(ch.version, v1);
  EXPECT_EQ(Tag(ch, kTagParent), std::to_string(v1));
  EXPECT_EQ(Tag(ch, kTagKind), "drl");
  const auto scenario = nlohmann::json::parse(Tag(ch, kTagScenario));
  ASSERT_TRUE(scenario.contains("traffic_matrix")) << scenario.dump();
  EXPECT_GT(scenario["traffic_matrix"][2][4].get<double>(), 5 * scenario["traffic_matrix"][3][5].get<double>());
  EXPECT_GT(scenario["load_erlang"].get<double>(), config.traffic.load_erlang * 1.2);
  EXPECT_EQ(nlohmann::json::parse(Tag(ch, kTagTrigger))["kind"], "drift");
  EXPECT_EQ(ch.source.rfind("runs:/", 0), 0u);
  const auto decisions = store_->GetModelDecisions("rmsa");
  const size_t decided = Kind(decisions, "promote").size() + Kind(decisions, "refuse").size();
  EXPECT_EQ(decided, 1u);
  const auto& last = decisions.back();
  EXPECT_TRUE(last.kind == "promote" || last.kind == "refuse");
  const auto gate = nlohmann::json::parse(last.figures_json);
  ASSERT_TRUE(gate.contains("replay")) << gate.dump();
  ASSERT_TRUE(gate["replay"].contains("heuristics")) << gate.dump();
  EXPECT_TRUE(gate["replay"]["heuristics"].contains("ksp-ff")) << gate.dump();
  // The training run holds the policy, the scenario and the trace.
  const tracking::Run run = store_->GetRun(ch.run_id);
  EXPECT_EQ(run.info.status, tracking::RunStatus::kFinished);
  std::set<std::string> files;
  for (const auto& f : store_->ListAllArtifacts(ch.run_id)) files.insert(f.path);
  EXPECT_TRUE(files.count("policy/manifest.json"));
  EXPECT_TRUE(files.count("scenario.json"));
  EXPECT_TRUE(files.count("trace.json"));
  // The challenger serves on the PCE when promoted, so it must load; its artifacts do.
  auto reg = pce::StoreConnector(store_.get())();
  auto model = std::make_shared<const twin::NetworkModel>(config.network);
  EXPECT_NO_THROW(LoadContender(*reg, ch, twin::UseCase::kDeepRmsa, model, config, dir_ / "check"));
  // KPIs: one run per served version in experiment "lifecycle", with kpi/ series.
  const auto exp = store_->GetExperimentByName("lifecycle");
  ASSERT_TRUE(exp);
  tracking::SearchRunsRequest q;
  q.experiment_ids = {exp->experiment_id};
  q.filter = "tags.`eonops.lifecycle.version` = '" + std::to_string(v1) + "'";
  const auto runs = store_->SearchRuns(q).items;
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_GE(store_->GetMetricHistory(runs[0].info.run_id, "kpi/blocking").items.size(), 3u);
  EXPECT_FALSE(store_->GetMetricHistory(runs[0].info.run_id, "drift/js_pairs").items.empty());
}

// A PCE that can be restarted under the service's feet.
class Swappable final : public TraceSource {
 public:
  explicit Swappable(pce::Pce** pce) : pce_(pce) {}
  std::string Describe() const override { return "swappable"; }
  pce::TraceSnapshot Snapshot() override { return (*pce_)->Snapshot(); }
  pce::ServiceTrace::Page Read(int64_t after, size_t limit) override {
    return (*pce_)->trace().Read(after, limit);
  }

 private:
  pce::Pce** pce_;
};

TEST_F(ServiceTest, FollowsAPceThatRestarted) {
  RegisterHeuristic(*store_, "rmsa", "ksp-ff", "champion");
  StartPce();
  pce::Pce* current = pce_.get();
  LifecycleSetup s;
  s.source = std::make_unique<Swappable>(&current);
  s.tracking = pce::StoreConnector(store_.get());
  s.state_dir = dir_ / "state";
  s.threads = false;
  s.log = [this](const std::string& line) { log_.push_back(line); };
  LifecycleService svc(NoDrift(), pce_->config(), std::move(s));
  svc.Start();
  TrafficDriver(*pce_, pce_->config().traffic, 41).Run(400);
  svc.PollOnce();
  EXPECT_EQ(svc.Status()["live_services"], pce_->ListServices().size());
  // A new PCE process: its trace starts again at 1 (fewer events than we had read).
  pce::PceSetup ps;
  ps.tracking = pce::StoreConnector(store_.get());
  ps.poll_registry = false;
  pce::Pce fresh(testing::BoundConfig(), ps);
  current = &fresh;
  TrafficDriver(fresh, fresh.config().traffic, 42).Run(50);
  svc.PollOnce();
  EXPECT_EQ(svc.Status()["live_services"], fresh.ListServices().size());
  EXPECT_TRUE(std::any_of(log_.begin(), log_.end(), [](const std::string& l) {
    return l.find("the PCE restarted") != std::string::npos;
  })) << ::testing::PrintToString(log_);
  TrafficDriver(fresh, fresh.config().traffic, 43).Run(50);
  svc.PollOnce();
  EXPECT_EQ(svc.Status()["live_services"], fresh.ListServices().size());
  current = pce_.get();  // the service is destroyed after `fresh`: point it back
}

TEST_F(ServiceTest, RefusesToWatchAPceOfAnotherNetwork) {
  RegisterHeuristic(*store_, "rmsa", "ksp-ff", "champion");
  StartPce();
  pce::PceConfig other = pce_->config();
  other.network.slots_per_band = 64;
  LifecycleSetup s;
  s.source = InProcessTraceSource(*pce_);
  s.tracking = pce::StoreConnector(store_.get());
  s.state_dir = dir_ / "state";
  s.threads = false;
  LifecycleService svc(testing::SmallLifecycleConfig(), other, std::move(s));
  try {
    svc.Start();
    FAIL() << "watched a PCE of another network";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("another network"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace eonops::lifecycle
