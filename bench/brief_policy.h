// A policy for a PCE config's network, trained briefly: benchmarks need one that fits the
// network (its speed or its poorness matters, not its skill).
//
//   const std::string dir = bench::TrainBriefly(config, "experiments/tiny-test.json", 64, 5, out);
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "agents/options.h"
#include "agents/trainer.h"
#include "pce/config.h"
#include "twin/envs.h"
#include "twin/topology.h"

namespace eonops::bench {

// Trains `steps` environment steps with the learner sections of `experiment` (under configs/) on
// `config`'s twin (2 environments, 200-request warm-up) and exports the policy to `out`.
inline std::string TrainBriefly(const pce::PceConfig& config, const std::string& experiment,
                                int64_t steps, uint64_t seed, const std::string& out) {
  agents::ExperimentConfig cfg = agents::LoadExperimentConfig(twin::ConfigDir() + "/" + experiment);
  nlohmann::json env = {{"network", config.network.ToJson()},
                        {"traffic", config.traffic.ToJson()},
                        {"env", config.env.ToJson()}};
  env["env"]["warmup"] = 200;
  cfg.twin = env;
  cfg.train.total_steps = steps;
  cfg.train.num_envs = 2;
  cfg.train.seed = seed;
  cfg.train.log_interval = steps;
  cfg.train.eval_interval = 0;
  cfg.train.checkpoint_interval = 0;
  cfg.ppo.rollout_steps = std::min<int>(cfg.ppo.rollout_steps, static_cast<int>(std::max<int64_t>(steps / 2, 16)));
  twin::EnvConfig ec = twin::EnvConfig::FromJson(env, "bench");
  auto model = std::make_shared<const twin::NetworkModel>(ec.network);
  agents::Trainer trainer(cfg, twin::MakeEnvFactory(model, ec));
  trainer.Train();
  trainer.ExportPolicy(out);
  return out;
}

}  // namespace eonops::bench
