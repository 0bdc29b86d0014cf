#include "proto/remote_twin.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "proto/rpc_internal.h"
#include "proto/twin.grpc.pb.h"

namespace eonops::proto {

namespace {

constexpr const char* kRole = "twin worker";

struct Worker {
  std::string endpoint;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::TwinService::Stub> stub;
  // Set when a call found the worker gone or silent: closing its batches is then skipped, so
  // that a learner failing on a hung worker does not wait out one more deadline per batch.
  std::atomic<bool> unresponsive{false};

  [[noreturn]] void Fail(const char* method, const grpc::Status& status) {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      unresponsive = true;
    }
    internal::Throw(kRole, endpoint, method, status);
  }
};

// Connects to all workers at once: the slowest one bounds the wait, not their sum.
std::vector<std::shared_ptr<Worker>> ConnectWorkers(const std::vector<std::string>& endpoints,
                                                    const RpcOptions& options) {
  if (endpoints.empty()) throw std::invalid_argument("no twin workers given");
  std::vector<std::shared_ptr<Worker>> workers;
  for (const auto& e : endpoints) {
    auto w = std::make_shared<Worker>();
    w->endpoint = ParseEndpoint(e);
    w->channel = internal::MakeChannel(w->endpoint);
    w->channel->GetState(/*try_to_connect=*/true);
    w->stub = v1::TwinService::NewStub(w->channel);
    workers.push_back(std::move(w));
  }
  const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  for (const auto& w : workers) {
    const auto left = std::max(std::chrono::milliseconds(1),
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   deadline - std::chrono::steady_clock::now()));
    internal::WaitConnected(*w->channel, kRole, w->endpoint, left);
  }
  return workers;
}

twin::EnvSpec ToSpec(const v1::EnvSpec& s) {
  twin::EnvSpec out;
  out.name = s.name();
  out.observation_size = s.observation_size();
  out.num_actions = s.num_actions();
  for (const auto& f : s.observation_layout()) {
    out.observation_layout.push_back({f.name(), f.offset(), f.size(), f.description()});
  }
  out.action_description = s.action_description();
  out.reward_description = s.reward_description();
  out.config_hash = s.config_hash();
  return out;
}

// Throws unless the worker built what the learner asked for.
void CheckSpec(const std::string& endpoint, const twin::EnvSpec& spec,
               const std::string& expected_hash) {
  if (spec.observation_size <= 0 || spec.num_actions <= 0) {
    throw std::runtime_error(std::string(kRole) + " " + endpoint +
                             ": returned an empty environment spec");
  }
  if (!expected_hash.empty() && spec.config_hash != expected_hash) {
    throw std::runtime_error(std::string(kRole) + " " + endpoint + ": built config hash " +
                             spec.config_hash + ", this learner's config hashes to " +
                             expected_hash +
                             " (another eonops version or other configs/ on the worker?)");
  }
}

// Checks a BatchState's array sizes before anything is copied out of it.
void CheckState(const std::string& endpoint, const char* method, const v1::BatchState& s, int n,
                const twin::EnvSpec& spec) {
  const size_t un = static_cast<size_t>(n);
  size_t done = 0;
  for (char d : s.dones()) done += d != 0;
  // truncated and the final observations are absent from workers that predate them.
  const bool finals = s.final_observations_size() != 0 || !s.final_masks().empty();
  if (s.batch_size() != n ||
      static_cast<size_t>(s.observations_size()) != un * spec.observation_size ||
      s.masks().size() != un * spec.num_actions || static_cast<size_t>(s.rewards_size()) != un ||
      s.dones().size() != un || s.accepted().size() != un ||
      (!s.truncated().empty() && s.truncated().size() != un) ||
      (finals && (static_cast<size_t>(s.final_observations_size()) !=
                      done * spec.observation_size ||
                  s.final_masks().size() != done * spec.num_actions))) {
    throw RpcError(
        kRole, endpoint, method, static_cast<int>(grpc::StatusCode::INTERNAL),
        "reply arrays do not match " + std::to_string(n) + " environments of " + spec.name);
  }
}

std::string ClientName(const TwinClientOptions& o) {
  return o.client_name.empty() ? "eonops" : o.client_name;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RemoteVecEnv

struct RemoteVecEnv::Impl {
  struct Part {
    std::shared_ptr<Worker> worker;
    int begin = 0, end = 0;  // environments [begin, end) of the learner's vector
    uint64_t handle = 0;
    v1::StepRequest step;
    v1::ResetRequest reset;
    v1::BatchState state;
  };

  TwinClientOptions options;
  std::vector<Part> parts;
  twin::EnvSpec spec;
  int num_envs = 0;
  grpc::CompletionQueue cq;

  std::vector<float> observations, rewards, final_observations;
  std::vector<uint8_t> masks, dones, accepted, truncated, final_masks;

  ~Impl() {
    cq.Shutdown();
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
  }

  // Starts `start` on every part at once and waits for all of them (each has its deadline), so
  // no call outlives its context. Throws for the first part that failed.
  // Starts `start` on the parts `which` (default: all) at once and waits for all of them (each
  // has its deadline), so no call outlives its context. Throws for the first part that failed.
  template <class Reply, class Start>
  void CallAll(const char* method, std::chrono::milliseconds deadline, std::vector<Reply*> replies,
               Start start, std::vector<size_t> which = {}) {
    if (which.empty()) {
      for (size_t p = 0; p < parts.size(); ++p) which.push_back(p);
    }
    const size_t n = parts.size();
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts(n);
    std::vector<grpc::Status> statuses(n);
    std::vector<std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>>> readers(n);
    for (size_t p : which) {
      contexts[p] = std::make_unique<grpc::ClientContext>();
      internal::SetDeadline(contexts[p].get(), deadline);
      readers[p] = start(parts[p], contexts[p].get(), &cq);
      readers[p]->Finish(replies[p], &statuses[p], reinterpret_cast<void*>(p));
    }
    for (size_t k = 0; k < which.size(); ++k) {
      void* tag;
      bool ok;
      if (!cq.Next(&tag, &ok)) throw std::logic_error("RemoteVecEnv: completion queue shut down");
    }
    for (size_t p : which) {
      if (!statuses[p].ok()) parts[p].worker->Fail(method, statuses[p]);
    }
  }

  std::vector<v1::BatchState*> States() {
    std::vector<v1::BatchState*> out;
    for (auto& p : parts) out.push_back(&p.state);
    return out;
  }

  // Best effort: a worker that is gone has nothing to close; one that is up expires the batch
  // after its idle timeout anyway.
  void CloseAll() {
    std::vector<v1::CloseRequest> requests(parts.size());
    std::vector<v1::CloseReply> replies(parts.size());
    std::vector<v1::CloseReply*> ptrs;
    std::vector<size_t> which;
    for (size_t p = 0; p < parts.size(); ++p) {
      requests[p].set_handle(parts[p].handle);
      ptrs.push_back(&replies[p]);
      if (parts[p].handle != 0 && !parts[p].worker->unresponsive) which.push_back(p);
    }
    if (which.empty()) return;
    try {
      CallAll(
          "Close", std::min(options.deadline, std::chrono::milliseconds(2000)), ptrs,
          [&](Part& part, grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
            return part.worker->stub->AsyncClose(ctx, requests[&part - parts.data()], cq);
          },
          which);
    } catch (const std::exception&) {
    }
  }

  void CopyStates(const char* method) {
    for (auto& p : parts) CheckState(p.worker->endpoint, method, p.state, p.end - p.begin, spec);
    for (auto& p : parts) {
      const size_t b = p.begin, n = p.end - p.begin;
      std::memcpy(&observations[b * spec.observation_size], p.state.observations().data(),
                  n * spec.observation_size * sizeof(float));
      std::memcpy(&masks[b * spec.num_actions], p.state.masks().data(), n * spec.num_actions);
      std::memcpy(&rewards[b], p.state.rewards().data(), n * sizeof(float));
      std::memcpy(&dones[b], p.state.dones().data(), n);
      std::memcpy(&accepted[b], p.state.accepted().data(), n);
      if (p.state.truncated().empty()) {
        std::fill_n(&truncated[b], n, 0);
      } else {
        std::memcpy(&truncated[b], p.state.truncated().data(), n);
      }
      // The final observations come packed, one row per done environment, in order.
      const size_t obs = spec.observation_size, acts = spec.num_actions;
      size_t row = 0;
      const bool finals = p.state.final_observations_size() != 0;
      for (size_t i = 0; i < n; ++i) {
        if (!dones[b + i]) continue;
        float* fo = &final_observations[(b + i) * obs];
        uint8_t* fm = &final_masks[(b + i) * acts];
        if (finals) {
          std::memcpy(fo, p.state.final_observations().data() + row * obs, obs * sizeof(float));
          std::memcpy(fm, p.state.final_masks().data() + row * acts, acts);
        } else {
          // A worker without them: the best left is the new episode's first observation.
          std::memcpy(fo, &observations[(b + i) * obs], obs * sizeof(float));
          std::memcpy(fm, &masks[(b + i) * acts], acts);
        }
        ++row;
      }
    }
  }
};

RemoteVecEnv::RemoteVecEnv(const std::vector<std::string>& endpoints, const twin::EnvConfig& config,
                           int num_envs, uint64_t seed, TwinClientOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (num_envs <= 0) throw std::invalid_argument("RemoteVecEnv: num_envs must be positive");
  Impl& m = *impl_;
  m.options = options;
  m.num_envs = num_envs;
  std::vector<std::shared_ptr<Worker>> workers = ConnectWorkers(endpoints, options);
  const int w = static_cast<int>(workers.size());
  for (int i = 0; i < w; ++i) {
    Impl::Part part;
    part.worker = workers[i];
    part.begin = static_cast<int>(static_cast<int64_t>(num_envs) * i / w);
    part.end = static_cast<int>(static_cast<int64_t>(num_envs) * (i + 1) / w);
    if (part.end > part.begin) m.parts.push_back(std::move(part));  // more workers than envs
  }
  const std::string config_json = config.ToJson().dump();
  std::vector<v1::OpenBatchRequest> requests(m.parts.size());
  std::vector<v1::OpenBatchReply> replies(m.parts.size());
  std::vector<v1::OpenBatchReply*> reply_ptrs;
  for (size_t p = 0; p < m.parts.size(); ++p) {
    v1::OpenBatchRequest& r = requests[p];
    r.set_config_json(config_json);
    r.set_batch_size(m.parts[p].end - m.parts[p].begin);
    r.set_seed(seed);
    r.set_first_index(m.parts[p].begin);
    r.set_total_envs(num_envs);
    r.set_client(ClientName(options));
    reply_ptrs.push_back(&replies[p]);
  }
  try {
    m.CallAll("OpenBatch", options.open_deadline, reply_ptrs,
              [&](Impl::Part& part, grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
                return part.worker->stub->AsyncOpenBatch(ctx, requests[&part - m.parts.data()], cq);
              });
  } catch (...) {
    for (size_t p = 0; p < m.parts.size(); ++p) m.parts[p].handle = replies[p].handle();
    m.CloseAll();  // the batches the other workers did open
    throw;
  }
  for (size_t p = 0; p < m.parts.size(); ++p) m.parts[p].handle = replies[p].handle();
  try {
    for (size_t p = 0; p < m.parts.size(); ++p) {
      twin::EnvSpec spec = ToSpec(replies[p].spec());
      CheckSpec(m.parts[p].worker->endpoint, spec, config.config_hash);
      if (p == 0) {
        m.spec = spec;
      } else if (spec.observation_size != m.spec.observation_size ||
                 spec.num_actions != m.spec.num_actions || spec.config_hash != m.spec.config_hash) {
        throw std::runtime_error(
            std::string(kRole) + " " + m.parts[p].worker->endpoint + " built " + spec.name + " (" +
            std::to_string(spec.observation_size) + " observations, " +
            std::to_string(spec.num_actions) + " actions, hash " + spec.config_hash + "), " +
            m.parts[0].worker->endpoint + " built " + m.spec.name + " (" +
            std::to_string(m.spec.observation_size) + ", " + std::to_string(m.spec.num_actions) +
            ", " + m.spec.config_hash + ")");
      }
    }
  } catch (...) {
    m.CloseAll();
    throw;
  }
  for (auto& part : m.parts) {
    part.step.set_handle(part.handle);
    part.step.mutable_actions()->Resize(part.end - part.begin, 0);
    part.reset.set_handle(part.handle);
  }
  m.observations.assign(static_cast<size_t>(num_envs) * m.spec.observation_size, 0.0f);
  m.masks.assign(static_cast<size_t>(num_envs) * m.spec.num_actions, 0);
  m.rewards.assign(num_envs, 0.0f);
  m.dones.assign(num_envs, 0);
  m.accepted.assign(num_envs, 0);
  m.truncated.assign(num_envs, 0);
  m.final_observations.assign(m.observations.size(), 0.0f);
  m.final_masks.assign(m.masks.size(), 0);
}

RemoteVecEnv::~RemoteVecEnv() { impl_->CloseAll(); }

const twin::EnvSpec& RemoteVecEnv::Spec() const { return impl_->spec; }
int RemoteVecEnv::NumEnvs() const { return impl_->num_envs; }

void RemoteVecEnv::Reset() {
  Impl& m = *impl_;
  m.CallAll("Reset", m.options.deadline, m.States(),
            [](Impl::Part& part, grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
              return part.worker->stub->AsyncReset(ctx, part.reset, cq);
            });
  m.CopyStates("Reset");
}

void RemoteVecEnv::Step(const int32_t* actions) {
  Impl& m = *impl_;
  for (auto& p : m.parts) {
    std::memcpy(p.step.mutable_actions()->mutable_data(), actions + p.begin,
                (p.end - p.begin) * sizeof(int32_t));
  }
  m.CallAll("Step", m.options.deadline, m.States(),
            [](Impl::Part& part, grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
              return part.worker->stub->AsyncStep(ctx, part.step, cq);
            });
  m.CopyStates("Step");
}

const float* RemoteVecEnv::Observations() const { return impl_->observations.data(); }
const uint8_t* RemoteVecEnv::Masks() const { return impl_->masks.data(); }
const float* RemoteVecEnv::Rewards() const { return impl_->rewards.data(); }
const uint8_t* RemoteVecEnv::Dones() const { return impl_->dones.data(); }
const uint8_t* RemoteVecEnv::Accepted() const { return impl_->accepted.data(); }
const uint8_t* RemoteVecEnv::Truncated() const { return impl_->truncated.data(); }
const float* RemoteVecEnv::FinalObservations() const {
  return impl_->final_observations.data();
}
const uint8_t* RemoteVecEnv::FinalMasks() const { return impl_->final_masks.data(); }

const std::string& RemoteVecEnv::EndpointOf(int env) const {
  for (const auto& p : impl_->parts) {
    if (env >= p.begin && env < p.end) return p.worker->endpoint;
  }
  throw std::out_of_range("RemoteVecEnv: no environment " + std::to_string(env));
}

std::unique_ptr<RemoteVecEnv> ConnectTwins(const std::vector<std::string>& endpoints,
                                           const twin::EnvConfig& config, int num_envs,
                                           uint64_t seed, TwinClientOptions options) {
  return std::make_unique<RemoteVecEnv>(endpoints, config, num_envs, seed, std::move(options));
}

TwinWorkerHealth CheckTwinWorker(const std::string& endpoint, RpcOptions options) {
  const std::string e = ParseEndpoint(endpoint);
  auto channel = internal::MakeChannel(e);
  auto stub = v1::TwinService::NewStub(channel);
  grpc::ClientContext ctx;
  internal::SetDeadline(&ctx, options.deadline);
  v1::HealthReply reply;
  grpc::Status status = stub->Health(&ctx, v1::HealthRequest(), &reply);
  if (!status.ok()) internal::Throw(kRole, e, "Health", status);
  TwinWorkerHealth h;
  h.endpoint = e;
  h.status = reply.status();
  h.version = reply.version();
  h.threads = reply.threads();
  h.open_batches = reply.open_batches();
  h.open_envs = reply.open_envs();
  h.steps_served = reply.steps_served();
  h.uptime_s = reply.uptime_s();
  return h;
}

}  // namespace eonops::proto
