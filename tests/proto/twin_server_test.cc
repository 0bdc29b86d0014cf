// proto/twin_server.h through the raw TwinService stub: bad requests are refused with
// INVALID_ARGUMENT and a message naming what is wrong, out-of-range actions block as in
// twin::Env, idle batches expire, the worker's limits hold, and it binds to loopback.
#include "proto/twin_server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "proto/twin.grpc.pb.h"
#include "tests/proto/proto_fixtures.h"

namespace eonops::proto {
namespace {

class TwinServerTest : public ::testing::Test {
 protected:
  void StartServer(TwinServerOptions o = {}) {
    o.port = 0;
    server_ = std::make_unique<TwinServer>(o);
    const int port = server_->Start();
    stub_ = v1::TwinService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                         grpc::InsecureChannelCredentials()));
  }
  void SetUp() override { StartServer(); }

  static std::string ConfigJson() { return testing::ShortEpisodes().ToJson().dump(); }

  grpc::Status Open(const v1::OpenBatchRequest& r, v1::OpenBatchReply* reply) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub_->OpenBatch(&ctx, r, reply);
  }
  uint64_t OpenOk(int batch_size, uint64_t seed = 1) {
    v1::OpenBatchRequest r;
    r.set_config_json(ConfigJson());
    r.set_batch_size(batch_size);
    r.set_seed(seed);
    v1::OpenBatchReply reply;
    grpc::Status s = Open(r, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply.handle();
  }
  grpc::Status Reset(uint64_t handle, std::vector<uint64_t> seeds, v1::BatchState* state) {
    v1::ResetRequest r;
    r.set_handle(handle);
    for (auto s : seeds) r.add_seeds(s);
    grpc::ClientContext ctx;
    return stub_->Reset(&ctx, r, state);
  }
  grpc::Status Step(uint64_t handle, std::vector<int32_t> actions, v1::BatchState* state) {
    v1::StepRequest r;
    r.set_handle(handle);
    for (auto a : actions) r.add_actions(a);
    grpc::ClientContext ctx;
    return stub_->Step(&ctx, r, state);
  }

  std::unique_ptr<TwinServer> server_;
  std::unique_ptr<v1::TwinService::Stub> stub_;
};

void ExpectInvalid(const grpc::Status& s, const std::string& needle) {
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find(needle), std::string::npos)
      << "'" << s.error_message() << "' lacks '" << needle << "'";
}

TEST_F(TwinServerTest, OpenBatchRefusesBadConfigsAndSizes) {
  v1::OpenBatchReply reply;
  v1::OpenBatchRequest r;
  r.set_batch_size(2);

  r.set_config_json("{\"network\": ");
  ExpectInvalid(Open(r, &reply), "not JSON");
  r.set_config_json("[1, 2]");
  ExpectInvalid(Open(r, &reply), "JSON object");

  nlohmann::json j = testing::ShortEpisodes().ToJson();
  j["network"]["k_pahts"] = 3;  // a typo is named, not ignored
  r.set_config_json(j.dump());
  ExpectInvalid(Open(r, &reply), "k_pahts");

  j = testing::ShortEpisodes().ToJson();
  j["network"]["topology"] = "atlantis";
  r.set_config_json(j.dump());
  ExpectInvalid(Open(r, &reply), "atlantis");

  r.set_config_json(ConfigJson());
  r.set_use_case("teleportation");
  ExpectInvalid(Open(r, &reply), "use_case");
  r.clear_use_case();

  r.set_batch_size(0);
  ExpectInvalid(Open(r, &reply), "batch_size");
  r.set_batch_size(3);
  r.set_first_index(2);
  r.set_total_envs(4);
  ExpectInvalid(Open(r, &reply), "exceeds total_envs");
  r.set_first_index(-1);
  ExpectInvalid(Open(r, &reply), "first_index");

  EXPECT_EQ(server_->Stats().open_envs, 0);
}

TEST_F(TwinServerTest, TakesAnExperimentFileAndAUseCaseOverride) {
  // A whole experiment file: the learner sections are not the twin's business.
  std::ifstream in(std::string(EONOPS_SOURCE_DIR) + "/configs/experiments/tiny-test.json");
  const std::string experiment((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  v1::OpenBatchRequest r;
  r.set_config_json(experiment);
  r.set_batch_size(1);
  v1::OpenBatchReply reply;
  ASSERT_TRUE(Open(r, &reply).ok());
  EXPECT_EQ(reply.spec().name(), "deeprmsa");
  EXPECT_EQ(reply.spec().config_hash(),
            testing::LocalFactory(testing::ShortEpisodes(500, 500))()->Spec().config_hash);
  r.set_use_case("latency-rsa");
  ASSERT_TRUE(Open(r, &reply).ok());
  EXPECT_EQ(reply.spec().name(), "latency-rsa");
  EXPECT_GT(reply.spec().observation_layout_size(), 0);
}

TEST_F(TwinServerTest, CallsOnUnknownHandlesAndWrongSizesAreRefused) {
  v1::BatchState state;
  ExpectInvalid(Step(12345, {0}, &state), "unknown batch handle 12345");
  ExpectInvalid(Reset(12345, {}, &state), "unknown batch handle");
  {
    v1::CloseRequest r;
    r.set_handle(12345);
    v1::CloseReply reply;
    grpc::ClientContext ctx;
    ExpectInvalid(stub_->Close(&ctx, r, &reply), "unknown batch handle");
  }
  const uint64_t h = OpenOk(3);
  grpc::Status s = Step(h, {0, 0, 0}, &state);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  ASSERT_TRUE(Reset(h, {}, &state).ok());
  ExpectInvalid(Step(h, {0, 0}, &state), "expected one per environment (3), got 2");
  ExpectInvalid(Reset(h, {1, 2}, &state), "seeds");
  ASSERT_TRUE(Step(h, {0, 0, 0}, &state).ok());
  EXPECT_EQ(state.steps(), 1u);
}

TEST_F(TwinServerTest, OutOfRangeAndMaskedActionsBlockAsTheEnvironmentDoes) {
  const twin::EnvConfig config = testing::ShortEpisodes();
  auto local = testing::LocalFactory(config)();
  const int obs_size = local->Spec().observation_size, num_actions = local->Spec().num_actions;
  std::vector<float> obs(obs_size);
  std::vector<uint8_t> mask(num_actions);
  local->Reset(5, obs.data(), mask.data());

  v1::OpenBatchRequest r;
  r.set_config_json(config.ToJson().dump());
  r.set_batch_size(1);
  r.set_manual_reset(true);
  v1::OpenBatchReply reply;
  ASSERT_TRUE(Open(r, &reply).ok());
  v1::BatchState state;
  ASSERT_TRUE(Reset(reply.handle(), {5}, &state).ok());
  for (int32_t action : {-7, num_actions, 1 << 30, num_actions - 1}) {
    const twin::StepResult expected = local->Step(action, obs.data(), mask.data());
    ASSERT_TRUE(Step(reply.handle(), {action}, &state).ok()) << action;
    EXPECT_FALSE(expected.accepted);
    EXPECT_EQ(state.accepted()[0] != 0, expected.accepted) << action;
    EXPECT_EQ(state.rewards(0), expected.reward) << action;
    EXPECT_EQ(std::memcmp(state.observations().data(), obs.data(), obs.size() * sizeof(float)), 0)
        << action;
  }
}

TEST_F(TwinServerTest, HealthCountsBatchesAndSteps) {
  const uint64_t h = OpenOk(4);
  v1::BatchState state;
  ASSERT_TRUE(Reset(h, {}, &state).ok());
  ASSERT_TRUE(Step(h, {0, 1, 2, 3}, &state).ok());
  v1::HealthReply health;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->Health(&ctx, v1::HealthRequest(), &health).ok());
  EXPECT_EQ(health.status(), "SERVING");
  EXPECT_EQ(health.open_batches(), 1);
  EXPECT_EQ(health.open_envs(), 4);
  EXPECT_EQ(health.steps_served(), 4);
  EXPECT_FALSE(health.version().empty());
}

TEST_F(TwinServerTest, EnforcesItsEnvironmentLimit) {
  TwinServerOptions o;
  o.max_envs = 5;
  StartServer(o);
  OpenOk(3);
  v1::OpenBatchRequest r;
  r.set_config_json(ConfigJson());
  r.set_batch_size(3);
  v1::OpenBatchReply reply;
  grpc::Status s = Open(r, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  r.set_batch_size(6);
  ExpectInvalid(Open(r, &reply), "limit of 5");
  r.set_batch_size(2);
  EXPECT_TRUE(Open(r, &reply).ok());
}

TEST_F(TwinServerTest, IdleBatchesExpire) {
  TwinServerOptions o;
  o.idle_timeout = std::chrono::seconds(1);
  StartServer(o);
  const uint64_t h = OpenOk(2);
  EXPECT_EQ(server_->Stats().open_batches, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  EXPECT_EQ(server_->Stats().open_batches, 0);
  EXPECT_EQ(server_->Stats().open_envs, 0);
  EXPECT_EQ(server_->Stats().batches_expired, 1);
  v1::BatchState state;
  ExpectInvalid(Reset(h, {}, &state), "expired");
}

TEST(TwinServer, BindsToLoopbackByDefaultAndNamesAnAddressItCannotUse) {
  EXPECT_EQ(TwinServerOptions().host, "127.0.0.1");
  TwinServerOptions o;
  o.host = "192.0.2.1";  // TEST-NET-1: not an address of this machine
  o.port = 0;
  TwinServer server(o);
  try {
    server.Start();
    FAIL() << "listened on an address this machine does not have";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("192.0.2.1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace eonops::proto
