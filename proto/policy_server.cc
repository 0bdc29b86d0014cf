#include "proto/policy_server.h"

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "agents/manifest.h"
#include "agents/policy.h"
#include "proto/policy.grpc.pb.h"
#include "proto/rpc_internal.h"

namespace eonops::proto {

using internal::InvalidArgument;

namespace {

struct Served {
  std::vector<std::unique_ptr<agents::Policy>> replicas;
  ServedModelInfo info;
  std::string manifest_json;
  int observation_size = 0, num_actions = 0;
  mutable std::atomic<uint64_t> next{0};

  const agents::Policy& Pick() const { return *replicas[next.fetch_add(1) % replicas.size()]; }
};

}  // namespace

struct PolicyServer::Impl final : public v1::PolicyService::Service {
  explicit Impl(PolicyServerOptions o) : options(std::move(o)) {}

  PolicyServerOptions options;
  std::shared_ptr<const Served> served;  // std::atomic_load / atomic_store
  std::unique_ptr<grpc::Server> server;
  int selected_port = 0;
  std::atomic<int64_t> rows{0};

  std::shared_ptr<const Served> Get() const { return std::atomic_load(&served); }

  grpc::Status Infer(grpc::ServerContext*, const v1::InferRequest* request,
                     v1::InferReply* reply) override {
    std::shared_ptr<const Served> s = Get();
    if (!s) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no policy loaded yet");
    const int64_t n = request->batch_size();
    if (n < 1 || n > options.max_batch) {
      return InvalidArgument("batch_size must be in [1, " + std::to_string(options.max_batch) +
                             "], got " + std::to_string(n));
    }
    if (request->observations_size() != n * s->observation_size) {
      return InvalidArgument(
          "observations: expected batch_size x observation_size = " + std::to_string(n) + " x " +
          std::to_string(s->observation_size) + " floats for " + s->info.name + ", got " +
          std::to_string(request->observations_size()));
    }
    if (static_cast<int64_t>(request->masks().size()) != n * s->num_actions) {
      return InvalidArgument("masks: expected batch_size x num_actions = " + std::to_string(n) +
                             " x " + std::to_string(s->num_actions) + " bytes for " + s->info.name +
                             ", got " + std::to_string(request->masks().size()));
    }
    const agents::Policy& policy = s->Pick();
    const float* obs = request->observations().data();
    const auto* masks = reinterpret_cast<const uint8_t*>(request->masks().data());
    reply->mutable_actions()->Resize(static_cast<int>(n), 0);
    reply->mutable_probabilities()->Resize(static_cast<int>(n), 0.0f);
    reply->mutable_values()->Resize(static_cast<int>(n), 0.0f);
    if (request->scores())
      reply->mutable_scores()->Resize(static_cast<int>(n * s->num_actions), 0.0f);
    try {
      for (int64_t i = 0; i < n; ++i) {
        const float* o = obs + i * s->observation_size;
        const uint8_t* m = masks + i * s->num_actions;
        const agents::Decision d = policy.Act(o, m);
        reply->set_actions(static_cast<int>(i), d.action);
        reply->set_probabilities(static_cast<int>(i), d.probability);
        reply->set_values(static_cast<int>(i), d.value);
        if (request->scores())
          policy.Scores(o, m, reply->mutable_scores()->mutable_data() + i * s->num_actions);
      }
    } catch (const std::exception& e) {
      return grpc::Status(grpc::StatusCode::INTERNAL, std::string("policy failed: ") + e.what());
    }
    reply->set_model_name(s->info.name);
    reply->set_model_version(s->info.version);
    rows += n;
    return grpc::Status::OK;
  }

  grpc::Status ModelInfo(grpc::ServerContext*, const v1::ModelInfoRequest*,
                         v1::ModelInfoReply* reply) override {
    std::shared_ptr<const Served> s = Get();
    if (!s) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no policy loaded yet");
    reply->set_name(s->info.name);
    reply->set_version(s->info.version);
    reply->set_run_id(s->info.run_id);
    reply->set_source(s->info.source);
    reply->set_manifest_json(s->manifest_json);
    reply->set_observation_size(s->observation_size);
    reply->set_num_actions(s->num_actions);
    reply->set_loaded_at_ms(s->info.loaded_at_ms);
    return grpc::Status::OK;
  }
};

PolicyServer::PolicyServer(PolicyServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  if (impl_->options.replicas < 1)
    throw std::invalid_argument("PolicyServer: replicas must be at least 1");
  if (impl_->options.max_batch < 1)
    throw std::invalid_argument("PolicyServer: max_batch must be at least 1");
}

PolicyServer::~PolicyServer() { Stop(); }

void PolicyServer::Load(const std::string& dir, ServedModelInfo info) {
  auto s = std::make_shared<Served>();
  for (int i = 0; i < impl_->options.replicas; ++i)
    s->replicas.push_back(agents::Policy::Load(dir));
  const agents::Manifest& m = s->replicas.front()->manifest();
  s->manifest_json = agents::ToJson(m).dump();
  s->observation_size = m.observation_size;
  s->num_actions = m.num_actions;
  if (info.name.empty()) info.name = "local:" + dir;
  if (info.run_id.empty()) info.run_id = m.run_id;
  if (info.source.empty()) info.source = dir;
  info.loaded_at_ms = internal::NowMs();
  s->info = std::move(info);
  std::atomic_store(&impl_->served, std::shared_ptr<const Served>(std::move(s)));
}

ServedModelInfo PolicyServer::Current() const {
  auto s = impl_->Get();
  return s ? s->info : ServedModelInfo{};
}

int PolicyServer::Start() {
  Impl& m = *impl_;
  if (m.server) throw std::logic_error("PolicyServer: already started");
  grpc::ServerBuilder builder;
  internal::ConfigureServer(&builder, m.options.host, m.options.port, &m.selected_port);
  builder.RegisterService(&m);
  m.server = internal::StartServer(&builder, "policy server", m.options.host, m.options.port,
                                   &m.selected_port);
  return m.selected_port;
}

void PolicyServer::Stop(std::chrono::milliseconds grace) {
  if (impl_->server) impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
}

void PolicyServer::Wait() {
  if (impl_->server) impl_->server->Wait();
}

int PolicyServer::port() const { return impl_->selected_port; }
int64_t PolicyServer::requests_served() const { return impl_->rows; }

}  // namespace eonops::proto
