// The PCE serving a remote policy service (`eonops pce serve --policy grpc://...`) decides
// exactly as the PCE serving the same artifact in-process: same route, band, slot and
// modulation for every request of a trajectory, each reported as the policy's decision.
#include <gtest/gtest.h>

#include "pce/pce.h"
#include "proto/policy_server.h"
#include "proto/remote_policy.h"
#include "tests/pce/pce_test_util.h"
#include "twin/rng.h"

namespace eonops::proto {
namespace {

TEST(PceRemotePolicyTest, DecidesExactlyAsTheInProcessPolicy) {
  pce::testing::TempDir dir;
  const pce::PceConfig config = pce::testing::SmallConfig();
  const std::string artifact = pce::testing::TrainTinyPolicy(config, dir.path() + "/policy", 7);

  PolicyServerOptions o;
  o.port = 0;
  PolicyServer server(o);
  server.Load(artifact, {});
  const std::string target = "grpc://127.0.0.1:" + std::to_string(server.Start());

  pce::PceSetup setup;
  setup.poll_registry = false;
  pce::Pce local(config, setup), remote(config, setup);
  local.ServePolicyDir(twin::UseCase::kDeepRmsa, artifact);
  remote.ServePolicy(twin::UseCase::kDeepRmsa, RemotePolicy::Connect(target), target);

  twin::Rng rng(3);
  int by_policy = 0;
  for (int i = 0; i < 120; ++i) {
    pce::PathRequest r;
    r.src = static_cast<int>(rng.UniformInt(0, 13));
    r.dst = static_cast<int>(rng.UniformInt(0, 12));
    if (r.dst >= r.src) ++r.dst;
    r.bit_rate_gbps = static_cast<double>(rng.UniformInt(25, 100));
    pce::ServiceSpec spec;
    spec.request = r;
    auto a = local.CreateService(spec);
    auto b = remote.CreateService(spec);
    ASSERT_EQ(a.ok(), b.ok()) << "request " << i;
    const pce::PathDecision& da = a.ok() ? a.value->decision : a.decision;
    const pce::PathDecision& db = b.ok() ? b.value->decision : b.decision;
    ASSERT_EQ(da.fibres, db.fibres) << "request " << i;
    ASSERT_EQ(da.band, db.band);
    ASSERT_EQ(da.slot, db.slot);
    ASSERT_EQ(da.modulation, db.modulation);
    ASSERT_EQ(da.decided_by, db.decided_by);
    ASSERT_EQ(da.fell_back, db.fell_back);
    by_policy += db.decided_by == "policy";
  }
  EXPECT_GT(by_policy, 60);  // the remote policy really answered, not the fallback
  ASSERT_TRUE(remote.ServedFor(twin::UseCase::kDeepRmsa));
  EXPECT_EQ(remote.ServedFor(twin::UseCase::kDeepRmsa)->ref.model, target);
  EXPECT_GE(server.requests_served(), by_policy);
}

TEST(PceRemotePolicyTest, RefusesAPolicyTrainedOnAnotherNetwork) {
  pce::testing::TempDir dir;
  pce::PceConfig other = pce::testing::SmallConfig();
  other.network.slots_per_band = 48;  // not the PCE's network
  const std::string artifact = pce::testing::TrainTinyPolicy(other, dir.path() + "/policy", 8);
  PolicyServerOptions o;
  o.port = 0;
  PolicyServer server(o);
  server.Load(artifact, {});
  const std::string target = "grpc://127.0.0.1:" + std::to_string(server.Start());
  pce::PceSetup setup;
  setup.poll_registry = false;
  pce::Pce pce(pce::testing::SmallConfig(), setup);
  EXPECT_THROW(pce.ServePolicy(twin::UseCase::kDeepRmsa, RemotePolicy::Connect(target), target), std::exception);
  EXPECT_FALSE(pce.ServedFor(twin::UseCase::kDeepRmsa));
}

}  // namespace
}  // namespace eonops::proto
