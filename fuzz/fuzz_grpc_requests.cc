// Fuzz target: the gRPC request handlers of the remote twin worker (TwinService) and the remote
// policy service (PolicyService), called over a loopback channel as a learner or a PCE on
// another machine calls them, with request messages built from arbitrary bytes.
//
// Input: the first byte picks the call (OpenBatch, Reset, Step, Close, Health, Infer,
// ModelInfo); the rest is the request message in protobuf wire format. Reset and Step requests
// whose handle is below 16 are sent to a batch opened at start-up (two environments of the tiny
// experiment on the 4-node ring), so they reach the handlers' checks on a live batch instead of
// stopping at "unknown handle"; an OpenBatch request's network is forced onto the 4-node ring
// so one execution stays in milliseconds (every other field, config_json included, is the
// fuzzer's). Batches an input opens are closed after it.
//
// Properties checked on every call:
//   - the status is OK or a client error (INVALID_ARGUMENT, FAILED_PRECONDITION,
//     RESOURCE_EXHAUSTED): never INTERNAL or UNKNOWN (a handler that threw), never a crash;
//   - an OK reply's arrays have the sizes the spec announces (batch_size x observation_size
//     observations, batch_size x num_actions mask bytes, batch_size rewards/dones/accepted for
//     the twin; batch_size actions, probabilities, values for the policy).
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "agents/options.h"
#include "agents/trainer.h"
#include "fuzz/fuzz_check.h"
#include "proto/policy.grpc.pb.h"
#include "proto/policy_server.h"
#include "proto/twin.grpc.pb.h"
#include "proto/twin_server.h"
#include "twin/envs.h"
#include "twin/network.h"

namespace eonops::fuzz {
namespace {

namespace v1 = eonops::proto::v1;
using Json = nlohmann::json;

struct Services {
  std::unique_ptr<proto::TwinServer> twin;
  std::unique_ptr<proto::PolicyServer> policy;
  std::unique_ptr<v1::TwinService::Stub> twin_stub;
  std::unique_ptr<v1::PolicyService::Stub> policy_stub;
  uint64_t batch = 0;
  int batch_size = 2, observation_size = 0, num_actions = 0;
};

std::unique_ptr<grpc::ClientContext> Context() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return c;
}

Json TinyTwinJson() {
  agents::ExperimentConfig c = agents::LoadExperimentConfig(std::string(EONOPS_SOURCE_DIR) +
                                                            "/configs/experiments/tiny-test.json");
  Json j = c.twin;
  j["env"]["episode_length"] = 9;  // resets every few steps
  j["env"]["warmup"] = 40;
  return j;
}

// A policy for the tiny experiment, trained for a few hundred steps and exported.
std::string ExportTinyPolicy(const std::string& dir) {
  agents::ExperimentConfig c = agents::LoadExperimentConfig(std::string(EONOPS_SOURCE_DIR) +
                                                            "/configs/experiments/tiny-test.json");
  c.train.total_steps = 128;
  c.train.log_interval = 1 << 30;
  const twin::EnvConfig env = twin::EnvConfig::FromJson(c.twin, c.source);
  agents::Trainer trainer(
      c, twin::MakeEnvFactory(std::make_shared<const twin::NetworkModel>(env.network), env));
  trainer.Train();
  trainer.ExportPolicy(dir);
  return dir;
}

Services& Get() {
  static Services* s = [] {
    auto* s = new Services;  // lives as long as the process
    proto::TwinServerOptions t;
    t.port = 0;
    t.threads = 1;
    t.max_envs = 64;  // what one fuzz input may open, so no input exhausts memory
    s->twin = std::make_unique<proto::TwinServer>(t);
    const int twin_port = s->twin->Start();

    const std::string dir = std::filesystem::temp_directory_path() /
                            ("eonops-fuzz-policy-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    proto::PolicyServerOptions p;
    p.port = 0;
    p.replicas = 1;
    p.max_batch = 256;
    s->policy = std::make_unique<proto::PolicyServer>(p);
    s->policy->Load(ExportTinyPolicy(dir), proto::ServedModelInfo{"tiny-test", 1, "", "", 0});
    std::filesystem::remove_all(dir);
    const int policy_port = s->policy->Start();

    s->twin_stub = v1::TwinService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(twin_port), grpc::InsecureChannelCredentials()));
    s->policy_stub = v1::PolicyService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(policy_port), grpc::InsecureChannelCredentials()));

    v1::OpenBatchRequest open;
    open.set_config_json(TinyTwinJson().dump());
    open.set_batch_size(s->batch_size);
    open.set_seed(7);
    v1::OpenBatchReply reply;
    const grpc::Status st = s->twin_stub->OpenBatch(Context().get(), open, &reply);
    if (!st.ok()) Fail(__FILE__, __LINE__, "cannot open the fuzz batch: " + st.error_message());
    s->batch = reply.handle();
    s->observation_size = reply.spec().observation_size();
    s->num_actions = reply.spec().num_actions();
    // fuzz/make_grpc_seeds.py needs these to write Infer seeds of the right shape.
    std::fprintf(stderr, "fuzz_grpc_requests: observation_size %d, num_actions %d\n",
                 s->observation_size, s->num_actions);
    v1::ResetRequest reset;
    reset.set_handle(s->batch);
    v1::BatchState state;
    s->twin_stub->Reset(Context().get(), reset, &state);
    return s;
  }();
  return *s;
}

void CheckStatus(const grpc::Status& st, const char* call) {
  const auto code = st.error_code();
  EONOPS_FUZZ_CHECK(code == grpc::StatusCode::OK || code == grpc::StatusCode::INVALID_ARGUMENT ||
                        code == grpc::StatusCode::FAILED_PRECONDITION ||
                        code == grpc::StatusCode::RESOURCE_EXHAUSTED,
                    std::string(call) + " answered status " + std::to_string(code) + ": " +
                        Shown(st.error_message()));
}

void CheckState(const v1::BatchState& s, int observation_size, int num_actions, const char* call) {
  const int64_t n = s.batch_size();
  EONOPS_FUZZ_CHECK(n >= 1 && s.observations_size() == n * observation_size &&
                        static_cast<int64_t>(s.masks().size()) == n * num_actions &&
                        s.rewards_size() == n && static_cast<int64_t>(s.dones().size()) == n &&
                        static_cast<int64_t>(s.accepted().size()) == n,
                    std::string(call) + ": the reply's arrays do not match its batch");
}

// Forces an OpenBatch config onto the 4-node ring; anything else in it stays as sent.
std::string OnTheRing(const std::string& config_json) {
  Json j = Json::parse(config_json, nullptr, false);
  if (!j.is_object()) return config_json;
  if (!j.contains("network") || !j["network"].is_object()) return config_json;
  j["network"]["topology"] = "ring4";
  return j.dump();
}

}  // namespace
}  // namespace eonops::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eonops::fuzz;
  if (size < 1) return 0;
  Services& s = Get();
  const uint8_t call = data[0] % 7;
  const void* message = data + 1;
  const int message_size = static_cast<int>(size - 1);
  switch (call) {
    case 0: {
      v1::OpenBatchRequest r;
      if (!r.ParseFromArray(message, message_size)) return 0;
      r.set_config_json(OnTheRing(r.config_json()));
      v1::OpenBatchReply reply;
      const grpc::Status st = s.twin_stub->OpenBatch(Context().get(), r, &reply);
      CheckStatus(st, "OpenBatch");
      if (st.ok()) {
        v1::CloseRequest close;
        close.set_handle(reply.handle());
        v1::CloseReply closed;
        CheckStatus(s.twin_stub->Close(Context().get(), close, &closed), "Close");
      }
      return 0;
    }
    case 1: {
      v1::ResetRequest r;
      if (!r.ParseFromArray(message, message_size)) return 0;
      if (r.handle() < 16) r.set_handle(s.batch);
      v1::BatchState reply;
      const grpc::Status st = s.twin_stub->Reset(Context().get(), r, &reply);
      CheckStatus(st, "Reset");
      if (st.ok()) CheckState(reply, s.observation_size, s.num_actions, "Reset");
      return 0;
    }
    case 2: {
      v1::StepRequest r;
      if (!r.ParseFromArray(message, message_size)) return 0;
      if (r.handle() < 16) r.set_handle(s.batch);
      v1::BatchState reply;
      const grpc::Status st = s.twin_stub->Step(Context().get(), r, &reply);
      CheckStatus(st, "Step");
      if (st.ok()) CheckState(reply, s.observation_size, s.num_actions, "Step");
      return 0;
    }
    case 3: {
      v1::CloseRequest r;
      if (!r.ParseFromArray(message, message_size)) return 0;
      if (r.handle() == s.batch) return 0;  // the shared batch stays open
      v1::CloseReply reply;
      CheckStatus(s.twin_stub->Close(Context().get(), r, &reply), "Close");
      return 0;
    }
    case 4: {
      v1::HealthRequest r;
      if (!r.ParseFromArray(message, message_size)) return 0;
      v1::HealthReply reply;
      CheckStatus(s.twin_stub->Health(Context().get(), r, &reply), "Health");
      return 0;
    }
    case 5: {
      v1::InferRequest r;
      if (!r.ParseFromArray(message, message_size)) return 0;
      v1::InferReply reply;
      const grpc::Status st = s.policy_stub->Infer(Context().get(), r, &reply);
      CheckStatus(st, "Infer");
      if (st.ok()) {
        const int n = r.batch_size();
        EONOPS_FUZZ_CHECK(reply.actions_size() == n && reply.probabilities_size() == n &&
                              reply.values_size() == n,
                          "Infer: the reply's arrays do not match the batch");
        for (int i = 0; i < n; ++i) {
          const int a = reply.actions(i);
          EONOPS_FUZZ_CHECK(a >= -1 && a < s.num_actions,
                            "Infer: action " + std::to_string(a) + " out of range");
          // -1 exactly when the row's mask has nothing feasible.
          bool any = false;
          for (int k = 0; k < s.num_actions; ++k) any |= r.masks()[i * s.num_actions + k] != 0;
          EONOPS_FUZZ_CHECK((a == -1) == !any, "Infer: action " + std::to_string(a) +
                                                   (any ? " although" : " but no") +
                                                   " action is feasible");
          if (a >= 0)
            EONOPS_FUZZ_CHECK(r.masks()[i * s.num_actions + a] != 0,
                              "Infer: a masked action was chosen");
        }
      }
      return 0;
    }
    default: {
      v1::ModelInfoRequest r;
      if (!r.ParseFromArray(message, message_size)) return 0;
      v1::ModelInfoReply reply;
      CheckStatus(s.policy_stub->ModelInfo(Context().get(), r, &reply), "ModelInfo");
      return 0;
    }
  }
}
