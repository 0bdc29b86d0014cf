// Small environments for the agents tests: fast, with known optimal policies.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "agents/options.h"
#include "twin/env.h"
#include "twin/vec_env.h"

namespace eonops::agents::testing {

// Two arms, one step per episode: arm 1 pays 1 (and is "accepted"), arm 0 pays 0. The
// observation is a constant, so the episode seed changes nothing.
class TwoArmedBandit : public twin::Env {
 public:
  TwoArmedBandit() {
    spec_.name = "two-armed-bandit";
    spec_.observation_size = 1;
    spec_.num_actions = 2;
    spec_.observation_layout = {{"bias", 0, 1, "always 1"}};
    spec_.action_description = "arm index";
    spec_.reward_description = "1 for arm 1, 0 for arm 0";
    spec_.config_hash = "bandit-v1";
  }
  const twin::EnvSpec& Spec() const override { return spec_; }
  void Reset(uint64_t, float* obs, uint8_t* mask) override { Write(obs, mask); }
  twin::StepResult Step(int action, float* obs, uint8_t* mask) override {
    Write(obs, mask);
    return {action == 1 ? 1.0f : 0.0f, true, action == 1};
  }

 private:
  static void Write(float* obs, uint8_t* mask) {
    obs[0] = 1.0f;
    mask[0] = mask[1] = 1;
  }
  twin::EnvSpec spec_;
};

// A process that never ends: reward 1 at every step, one constant observation, every episode
// truncated after one step. Its true value is 1 / (1 - gamma); a learner that treats the
// truncation as a termination learns 1 instead.
class EndlessTruncated : public twin::Env {
 public:
  EndlessTruncated() {
    spec_.name = "endless-truncated";
    spec_.observation_size = 1;
    spec_.num_actions = 2;
    spec_.observation_layout = {{"bias", 0, 1, "always 1"}};
    spec_.action_description = "either action";
    spec_.reward_description = "1 per step";
    spec_.config_hash = "endless-truncated-v1";
  }
  const twin::EnvSpec& Spec() const override { return spec_; }
  void Reset(uint64_t, float* obs, uint8_t* mask) override { Write(obs, mask); }
  twin::StepResult Step(int, float* obs, uint8_t* mask) override {
    Write(obs, mask);
    twin::StepResult r;
    r.reward = 1.0f;
    r.accepted = true;
    r.done = true;
    r.truncated = true;
    return r;
  }

 private:
  static void Write(float* obs, uint8_t* mask) {
    obs[0] = 1.0f;
    mask[0] = mask[1] = 1;
  }
  twin::EnvSpec spec_;
};

// A contextual bandit with masks, eight requests per episode: the observation is a one-hot
// context c in [0, K) (plus noise features), action c pays 1 and is accepted, any other feasible
// action pays 0 (blocked). Action c is always feasible; each other action is feasible with
// probability 1/2. Choosing a masked action is counted in masked_choices() and pays -1.
// Uniformly random feasible actions are accepted 15/32 of the time (for K = 4).
class MaskedContextBandit : public twin::Env {
 public:
  static constexpr int kContexts = 4;
  static constexpr int kObservation = kContexts + 2;

  MaskedContextBandit() {
    spec_.name = "masked-context-bandit";
    spec_.observation_size = kObservation;
    spec_.num_actions = kContexts;
    spec_.observation_layout = {{"context", 0, kContexts, "one-hot context"},
                                {"noise", kContexts, 2, "uniform noise, scaled by 5"}};
    spec_.action_description = "the context to answer";
    spec_.reward_description = "1 when the action equals the context";
    spec_.config_hash = "masked-context-bandit-v1";
  }
  const twin::EnvSpec& Spec() const override { return spec_; }
  void Reset(uint64_t seed, float* obs, uint8_t* mask) override {
    rng_.seed(seed);
    step_ = 0;
    Draw(obs, mask);
  }
  twin::StepResult Step(int action, float* obs, uint8_t* mask) override {
    twin::StepResult r;
    if (action < 0 || action >= kContexts || !mask_[action]) {
      ++masked_choices_;
      r.reward = -1.0f;
    } else if (action == context_) {
      r.reward = 1.0f;
      r.accepted = true;
    }
    r.done = ++step_ >= 8;
    Draw(obs, mask);
    return r;
  }
  int64_t masked_choices() const { return masked_choices_; }

 private:
  void Draw(float* obs, uint8_t* mask) {
    context_ = static_cast<int>(rng_() % kContexts);
    for (int i = 0; i < kContexts; ++i) {
      obs[i] = i == context_ ? 1.0f : 0.0f;
      mask_[i] = i == context_ || (rng_() & 1);
      mask[i] = mask_[i];
    }
    obs[kContexts] = 5.0f * static_cast<float>(rng_() % 1000) / 1000.0f;
    obs[kContexts + 1] = -3.0f + static_cast<float>(rng_() % 1000) / 1000.0f;
  }
  twin::EnvSpec spec_;
  std::mt19937_64 rng_{0};
  int step_ = 0, context_ = 0;
  uint8_t mask_[kContexts] = {};
  int64_t masked_choices_ = 0;
};

// The shipped tiny test config, with `algorithm` selected.
inline ExperimentConfig TinyConfig(Algorithm algorithm) {
  ExperimentConfig c =
      LoadExperimentConfig(std::string(EONOPS_SOURCE_DIR) + "/configs/experiments/tiny-test.json");
  c.train.algorithm = algorithm;
  return c;
}

}  // namespace eonops::agents::testing
