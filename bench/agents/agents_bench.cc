// Agents benchmarks: single-request inference latency of an exported policy through the
// torch-free Policy::Act (what the PCE calls), and training throughput on a synthetic
// environment (environment steps per second, learning included).
//
//   build-agents/bench/bench_agents --benchmark_filter=PolicyAct
//
// Latency percentiles are reported as counters p50_us / p99_us (one timed call per iteration).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include "agents/options.h"
#include "agents/policy.h"
#include "agents/trainer.h"
#include "twin/env.h"
#include "twin/envs.h"

namespace eonops::agents {
namespace {

// Random observations and masks, 1000 requests per episode: costs almost nothing, so the
// throughput benchmark measures the learner.
class SyntheticEnv : public twin::Env {
 public:
  SyntheticEnv(int observation_size, int num_actions) {
    spec_.name = "synthetic";
    spec_.observation_size = observation_size;
    spec_.num_actions = num_actions;
    spec_.observation_layout = {{"features", 0, observation_size, "uniform noise"}};
    spec_.action_description = "any";
    spec_.reward_description = "+1 for even actions";
    spec_.config_hash =
        "synthetic-" + std::to_string(observation_size) + "x" + std::to_string(num_actions);
  }
  const twin::EnvSpec& Spec() const override { return spec_; }
  void Reset(uint64_t seed, float* obs, uint8_t* mask) override {
    rng_.seed(seed);
    step_ = 0;
    Draw(obs, mask);
  }
  twin::StepResult Step(int action, float* obs, uint8_t* mask) override {
    twin::StepResult r;
    r.accepted = action % 2 == 0;
    r.reward = r.accepted ? 1.0f : -1.0f;
    r.done = ++step_ >= 1000;
    Draw(obs, mask);
    return r;
  }

 private:
  void Draw(float* obs, uint8_t* mask) {
    for (int i = 0; i < spec_.observation_size; ++i) obs[i] = (rng_() % 1024) / 1024.0f;
    for (int a = 0; a < spec_.num_actions; ++a) mask[a] = (rng_() % 4) != 0;
    mask[rng_() % spec_.num_actions] = 1;
  }
  twin::EnvSpec spec_;
  std::mt19937_64 rng_;
  int step_ = 0;
};

twin::VecEnv::Factory Synthetic(int obs, int actions) {
  return [obs, actions] { return std::make_unique<SyntheticEnv>(obs, actions); };
}

// Exports an (untrained) policy with the default ModelOptions and loads it back.
std::unique_ptr<Policy> ExportDefaultPolicy(int obs, int actions) {
  ExperimentConfig c;
  c.train.num_envs = 1;
  c.train.total_steps = 0;
  Trainer trainer(c, Synthetic(obs, actions));
  const std::string dir =
      (std::filesystem::temp_directory_path() /
       ("eonops-bench-policy-" + std::to_string(obs) + "x" + std::to_string(actions)))
          .string();
  trainer.ExportPolicy(dir);
  return Policy::Load(dir);
}

// Args: observation size, action count, as twin/envs.h lays them out on NSFNET: 84 x 6 is
// DeepRMSA (K = 5, one band, J = 1); 224 x 31 is QoT-aware RMBSA (K = 5, C+L+S, J = 2).
void BM_PolicyAct(benchmark::State& state) {
  SetTorchThreads(1);
  const int obs_size = static_cast<int>(state.range(0)), actions = static_cast<int>(state.range(1));
  std::unique_ptr<Policy> policy = ExportDefaultPolicy(obs_size, actions);
  constexpr int kInputs = 64;
  std::mt19937 rng(1);
  std::vector<float> obs(kInputs * obs_size);
  std::vector<uint8_t> masks(kInputs * actions);
  for (float& x : obs) x = (rng() % 1024) / 1024.0f;
  for (uint8_t& m : masks) m = rng() % 3 != 0;
  std::vector<double> latency_us;
  latency_us.reserve(1 << 20);
  int k = 0, feasible = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    Decision d = policy->Act(&obs[k * obs_size], &masks[k * actions]);
    const auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(d);
    feasible += d.feasible();
    latency_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    k = (k + 1) % kInputs;
  }
  std::sort(latency_us.begin(), latency_us.end());
  auto pct = [&](double p) { return latency_us[static_cast<size_t>(p * (latency_us.size() - 1))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = latency_us.back();
  benchmark::DoNotOptimize(feasible);
}
BENCHMARK(BM_PolicyAct)->Args({84, 6})->Args({224, 31})->Unit(benchmark::kMicrosecond);

// Args: algorithm (0 PPO, 1 DQN), torch threads. Default model; 16 envs, 64k steps.
void BM_TrainThroughput(benchmark::State& state) {
  ExperimentConfig c;
  c.train.algorithm = state.range(0) == 0 ? Algorithm::kPpo : Algorithm::kDqn;
  c.train.torch_threads = static_cast<int>(state.range(1));
  c.train.num_envs = 16;
  c.train.total_steps = 65536;
  c.train.log_interval = c.train.total_steps;
  c.dqn.learning_starts = 1000;
  double steps = 0, seconds = 0;
  for (auto _ : state) {
    Trainer trainer(c, Synthetic(84, 6));
    TrainResult r = trainer.Train();
    steps += r.env_steps;
    seconds += r.elapsed_s;
  }
  state.counters["env_steps_per_s"] = steps / seconds;
}
BENCHMARK(BM_TrainThroughput)
    ->ArgNames({"dqn", "threads"})
    ->Args({0, 1})
    ->Args({0, 2})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

// PPO on the real DeepRMSA NSFNET environment (configs/experiments/deeprmsa-nsfnet-ppo.json:
// 16 envs, 3 x 128 MLP), 32k steps: environment steps per second, learning included.
// Arg: torch threads.
void BM_TrainDeepRmsaPpo(benchmark::State& state) {
  ExperimentConfig c = LoadExperimentConfig(std::string(EONOPS_CONFIG_DIR) +
                                            "/experiments/deeprmsa-nsfnet-ppo.json");
  c.train.torch_threads = static_cast<int>(state.range(0));
  c.train.total_steps = 32768;
  c.train.log_interval = c.train.total_steps;
  c.train.eval_interval = c.train.checkpoint_interval = 0;
  twin::EnvConfig env = twin::EnvConfig::FromJson(c.twin, c.source);
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  double steps = 0, seconds = 0;
  for (auto _ : state) {
    Trainer trainer(c, twin::MakeEnvFactory(model, env));
    TrainResult r = trainer.Train();
    steps += r.env_steps;
    seconds += r.elapsed_s;
  }
  state.counters["env_steps_per_s"] = steps / seconds;
}
BENCHMARK(BM_TrainDeepRmsaPpo)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace
}  // namespace eonops::agents

BENCHMARK_MAIN();
