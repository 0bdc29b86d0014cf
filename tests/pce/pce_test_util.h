// Helpers shared by tests/pce and tests/tapi: temporary directories, small PCE configs, a tiny
// DRL policy trained for real (the agents Trainer, a few hundred steps) and registered in a
// tracking store the way a trainer would register it (run artifacts + model version + alias).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "agents/options.h"
#include "agents/trainer.h"
#include "pce/config.h"
#include "pce/pce.h"
#include "tracking/store.h"
#include "twin/envs.h"
#include "twin/traffic.h"

namespace eonops::pce::testing {

class TempDir {
 public:
  TempDir() {
    std::string templ =
        (std::filesystem::temp_directory_path() / "eonops-pce-test-XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The default config: K = 50 fewest-hop paths, serving the shipped ES policy (default_policy)
// until the registry has a champion.
inline PceConfig ShippedConfig() {
  return PceConfig::Load(std::string(EONOPS_SOURCE_DIR) + "/configs/pce.json");
}

// DeepRMSA's own setting (K = 5 by km, one block per path): the network the PPO/DQN experiment
// trains on, with no policy bound.
inline PceConfig DeepRmsaK5Config() {
  return PceConfig::Load(std::string(EONOPS_SOURCE_DIR) + "/configs/pce-nsfnet-k5.json");
}

// NSFNET with 40 slots of C band and K = 3: small enough that blocking and fallbacks happen
// within a few hundred requests and that a policy trains in about a second. The fallback is
// KSP-FF, whose decisions the tests reproduce by hand (the shipped config's is MSCL-KSP).
inline PceConfig SmallConfig() {
  PceConfig c = DeepRmsaK5Config();
  c.pce.fallback = "ksp-ff";
  c.network.slots_per_band = 40;
  c.network.k_paths = 3;
  c.traffic.load_erlang = 150;
  c.env.j_blocks = 2;
  c.env.warmup = 200;
  c.env.episode_length = 200;
  c.pce.policies.clear();
  c.pce.decision_log.flush_interval_ms = 50;
  c.pce.registry_poll_ms = 100;
  return c;
}

// The env_config a trainer records for `c` (network / traffic / env sections).
inline nlohmann::json EnvConfigJson(const PceConfig& c) {
  return {
      {"network", c.network.ToJson()}, {"traffic", c.traffic.ToJson()}, {"env", c.env.ToJson()}};
}

// Trains PPO for `steps` environment steps on `c`'s deeprmsa environment and exports the policy
// to `dir`. Different seeds give different policies. Results are cached per (config, seed,
// steps) within a test binary, since training is the slow part.
inline std::string TrainTinyPolicy(const PceConfig& c, const std::string& dir, uint64_t seed,
                                   int64_t steps = 512) {
  static std::mutex mutex;
  static std::map<std::string, std::string> cache;
  static TempDir cache_root;
  const nlohmann::json env_json = EnvConfigJson(c);
  const std::string key =
      env_json.dump() + "/" + std::to_string(seed) + "/" + std::to_string(steps);
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) {
    agents::ExperimentConfig cfg = agents::LoadExperimentConfig(
        std::string(EONOPS_SOURCE_DIR) + "/configs/experiments/tiny-test.json");
    cfg.name = "pce-test";
    cfg.twin = env_json;
    cfg.train.total_steps = steps;
    cfg.train.num_envs = 2;
    cfg.train.seed = seed;
    cfg.train.log_interval = steps;
    twin::EnvConfig ec = twin::EnvConfig::FromJson(env_json, "pce-test");
    auto model = std::make_shared<const twin::NetworkModel>(ec.network);
    agents::Trainer trainer(cfg, twin::MakeEnvFactory(model, ec));
    trainer.Train();
    const std::string out = cache_root / ("policy-" + std::to_string(cache.size()));
    trainer.ExportPolicy(out);
    it = cache.emplace(key, out).first;
  }
  std::filesystem::remove_all(dir);
  std::filesystem::copy(it->second, dir, std::filesystem::copy_options::recursive);
  return dir;
}

// Logs the artifact directory as run artifacts under "policy/", registers a model version with
// source runs:/<run>/policy and, when `alias` is given, points the alias at it.
inline int64_t RegisterPolicy(tracking::TrackingStore& store, const std::string& dir,
                              const std::string& model, const std::string& alias = "champion") {
  tracking::CreateRunOptions ro;
  ro.experiment_id = store.GetOrCreateExperiment("train");
  ro.run_name = "train-" + model;
  const std::string run = store.CreateRun(ro).info.run_id;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    store.LogArtifact(run, f.path().string(), "policy");
  store.EndRun(run);
  try {
    store.CreateRegisteredModel(model);
  } catch (const std::exception&) {
    // already registered
  }
  const int64_t v = store.CreateModelVersion(model, "runs:/" + run + "/policy", run).version;
  if (!alias.empty()) store.SetAlias(model, alias, v, "test");
  return v;
}

// Creates and deletes services on `pce` like `eonops loadgen`: before each arrival the services
// whose twin holding time ended are deleted, then the arrival is a create. With
// `seconds_per_unit` > 0 arrivals are paced in real time (one twin time unit = that many
// seconds), so holding times and rates measured on the PCE's clock follow the twin's.
class TrafficDriver {
 public:
  TrafficDriver(pce::Pce& pce, const twin::TrafficConfig& traffic, uint64_t seed,
                double seconds_per_unit = 0.0)
      : pce_(pce),
        gen_(traffic, pce.model().topology().NumNodes(), seed),
        seconds_per_unit_(seconds_per_unit),
        start_(std::chrono::steady_clock::now()) {}
  void Reconfigure(const twin::TrafficConfig& traffic) { gen_.Reconfigure(traffic); }
  // Drives `n` arrivals; returns how many were accepted (and which, in `accepted`).
  int64_t Run(int64_t n, std::vector<bool>* accepted_each = nullptr) {
    int64_t accepted = 0;
    for (int64_t i = 0; i < n; ++i) {
      const twin::Request r = gen_.Next();
      if (seconds_per_unit_ > 0)
        std::this_thread::sleep_until(start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                   std::chrono::duration<double>(r.arrival_time * seconds_per_unit_)));
      while (!departures_.empty() && departures_.top().first <= r.arrival_time) {
        pce_.DeleteService(departures_.top().second);
        departures_.pop();
      }
      pce::ServiceSpec spec;
      spec.request.src = r.src;
      spec.request.dst = r.dst;
      spec.request.bit_rate_gbps = r.bit_rate_gbps;
      spec.request.latency_bound_us = r.latency_bound_us;
      auto res = pce_.CreateService(spec);
      if (accepted_each) accepted_each->push_back(res.ok());
      if (res.ok()) {
        ++accepted;
        departures_.push({r.arrival_time + r.holding_time, res.value->uuid});
      }
    }
    return accepted;
  }
  void DeleteAll() {
    while (!departures_.empty()) {
      pce_.DeleteService(departures_.top().second);
      departures_.pop();
    }
  }

 private:
  using Departure = std::pair<double, std::string>;
  pce::Pce& pce_;
  twin::TrafficGenerator gen_;
  double seconds_per_unit_;
  std::chrono::steady_clock::time_point start_;
  std::priority_queue<Departure, std::vector<Departure>, std::greater<Departure>> departures_;
};

inline tracking::StoreOptions StoreIn(const TempDir& dir) {
  tracking::StoreOptions o;
  o.db_path = dir / "tracking.db";
  o.artifact_root = dir / "artifacts";
  return o;
}

}  // namespace eonops::pce::testing
