// The live PCE and the twin agree: `eonops loadgen` (tapi/loadgen.h) driving the PCE over REST
// with the twin's traffic gets exactly the accepted/blocked counts of `eonops simulate` for the
// same network, load, seed and rule (KSP-FF), and of the twin's environment for the same DRL
// policy. Also: a champion swap over REST fails no in-flight request.
#include "tapi/loadgen.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "agents/policy.h"
#include "tests/tapi/tapi_test_util.h"
#include "twin/engine.h"
#include "twin/simulator.h"

namespace eonops::tapi {
namespace {

using testing::Json;
using testing::Server;
using testing::TempDir;

TEST(LoadgenTest, BlockingOverRestEqualsTheSimulatorsWithKspFf) {
  pce::PceConfig c = pce::testing::DeepRmsaK5Config();  // the DeepRMSA NSFNET benchmark, 250 Erlang
  c.pce.policies.clear();
  c.pce.fallback = "ksp-ff";
  Server s(c);
  for (const bool rpc : {false, true}) {
    LoadgenOptions o;
    o.pce_url = s.Url();
    o.scenario = c.ToScenario();
    o.scenario.measurement.warmup = rpc ? 300 : 1000;
    o.scenario.measurement.requests = rpc ? 700 : 3000;
    o.seed = rpc ? 9 : 3;
    o.rpc = rpc;
    LoadgenResult r = RunLoadgen(o);
    EXPECT_EQ(r.errors, 0) << r.last_error;
    EXPECT_EQ(r.requests, o.scenario.measurement.requests);

    twin::SimulationOptions so;
    so.warmup = o.scenario.measurement.warmup;
    so.requests = o.scenario.measurement.requests;
    so.batch_size = 1000;
    so.seed = o.seed;
    auto model = std::make_shared<const twin::NetworkModel>(c.network);
    twin::SimulationResult sim =
        twin::Simulate(model, c.traffic, *twin::MakeHeuristic("ksp-ff"), so);
    EXPECT_EQ(r.accepted, sim.accepted) << (rpc ? "rpc" : "data store");
    EXPECT_EQ(r.blocked, sim.blocked) << (rpc ? "rpc" : "data store");
    EXPECT_EQ(r.blocked_by_cause["no_spectrum"], sim.blocked_no_spectrum);
    EXPECT_EQ(r.decided_by["heuristic:ksp-ff"], r.requests);
    if (!rpc) {
      EXPECT_GT(sim.blocked, 20) << "the comparison should include blocking";
      EXPECT_GT(r.create.count, 0);
      EXPECT_GT(r.create.p99_us, 0);
    }
    // Cleaned up: the PCE is empty again.
    EXPECT_TRUE(s.pce().ListServices().empty());
    EXPECT_EQ(s.pce().CheckInvariants(), "");
  }
}

TEST(LoadgenTest, BlockingOverRestEqualsTheTwinsEnvironmentWithTheSamePolicy) {
  TempDir dir;
  pce::PceConfig c = pce::testing::SmallConfig();
  c.pce.validation.qot = false;  // the environment masks on worst-case QoT only
  const std::string policy_dir = pce::testing::TrainTinyPolicy(c, dir / "policy", 1);
  Server s(c);
  s.pce().ServePolicyDir(twin::UseCase::kDeepRmsa, policy_dir);
  LoadgenOptions o;
  o.pce_url = s.Url();
  o.scenario = c.ToScenario();
  o.scenario.measurement.warmup = 200;
  o.scenario.measurement.requests = 800;
  o.seed = 5;
  LoadgenResult r = RunLoadgen(o);
  ASSERT_EQ(r.errors, 0) << r.last_error;

  // The twin: the same traffic through an Engine, the policy acting on BuildObservation.
  auto policy = agents::Policy::Load(policy_dir);
  auto model = std::make_shared<const twin::NetworkModel>(c.network);
  twin::Engine engine(model, c.traffic, o.seed);
  const auto layout = twin::ObservationLayout::Make(*model, c.env, c.traffic.bit_rate_max_gbps);
  std::vector<float> obs(layout.observation_size);
  std::vector<uint8_t> mask(layout.num_actions);
  std::vector<twin::ActionChoice> actions;
  int64_t accepted = 0, blocked = 0;
  for (int64_t i = 0; i < o.scenario.measurement.warmup + o.scenario.measurement.requests; ++i) {
    const twin::Request& req = engine.Advance();
    twin::BuildObservation(layout, c.env, engine.state(), req, obs.data(), mask.data(), &actions);
    const agents::Decision d = policy->Act(obs.data(), mask.data());
    const bool ok = d.action >= 0 && d.action != layout.RejectAction() &&
                    actions[d.action].feasible &&
                    engine.Commit(actions[d.action].candidate, actions[d.action].slot) >= 0;
    if (i < o.scenario.measurement.warmup) continue;
    (ok ? accepted : blocked)++;
  }
  EXPECT_EQ(r.accepted, accepted);
  EXPECT_EQ(r.blocked, blocked);
  EXPECT_GT(blocked, 0);
  EXPECT_EQ(r.decided_by["policy"], r.accepted);
}

TEST(LoadgenTest, ChampionSwapOverRestFailsNoInFlightRequest) {
  TempDir dir;
  pce::PceConfig c = pce::testing::SmallConfig();
  c.pce.policies = {{twin::UseCase::kDeepRmsa, "rest-model", "champion", true, ""}};
  tracking::TrackingStore store(pce::testing::StoreIn(dir));
  const int64_t v1 = pce::testing::RegisterPolicy(
      store, pce::testing::TrainTinyPolicy(c, dir / "p1", 1), "rest-model");
  const int64_t v2 = pce::testing::RegisterPolicy(
      store, pce::testing::TrainTinyPolicy(c, dir / "p2", 2), "rest-model", "");
  pce::PceSetup setup;
  setup.tracking = pce::StoreConnector(&store);
  Server s(c, setup);
  std::atomic<bool> stop{false};
  std::atomic<int> non_ok{0}, total{0};
  std::atomic<int64_t> first_v2_ms{-1};
  const auto t0 = std::chrono::steady_clock::now();
  auto ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0)
        .count();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto client = s.NewClient();
      for (int i = t; !stop; i += 4) {
        const int a = i % 14, z = (a + 1 + i % 9) % 14;
        auto r = client->Post(
            testing::kCompute,
            testing::ComputeInput21(s.pce().ted().SipUuid(a), s.pce().ted().SipUuid(z), 50).dump(),
            "application/yang-data+json");
        ++total;
        if (!r || r->status != 200) {
          ++non_ok;
          continue;
        }
        const Json lp =
            Json::parse(r->body)["tapi-path-computation:output"]["service"]["eonops-pce:lightpath"];
        if (lp["policy-version"] == "rest-model/" + std::to_string(v2)) {
          int64_t expected = -1;
          first_v2_ms.compare_exchange_strong(expected, ms());
        } else if (lp["policy-version"] != "rest-model/" + std::to_string(v1)) {
          ++non_ok;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int64_t moved_ms = ms();
  store.SetAlias("rest-model", "champion", v2, "test");
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(non_ok.load(), 0);
  EXPECT_GT(total.load(), 50);
  ASSERT_GE(first_v2_ms.load(), 0) << "v2 never served";
  EXPECT_LE(first_v2_ms.load() - moved_ms, 1000) << "served within a second of the alias move";
  const std::string metrics = s.Get("/metrics").text;
  EXPECT_NE(
      metrics.find("eonops_pce_policy_info{use_case=\"deeprmsa\",model=\"rest-model\",version=\"" +
                   std::to_string(v2)),
      std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace eonops::tapi
