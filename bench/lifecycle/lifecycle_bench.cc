// bench_lifecycle: how fast the lifecycle service takes back a poor promotion under live load.
//
//   BM_PromotionToRollback/<requests per s>
//     The PCE of configs/pce-nsfnet-k5.json (DeepRMSA NSFNET, 250 Erlang, registry polled every 250 ms)
//     serves KSP-FF as the registered champion behind its TAPI server; `eonops loadgen`'s
//     client drives it at the given rate; the lifecycle service (configs/lifecycle.json's
//     rollback settings: first look after 300 requests, 2000-request baseline, 5% relative,
//     99% one-sided with Bonferroni) reads the trace over HTTP. Once the champion has its
//     baseline, an operator moves the alias to a near-untrained policy (64 training steps, about
//     twice KSP-FF's blocking). Manual time = promotion -> rollback decision; counters:
//       rollback_ms          promotion -> the alias is back (median over iterations)
//       pce_swap_ms          rollback -> the PCE serves the previous version again
//       poor_requests        requests the poor version decided before the rollback
//       failed_requests      load generator errors over the whole run (must be 0)
//
// Each iteration takes about 15 s (the baseline at the given rate, then the watch).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "agents/options.h"
#include "bench/brief_policy.h"
#include "bench/scratch_dir.h"
#include "agents/trainer.h"
#include "lifecycle/service.h"
#include "pce/pce.h"
#include "tapi/loadgen.h"
#include "tapi/server.h"
#include "tracking/store.h"
#include "twin/envs.h"
#include "twin/topology.h"

namespace eonops::lifecycle {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bench::ScratchDir& Tmp() { return bench::Scratch("eonops-bench-lifecycle"); }

pce::PceConfig Config() {
  pce::PceConfig c = pce::PceConfig::Load(twin::ConfigDir() + "/pce-nsfnet-k5.json");
  c.pce.policies = {{twin::UseCase::kDeepRmsa, "bench", "champion", true, ""}};
  c.pce.decision_log.enabled = false;
  return c;
}

// A near-untrained policy of configs/pce-nsfnet-k5.json's network: it picks its path almost at random.
std::string PoorPolicy() {
  const std::string out = Tmp().dir + "/poor-policy";
  if (fs::exists(out + "/manifest.json")) return out;
  return bench::TrainBriefly(Config(), "experiments/tiny-test.json", 64, 5, out);
}

void BM_PromotionToRollback(benchmark::State& state) {
  const double rate = static_cast<double>(state.range(0));
  const pce::PceConfig config = Config();
  LifecycleConfig lc = LifecycleConfig::Load(twin::ConfigDir() + "/lifecycle.json");
  lc.retrain.on_drift = false;
  std::vector<double> rollback_ms, swap_ms, poor_requests;
  int64_t failed = 0;
  static int64_t run = 0;  // across benchmark cases: every run gets its own store
  for (auto _ : state) {
    const std::string root = Tmp().dir + "/run-" + std::to_string(run++);
    fs::create_directories(root);
    tracking::StoreOptions so;
    so.db_path = root + "/tracking.db";
    so.artifact_root = root + "/artifacts";
    tracking::TrackingStore store(so);
    store.CreateRegisteredModel("bench");
    const int64_t good = store.CreateModelVersion("bench", "heuristic:ksp-ff").version;
    store.SetAlias("bench", "champion", good);
    tracking::CreateRunOptions ro;
    ro.experiment_id = store.GetOrCreateExperiment("train");
    const std::string train_run = store.CreateRun(ro).info.run_id;
    for (const auto& f : fs::directory_iterator(PoorPolicy()))
      store.LogArtifact(train_run, f.path().string(), "policy");
    const int64_t poor =
        store.CreateModelVersion("bench", "runs:/" + train_run + "/policy", train_run).version;

    pce::PceSetup ps;
    ps.tracking = pce::StoreConnector(&store);
    ps.scratch_dir = root + "/pce-scratch";
    pce::Pce pce(config, ps);
    tapi::TapiServerOptions to = tapi::TapiServerOptions::FromConfig(config);
    to.port = 0;
    to.threads = 4;
    tapi::TapiServer server(pce, to);
    const std::string url = "http://127.0.0.1:" + std::to_string(server.Start());
    LifecycleSetup ls;
    ls.source = HttpTraceSource(url);
    ls.tracking = pce::StoreConnector(&store, "eonops-lifecycle");
    ls.state_dir = root + "/state";
    LifecycleService svc(lc, config, std::move(ls));
    svc.Start();

    tapi::LoadgenOptions lo;
    lo.pce_url = url;
    lo.scenario = config.ToScenario();
    lo.scenario.measurement.warmup = 0;
    // The baseline (plus the network's fill-up), then enough for the watch to decide.
    lo.scenario.measurement.requests = lc.rollback.baseline_requests + 3000 + static_cast<int64_t>(3 * rate);
    lo.rate_per_s = rate;
    lo.seed = 10 + run;
    auto load = std::async(std::launch::async, [&] { return tapi::RunLoadgen(lo); });
    // Wait for the champion's baseline: its requests and their releases in the trace.
    while (svc.Status()["trace_cursor"].get<int64_t>() < 2 * (lc.rollback.baseline_requests + 1000))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto promoted = Clock::now();
    store.SetAlias("bench", "champion", poor, "operator");
    std::optional<tracking::ModelDecision> rollback;
    while (!rollback && Clock::now() - promoted < std::chrono::seconds(60)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      for (const auto& d : store.GetModelDecisions("bench"))
        if (d.kind == "rollback") rollback = d;
    }
    const auto decided = Clock::now();
    while (Clock::now() - decided < std::chrono::seconds(10) &&
           pce.ServedFor(twin::UseCase::kDeepRmsa)->ref.version != good)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto swapped = Clock::now();
    const tapi::LoadgenResult r = load.get();
    svc.Stop();
    server.Stop();
    failed += r.errors;
    if (!rollback) {
      state.SkipWithError("no rollback within 60 s");
      break;
    }
    const nlohmann::json f = nlohmann::json::parse(rollback->figures_json);
    rollback_ms.push_back(std::chrono::duration<double, std::milli>(decided - promoted).count());
    swap_ms.push_back(std::chrono::duration<double, std::milli>(swapped - decided).count());
    poor_requests.push_back(f["live"]["requests"].get<double>());
    state.SetIterationTime(rollback_ms.back() / 1e3);
  }
  auto median = [](std::vector<double> x) {
    if (x.empty()) return 0.0;
    std::sort(x.begin(), x.end());
    return x[x.size() / 2];
  };
  state.counters["rollback_ms"] = median(rollback_ms);
  state.counters["rollback_max_ms"] = rollback_ms.empty() ? 0.0 : *std::max_element(rollback_ms.begin(), rollback_ms.end());
  state.counters["pce_swap_ms"] = median(swap_ms);
  state.counters["poor_requests"] = median(poor_requests);
  state.counters["failed_requests"] = static_cast<double>(failed);
  state.SetLabel("KSP-FF champion, near-untrained policy promoted by hand, 250 Erlang");
}
BENCHMARK(BM_PromotionToRollback)
    ->Arg(500)
    ->Arg(1000)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eonops::lifecycle

BENCHMARK_MAIN();
