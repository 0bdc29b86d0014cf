#include "proto/twin_server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agents/manifest.h"
#include "proto/rpc_internal.h"
#include "proto/twin.grpc.pb.h"
#include "proto/work_pool.h"
#include "twin/envs.h"
#include "twin/network.h"

namespace eonops::proto {

using internal::InvalidArgument;

namespace {

// One learner's slice of environments.
struct Batch {
  std::mutex mutex;  // one call at a time per batch
  std::vector<std::unique_ptr<twin::Env>> envs;
  twin::EnvSpec spec;
  uint64_t seed = 0;
  uint64_t first_index = 0, total_envs = 0;
  bool manual_reset = false;
  std::vector<uint64_t> resets;  // per env: automatic resets since the last Reset
  // Scratch for the last observation and mask of environments that a Step resets.
  std::vector<float> final_observations;
  std::vector<uint8_t> final_masks;
  bool started = false;
  uint64_t steps = 0;
  std::string client;
  std::atomic<int64_t> last_used_ms{0};
};

void FillSpec(const twin::EnvSpec& s, v1::EnvSpec* out) {
  out->set_name(s.name);
  out->set_observation_size(s.observation_size);
  out->set_num_actions(s.num_actions);
  for (const auto& f : s.observation_layout) {
    v1::ObservationField* o = out->add_observation_layout();
    o->set_name(f.name);
    o->set_offset(f.offset);
    o->set_size(f.size);
    o->set_description(f.description);
  }
  out->set_action_description(s.action_description);
  out->set_reward_description(s.reward_description);
  out->set_config_hash(s.config_hash);
}

// Sizes the reply's arrays for the batch; environments then write straight into them.
void SizeState(const Batch& b, v1::BatchState* state) {
  const int n = static_cast<int>(b.envs.size());
  state->set_batch_size(n);
  state->mutable_observations()->Resize(n * b.spec.observation_size, 0.0f);
  state->mutable_masks()->assign(static_cast<size_t>(n) * b.spec.num_actions, '\0');
  state->mutable_rewards()->Resize(n, 0.0f);
  state->mutable_dones()->assign(n, '\0');
  state->mutable_accepted()->assign(n, '\0');
  state->mutable_truncated()->assign(n, '\0');
  state->clear_final_observations();
  state->clear_final_masks();
}

}  // namespace

struct TwinServer::Impl final : public v1::TwinService::Service {
  explicit Impl(TwinServerOptions o) : options(std::move(o)), pool(std::max(1, options.threads)) {
    std::random_device rd;
    handle_rng.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
  }

  TwinServerOptions options;
  internal::WorkPool pool;
  std::unique_ptr<grpc::Server> server;
  int selected_port = 0;
  const std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

  mutable std::mutex mutex;  // batches, counters, handle_rng
  std::unordered_map<uint64_t, std::shared_ptr<Batch>> batches;
  int64_t open_envs = 0;
  int64_t batches_expired = 0;
  std::mt19937_64 handle_rng;
  std::atomic<int64_t> steps_served{0};

  // Network models are read-only and shared by every batch built on the same network section.
  std::mutex model_mutex;
  std::map<std::string, std::weak_ptr<const twin::NetworkModel>> models;

  std::thread reaper;
  std::mutex reaper_mutex;
  std::condition_variable reaper_cv;
  bool stopping = false;

  void Log(const std::string& line) const {
    if (options.log) std::clog << "eonops twin: " << line << std::endl;
  }

  std::shared_ptr<const twin::NetworkModel> Model(const twin::NetworkOptions& network) {
    const std::string key = network.ToJson().dump() + "|" + network.config_dir;
    std::lock_guard<std::mutex> lock(model_mutex);
    if (auto m = models[key].lock()) return m;
    auto m = std::make_shared<const twin::NetworkModel>(network);
    models[key] = m;
    return m;
  }

  std::shared_ptr<Batch> Find(uint64_t handle) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = batches.find(handle);
    if (it == batches.end()) return nullptr;
    it->second->last_used_ms = internal::NowMs();
    return it->second;
  }

  static grpc::Status UnknownHandle(uint64_t handle) {
    return InvalidArgument("unknown batch handle " + std::to_string(handle) +
                           " (closed, expired after the idle timeout, or opened on a worker that "
                           "has restarted since)");
  }

  grpc::Status OpenBatch(grpc::ServerContext* context, const v1::OpenBatchRequest* request,
                         v1::OpenBatchReply* reply) override {
    if (request->batch_size() < 1) {
      return InvalidArgument("batch_size must be at least 1, got " +
                             std::to_string(request->batch_size()));
    }
    if (request->first_index() < 0) {
      return InvalidArgument("first_index must not be negative, got " +
                             std::to_string(request->first_index()));
    }
    const int64_t total =
        request->total_envs() == 0 ? request->batch_size() : request->total_envs();
    if (static_cast<int64_t>(request->first_index()) + request->batch_size() > total) {
      return InvalidArgument("first_index " + std::to_string(request->first_index()) +
                             " + batch_size " + std::to_string(request->batch_size()) +
                             " exceeds total_envs " + std::to_string(total));
    }
    if (request->batch_size() > options.max_envs) {
      return InvalidArgument("batch_size " + std::to_string(request->batch_size()) +
                             " exceeds this worker's limit of " + std::to_string(options.max_envs) +
                             " environments");
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(request->config_json());
    } catch (const nlohmann::json::exception& e) {
      return InvalidArgument(std::string("config_json is not JSON: ") + e.what());
    }
    if (!j.is_object())
      return InvalidArgument("config_json must be a JSON object with network/traffic/env sections");
    // An experiment file carries learner sections too; the twin reads only its own.
    nlohmann::json twin_sections = nlohmann::json::object();
    for (const char* key : {"network", "traffic", "env"}) {
      if (j.contains(key)) twin_sections[key] = j[key];
    }
    if (!request->use_case().empty()) {
      try {
        twin::ParseUseCase(request->use_case());
      } catch (const std::exception& e) {
        return InvalidArgument("use_case: " + std::string(e.what()));
      }
      if (!twin_sections.contains("env")) twin_sections["env"] = nlohmann::json::object();
      if (!twin_sections["env"].is_object())
        return InvalidArgument("config_json.env must be an object");
      twin_sections["env"]["use_case"] = request->use_case();
    }
    twin::EnvConfig config;
    try {
      config = twin::EnvConfig::FromJson(twin_sections, "config_json");
    } catch (const std::exception& e) {
      return InvalidArgument(e.what());
    }
    config.network.config_dir = options.config_dir;

    {
      std::lock_guard<std::mutex> lock(mutex);
      if (open_envs + request->batch_size() > options.max_envs) {
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "this worker has " + std::to_string(open_envs) +
                                " environments open; " + std::to_string(request->batch_size()) +
                                " more exceed its limit of " + std::to_string(options.max_envs));
      }
      open_envs += request->batch_size();  // reserved while building
    }
    auto batch = std::make_shared<Batch>();
    try {
      auto model = Model(config.network);
      twin::VecEnv::Factory factory = twin::MakeEnvFactory(model, config);
      batch->envs.reserve(request->batch_size());
      for (int i = 0; i < request->batch_size(); ++i) batch->envs.push_back(factory());
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex);
      open_envs -= request->batch_size();
      // The config parsed but names something this worker cannot build (a topology file it
      // does not have, a band that is not in its bands.json, ...).
      return InvalidArgument(std::string("cannot build the environments: ") + e.what());
    }
    batch->spec = batch->envs.front()->Spec();
    batch->seed = request->seed();
    batch->first_index = request->first_index();
    batch->total_envs = total;
    batch->manual_reset = request->manual_reset();
    batch->resets.assign(batch->envs.size(), 0);
    batch->client = request->client().empty() ? context->peer()
                                              : request->client() + " (" + context->peer() + ")";
    batch->last_used_ms = internal::NowMs();
    uint64_t handle;
    {
      std::lock_guard<std::mutex> lock(mutex);
      do {
        handle = handle_rng() >> 1;  // a positive int64 too, for clients that print it as signed
      } while (handle == 0 || batches.count(handle));
      batches.emplace(handle, batch);
    }
    reply->set_handle(handle);
    FillSpec(batch->spec, reply->mutable_spec());
    reply->set_worker_version(agents::EonopsVersion());
    const std::string seeding =
        batch->manual_reset
            ? "seeded by the client"
            : "envs " + std::to_string(request->first_index()) + ".." +
                  std::to_string(request->first_index() + request->batch_size() - 1) + " of " +
                  std::to_string(total) + ", seed " + std::to_string(request->seed());
    Log("opened batch " + std::to_string(handle) + ": " + std::to_string(request->batch_size()) +
        " x " + batch->spec.name + " (" + seeding + ") for " + batch->client);
    return grpc::Status::OK;
  }

  grpc::Status Reset(grpc::ServerContext*, const v1::ResetRequest* request,
                     v1::BatchState* reply) override {
    std::shared_ptr<Batch> b = Find(request->handle());
    if (!b) return UnknownHandle(request->handle());
    std::lock_guard<std::mutex> lock(b->mutex);
    const int n = static_cast<int>(b->envs.size());
    if (request->seeds_size() != 0 && request->seeds_size() != n) {
      return InvalidArgument("seeds: expected none or one per environment (" + std::to_string(n) +
                             "), got " + std::to_string(request->seeds_size()));
    }
    SizeState(*b, reply);
    const int obs_size = b->spec.observation_size, num_actions = b->spec.num_actions;
    float* obs = reply->mutable_observations()->mutable_data();
    uint8_t* masks = reinterpret_cast<uint8_t*>(&(*reply->mutable_masks())[0]);
    try {
      pool.ParallelFor(n, [&](int i) {
        const uint64_t seed =
            request->seeds_size() ? request->seeds(i) : b->seed + b->first_index + i;
        b->envs[i]->Reset(seed, obs + static_cast<size_t>(i) * obs_size,
                          masks + static_cast<size_t>(i) * num_actions);
      });
    } catch (const std::exception& e) {
      b->started = false;
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          std::string("environment reset failed: ") + e.what());
    }
    if (request->seeds_size() == 0) b->resets.assign(n, 0);
    b->started = true;
    reply->set_steps(b->steps);
    return grpc::Status::OK;
  }

  grpc::Status Step(grpc::ServerContext*, const v1::StepRequest* request,
                    v1::BatchState* reply) override {
    std::shared_ptr<Batch> b = Find(request->handle());
    if (!b) return UnknownHandle(request->handle());
    std::lock_guard<std::mutex> lock(b->mutex);
    const int n = static_cast<int>(b->envs.size());
    if (request->actions_size() != n) {
      return InvalidArgument("actions: expected one per environment (" + std::to_string(n) +
                             "), got " + std::to_string(request->actions_size()));
    }
    if (!b->started) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "Reset the batch before its first Step");
    }
    SizeState(*b, reply);
    const int obs_size = b->spec.observation_size, num_actions = b->spec.num_actions;
    float* obs = reply->mutable_observations()->mutable_data();
    uint8_t* masks = reinterpret_cast<uint8_t*>(&(*reply->mutable_masks())[0]);
    float* rewards = reply->mutable_rewards()->mutable_data();
    char* dones = &(*reply->mutable_dones())[0];
    char* accepted = &(*reply->mutable_accepted())[0];
    char* truncated = &(*reply->mutable_truncated())[0];
    b->final_observations.resize(static_cast<size_t>(n) * obs_size);
    b->final_masks.resize(static_cast<size_t>(n) * num_actions);
    try {
      pool.ParallelFor(n, [&](int i) {
        float* o = obs + static_cast<size_t>(i) * obs_size;
        uint8_t* m = masks + static_cast<size_t>(i) * num_actions;
        const twin::StepResult r = b->envs[i]->Step(request->actions(i), o, m);
        rewards[i] = r.reward;
        dones[i] = r.done;
        accepted[i] = r.accepted;
        truncated[i] = r.done && r.truncated;
        if (r.done && !b->manual_reset) {
          std::copy_n(o, obs_size, &b->final_observations[static_cast<size_t>(i) * obs_size]);
          std::copy_n(m, num_actions, &b->final_masks[static_cast<size_t>(i) * num_actions]);
          // twin::VecEnv's reseeding, over the learner's whole vector of environments.
          ++b->resets[i];
          b->envs[i]->Reset(b->seed + (b->first_index + i) + b->total_envs * b->resets[i], o, m);
        }
      });
      if (!b->manual_reset) {
        for (int i = 0; i < n; ++i) {
          if (!dones[i]) continue;
          const float* fo = &b->final_observations[static_cast<size_t>(i) * obs_size];
          reply->mutable_final_observations()->Add(fo, fo + obs_size);
          reply->mutable_final_masks()->append(
              reinterpret_cast<const char*>(&b->final_masks[static_cast<size_t>(i) * num_actions]),
              num_actions);
        }
      }
    } catch (const std::exception& e) {
      // An environment is in an unknown state: the batch must be reset.
      b->started = false;
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          std::string("environment step failed: ") + e.what());
    }
    ++b->steps;
    steps_served += n;
    reply->set_steps(b->steps);
    return grpc::Status::OK;
  }

  grpc::Status Close(grpc::ServerContext*, const v1::CloseRequest* request,
                     v1::CloseReply*) override {
    std::shared_ptr<Batch> b;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = batches.find(request->handle());
      if (it == batches.end()) return UnknownHandle(request->handle());
      b = std::move(it->second);
      batches.erase(it);
      open_envs -= static_cast<int64_t>(b->envs.size());
    }
    Log("closed batch " + std::to_string(request->handle()) + " of " + b->client + " after " +
        std::to_string(b->steps) + " steps");
    return grpc::Status::OK;
  }

  grpc::Status Health(grpc::ServerContext*, const v1::HealthRequest*,
                      v1::HealthReply* reply) override {
    reply->set_status("SERVING");
    reply->set_version(agents::EonopsVersion());
    reply->set_threads(pool.parallelism());
    {
      std::lock_guard<std::mutex> lock(mutex);
      reply->set_open_batches(static_cast<int>(batches.size()));
      reply->set_open_envs(open_envs);
    }
    reply->set_steps_served(steps_served);
    reply->set_uptime_s(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count());
    return grpc::Status::OK;
  }

  void ReaperLoop() {
    const auto period = std::chrono::milliseconds(std::clamp<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(options.idle_timeout).count() / 4, 10,
        30000));
    std::unique_lock<std::mutex> lock(reaper_mutex);
    while (!reaper_cv.wait_for(lock, period, [&] { return stopping; })) {
      const int64_t cutoff =
          internal::NowMs() -
          std::chrono::duration_cast<std::chrono::milliseconds>(options.idle_timeout).count();
      std::vector<std::pair<uint64_t, std::shared_ptr<Batch>>> expired;
      {
        std::lock_guard<std::mutex> l(mutex);
        for (auto it = batches.begin(); it != batches.end();) {
          if (it->second->last_used_ms < cutoff) {
            open_envs -= static_cast<int64_t>(it->second->envs.size());
            expired.emplace_back(it->first, std::move(it->second));
            it = batches.erase(it);
            ++batches_expired;
          } else {
            ++it;
          }
        }
      }
      for (const auto& [handle, b] : expired) {
        Log("expired batch " + std::to_string(handle) + " of " + b->client +
            " (idle for more than " + std::to_string(options.idle_timeout.count()) + " s)");
      }
    }
  }
};

TwinServer::TwinServer(TwinServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  if (impl_->options.threads < 1)
    throw std::invalid_argument("TwinServer: threads must be at least 1");
  if (impl_->options.max_envs < 1)
    throw std::invalid_argument("TwinServer: max_envs must be at least 1");
  if (impl_->options.idle_timeout.count() < 1)
    throw std::invalid_argument("TwinServer: idle_timeout must be positive");
}

TwinServer::~TwinServer() { Stop(); }

int TwinServer::Start() {
  Impl& m = *impl_;
  if (m.server) throw std::logic_error("TwinServer: already started");
  grpc::ServerBuilder builder;
  internal::ConfigureServer(&builder, m.options.host, m.options.port, &m.selected_port);
  builder.RegisterService(&m);
  m.server = internal::StartServer(&builder, "twin server", m.options.host, m.options.port,
                                   &m.selected_port);
  m.reaper = std::thread([&m] { m.ReaperLoop(); });
  return m.selected_port;
}

void TwinServer::Stop(std::chrono::milliseconds grace) {
  Impl& m = *impl_;
  if (m.server) m.server->Shutdown(std::chrono::system_clock::now() + grace);
  {
    std::lock_guard<std::mutex> lock(m.reaper_mutex);
    m.stopping = true;
  }
  m.reaper_cv.notify_all();
  if (m.reaper.joinable()) m.reaper.join();
}

void TwinServer::Wait() {
  if (impl_->server) impl_->server->Wait();
}

int TwinServer::port() const { return impl_->selected_port; }

TwinServerStats TwinServer::Stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  TwinServerStats s;
  s.open_batches = static_cast<int>(impl_->batches.size());
  s.open_envs = impl_->open_envs;
  s.steps_served = impl_->steps_served;
  s.batches_expired = impl_->batches_expired;
  return s;
}

}  // namespace eonops::proto
