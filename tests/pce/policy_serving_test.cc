// Pins policy serving in pce/pce.h with real trained policies: the PCE decides exactly as the
// twin's environment would with the same policy, serves the registry's champion and swaps it
// atomically when the alias moves, refuses a policy of another network, falls back when the
// policy's answer fails validation, and logs every decision to the tracking store.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <queue>
#include <thread>

#include "agents/policy.h"
#include "pce/decision_log.h"
#include "pce/pce.h"
#include "tests/pce/pce_test_util.h"
#include "tracking/entities.h"
#include "twin/engine.h"
#include "twin/traffic.h"

namespace eonops::pce {
namespace {

using Clock = std::chrono::steady_clock;
using testing::SmallConfig;
using testing::TempDir;

constexpr const char* kModel = "pce-test-model";

PathRequest FromTwin(const twin::Request& r) {
  PathRequest p;
  p.src = r.src;
  p.dst = r.dst;
  p.bit_rate_gbps = r.bit_rate_gbps;
  p.latency_bound_us = r.latency_bound_us;
  return p;
}

// Replays `n` arrivals of the twin's traffic against `pce` (creates, and deletes at the end of
// each holding time), calling `on` with each arrival and the PCE's answer.
template <typename On>
void Replay(Pce& pce, const PceConfig& c, uint64_t seed, int n, On&& on) {
  twin::TrafficGenerator gen(c.traffic, pce.model().topology().NumNodes(), seed);
  using Departure = std::pair<double, std::string>;
  std::priority_queue<Departure, std::vector<Departure>, std::greater<Departure>> departures;
  for (int i = 0; i < n; ++i) {
    twin::Request r = gen.Next();
    while (!departures.empty() && departures.top().first <= r.arrival_time) {
      pce.DeleteService(departures.top().second);
      departures.pop();
    }
    ServiceSpec spec;
    spec.request = FromTwin(r);
    Result<Service> res = pce.CreateService(spec);
    if (res.ok()) departures.push({r.arrival_time + r.holding_time, res.value->uuid});
    on(r, res);
  }
}

TEST(PolicyServingTest, ThePceDecidesAsTheTwinsEnvironmentWithTheSamePolicy) {
  TempDir dir;
  PceConfig c = SmallConfig();
  c.pce.validation.qot = false;  // the environment masks on worst-case QoT only
  const std::string policy_dir = testing::TrainTinyPolicy(c, dir / "policy", 1);
  Pce pce(c);
  pce.ServePolicyDir(twin::UseCase::kDeepRmsa, policy_dir);
  ASSERT_TRUE(pce.ServedFor(twin::UseCase::kDeepRmsa));

  // The twin side: an engine with the same traffic and the policy acting on BuildObservation.
  auto policy = agents::Policy::Load(policy_dir);
  auto model = std::make_shared<const twin::NetworkModel>(c.network);
  twin::Engine engine(model, c.traffic, 7);
  const twin::ObservationLayout layout =
      twin::ObservationLayout::Make(*model, c.env, c.traffic.bit_rate_max_gbps);
  std::vector<float> obs(layout.observation_size);
  std::vector<uint8_t> mask(layout.num_actions);
  std::vector<twin::ActionChoice> actions;
  int compared = 0, accepted = 0, by_policy = 0;
  Replay(pce, c, 7, 600, [&](const twin::Request& r, const Result<Service>& res) {
    const twin::Request& er = engine.Advance();
    ASSERT_EQ(er.src, r.src);
    twin::BuildObservation(layout, c.env, engine.state(), er, obs.data(), mask.data(), &actions);
    const agents::Decision d = policy->Act(obs.data(), mask.data());
    const bool twin_accepts =
        d.action >= 0 && d.action != layout.RejectAction() && actions[d.action].feasible;
    ASSERT_EQ(res.ok(), twin_accepts) << "request " << compared;
    ++compared;
    if (!twin_accepts) return;
    const twin::ActionChoice& a = actions[d.action];
    engine.Commit(a.candidate, a.slot);
    ++accepted;
    EXPECT_EQ(res.value->decision.decided_by, "policy");
    by_policy += res.value->decision.decided_by == "policy";
    EXPECT_EQ(res.value->decision.fibres, a.candidate.path->fibres);
    EXPECT_EQ(res.value->decision.slot, a.slot);
    EXPECT_EQ(res.value->decision.band, a.candidate.band);
  });
  EXPECT_EQ(compared, 600);
  EXPECT_GT(accepted, 400);
  EXPECT_EQ(by_policy, accepted);
  EXPECT_EQ(pce.CheckInvariants(), "");
}

TEST(PolicyServingTest, ServesTheChampionAndSwapsWithinASecondWithoutFailingRequests) {
  TempDir dir;
  PceConfig c = SmallConfig();
  c.pce.policies = {{twin::UseCase::kDeepRmsa, kModel, "champion", true, ""}};
  tracking::TrackingStore store(testing::StoreIn(dir));
  const int64_t v1 =
      testing::RegisterPolicy(store, testing::TrainTinyPolicy(c, dir / "p1", 1), kModel);
  PceSetup setup;
  setup.tracking = StoreConnector(&store);
  Pce pce(c, setup);
  auto served = pce.ServedFor(twin::UseCase::kDeepRmsa);
  ASSERT_TRUE(served) << pce.Policies()[0].last_error;
  EXPECT_EQ(served->ref.version, v1);

  // Requests run on four threads while the alias moves.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> failures{0}, total{0};
  std::mutex mu;
  std::vector<std::pair<Clock::time_point, int64_t>> seen;  // start time, version used
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      int i = t;
      while (!stop) {
        const auto start = Clock::now();
        PathRequest r;
        r.src = i % 14;
        r.dst = (i + 1 + i % 7) % 14;
        r.bit_rate_gbps = 25 + i % 76;
        PathDecision d = pce.ComputePath(r);
        ++total;
        if (!d.feasible || !d.policy || d.decided_by != "policy") ++failures;
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back({start, d.policy ? d.policy->version : -1});
        i += 4;
        std::this_thread::sleep_for(std::chrono::microseconds(500));  // keep the decision log small
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int64_t v2 =
      testing::RegisterPolicy(store, testing::TrainTinyPolicy(c, dir / "p2", 2), kModel, "");
  const auto moved = Clock::now();
  store.SetAlias(kModel, "champion", v2, "test");
  Clock::time_point swapped;
  for (;;) {
    auto p = pce.ServedFor(twin::UseCase::kDeepRmsa);
    if (p && p->ref.version == v2) {
      swapped = Clock::now();
      break;
    }
    ASSERT_LT(Clock::now() - moved, std::chrono::seconds(3)) << "the alias move was not picked up";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_LE(std::chrono::duration<double>(swapped - moved).count(), 1.0);
  EXPECT_GT(total.load(), 100);
  EXPECT_EQ(failures.load(), 0) << "no request fails or falls back while the policy is swapped";
  int64_t before = 0, after = 0;
  for (const auto& [start, version] : seen) {
    if (start < moved) {
      EXPECT_EQ(version, v1);
      ++before;
    }
    if (start > swapped) {
      EXPECT_EQ(version, v2);
      ++after;
    }
  }
  EXPECT_GT(before, 0);
  EXPECT_GT(after, 0);
  EXPECT_GE(pce.metrics().policy_swaps(), 2);

  // The decision log follows the swap; every decision reached the run.
  ASSERT_NE(pce.decision_log(), nullptr);
  ASSERT_TRUE(pce.decision_log()->Flush()) << pce.decision_log()->last_error();
  const std::string run = pce.decision_log()->run_id();
  tracking::Run r = store.GetRun(run);
  std::map<std::string, std::string> tags;
  for (const auto& t : r.data.tags) tags[t.key] = t.value;
  EXPECT_EQ(tags["pce.policy.deeprmsa"], std::string(kModel) + "/" + std::to_string(v2));
  EXPECT_EQ(store.CountEpisodes(run), total.load());
  std::cout << "swap: " << total.load() << " decisions, alias moved -> served in "
            << std::chrono::duration<double, std::milli>(swapped - moved).count() << " ms\n";

  // No alias: the newest version in stage Production is served; neither: the heuristic.
  store.DeleteAlias(kModel, "champion", "test");
  store.TransitionStage(kModel, v1, tracking::Stage::kProduction, false, "test");
  pce.RefreshPolicies();
  ASSERT_TRUE(pce.ServedFor(twin::UseCase::kDeepRmsa));
  EXPECT_EQ(pce.ServedFor(twin::UseCase::kDeepRmsa)->ref.version, v1);
  store.TransitionStage(kModel, v1, tracking::Stage::kArchived, false, "test");
  pce.RefreshPolicies();
  EXPECT_FALSE(pce.ServedFor(twin::UseCase::kDeepRmsa));
  PathRequest r0;
  r0.src = 0;
  r0.dst = 5;
  r0.bit_rate_gbps = 100;
  PathDecision d = pce.ComputePath(r0);
  EXPECT_TRUE(d.fell_back);
  EXPECT_EQ(d.fallback_reason, "no policy served for deeprmsa");
}

// The default PCE config (configs/pce.json), unchanged, with no tracking store: it serves its
// default_policy, the shipped trained ES policy, which passes the compatibility checks and
// decides (no fallback) every request that has a feasible lightpath, with the PCE's own
// validation (spectrum, actual-occupancy GSNR) passing each one.
TEST(PolicyServingTest, TheDefaultConfigServesTheShippedEsPolicy) {
  PceConfig c = testing::ShippedConfig();
  c.pce.decision_log.enabled = false;
  Pce pce(c);
  ASSERT_TRUE(pce.ServedFor(twin::UseCase::kDeepRmsa));
  ASSERT_EQ(pce.Policies().size(), 1u);
  EXPECT_EQ(pce.Policies()[0].served->model, "default:deeprmsa-nsfnet-es-linear-k50");
  EXPECT_EQ(pce.Policies()[0].last_error, "");
  EXPECT_NE(pce.Policies()[0].note.find("no tracking store"), std::string::npos) << pce.Policies()[0].note;
  int accepted = 0, by_policy = 0, fell_back = 0;
  Replay(pce, c, 11, 3000, [&](const twin::Request&, const Result<Service>& res) {
    if (!res.ok()) return;
    ++accepted;
    by_policy += res.value->decision.decided_by == "policy";
    fell_back += res.value->decision.fell_back;
  });
  EXPECT_GT(accepted, 2900);  // 250 E from an empty network: (almost) nothing blocks
  EXPECT_EQ(fell_back, 0);
  EXPECT_EQ(by_policy, accepted);
  EXPECT_EQ(pce.CheckInvariants(), "");
}

// With a registry, the default policy serves until the bound model has a champion, which then
// replaces it; when the alias goes away, the default serves again (not the bare heuristic).
TEST(PolicyServingTest, ARegisteredChampionReplacesTheDefaultPolicyAndItsRemovalRestoresIt) {
  TempDir dir;
  tracking::TrackingStore store(testing::StoreIn(dir));
  PceConfig c = testing::ShippedConfig();
  c.pce.decision_log.enabled = false;
  const std::string model = c.pce.policies.at(0).model;
  PceSetup setup;
  setup.tracking = StoreConnector(&store);
  setup.poll_registry = false;
  Pce pce(c, setup);
  ASSERT_TRUE(pce.ServedFor(twin::UseCase::kDeepRmsa));
  EXPECT_EQ(pce.ServedFor(twin::UseCase::kDeepRmsa)->ref.model, "default:deeprmsa-nsfnet-es-linear-k50");
  EXPECT_NE(pce.Policies()[0].note.find("no version of " + model), std::string::npos) << pce.Policies()[0].note;

  // The same artifact, registered: served from the registry as version 1.
  const int64_t v = testing::RegisterPolicy(
      store, std::string(EONOPS_SOURCE_DIR) + "/configs/policies/deeprmsa-nsfnet-es-linear-k50", model);
  pce.RefreshPolicies();
  ASSERT_TRUE(pce.ServedFor(twin::UseCase::kDeepRmsa));
  EXPECT_EQ(pce.ServedFor(twin::UseCase::kDeepRmsa)->ref.model, model);
  EXPECT_EQ(pce.ServedFor(twin::UseCase::kDeepRmsa)->ref.version, v);
  EXPECT_EQ(pce.Policies()[0].last_error, "");

  store.DeleteAlias(model, "champion", "test");
  pce.RefreshPolicies();
  ASSERT_TRUE(pce.ServedFor(twin::UseCase::kDeepRmsa));
  EXPECT_EQ(pce.ServedFor(twin::UseCase::kDeepRmsa)->ref.model, "default:deeprmsa-nsfnet-es-linear-k50");
  PathRequest r;
  r.src = 0;
  r.dst = 13;
  r.bit_rate_gbps = 100;
  const PathDecision d = pce.ComputePath(r);
  EXPECT_TRUE(d.feasible);
  EXPECT_EQ(d.decided_by, "policy");
}

// A registry that cannot be reached when the PCE starts: the default policy serves meanwhile,
// and the status says why the registry was not read.
TEST(PolicyServingTest, TheDefaultPolicyServesWhileTheRegistryIsUnreachable) {
  PceConfig c = testing::ShippedConfig();
  c.pce.decision_log.enabled = false;
  PceSetup setup;
  setup.tracking = []() -> std::unique_ptr<TrackingBackend> {
    throw std::runtime_error("connection refused");
  };
  setup.poll_registry = false;
  Pce pce(c, setup);
  ASSERT_TRUE(pce.ServedFor(twin::UseCase::kDeepRmsa));
  EXPECT_EQ(pce.ServedFor(twin::UseCase::kDeepRmsa)->ref.model, "default:deeprmsa-nsfnet-es-linear-k50");
  EXPECT_NE(pce.Policies()[0].last_error.find("connection refused"), std::string::npos)
      << pce.Policies()[0].last_error;
  PathRequest r;
  r.src = 3;
  r.dst = 11;
  r.bit_rate_gbps = 100;
  EXPECT_EQ(pce.ComputePath(r).decided_by, "policy");
}

// A default_policy that does not fit the network is refused when the PCE starts, naming the key.
TEST(PolicyServingTest, ADefaultPolicyOfAnotherNetworkIsAConfigError) {
  PceConfig c = testing::DeepRmsaK5Config();
  c.pce.decision_log.enabled = false;
  c.pce.policies.at(0).default_policy =
      std::string(EONOPS_SOURCE_DIR) + "/configs/policies/deeprmsa-nsfnet-es-linear-k50";
  try {
    Pce pce(c);
    ADD_FAILURE() << "a K = 50 policy was accepted on a K = 5 network";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("pce.policies[0].default_policy"), std::string::npos) << e.what();
  }
}

TEST(PolicyServingTest, APolicyOfAnotherNetworkIsRefusedAndTheHeuristicServes) {
  TempDir dir;
  PceConfig other = SmallConfig();
  other.network.slots_per_band = 60;
  tracking::TrackingStore store(testing::StoreIn(dir));
  testing::RegisterPolicy(store, testing::TrainTinyPolicy(other, dir / "p", 3, 256), kModel);
  PceConfig c = SmallConfig();
  c.pce.policies = {{twin::UseCase::kDeepRmsa, kModel, "champion", true, ""}};
  PceSetup setup;
  setup.tracking = StoreConnector(&store);
  setup.poll_registry = false;
  Pce pce(c, setup);
  EXPECT_FALSE(pce.ServedFor(twin::UseCase::kDeepRmsa));
  ASSERT_EQ(pce.Policies().size(), 1u);
  EXPECT_NE(pce.Policies()[0].last_error.find("another network"), std::string::npos)
      << pce.Policies()[0].last_error;
  EXPECT_NE(pce.Policies()[0].last_error.find("slots_per_band"), std::string::npos)
      << pce.Policies()[0].last_error;
  EXPECT_NE(pce.RenderMetrics().find("eonops_pce_policy_load_errors_total 1"), std::string::npos);
  PathRequest r;
  r.src = 1;
  r.dst = 8;
  r.bit_rate_gbps = 100;
  PathDecision d = pce.ComputePath(r);
  EXPECT_TRUE(d.feasible);
  EXPECT_EQ(d.decided_by, "heuristic:ksp-ff");
}

TEST(PolicyServingTest, FallsBackWhenThePolicysAnswerFailsValidation) {
  TempDir dir;
  PceConfig c = SmallConfig();
  const std::string policy_dir = testing::TrainTinyPolicy(c, dir / "policy", 1);
  // First, how much GSNR margin the policy's answers have with no margin required.
  std::vector<double> margins;
  {
    Pce pce(c);
    pce.ServePolicyDir(twin::UseCase::kDeepRmsa, policy_dir);
    Replay(pce, c, 11, 200, [&](const twin::Request&, const Result<Service>& res) {
      if (res.ok() && res.value->decision.decided_by == "policy")
        margins.push_back(res.value->decision.margin_db());
    });
  }
  ASSERT_GT(margins.size(), 50u);
  std::sort(margins.begin(), margins.end());
  const double required = margins[margins.size() / 2];  // about half the answers fall short
  c.pce.validation.gsnr_margin_db = required;
  Pce pce(c);
  pce.ServePolicyDir(twin::UseCase::kDeepRmsa, policy_dir);
  int fallbacks = 0, policy = 0;
  Replay(pce, c, 11, 200, [&](const twin::Request&, const Result<Service>& res) {
    const PathDecision& d = res.ok() ? res.value->decision : res.decision;
    if (d.fell_back && d.fallback_reason.rfind("the policy's answer failed validation", 0) == 0) {
      EXPECT_NE(d.fallback_reason.find("threshold"), std::string::npos) << d.fallback_reason;
      ++fallbacks;
    } else if (d.fell_back) {
      // The only other reason here: a full network leaves the policy nothing but "reject".
      EXPECT_EQ(d.fallback_reason, "the policy has no feasible action (it can only reject)");
      EXPECT_FALSE(res.ok());
    }
    if (!res.ok()) return;
    EXPECT_GE(d.margin_db(), required - 1e-9) << "nothing below the required margin is provisioned";
    policy += d.decided_by == "policy";
  });
  EXPECT_GT(fallbacks, 0);
  EXPECT_GT(policy, 0);
  EXPECT_NE(pce.RenderMetrics().find("reason=\"invalid_answer\"}"), std::string::npos);
  EXPECT_EQ(pce.CheckInvariants(), "");
}

TEST(DecisionLogTest, EveryDecisionReachesTheRunWithItsProvenance) {
  TempDir dir;
  tracking::TrackingStore store(testing::StoreIn(dir));
  PceSetup setup;
  setup.tracking = StoreConnector(&store);
  Pce pce(SmallConfig(), setup);
  for (int i = 0; i < 15; ++i) {
    PathRequest r;
    r.src = i % 14;
    r.dst = (i + 3) % 14;
    r.bit_rate_gbps = 50;
    if (i % 3 == 0) {
      pce.ComputePath(r);
    } else {
      ServiceSpec s;
      s.request = r;
      pce.CreateService(s);
    }
  }
  ASSERT_TRUE(pce.decision_log()->Flush()) << pce.decision_log()->last_error();
  const std::string run = pce.decision_log()->run_id();
  auto episodes = store.GetEpisodes(run);
  ASSERT_EQ(episodes.size(), 15u);
  auto extra = nlohmann::json::parse(episodes[1].extra_json);
  EXPECT_EQ(extra["operation"], "create");
  EXPECT_EQ(extra["decision"]["decided_by"], "heuristic:ksp-ff");
  EXPECT_EQ(extra["decision"]["fell_back"], true);
  EXPECT_TRUE(extra["decision"]["policy"].is_null());
  EXPECT_EQ(extra["request"]["src"], 1);
  EXPECT_TRUE(extra["decision"].contains("compute_us"));
  tracking::Run r = store.GetRun(run);
  std::map<std::string, std::string> params;
  for (const auto& p : r.data.params) params[p.key] = p.value;
  EXPECT_EQ(params["fallback"], "ksp-ff");
  auto history = store.GetMetricHistory(run, "pce/decisions").items;
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back().value, 15.0);
  EXPECT_EQ(store.GetExperiment(r.info.experiment_id).name, "pce");
}

TEST(DecisionLogTest, AnUnreachableStoreNeverBlocksDecisions) {
  DecisionLogOptions o;
  o.flush_interval_ms = 20;
  o.max_batch = 10;
  o.max_queue = 50;
  tracking::HttpClientOptions ho;
  ho.max_retries = 0;
  ho.timeout_seconds = 1;
  Metrics metrics;
  const auto start = Clock::now();
  {
    DecisionLog log(o, HttpConnector("http://127.0.0.1:1", ho), {}, &metrics);
    for (int i = 0; i < 500; ++i) log.Record({"compute", "", PathRequest{}, PathDecision{}});
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 0.5);
    EXPECT_LE(log.pending(), o.max_queue);
    EXPECT_GE(log.dropped(), 450);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(log.last_error().empty());
    EXPECT_EQ(log.logged(), 0);
  }
  const std::string text = metrics.Render({});
  const std::string key = "\neonops_pce_decision_log_dropped_total ";
  const auto at = text.find(key);
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoll(text.substr(at + key.size())), 450);
}

}  // namespace
}  // namespace eonops::pce
