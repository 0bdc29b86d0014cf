#include "proto/remote_policy.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "agents/manifest.h"
#include "proto/policy.grpc.pb.h"
#include "proto/rpc_internal.h"

namespace eonops::proto {

namespace {
constexpr const char* kRole = "policy server";
}

struct RemotePolicy::Impl {
  std::string endpoint;
  RemotePolicyOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::PolicyService::Stub> stub;
  agents::Manifest manifest;
  ServedModelInfo info;
  mutable std::atomic<int64_t> served_version{0};

  // One Infer call of n rows; fills `reply` (its arrays checked against n).
  void Infer(int n, const float* observations, const uint8_t* masks, bool scores,
             v1::InferReply* reply) const {
    if (n < 1) throw std::invalid_argument("RemotePolicy: a batch needs at least one row");
    v1::InferRequest request;
    request.set_batch_size(n);
    const size_t obs = static_cast<size_t>(n) * manifest.observation_size;
    const size_t acts = static_cast<size_t>(n) * manifest.num_actions;
    request.mutable_observations()->Resize(static_cast<int>(obs), 0.0f);
    std::memcpy(request.mutable_observations()->mutable_data(), observations, obs * sizeof(float));
    request.set_masks(reinterpret_cast<const char*>(masks), acts);
    request.set_scores(scores);
    grpc::ClientContext ctx;
    internal::SetDeadline(&ctx, options.deadline);
    grpc::Status status = stub->Infer(&ctx, request, reply);
    if (!status.ok()) internal::Throw(kRole, endpoint, "Infer", status);
    if (reply->actions_size() != n || reply->probabilities_size() != n ||
        reply->values_size() != n ||
        (scores && static_cast<size_t>(reply->scores_size()) != acts)) {
      throw RpcError(kRole, endpoint, "Infer", static_cast<int>(grpc::StatusCode::INTERNAL),
                     "reply arrays do not match " + std::to_string(n) + " rows");
    }
    served_version = reply->model_version();
  }
};

RemotePolicy::RemotePolicy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemotePolicy::~RemotePolicy() = default;

std::unique_ptr<RemotePolicy> RemotePolicy::Connect(const std::string& target,
                                                    RemotePolicyOptions options) {
  auto m = std::make_unique<Impl>();
  m->endpoint = ParseEndpoint(target);
  m->options = options;
  m->channel = internal::MakeChannel(m->endpoint);
  internal::WaitConnected(*m->channel, kRole, m->endpoint, options.connect_timeout);
  m->stub = v1::PolicyService::NewStub(m->channel);
  grpc::ClientContext ctx;
  internal::SetDeadline(&ctx, options.deadline);
  v1::ModelInfoReply reply;
  grpc::Status status = m->stub->ModelInfo(&ctx, v1::ModelInfoRequest(), &reply);
  if (!status.ok()) internal::Throw(kRole, m->endpoint, "ModelInfo", status);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(reply.manifest_json());
  } catch (const nlohmann::json::exception& e) {
    throw agents::ConfigError(std::string(kRole) + " " + m->endpoint +
                              ": manifest is not JSON: " + e.what());
  }
  m->manifest = agents::ManifestFromJson(j, std::string(kRole) + " " + m->endpoint + " manifest");
  m->info.name = reply.name();
  m->info.version = reply.version();
  m->info.run_id = reply.run_id();
  m->info.source = reply.source();
  m->info.loaded_at_ms = reply.loaded_at_ms();
  m->served_version = reply.version();
  return std::unique_ptr<RemotePolicy>(new RemotePolicy(std::move(m)));
}

agents::Decision RemotePolicy::Act(const float* observation, const uint8_t* mask) const {
  agents::Decision d;
  ActBatch(1, observation, mask, &d);
  return d;
}

void RemotePolicy::ActBatch(int n, const float* observations, const uint8_t* masks,
                            agents::Decision* decisions) const {
  v1::InferReply reply;
  impl_->Infer(n, observations, masks, /*scores=*/false, &reply);
  for (int i = 0; i < n; ++i) {
    decisions[i].action = reply.actions(i);
    decisions[i].probability = reply.probabilities(i);
    decisions[i].value = reply.values(i);
  }
}

void RemotePolicy::Scores(const float* observation, const uint8_t* mask, float* scores) const {
  v1::InferReply reply;
  impl_->Infer(1, observation, mask, /*scores=*/true, &reply);
  std::memcpy(scores, reply.scores().data(), reply.scores_size() * sizeof(float));
}

const agents::Manifest& RemotePolicy::manifest() const { return impl_->manifest; }
const std::string& RemotePolicy::endpoint() const { return impl_->endpoint; }
const ServedModelInfo& RemotePolicy::info() const { return impl_->info; }
int64_t RemotePolicy::served_version() const { return impl_->served_version; }

}  // namespace eonops::proto
