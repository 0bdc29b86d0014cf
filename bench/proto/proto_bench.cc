// gRPC benchmarks on loopback (127.0.0.1), client and servers in this process:
//
//   LocalVecEnvStep/N       twin::VecEnv of N environments, 1 thread: the in-process baseline
//   RemoteVecEnvStep/N/W    proto::RemoteVecEnv of N environments over W twin workers (1 thread
//                           each): one Step call per worker per vector step, packed arrays
//   TrainPpo/workers:W      masked-PPO training steps/s, local (W = 0) or on W twin workers
//   PolicyAct               in-process agents::Policy::Act, one request
//   RemotePolicyAct         proto::RemotePolicy::Act, one request (one Infer call)
//   RemotePolicyActBatch/N  proto::RemotePolicy::ActBatch of N requests (one Infer call)
//
// Environments: configs/experiments/deeprmsa-nsfnet-ppo.json (DeepRMSA on NSFNET, 100 slots,
// K=5, episodes of 1000 requests after 3000 warm-up requests); actions uniformly random among
// the feasible ones; automatic resets included, the first Reset not. items_per_second are
// environment steps. Policy: the same experiment's 3 x 128 actor-critic, exported untrained
// (inference costs the same). Latencies: counters p50_us / p99_us over one timed call per
// iteration.
//
//   build-proto/bench/bench_proto
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include "agents/options.h"
#include "agents/policy.h"
#include "agents/trainer.h"
#include "proto/policy_server.h"
#include "proto/remote_policy.h"
#include "proto/remote_twin.h"
#include "proto/twin_server.h"
#include "twin/envs.h"

namespace eonops::proto {
namespace {

agents::ExperimentConfig Experiment() {
  return agents::LoadExperimentConfig(std::string(EONOPS_CONFIG_DIR) +
                                      "/experiments/deeprmsa-nsfnet-ppo.json");
}

const twin::EnvConfig& Config() {
  static const twin::EnvConfig config = [] {
    agents::ExperimentConfig c = Experiment();
    return twin::EnvConfig::FromJson(c.twin, c.source);
  }();
  return config;
}

void PickActions(std::mt19937_64& rng, int n, int na, const uint8_t* masks, int32_t* actions) {
  for (int i = 0; i < n; ++i) {
    const uint8_t* m = masks + static_cast<size_t>(i) * na;
    int count = 0;
    for (int a = 0; a < na; ++a) count += m[a] != 0;
    int pick = count ? static_cast<int>(rng() % count) : 0;
    actions[i] = na - 1;
    for (int a = 0; a < na; ++a) {
      if (m[a] && pick-- == 0) {
        actions[i] = a;
        break;
      }
    }
  }
}

template <class Vec>
void StepLoop(benchmark::State& state, Vec& vec, int n) {
  std::vector<int32_t> actions(n);
  std::mt19937_64 rng(3);
  const int na = vec.Spec().num_actions;
  for (auto _ : state) {
    PickActions(rng, n, na, vec.Masks(), actions.data());
    vec.Step(actions.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// Fixed iteration counts: building and resetting 1024 NSFNET environments (3000 warm-up
// requests each) takes seconds, and Google Benchmark would redo it for every trial run.
int64_t Iterations(int n) { return n >= 1024 ? 60 : n >= 64 ? 600 : 20000; }

struct Workers {
  explicit Workers(int count) {
    for (int w = 0; w < count; ++w) {
      TwinServerOptions o;
      o.port = 0;
      o.threads = 1;
      servers.push_back(std::make_unique<TwinServer>(o));
      endpoints.push_back("127.0.0.1:" + std::to_string(servers.back()->Start()));
    }
  }
  std::vector<std::unique_ptr<TwinServer>> servers;
  std::vector<std::string> endpoints;
};

void BM_LocalVecEnvStep(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto model = std::make_shared<const twin::NetworkModel>(Config().network);
  twin::VecEnv vec(twin::MakeEnvFactory(model, Config()), n, 1, 1);
  vec.Reset();
  StepLoop(state, vec, n);
}
BENCHMARK(BM_LocalVecEnvStep)
    ->Arg(1)
    ->Iterations(Iterations(1))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LocalVecEnvStep)
    ->Arg(64)
    ->Iterations(Iterations(64))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LocalVecEnvStep)
    ->Arg(1024)
    ->Iterations(Iterations(1024))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_RemoteVecEnvStep(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Workers workers(static_cast<int>(state.range(1)));
  RemoteVecEnv vec(workers.endpoints, Config(), n, 1);
  vec.Reset();
  StepLoop(state, vec, n);
}
BENCHMARK(BM_RemoteVecEnvStep)
    ->Args({1, 1})
    ->Iterations(Iterations(1))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RemoteVecEnvStep)
    ->Args({64, 1})
    ->Iterations(Iterations(64))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RemoteVecEnvStep)
    ->Args({1024, 1})
    ->Iterations(Iterations(1024))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RemoteVecEnvStep)
    ->Args({64, 2})
    ->Iterations(Iterations(64))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RemoteVecEnvStep)
    ->Args({1024, 2})
    ->Iterations(Iterations(1024))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Masked-PPO training steps per second (learning included) on the experiment's 16
// environments, local (twin::VecEnv on env_threads threads) or on W twin workers over loopback
// (proto::RemoteVecEnv through TrainerSetup::make_envs: one Step call per worker per vector
// step). 4 PPO updates (16 x 256 x 4 = 16,384 steps) per iteration, timed by Train() itself
// (building the environments, 3000 warm-up requests each, is left out).
void BM_TrainPpo(benchmark::State& state) {
  const int workers_count = static_cast<int>(state.range(0));
  agents::ExperimentConfig c = Experiment();
  c.train.env_threads = static_cast<int>(state.range(1));
  c.train.total_steps = static_cast<int64_t>(c.train.num_envs) * c.ppo.rollout_steps * 4;
  c.train.log_interval = 1 << 30;
  c.train.eval_interval = 0;
  c.train.checkpoint_interval = 0;
  std::unique_ptr<Workers> workers;
  agents::TrainerSetup setup;
  if (workers_count > 0) {
    workers = std::make_unique<Workers>(workers_count);
    setup.make_envs = [&](uint64_t seed) {
      return std::unique_ptr<twin::BatchedEnv>(
          ConnectTwins(workers->endpoints, Config(), c.train.num_envs, seed));
    };
  }
  auto model = std::make_shared<const twin::NetworkModel>(Config().network);
  double steps = 0, seconds = 0;
  for (auto _ : state) {
    agents::Trainer trainer(c, twin::MakeEnvFactory(model, Config()), setup);
    const agents::TrainResult r = trainer.Train();
    state.SetIterationTime(r.elapsed_s);
    steps += static_cast<double>(r.env_steps);
    seconds += r.elapsed_s;
  }
  state.counters["steps_per_s"] = steps / seconds;
  state.SetItemsProcessed(static_cast<int64_t>(steps));
}
BENCHMARK(BM_TrainPpo)
    ->ArgNames({"workers", "env_threads"})
    ->Args({0, 1})
    ->Args({0, 2})
    ->Args({1, 1})
    ->Args({2, 1})
    ->Iterations(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ------------------------------------------------------------------------------------------
// Inference

const std::string& PolicyDir() {
  static const std::string dir = [] {
    agents::ExperimentConfig c = Experiment();
    c.train.num_envs = 1;
    const twin::EnvConfig& env = Config();
    agents::Trainer trainer(
        c, twin::MakeEnvFactory(std::make_shared<const twin::NetworkModel>(env.network), env));
    const std::string d = std::filesystem::temp_directory_path() /
                          ("eonops-bench-policy-" + std::to_string(getpid()));
    trainer.ExportPolicy(d);
    return d;
  }();
  return dir;
}

// Observations and masks along an episode (what a PCE would send).
struct Requests {
  explicit Requests(int count) {
    auto env =
        twin::MakeEnv(std::make_shared<const twin::NetworkModel>(Config().network), Config());
    os = env->Spec().observation_size;
    na = env->Spec().num_actions;
    std::vector<float> o(os);
    std::vector<uint8_t> m(na);
    env->Reset(7, o.data(), m.data());
    std::mt19937_64 rng(5);
    int32_t a;
    for (int i = 0; i < count; ++i) {
      obs.insert(obs.end(), o.begin(), o.end());
      masks.insert(masks.end(), m.begin(), m.end());
      PickActions(rng, 1, na, m.data(), &a);
      env->Step(a, o.data(), m.data());
    }
  }
  int os = 0, na = 0;
  std::vector<float> obs;
  std::vector<uint8_t> masks;
};

void ReportPercentiles(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))];
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["max_us"] = us.back();
}

template <class Call>
void TimedLoop(benchmark::State& state, const Requests& r, int rows, Call call) {
  std::vector<double> us;
  us.reserve(state.max_iterations);
  const int count = static_cast<int>(r.obs.size() / r.os);
  int i = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    call(&r.obs[static_cast<size_t>(i) * r.os], &r.masks[static_cast<size_t>(i) * r.na]);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
    i = (i + rows) % (count - rows + 1);
  }
  state.SetItemsProcessed(state.iterations() * rows);
  ReportPercentiles(state, us);
}

void BM_PolicyAct(benchmark::State& state) {
  auto policy = agents::Policy::Load(PolicyDir());
  Requests r(1000);
  TimedLoop(state, r, 1,
            [&](const float* o, const uint8_t* m) { benchmark::DoNotOptimize(policy->Act(o, m)); });
}
BENCHMARK(BM_PolicyAct)->Iterations(5000)->UseRealTime()->Unit(benchmark::kMicrosecond);

struct PolicyService {
  PolicyService() {
    PolicyServerOptions o;
    o.port = 0;
    server = std::make_unique<PolicyServer>(o);
    server->Load(PolicyDir(), {});
    remote = RemotePolicy::Connect("127.0.0.1:" + std::to_string(server->Start()));
  }
  std::unique_ptr<PolicyServer> server;
  std::unique_ptr<RemotePolicy> remote;
};

void BM_RemotePolicyAct(benchmark::State& state) {
  PolicyService s;
  Requests r(1000);
  TimedLoop(state, r, 1, [&](const float* o, const uint8_t* m) {
    benchmark::DoNotOptimize(s.remote->Act(o, m));
  });
}
BENCHMARK(BM_RemotePolicyAct)->Iterations(5000)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_RemotePolicyActBatch(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0));
  PolicyService s;
  Requests r(1000);
  std::vector<agents::Decision> out(rows);
  TimedLoop(state, r, rows,
            [&](const float* o, const uint8_t* m) { s.remote->ActBatch(rows, o, m, out.data()); });
}
BENCHMARK(BM_RemotePolicyActBatch)
    ->Arg(64)
    ->Iterations(500)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace eonops::proto

BENCHMARK_MAIN();
