// Environment steps per second: one env with masked-random actions (reach- and GSNR-based
// modulation), and the VecEnv with 1 and 2 worker threads.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "twin/envs.h"
#include "twin/json_util.h"
#include "twin/rng.h"
#include "twin/vec_env.h"

namespace eonops::twin {
namespace {

EnvConfig BenchConfig(bool gsnr) {
  nlohmann::json cfg = ReadJsonFile(std::string(EONOPS_CONFIG_DIR) + "/benchmarks/deeprmsa-nsfnet.json");
  nlohmann::json e = {{"network", cfg["network"]}, {"traffic", cfg["traffic"]}};
  if (gsnr) {
    e["network"]["bands"] = {"C", "L", "S"};
    e["network"]["modulation_mode"] = "gsnr";
    e["network"]["modulations"] = "modulations.json";
    e["network"].erase("slots_per_band");
    e["traffic"]["load_erlang"] = 1500;
    e["env"] = {{"use_case", "qot-rmbsa"}, {"j_blocks", 1}, {"episode_length", 100000}, {"warmup", 3000}};
  } else {
    e["env"] = {{"use_case", "deeprmsa"}, {"j_blocks", 1}, {"episode_length", 100000}, {"warmup", 3000}};
  }
  return EnvConfig::FromJson(e, "bench");
}

// Picks a uniformly random unmasked action: what a random agent costs, mask scan included.
int RandomMasked(Rng& rng, const uint8_t* mask, int n) {
  int count = 0;
  for (int a = 0; a < n; ++a) count += mask[a];
  int pick = static_cast<int>(rng.UniformInt(0, count - 1));
  for (int a = 0; a < n; ++a) {
    if (mask[a] && pick-- == 0) return a;
  }
  return n - 1;
}

void RunSingleEnv(benchmark::State& state, bool gsnr) {
  EnvConfig cfg = BenchConfig(gsnr);
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto env = MakeEnv(model, cfg);
  std::vector<float> obs(env->Spec().observation_size);
  std::vector<uint8_t> mask(env->Spec().num_actions);
  env->Reset(1, obs.data(), mask.data());
  Rng rng(2);
  int64_t accepted = 0;
  for (auto _ : state) {
    StepResult r = env->Step(RandomMasked(rng, mask.data(), env->Spec().num_actions), obs.data(), mask.data());
    accepted += r.accepted;
    if (r.done) env->Reset(rng.Next(), obs.data(), mask.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["accepted"] = benchmark::Counter(double(accepted) / state.iterations());
}

void BM_EnvStepMaskedRandomReach(benchmark::State& s) { RunSingleEnv(s, false); }
void BM_EnvStepMaskedRandomGsnrCLS(benchmark::State& s) { RunSingleEnv(s, true); }
BENCHMARK(BM_EnvStepMaskedRandomReach);
BENCHMARK(BM_EnvStepMaskedRandomGsnrCLS);

// VecEnv of 64 environments; state.range(0) threads. Items = environment steps.
void BM_VecEnvStep(benchmark::State& state) {
  EnvConfig cfg = BenchConfig(false);
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  const int n = 64;
  VecEnv vec(MakeEnvFactory(model, cfg), n, 1, static_cast<int>(state.range(0)));
  vec.Reset();
  std::vector<int32_t> actions(n);
  Rng rng(3);
  const int na = vec.Spec().num_actions;
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) actions[i] = RandomMasked(rng, vec.Masks() + i * na, na);
    vec.Step(actions.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_VecEnvStep)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace eonops::twin
