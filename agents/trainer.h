// The training loop: rollouts from a VecEnv -> algorithm updates (PPO or DQN), with progress
// reports, an evaluation hook, checkpoints that a run resumes from, and the policy export.
// The algorithms themselves (agents/ppo.h, agents/dqn.h) know nothing of this loop.
//
//   ExperimentConfig cfg = LoadExperimentConfig(path);
//   TrainerSetup setup;
//   setup.checkpoint_dir = out + "/checkpoint";
//   setup.logger = &logger;                       // any RunLogger, or null
//   setup.hooks.on_progress = [](const Progress& p) { DrawBar(p); };
//   setup.hooks.evaluate = [&](const Policy& policy, int64_t step) {
//     return std::map<std::string, double>{{"blocking", Evaluate(factory, policy,
//     opt).blocking.mean}};
//   };
//   Trainer trainer(cfg, [&] { return twin::MakeEnv(cfg.env); }, setup);
//   if (resume) trainer.LoadCheckpoint(setup.checkpoint_dir);
//   else if (!parent.empty()) trainer.WarmStart(parent);   // a served policy's artifact
//   TrainResult r = trainer.Train();
//   trainer.ExportPolicy(out + "/policy");
//
// Reproducibility: the constructor seeds torch (weights) with train.seed and sets
// at::set_num_threads(train.torch_threads); action sampling, minibatch shuffling and
// exploration draw from generators seeded from train.seed and saved in checkpoints. A run with
// the same config, seed and thread counts repeats bit for bit. On resume the learner state
// (weights, optimiser, normaliser, counters, generators) is restored exactly; environments are
// not checkpointable through twin::Env, so they restart fresh episodes seeded from
// (train.seed, env_steps).
//
// Torch-free header.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/distributed.h"
#include "agents/manifest.h"
#include "agents/options.h"
#include "agents/policy.h"
#include "agents/run_logger.h"
#include "twin/vec_env.h"

namespace eonops::agents {

struct Progress {
  int64_t env_steps = 0;
  int64_t total_steps = 0;
  int64_t updates = 0;
  int64_t episodes = 0;
  double elapsed_s = 0;
  double steps_per_second = 0;     // since the previous report, learning included
  double mean_episode_reward = 0;  // over the last train.episode_window episodes (NaN if none)
  double blocking = 0;             // 1 - accepted / steps since the previous report
  std::map<std::string, double> metrics;  // the last update's statistics (loss/..., train/...)
};

struct TrainerHooks {
  std::function<void(const Progress&)> on_progress;  // every train.log_interval steps
  // Every train.eval_interval steps and at the end of Train(), with a greedy snapshot of the
  // current policy; the returned metrics are logged as "eval/<name>".
  std::function<std::map<std::string, double>(const Policy&, int64_t env_steps)> evaluate;
  std::function<void(const std::string& checkpoint_dir)> on_checkpoint;
};

struct TrainerSetup {
  // Periodic (train.checkpoint_interval) and final checkpoints go here; empty: none.
  std::string checkpoint_dir;
  RunLogger* logger = nullptr;  // not owned; null logs nothing
  std::string run_id;           // for the manifest; empty: logger->RunId()
  TrainerHooks hooks;
  // Makes the batch of train.num_envs environments to train on, for a seed (called again with
  // a derived seed on resume). Empty: a local twin::VecEnv from the factory on
  // train.env_threads threads. Remote twin workers: proto::ConnectTwins(workers, env, n, seed).
  twin::BatchedEnvMaker make_envs;
  // Data-parallel PPO (agents/distributed.h); not owned; null or a group of one: alone. Every
  // rank runs a Trainer with the same config (train.total_steps is per rank) and its own
  // environments; give only rank 0 a logger, a checkpoint directory and an evaluate hook.
  DataParallelGroup* data_parallel = nullptr;
};

struct TrainResult {
  int64_t env_steps = 0;
  int64_t updates = 0;
  int64_t episodes = 0;
  double elapsed_s = 0;            // of this Train() call
  double steps_per_second = 0;     // of this Train() call
  double mean_episode_reward = 0;  // last episode window
  double blocking = 0;             // over this Train() call
};

// Fills config->model's action-feature offset and size from the environment's layout (field
// "action_features") for a candidate scorer; ConfigError when the environment has none or the
// run cannot train one (DQN; PPO with normalised observations).
void ConfigureCandidateScorer(const twin::EnvSpec& spec, ExperimentConfig* config);

class Trainer {
 public:
  Trainer(const ExperimentConfig& config, const twin::VecEnv::Factory& env_factory,
          TrainerSetup setup = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains until `until_steps` environment steps (default: train.total_steps), continuing from
  // where the last Train() or LoadCheckpoint() left off. PPO stops on whole rollouts, so it may
  // run up to one rollout (rollout_steps x num_envs) past the target.
  TrainResult Train(int64_t until_steps = -1);

  // A checkpoint is a directory (replaced atomically): state.json, model.pt, optimizer.pt, and
  // for DQN target.pt and replay.bin.
  void SaveCheckpoint(const std::string& dir) const;
  // Throws ConfigError when the checkpoint belongs to another algorithm, environment or
  // architecture.
  void LoadCheckpoint(const std::string& dir);

  // Starts from an exported policy's weights (and observation statistics) instead of a fresh
  // initialisation: fine-tuning a served policy on new traffic. The optimiser, counters and
  // generators stay fresh. Call before Train(). Throws ConfigError when the policy was trained
  // with another algorithm, environment, observation layout, architecture or normalisation.
  void WarmStart(const std::string& policy_dir);

  // Called by Train(): when `steps` lies past the schedules' horizon (train.schedule_steps, or
  // total_steps), extends them (agents/schedule.h) and returns what changed, one line each.
  std::vector<std::string> ExtendSchedules(int64_t steps);
  // The learning-rate (and epsilon) schedules as run, with any extension notes.
  nlohmann::json ScheduleJson() const;

  // The policy artifact (agents/policy.h) of the current weights.
  void ExportPolicy(const std::string& dir) const;
  Manifest MakeManifest() const;
  std::unique_ptr<Policy> SnapshotPolicy() const;

  int64_t env_steps() const;
  int64_t updates() const;
  const ExperimentConfig& config() const;
  const twin::EnvSpec& spec() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eonops::agents
