// The C++ side of tests/python/test_env_equivalence.py: runs the twin's environments directly
// (no Python) and writes what they produce step by step, so pytest can check that the Python
// API gives the same observations, rewards and masks for the same seed.
//
//   python_env_trace CONFIG SEED STEPS OUT_PREFIX [NUM_ENVS]
//
// Without NUM_ENVS: one RsaEnv, Reset(SEED) then STEPS steps (an episode end resets with
// SEED + 1, + 2, ...). With NUM_ENVS: a twin::VecEnv (seed SEED, one thread). Actions follow a
// fixed rule both sides implement: in step t, environment i takes its
// ((7 t + 3 i + 3) mod n)-th feasible action of n. Writes OUT_PREFIX.{obs,mask,reward,done,
// accepted,action} as raw little-endian arrays (float32, uint8, float32, uint8, uint8, int32);
// obs and mask hold the reset's row first, then one per step.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "twin/envs.h"
#include "twin/json_util.h"
#include "twin/vec_env.h"

namespace {

using namespace eonops::twin;

int RuleAction(int t, int i, const uint8_t* mask, int num_actions) {
  std::vector<int> feasible;
  for (int a = 0; a < num_actions; ++a) {
    if (mask[a]) feasible.push_back(a);
  }
  return feasible[(7 * t + 3 * i + 3) % feasible.size()];
}

template <typename T>
void Append(std::vector<T>* out, const T* data, size_t n) {
  out->insert(out->end(), data, data + n);
}

template <typename T>
void Write(const std::string& path, const std::vector<T>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: python_env_trace CONFIG SEED STEPS OUT_PREFIX [NUM_ENVS]\n";
    return 2;
  }
  try {
    const EnvConfig config = EnvConfig::FromJson(ReadJsonFile(argv[1]), argv[1]);
    const uint64_t seed = std::stoull(argv[2]);
    const int steps = std::stoi(argv[3]);
    const std::string out = argv[4];
    auto model = std::make_shared<const NetworkModel>(config.network);
    std::vector<float> obs_log, rewards;
    std::vector<uint8_t> mask_log, dones, accepted;
    std::vector<int32_t> actions;
    if (argc == 5) {
      auto env = MakeEnv(model, config);
      const int d = env->Spec().observation_size, a = env->Spec().num_actions;
      std::vector<float> obs(d);
      std::vector<uint8_t> mask(a);
      uint64_t episode_seed = seed;
      env->Reset(episode_seed, obs.data(), mask.data());
      Append(&obs_log, obs.data(), d);
      Append(&mask_log, mask.data(), a);
      for (int t = 0; t < steps; ++t) {
        const int action = RuleAction(t, 0, mask.data(), a);
        const StepResult r = env->Step(action, obs.data(), mask.data());
        actions.push_back(action);
        rewards.push_back(r.reward);
        dones.push_back(r.done);
        accepted.push_back(r.accepted);
        Append(&obs_log, obs.data(), d);
        Append(&mask_log, mask.data(), a);
        if (r.done) env->Reset(++episode_seed, obs.data(), mask.data());
      }
    } else {
      const int n = std::stoi(argv[5]);
      VecEnv vec(MakeEnvFactory(model, config), n, seed, 1);
      const int d = vec.Spec().observation_size, a = vec.Spec().num_actions;
      vec.Reset();
      Append(&obs_log, vec.Observations(), static_cast<size_t>(n) * d);
      Append(&mask_log, vec.Masks(), static_cast<size_t>(n) * a);
      std::vector<int32_t> step_actions(n);
      for (int t = 0; t < steps; ++t) {
        for (int i = 0; i < n; ++i) step_actions[i] = RuleAction(t, i, vec.Masks() + static_cast<size_t>(i) * a, a);
        vec.Step(step_actions.data());
        Append(&actions, step_actions.data(), n);
        Append(&rewards, vec.Rewards(), n);
        Append(&dones, vec.Dones(), n);
        Append(&accepted, vec.Accepted(), n);
        Append(&obs_log, vec.Observations(), static_cast<size_t>(n) * d);
        Append(&mask_log, vec.Masks(), static_cast<size_t>(n) * a);
      }
    }
    Write(out + ".obs", obs_log);
    Write(out + ".mask", mask_log);
    Write(out + ".reward", rewards);
    Write(out + ".done", dones);
    Write(out + ".accepted", accepted);
    Write(out + ".action", actions);
  } catch (const std::exception& e) {
    std::cerr << "python_env_trace: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
