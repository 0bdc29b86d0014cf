// Evolution strategies for the candidate-scorer policy (EsOptions in agents/options.h).
//
// The policy is the same network PPO trains (ActorCriticImpl with policy "candidate-scorer");
// ES changes only its actor side (context, scorer, policy head), starting from the prior's
// policy. A generation draws `pairs` Gaussian directions, runs the twin's simulator once per
// perturbed greedy policy (theta +- sigma eps) on one seed shared by the whole generation, and
// moves theta along the directions weighted by the centred ranks of their fitness (Adam). A
// simulation measures what the benchmark measures (warm-up, then counted requests), so
// blocking that a decision causes hundreds of requests later counts in its fitness.
//
//   EsTrainer es(config, model, env, setup);   // config.train.algorithm == es
//   es.Train();                                 // config.es.generations (0: export the start)
//   es.ExportPolicy(out + "/policy");
//
// Reproducible for a given seed whatever the thread count (each simulation's seed and
// direction depend only on the generation and the pair). Checkpoints (a JSON file with theta,
// the Adam moments and the generator state) resume exactly.
//
// Torch-free header.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agents/manifest.h"
#include "agents/options.h"
#include "agents/policy.h"
#include "agents/run_logger.h"
#include "twin/envs.h"

namespace eonops::agents {

struct EsProgress {
  int generation = 0;  // completed generations
  int generations = 0;
  double mean_fitness = 0;  // over the generation's simulations
  double best_fitness = 0;
  double mean_blocking = 0;
  double elapsed_s = 0;
  double simulated_requests_per_second = 0;
};

struct EsSetup {
  std::string checkpoint_path;  // a JSON file; empty: none
  RunLogger* logger = nullptr;
  std::string run_id;
  int threads = 1;  // simulations in parallel
  // Start theta from this exported policy's actor instead of the prior (zero scorer): a policy
  // of the same scorer architecture, e.g. trained on another network (a linear scorer or one
  // without context reads only per-action features, so its weights fit any network). Empty: none.
  std::string init_policy_dir;
  std::function<void(const EsProgress&)> on_progress;
  // Every es.eval_interval generations and at the end, with a snapshot of the centre policy.
  std::function<std::map<std::string, double>(const Policy&, int generation)> evaluate;
};

class EsTrainer {
 public:
  EsTrainer(const ExperimentConfig& config, std::shared_ptr<const twin::NetworkModel> model,
            const twin::EnvConfig& env, EsSetup setup = {});
  ~EsTrainer();
  EsTrainer(const EsTrainer&) = delete;
  EsTrainer& operator=(const EsTrainer&) = delete;

  // Runs until `until_generation` (default: es.generations) generations are done.
  void Train(int until_generation = -1);
  void SaveCheckpoint(const std::string& path) const;
  void LoadCheckpoint(const std::string& path);

  int generation() const;
  Manifest MakeManifest() const;
  std::unique_ptr<Policy> SnapshotPolicy() const;
  void ExportPolicy(const std::string& dir) const;

  // The fitness of one simulation's figures under the configured objective.
  static double Fitness(const EsOptions& es, double blocking, double bit_rate_blocking, double power_w);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eonops::agents
