// Shared by the proto tests: the tiny experiment (configs/experiments/tiny-test.json) with short
// episodes and warm-ups so that a few dozen steps cross several automatic resets, and a helper
// that picks reproducible actions (feasible ones mostly, masked and out-of-range ones sometimes).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "agents/options.h"
#include "twin/envs.h"
#include "twin/network.h"

namespace eonops::proto::testing {

inline agents::ExperimentConfig TinyExperiment() {
  return agents::LoadExperimentConfig(std::string(EONOPS_SOURCE_DIR) +
                                      "/configs/experiments/tiny-test.json");
}

// episode_length 9 and warm-up 40: resets every few steps and cheap.
inline twin::EnvConfig ShortEpisodes(int episode_length = 9, int warmup = 40) {
  agents::ExperimentConfig c = TinyExperiment();
  c.twin["env"]["episode_length"] = episode_length;
  c.twin["env"]["warmup"] = warmup;
  return twin::EnvConfig::FromJson(c.twin, c.source);
}

inline twin::VecEnv::Factory LocalFactory(const twin::EnvConfig& config) {
  return twin::MakeEnvFactory(std::make_shared<const twin::NetworkModel>(config.network), config);
}

// Actions for n environments from their masks: usually a random feasible action; every 7th
// draw a masked one and every 11th an out-of-range one (-1 or num_actions + 3), which the
// environment treats as a block.
class ActionPicker {
 public:
  explicit ActionPicker(uint64_t seed) : rng_(seed) {}
  void Pick(int n, int num_actions, const uint8_t* masks, int32_t* actions) {
    for (int i = 0; i < n; ++i) {
      const uint8_t* m = masks + static_cast<size_t>(i) * num_actions;
      const uint64_t draw = rng_();
      if (draw % 11 == 0) {
        actions[i] = (draw / 11) % 2 ? -1 : num_actions + 3;
        continue;
      }
      int feasible = 0;
      for (int a = 0; a < num_actions; ++a) feasible += m[a] != 0;
      if (draw % 7 == 0 || feasible == 0) {
        actions[i] = static_cast<int32_t>(draw % num_actions);
        continue;
      }
      int k = static_cast<int>((draw >> 8) % feasible);
      for (int a = 0; a < num_actions; ++a) {
        if (m[a] && k-- == 0) {
          actions[i] = a;
          break;
        }
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace eonops::proto::testing
