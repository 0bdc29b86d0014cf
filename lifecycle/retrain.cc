#include "lifecycle/retrain.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "agents/es.h"
#include "twin/envs.h"
#include "twin/json_util.h"

namespace eonops::lifecycle {

namespace fs = std::filesystem;

twin::TrafficConfig CalibrateTraffic(const twin::TrafficConfig& reference,
                                     const std::vector<pce::TraceEvent>& arrivals,
                                     double measured_load_erlang, bool bit_rates_drifted,
                                     const RetrainOptions& options, int n) {
  twin::TrafficConfig t = reference;
  // The twin draws arrivals at load_erlang / mean holding; with truncated holding times the
  // offered load it produces is smaller by TruncatedMeanFactor, so scale the measure back.
  if (std::isfinite(measured_load_erlang) && measured_load_erlang > 0)
    t.load_erlang = measured_load_erlang / TruncatedMeanFactor(t.holding_truncate_factor);
  std::vector<double> counts(static_cast<size_t>(n) * n, 0.0);
  int64_t seen = 0;
  for (const auto& e : arrivals) {
    if (e.src < 0 || e.dst < 0 || e.src >= n || e.dst >= n || e.src == e.dst) continue;
    counts[e.src * n + e.dst] += 1;
    ++seen;
  }
  if (seen > 0) {
    for (int s = 0; s < n; ++s)
      for (int d = 0; d < n; ++d) counts[s * n + d] = s == d ? 0.0 : counts[s * n + d] + options.pair_smoothing;
    t.traffic_matrix = counts;
  }
  if (bit_rates_drifted && !arrivals.empty()) {
    std::map<std::pair<double, double>, double> classes;  // (rate, bound) -> count
    for (const auto& e : arrivals) classes[{e.bit_rate_gbps, e.latency_bound_us}] += 1;
    t.classes.clear();
    for (const auto& [key, w] : classes) {
      twin::BitRateClass k;
      k.bit_rate_gbps = key.first;
      k.latency_bound_us = key.second;
      k.weight = w;
      t.classes.push_back(k);
    }
  }
  t.Validate(n);
  return t;
}

agents::ExperimentConfig RetrainExperiment(const LifecycleConfig& config,
                                           const pce::PceConfig& pce_config,
                                           const std::optional<agents::Manifest>& parent,
                                           const twin::TrafficConfig& traffic, uint64_t seed,
                                           const std::string& name) {
  const bool es = parent && parent->algorithm == "es";
  const std::string path = es ? config.EsExperimentPath() : config.ExperimentPath();
  nlohmann::json j;
  try {
    j = twin::ReadJsonFile(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(config.origin + (es ? ": retrain.es_experiment: " : ": retrain.experiment: ") +
                             e.what());
  }
  if (!j.is_object()) throw std::runtime_error(path + ": expected an object");
  // The parent's twin: what its observation layout was built from.
  if (parent && parent->env_config.is_object() && !parent->env_config.empty()) {
    for (const auto& section : agents::ExperimentConfig::TwinSections()) {
      j.erase(section);
      if (parent->env_config.contains(section)) j[section] = parent->env_config[section];
    }
  } else {
    j["network"] = pce_config.network.ToJson();
    j["env"] = pce_config.env.ToJson();
    j.erase("measurement");
  }
  j.merge_patch(config.retrain.overrides);
  j["traffic"] = traffic.ToJson();
  agents::ExperimentConfig cfg = agents::ParseExperimentConfig(j, path + " (lifecycle retrain)");
  cfg.name = name;
  cfg.train.total_steps = config.retrain.steps;
  cfg.train.checkpoint_interval = config.retrain.checkpoint_steps;
  cfg.train.seed = seed;
  if (parent) {
    cfg.train.algorithm = es                           ? agents::Algorithm::kEs
                          : parent->algorithm == "dqn" ? agents::Algorithm::kDqn
                                                       : agents::Algorithm::kPpo;
    cfg.model = parent->architecture;
    cfg.train.normalize_observations = parent->normalization.has_value();
  }
  if (cfg.train.algorithm == agents::Algorithm::kEs) {
    // The budget in simulated requests (warm-up included), as many whole generations as fit.
    cfg.es.generations = static_cast<int>(
        std::clamp<int64_t>(config.retrain.steps / cfg.es.RequestsPerGeneration(), 1, 100000));
  }
  return cfg;
}

namespace {

// Evolution strategies from the parent's weights (agents/es.h); a checkpoint file in
// `checkpoint_dir` is written every es.eval_interval generations and at the end, and resumed
// after a crash (from the last one written).
RetrainOutcome RetrainEs(const agents::ExperimentConfig& config, const twin::EnvConfig& env,
                         std::shared_ptr<const twin::NetworkModel> model, const std::string& parent_dir,
                         const std::string& checkpoint_dir, const std::string& tmp,
                         const std::function<void(const agents::Progress&)>& on_progress) {
  RetrainOutcome out;
  agents::EsSetup setup;
  setup.threads = std::max(1, config.train.env_threads);
  if (!checkpoint_dir.empty()) {
    fs::create_directories(checkpoint_dir);
    setup.checkpoint_path = checkpoint_dir + "/es_state.json";
  }
  const bool resume = !setup.checkpoint_path.empty() && fs::exists(setup.checkpoint_path);
  if (!resume) setup.init_policy_dir = parent_dir;
  const int64_t per_generation = config.es.RequestsPerGeneration();
  setup.on_progress = [&](const agents::EsProgress& p) {
    out.blocking = p.mean_blocking;
    if (!on_progress) return;
    agents::Progress q;
    q.env_steps = p.generation * per_generation;
    q.total_steps = p.generations * per_generation;
    q.updates = p.generation;
    q.elapsed_s = p.elapsed_s;
    q.steps_per_second = p.simulated_requests_per_second;
    q.mean_episode_reward = p.mean_fitness;
    q.blocking = p.mean_blocking;
    q.metrics["es/mean_fitness"] = p.mean_fitness;
    q.metrics["es/best_fitness"] = p.best_fitness;
    on_progress(q);
  };
  agents::EsTrainer trainer(config, std::move(model), env, setup);
  if (resume) {
    trainer.LoadCheckpoint(setup.checkpoint_path);
    out.resumed = true;
  } else {
    out.warm_started = !parent_dir.empty();
  }
  trainer.Train();
  trainer.ExportPolicy(tmp);
  out.env_steps = trainer.MakeManifest().train_steps;
  return out;
}

// PPO or DQN (agents::Trainer) from the parent's weights, or its own checkpoint after a crash.
RetrainOutcome RetrainGradient(const agents::ExperimentConfig& config, const twin::EnvConfig& env,
                               std::shared_ptr<const twin::NetworkModel> model, const std::string& parent_dir,
                               const std::string& checkpoint_dir, const std::string& tmp,
                               std::function<void(const agents::Progress&)> on_progress) {
  agents::TrainerSetup setup;
  setup.checkpoint_dir = checkpoint_dir;
  setup.hooks.on_progress = std::move(on_progress);
  agents::Trainer trainer(config, twin::MakeEnvFactory(std::move(model), env), setup);
  RetrainOutcome out;
  if (!checkpoint_dir.empty() && fs::exists(fs::path(checkpoint_dir) / "state.json")) {
    trainer.LoadCheckpoint(checkpoint_dir);
    out.resumed = true;
  } else if (!parent_dir.empty()) {
    trainer.WarmStart(parent_dir);
    out.warm_started = true;
  }
  const agents::TrainResult r = trainer.Train();
  trainer.ExportPolicy(tmp);
  out.env_steps = trainer.env_steps();
  out.blocking = r.blocking;
  return out;
}

}  // namespace

RetrainOutcome Retrain(const agents::ExperimentConfig& config, const std::string& parent_dir,
                       const std::string& checkpoint_dir, const std::string& out_dir,
                       std::function<void(const agents::Progress&)> on_progress) {
  const auto start = std::chrono::steady_clock::now();
  const twin::EnvConfig env = twin::EnvConfig::FromJson(config.twin, config.name);
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  const std::string tmp = out_dir + ".tmp";
  fs::remove_all(tmp);
  RetrainOutcome out =
      config.train.algorithm == agents::Algorithm::kEs
          ? RetrainEs(config, env, model, parent_dir, checkpoint_dir, tmp, on_progress)
          : RetrainGradient(config, env, model, parent_dir, checkpoint_dir, tmp, std::move(on_progress));
  fs::remove_all(out_dir);
  fs::rename(tmp, out_dir);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace eonops::lifecycle
