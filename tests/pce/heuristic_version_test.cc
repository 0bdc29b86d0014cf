// Pins registered heuristic versions (pce/served_policy.h: name + parameters, no weights) and the
// service trace's snapshot (pce/service_trace.h): a heuristic version serves exactly as the same
// heuristic does as the fallback, is swapped like any version, and a version the network cannot
// serve is refused with the reason.
#include <gtest/gtest.h>

#include "pce/pce.h"
#include "pce/served_policy.h"
#include "tests/pce/pce_test_util.h"
#include "twin/traffic.h"

namespace eonops::pce {
namespace {

using testing::SmallConfig;
using testing::TempDir;

TEST(HeuristicSourceTest, ParsesNameAndParametersAndRefusesTheRest) {
  EXPECT_FALSE(HeuristicSource::Parse("runs:/abc/policy"));
  const auto h = HeuristicSource::Parse("heuristic:ksp-ff");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "ksp-ff");
  EXPECT_EQ(h->k, 0);
  EXPECT_EQ(h->ToSource(), "heuristic:ksp-ff");
  const auto k3 = HeuristicSource::Parse("heuristic:sp-ff?k=3");
  ASSERT_TRUE(k3);
  EXPECT_EQ(k3->k, 3);
  EXPECT_EQ(k3->ToSource(), "heuristic:sp-ff?k=3");
  for (const char* bad : {"heuristic:no-such", "heuristic:ksp-ff?k=0", "heuristic:ksp-ff?k=x",
                          "heuristic:ksp-ff?fit=best", "heuristic:"}) {
    EXPECT_THROW(HeuristicSource::Parse(bad), std::invalid_argument) << bad;
  }
}

// A heuristic version gets what the PCE's traffic sets (the bit-rate mix, the latency bound
// lmscl-ksp counts routes within) with its own k.
TEST(HeuristicSourceTest, OptionsCarryTheTrafficsSettingsAndTheSourcesK) {
  twin::TrafficConfig traffic;
  traffic.bit_rate_min_gbps = 40;
  traffic.bit_rate_max_gbps = 200;
  traffic.latency_bound_us = 15000.0;
  const auto h = HeuristicSource::Parse("heuristic:lmscl-ksp?k=3");
  ASSERT_TRUE(h);
  const twin::HeuristicOptions o = h->Options(twin::HeuristicOptions::ForTraffic(traffic));
  EXPECT_EQ(o.k, 3);
  EXPECT_EQ(o.max_bit_rate_gbps, 200.0);
  EXPECT_EQ(o.latency_bound_us, 15000.0);
  EXPECT_EQ(o.bit_rates.size(), 161u);
  const PceConfig c = SmallConfig();
  const twin::NetworkModel model(c.network);
  const auto served = LoadServedHeuristic(*h, twin::UseCase::kLatencyRsa, {}, model,
                                          twin::HeuristicOptions::ForTraffic(traffic));
  EXPECT_EQ(served->heuristic->Name(), "lmscl-ksp");
  // The options reach the rule: lmscl-ksp refuses a bound that is not positive.
  twin::HeuristicOptions bad = twin::HeuristicOptions::ForTraffic(traffic);
  bad.latency_bound_us = 0.0;
  EXPECT_THROW(LoadServedHeuristic(*h, twin::UseCase::kLatencyRsa, {}, model, bad), std::invalid_argument);
}

// Which of `n` requests of the twin's traffic `pce` accepted.
std::vector<bool> Serve(Pce& pce, uint64_t seed, int n) {
  std::vector<bool> out;
  testing::TrafficDriver(pce, pce.config().traffic, seed).Run(n, &out);
  return out;
}

TEST(HeuristicVersionTest, ServesFromTheRegistryAsTheSameHeuristicDoesAsFallback) {
  TempDir dir;
  tracking::TrackingStore store(testing::StoreIn(dir));
  store.CreateRegisteredModel("rmsa");
  const int64_t v1 = store.CreateModelVersion("rmsa", "heuristic:sp-ff").version;
  const int64_t v2 = store.CreateModelVersion("rmsa", "heuristic:ksp-ff").version;
  store.SetAlias("rmsa", "champion", v1);
  PceConfig c = SmallConfig();
  c.pce.policies = {{twin::UseCase::kDeepRmsa, "rmsa", "champion", true, ""}};
  c.pce.fallback = "sp-ff";  // what the served SP-FF blocks, the fallback blocks too
  c.pce.fallback_by_use_case.clear();
  PceSetup setup;
  setup.tracking = StoreConnector(&store);
  setup.poll_registry = false;
  Pce served(c, setup);
  auto p = served.ServedFor(twin::UseCase::kDeepRmsa);
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->heuristic);
  EXPECT_FALSE(p->policy);
  EXPECT_EQ(p->ref.version, v1);
  PceConfig fallback_only = SmallConfig();
  fallback_only.pce.fallback = "sp-ff";
  Pce reference(fallback_only);
  EXPECT_EQ(Serve(served, 5, 600), Serve(reference, 5, 600));
  // Decided by the served version, with its provenance; not a fallback.
  const auto events = served.trace().Read(0, 100000).events;
  int64_t by_policy = 0;
  for (const auto& e : events) {
    if (e.kind != TraceEvent::Kind::kArrival || !e.accepted) continue;
    EXPECT_EQ(e.decided_by, "policy");
    ASSERT_TRUE(e.policy);
    EXPECT_EQ(e.policy->version, v1);
    EXPECT_FALSE(e.fell_back);
    ++by_policy;
  }
  EXPECT_GT(by_policy, 100);
  // The alias moves: the PCE swaps to the other heuristic version.
  store.SetAlias("rmsa", "champion", v2);
  served.RefreshPolicies();
  EXPECT_EQ(served.ServedFor(twin::UseCase::kDeepRmsa)->ref.version, v2);
  EXPECT_EQ(served.ServedFor(twin::UseCase::kDeepRmsa)->heuristic->Name(), "ksp-ff");
  // A version asking for more paths than the network has is refused; the PCE keeps serving v2.
  const int64_t v3 = store.CreateModelVersion("rmsa", "heuristic:ksp-ff?k=9").version;
  store.SetAlias("rmsa", "champion", v3);
  served.RefreshPolicies();
  EXPECT_EQ(served.ServedFor(twin::UseCase::kDeepRmsa)->ref.version, v2);
  const auto st = served.Policies().front();
  EXPECT_NE(st.last_error.find("9 candidate paths"), std::string::npos) << st.last_error;
}

TEST(ServiceTraceTest, SnapshotHoldsTheLiveServicesAndTheSequenceToReadOnFrom) {
  Pce pce(SmallConfig());
  Serve(pce, 6, 300);
  const TraceSnapshot s = pce.Snapshot();
  EXPECT_EQ(s.next_seq, pce.trace().next_seq());
  EXPECT_EQ(s.network, pce.model().options().ToJson());
  const auto services = pce.ListServices();
  ASSERT_EQ(s.services.size(), services.size());
  for (size_t i = 0; i < services.size(); ++i) {
    EXPECT_EQ(s.services[i].uuid, services[i].uuid);
    EXPECT_EQ(s.services[i].nodes, services[i].decision.nodes);
    EXPECT_EQ(s.services[i].slot, services[i].decision.slot);
    EXPECT_LE(s.services[i].time_s, s.time_s);
  }
  const TraceSnapshot back = TraceSnapshot::FromJson(s.ToJson());
  EXPECT_EQ(back.ToJson(), s.ToJson());
  EXPECT_THROW(TraceSnapshot::FromJson({{"next_seq", 1}}), std::invalid_argument);
}

}  // namespace
}  // namespace eonops::pce
