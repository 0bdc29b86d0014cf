// proto/policy_server.h and proto/remote_policy.h on loopback: the remote policy answers exactly
// what the in-process agents::Policy answers on the same inputs; bad requests are refused with
// INVALID_ARGUMENT; a server that is gone fails the call naming it; a registered model is served
// by alias and a moved alias is followed.
#include "proto/remote_policy.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "agents/manifest.h"
#include "agents/policy.h"
#include "agents/trainer.h"
#include "proto/policy.grpc.pb.h"
#include "proto/policy_server.h"
#include "tests/proto/proto_fixtures.h"
#include "tracking/http_client.h"
#include "tracking/server.h"
#include "tracking/store.h"

namespace eonops::proto {
namespace {

namespace fs = std::filesystem;

// Two small policies trained on the tiny experiment (different step counts), exported once.
class RemotePolicyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/eonops-proto-policy-XXXXXX";
    root_ = mkdtemp(tmpl);
    agents::ExperimentConfig c = testing::TinyExperiment();
    c.train.total_steps = 256;
    c.train.log_interval = 1 << 30;
    const twin::EnvConfig env = twin::EnvConfig::FromJson(c.twin, c.source);
    config_ = new twin::EnvConfig(env);
    agents::Trainer trainer(c, testing::LocalFactory(env));
    trainer.Train();
    trainer.ExportPolicy(root_ + "/v1");
    trainer.Train(512);
    trainer.ExportPolicy(root_ + "/v2");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(root_, ec);
    delete config_;
  }

  // Observations and masks along a trajectory of the in-process policy.
  static void Trajectory(const agents::Policy& policy, int steps, std::vector<float>* obs,
                         std::vector<uint8_t>* masks) {
    auto env = testing::LocalFactory(*config_)();
    const int os = env->Spec().observation_size, na = env->Spec().num_actions;
    std::vector<float> o(os);
    std::vector<uint8_t> m(na);
    env->Reset(2024, o.data(), m.data());
    for (int i = 0; i < steps; ++i) {
      obs->insert(obs->end(), o.begin(), o.end());
      masks->insert(masks->end(), m.begin(), m.end());
      env->Step(policy.Act(o.data(), m.data()).action, o.data(), m.data());
    }
  }

  static std::string root_;
  static twin::EnvConfig* config_;
};
std::string RemotePolicyTest::root_;
twin::EnvConfig* RemotePolicyTest::config_ = nullptr;

TEST_F(RemotePolicyTest, AnswersExactlyAsTheInProcessPolicy) {
  PolicyServerOptions o;
  o.port = 0;
  o.replicas = 2;
  PolicyServer server(o);
  server.Load(root_ + "/v1", {});
  const int port = server.Start();
  auto remote = RemotePolicy::Connect("grpc://127.0.0.1:" + std::to_string(port));
  auto local = agents::Policy::Load(root_ + "/v1");

  EXPECT_EQ(agents::ToJson(remote->manifest()), agents::ToJson(local->manifest()));
  EXPECT_EQ(remote->info().name, "local:" + root_ + "/v1");
  EXPECT_EQ(remote->info().version, 0);

  const int rows = 150, os = local->observation_size(), na = local->num_actions();
  std::vector<float> obs;
  std::vector<uint8_t> masks;
  Trajectory(*local, rows, &obs, &masks);
  // A row with nothing feasible: both say -1.
  obs.insert(obs.end(), obs.begin(), obs.begin() + os);
  masks.insert(masks.end(), na, 0);

  std::vector<agents::Decision> batch(rows + 1);
  remote->ActBatch(rows + 1, obs.data(), masks.data(), batch.data());
  std::vector<float> sl(na), sr(na);
  int feasible = 0;
  for (int i = 0; i <= rows; ++i) {
    const float* o_i = &obs[static_cast<size_t>(i) * os];
    const uint8_t* m_i = &masks[static_cast<size_t>(i) * na];
    const agents::Decision want = local->Act(o_i, m_i);
    const agents::Decision got = remote->Act(o_i, m_i);
    ASSERT_EQ(got.action, want.action) << "row " << i;
    ASSERT_EQ(got.probability, want.probability) << "row " << i;
    ASSERT_EQ(got.value, want.value) << "row " << i;
    ASSERT_EQ(batch[i].action, want.action) << "row " << i;
    ASSERT_EQ(batch[i].probability, want.probability) << "row " << i;
    ASSERT_EQ(batch[i].value, want.value) << "row " << i;
    local->Scores(o_i, m_i, sl.data());
    remote->Scores(o_i, m_i, sr.data());
    ASSERT_EQ(std::memcmp(sl.data(), sr.data(), na * sizeof(float)), 0) << "row " << i;
    feasible += want.feasible();
  }
  EXPECT_EQ(feasible, rows);  // every trajectory row had a feasible action, the extra row none
  EXPECT_FALSE(batch[rows].feasible());
  EXPECT_EQ(server.requests_served(), 3 * (rows + 1));  // rows of ActBatch, Act and Scores
}

TEST_F(RemotePolicyTest, BadRequestsAreRefusedWithTheReason) {
  PolicyServerOptions o;
  o.port = 0;
  PolicyServer server(o);
  const int port = server.Start();
  auto stub = v1::PolicyService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  auto infer = [&](const v1::InferRequest& r) {
    v1::InferReply reply;
    grpc::ClientContext ctx;
    return stub->Infer(&ctx, r, &reply);
  };
  v1::InferRequest r;
  r.set_batch_size(1);
  EXPECT_EQ(infer(r).error_code(), grpc::StatusCode::UNAVAILABLE);  // nothing loaded yet
  server.Load(root_ + "/v1", {});
  auto local = agents::Policy::Load(root_ + "/v1");
  const int os = local->observation_size(), na = local->num_actions();

  auto expect_invalid = [&](const v1::InferRequest& req, const std::string& needle) {
    grpc::Status s = infer(req);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_NE(s.error_message().find(needle), std::string::npos) << s.error_message();
  };
  r.set_batch_size(0);
  expect_invalid(r, "batch_size");
  r.set_batch_size(2);
  r.mutable_observations()->Resize(2 * os - 1, 0.0f);
  r.set_masks(std::string(2 * na, '\1'));
  expect_invalid(
      r, "observations: expected batch_size x observation_size = 2 x " + std::to_string(os));
  r.mutable_observations()->Resize(2 * os, 0.0f);
  r.set_masks(std::string(na, '\1'));
  expect_invalid(r, "masks");
  r.set_masks(std::string(2 * na, '\1'));
  EXPECT_TRUE(infer(r).ok());
}

TEST_F(RemotePolicyTest, AServerThatIsGoneFailsTheCallNamingIt) {
  PolicyServerOptions o;
  o.port = 0;
  auto server = std::make_unique<PolicyServer>(o);
  server->Load(root_ + "/v1", {});
  const std::string endpoint = "127.0.0.1:" + std::to_string(server->Start());
  RemotePolicyOptions ro;
  ro.deadline = std::chrono::milliseconds(1000);
  auto remote = RemotePolicy::Connect(endpoint, ro);
  const int os = remote->observation_size(), na = remote->num_actions();
  std::vector<float> obs(os, 0.0f);
  std::vector<uint8_t> mask(na, 1);
  EXPECT_NO_THROW(remote->Act(obs.data(), mask.data()));
  server.reset();
  const auto start = std::chrono::steady_clock::now();
  try {
    remote->Act(obs.data(), mask.data());
    FAIL() << "a call on a stopped server succeeded";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.endpoint(), endpoint);
    EXPECT_NE(std::string(e.what()).find("policy server " + endpoint + ": Infer"),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, ro.deadline + std::chrono::milliseconds(500));
}

TEST_F(RemotePolicyTest, ServesARegisteredModelByAliasAndFollowsTheAlias) {
  tracking::StoreOptions so;
  so.db_path = root_ + "/tracking.db";
  so.artifact_root = root_ + "/artifacts";
  tracking::TrackingStore store(so);
  tracking::ServerOptions hs;
  hs.port = 0;
  tracking::TrackingServer http(store, hs);
  const std::string url = "http://127.0.0.1:" + std::to_string(http.Start());

  store.CreateRegisteredModel("tiny-ring");
  for (const char* v : {"v1", "v2"}) {
    tracking::CreateRunOptions ro;
    ro.run_name = std::string("train-") + v;
    const std::string run = store.CreateRun(ro).info.run_id;
    for (const auto& f : fs::directory_iterator(root_ + "/" + v))
      store.LogArtifact(run, f.path().string(), "policy");
    store.CreateModelVersion("tiny-ring", "runs:/" + run + "/policy", run);
  }
  store.SetAlias("tiny-ring", "champion", 1);

  tracking::TrackingHttpClient client(url);
  const FetchedPolicy fetched =
      FetchRegisteredPolicy(client, ParseModelRef("tiny-ring@champion"), root_ + "/cache");
  EXPECT_EQ(fetched.info.name, "tiny-ring");
  EXPECT_EQ(fetched.info.version, 1);
  EXPECT_EQ(fetched.dir, root_ + "/cache/tiny-ring/1");
  EXPECT_TRUE(fs::exists(fetched.dir + "/manifest.json"));

  PolicyServerOptions o;
  o.port = 0;
  PolicyServer server(o);
  server.Load(fetched);
  const int port = server.Start();
  auto remote = RemotePolicy::Connect("127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(remote->info().name, "tiny-ring");
  EXPECT_EQ(remote->info().version, 1);

  RegistryWatcher watcher(url, ParseModelRef("tiny-ring"), root_ + "/cache",
                          std::chrono::milliseconds(50), server.Current().version,
                          [&](const FetchedPolicy& f) { server.Load(f); });
  store.SetAlias("tiny-ring", "champion", 2, "test");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.Current().version != 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(server.Current().version, 2);

  // Version 2 answers now, as the in-process v2 policy does.
  auto v2 = agents::Policy::Load(root_ + "/v2");
  std::vector<float> obs;
  std::vector<uint8_t> masks;
  Trajectory(*v2, 20, &obs, &masks);
  for (int i = 0; i < 20; ++i) {
    const float* o_i = &obs[static_cast<size_t>(i) * v2->observation_size()];
    const uint8_t* m_i = &masks[static_cast<size_t>(i) * v2->num_actions()];
    const agents::Decision want = v2->Act(o_i, m_i), got = remote->Act(o_i, m_i);
    ASSERT_EQ(got.action, want.action);
    ASSERT_EQ(got.probability, want.probability);
    ASSERT_EQ(got.value, want.value);
  }
  EXPECT_EQ(remote->served_version(), 2);
  // The clients above close their keep-alive connections before `http` stops.
}

}  // namespace
}  // namespace eonops::proto
