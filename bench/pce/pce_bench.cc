// bench_pce: how fast the PCE answers, on configs/pce-nsfnet-k5.json (the DeepRMSA NSFNET network, K = 5 by km) at
// its steady state under 250 Erlang (about 240 lit lightpaths).
//
//   BM_ComputeInProcess/ksp-ff, /drl   Pce::ComputePath back to back; counters p50_us, p99_us
//   BM_RequestKinds/0..4               ComputePath, KSP-FF, per kind of request: bit rate, 50 GHz
//                                      of spectrum, bidirectional (symmetric / per direction),
//                                      with an exclude-link constraint (the twin's Yen +
//                                      DecideAmong)
//   BM_CreateDeleteInProcess/...       CreateService (SQLite write-ahead) + DeleteService
//   BM_ComputeTapiInProcess/...        the same RPC through TapiServer::Handle (no socket)
//   BM_ComputeOverHttp/ksp-ff, /drl    compute-p-2-p-path over loopback HTTP, paced at 500
//                                      requests/s (open loop, 2000 requests); p50/p99/max
//   BM_PolicyLoadAndSwap               load a policy artifact, check it, publish it
//   BM_AliasMoveToServed               registry alias moved -> the PCE serves the new version
//                                      (registry polled every 250 ms, the config's default)
//
// The DRL policy has the DeepRMSA experiment's architecture (3 x 128, tanh), trained for a few
// steps here: its weights do not change its speed. Set EONOPS_BENCH_POLICY=<dir> to use a real
// artifact of this network instead.
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <queue>
#include <thread>

#include "agents/options.h"
#include "bench/brief_policy.h"
#include "bench/scratch_dir.h"
#include "agents/trainer.h"
#include "pce/pce.h"
#include "tapi/server.h"
#include "tracking/store.h"
#include "twin/traffic.h"

namespace eonops::pce {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

PceConfig BenchConfig() {
  PceConfig c = PceConfig::Load(twin::ConfigDir() + "/pce-nsfnet-k5.json");
  c.pce.policies.clear();
  c.pce.decision_log.enabled = false;
  return c;
}

bench::ScratchDir& Tmp() { return bench::Scratch("eonops-bench-pce"); }

// A policy artifact for configs/pce-nsfnet-k5.json: EONOPS_BENCH_POLICY, else a briefly trained one with
// the DeepRMSA experiment's architecture.
std::string PolicyDir(uint64_t seed = 1) {
  if (const char* env = std::getenv("EONOPS_BENCH_POLICY"); env && seed == 1) return env;
  const std::string out = Tmp().dir + "/policy-" + std::to_string(seed);
  if (fs::exists(out + "/manifest.json")) return out;
  return bench::TrainBriefly(BenchConfig(), "experiments/deeprmsa-nsfnet-ppo.json", 512, seed, out);
}

// Brings `pce` to the steady state of its traffic (creates and holding-time deletes) and
// returns further requests of the same traffic.
std::vector<PathRequest> WarmUp(Pce& pce, int warmup, int requests) {
  const PceConfig& c = pce.config();
  twin::TrafficGenerator gen(c.traffic, pce.model().topology().NumNodes(), 42);
  using Departure = std::pair<double, std::string>;
  std::priority_queue<Departure, std::vector<Departure>, std::greater<Departure>> departures;
  auto to_request = [](const twin::Request& r) {
    PathRequest p;
    p.src = r.src;
    p.dst = r.dst;
    p.bit_rate_gbps = r.bit_rate_gbps;
    return p;
  };
  for (int i = 0; i < warmup; ++i) {
    twin::Request r = gen.Next();
    while (!departures.empty() && departures.top().first <= r.arrival_time) {
      pce.DeleteService(departures.top().second);
      departures.pop();
    }
    ServiceSpec s;
    s.request = to_request(r);
    auto res = pce.CreateService(s);
    if (res.ok()) departures.push({r.arrival_time + r.holding_time, res.value->uuid});
  }
  std::vector<PathRequest> out;
  for (int i = 0; i < requests; ++i) out.push_back(to_request(gen.Next()));
  return out;
}

void Percentiles(benchmark::State& state, std::vector<double> us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  auto pct = [&](double q) { return us[static_cast<size_t>(q * (us.size() - 1) + 0.5)]; };
  state.counters["p50_us"] = pct(0.5);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = us.back();
}

void BM_ComputeInProcess(benchmark::State& state) {
  const bool drl = state.range(0) == 1;
  Pce pce(BenchConfig());
  if (drl) pce.ServePolicyDir(twin::UseCase::kDeepRmsa, PolicyDir());
  const std::vector<PathRequest> requests = WarmUp(pce, 3000, 4096);
  std::vector<double> us;
  size_t i = 0, by_policy = 0;
  for (auto _ : state) {
    const auto t = Clock::now();
    PathDecision d = pce.ComputePath(requests[i++ % requests.size()]);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    by_policy += d.decided_by == "policy";
    benchmark::DoNotOptimize(d);
  }
  Percentiles(state, us);
  state.counters["services"] = static_cast<double>(pce.ListServices().size());
  state.counters["by_policy"] = static_cast<double>(by_policy) / std::max<size_t>(1, us.size());
  state.SetLabel(drl ? "drl (3x128 PPO)" : "ksp-ff");
}
BENCHMARK(BM_ComputeInProcess)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_RequestKinds(benchmark::State& state) {
  static const char* kKinds[] = {"bit rate", "50 GHz spectrum", "bidirectional, symmetric",
                                 "bidirectional, per direction", "exclude-link constraint"};
  const int kind = static_cast<int>(state.range(0));
  PceConfig config = BenchConfig();
  if (kind == 3) config.pce.bidirectional_spectrum = BidirectionalSpectrum::kPerDirection;
  Pce pce(config);
  std::vector<PathRequest> requests = WarmUp(pce, 3000, 4096);
  for (PathRequest& r : requests) {
    if (kind == 1) {
      r.bit_rate_gbps = 0;
      r.spectrum_width_hz = 50e9;
    }
    r.bidirectional = kind == 2 || kind == 3;
    // The first fibre out of the source: every request then needs a constrained candidate set.
    if (kind == 4) r.exclude_links = {pce.model().topology().OutFibres(r.src).front()};
  }
  std::vector<double> us;
  size_t i = 0, feasible = 0;
  for (auto _ : state) {
    const auto t = Clock::now();
    PathDecision d = pce.ComputePath(requests[i++ % requests.size()]);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    feasible += d.feasible;
    benchmark::DoNotOptimize(d);
  }
  Percentiles(state, us);
  state.counters["feasible"] = static_cast<double>(feasible) / std::max<size_t>(1, us.size());
  state.SetLabel(kKinds[kind]);
}
BENCHMARK(BM_RequestKinds)->DenseRange(0, 4)->Unit(benchmark::kMicrosecond);

void BM_CreateDeleteInProcess(benchmark::State& state) {
  const bool drl = state.range(0) == 1;
  PceSetup setup;
  setup.state_db = Tmp().dir + "/create-delete-" + std::to_string(drl) + ".db";
  fs::remove(setup.state_db);
  Pce pce(BenchConfig(), setup);
  if (drl) pce.ServePolicyDir(twin::UseCase::kDeepRmsa, PolicyDir());
  const std::vector<PathRequest> requests = WarmUp(pce, 3000, 4096);
  std::vector<double> us;
  size_t i = 0;
  for (auto _ : state) {
    const auto t = Clock::now();
    ServiceSpec s;
    s.request = requests[i++ % requests.size()];
    auto r = pce.CreateService(s);
    if (r.ok()) pce.DeleteService(r.value->uuid);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  Percentiles(state, us);
  state.SetLabel(std::string(drl ? "drl" : "ksp-ff") + ", SQLite write-ahead (synchronous=NORMAL)");
}
BENCHMARK(BM_CreateDeleteInProcess)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_ComputeOverHttp(benchmark::State& state) {
  const bool drl = state.range(0) == 1;
  const double rate = static_cast<double>(state.range(1));
  PceConfig c = BenchConfig();
  Pce pce(c);
  if (drl) pce.ServePolicyDir(twin::UseCase::kDeepRmsa, PolicyDir());
  const std::vector<PathRequest> requests = WarmUp(pce, 3000, 2000);
  tapi::TapiServerOptions o = tapi::TapiServerOptions::FromConfig(c);
  o.port = 0;
  tapi::TapiServer server(pce, o);
  const int port = server.Start();
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  std::vector<std::string> bodies;
  for (const auto& r : requests) {
    nlohmann::json in = {
        {"tapi-path-computation:input",
         {{"end-point",
           {{{"local-id", "a"},
             {"service-interface-point",
              {{"service-interface-point-uuid", pce.ted().SipUuid(r.src)}}},
             {"capacity", {{"total-size", {{"value", r.bit_rate_gbps}, {"unit", "GBPS"}}}}}},
            {{"local-id", "z"},
             {"service-interface-point",
              {{"service-interface-point-uuid", pce.ted().SipUuid(r.dst)}}}}}}}}};
    bodies.push_back(in.dump());
  }
  std::vector<double> us;
  int errors = 0, blocked = 0;
  double wall = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    for (size_t i = 0; i < bodies.size(); ++i) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(i / rate)));
      const auto t = Clock::now();
      auto res = client.Post("/restconf/operations/tapi-path-computation:compute-p-2-p-path",
                             bodies[i], "application/yang-data+json");
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
      if (res && res->status == 409) {
        ++blocked;  // no feasible lightpath at this occupancy: an answer, not an error
      } else if (!res || res->status != 200) {
        ++errors;
      }
      // Keep the path-computation context from growing without bound.
      if (res && res->status == 200 && i % 100 == 99) {
        for (const auto& p : pce.ListComputedPaths()) pce.DeleteComputedPath(p.uuid);
      }
    }
    wall = std::chrono::duration<double>(Clock::now() - start).count();
  }
  server.Stop();
  Percentiles(state, us);
  state.counters["rate_per_s"] = bodies.size() / wall;
  state.counters["errors"] = errors;
  state.counters["blocked"] = blocked;
  state.SetLabel(std::string(drl ? "drl (3x128 PPO)" : "ksp-ff") + ", open loop, keep-alive");
}
BENCHMARK(BM_ComputeOverHttp)
    ->Args({0, 500})
    ->Args({1, 500})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// The same RPC through TapiServer::Handle: routing, JSON parse, decision, reply JSON, metrics;
// no socket. The difference to BM_ComputeOverHttp is the HTTP transport.
void BM_ComputeTapiInProcess(benchmark::State& state) {
  const bool drl = state.range(0) == 1;
  PceConfig c = BenchConfig();
  Pce pce(c);
  if (drl) pce.ServePolicyDir(twin::UseCase::kDeepRmsa, PolicyDir());
  const std::vector<PathRequest> requests = WarmUp(pce, 3000, 2000);
  tapi::TapiServer server(pce, tapi::TapiServerOptions::FromConfig(c));
  std::vector<std::string> bodies;
  for (const auto& r : requests) {
    nlohmann::json in = {
        {"tapi-path-computation:input",
         {{"end-point",
           {{{"local-id", "a"},
             {"service-interface-point",
              {{"service-interface-point-uuid", pce.ted().SipUuid(r.src)}}},
             {"capacity", {{"total-size", {{"value", r.bit_rate_gbps}, {"unit", "GBPS"}}}}}},
            {{"local-id", "z"},
             {"service-interface-point",
              {{"service-interface-point-uuid", pce.ted().SipUuid(r.dst)}}}}}}}}};
    bodies.push_back(in.dump());
  }
  std::vector<double> us;
  size_t i = 0;
  for (auto _ : state) {
    const auto t = Clock::now();
    auto reply =
        server.Handle("POST", "/restconf/operations/tapi-path-computation:compute-p-2-p-path",
                      bodies[i++ % bodies.size()]);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    benchmark::DoNotOptimize(reply);
    if (i % 1000 == 0) {
      state.PauseTiming();
      for (const auto& p : pce.ListComputedPaths()) pce.DeleteComputedPath(p.uuid);
      state.ResumeTiming();
    }
  }
  Percentiles(state, us);
  state.SetLabel(drl ? "drl (3x128 PPO), TAPI layer without HTTP"
                     : "ksp-ff, TAPI layer without HTTP");
}
BENCHMARK(BM_ComputeTapiInProcess)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_PolicyLoadAndSwap(benchmark::State& state) {
  const PceConfig c = BenchConfig();
  Pce pce(c);
  const std::string dir = PolicyDir();
  for (auto _ : state) pce.ServePolicyDir(twin::UseCase::kDeepRmsa, dir);
  state.SetLabel("manifest + weights.pt (3x128), checks, atomic publish");
}
BENCHMARK(BM_PolicyLoadAndSwap)->Unit(benchmark::kMillisecond);

void BM_AliasMoveToServed(benchmark::State& state) {
  PceConfig c = BenchConfig();
  c.pce.policies = {{twin::UseCase::kDeepRmsa, "bench-model", "champion", true, ""}};
  tracking::StoreOptions so;
  so.db_path = Tmp().dir + "/tracking.db";
  so.artifact_root = Tmp().dir + "/artifacts";
  fs::remove(so.db_path);
  tracking::TrackingStore store(so);
  std::vector<int64_t> versions;
  for (uint64_t seed : {1, 2}) {
    tracking::CreateRunOptions ro;
    ro.experiment_id = store.GetOrCreateExperiment("bench");
    const std::string run = store.CreateRun(ro).info.run_id;
    for (const auto& f : fs::directory_iterator(PolicyDir(seed)))
      store.LogArtifact(run, f.path().string(), "policy");
    try {
      store.CreateRegisteredModel("bench-model");
    } catch (const std::exception&) {
    }
    versions.push_back(
        store.CreateModelVersion("bench-model", "runs:/" + run + "/policy", run).version);
  }
  store.SetAlias("bench-model", "champion", versions[0]);
  PceSetup setup;
  setup.tracking = StoreConnector(&store);
  Pce pce(c, setup);
  std::vector<double> ms;
  int k = 1;
  for (auto _ : state) {
    const int64_t target = versions[k++ % 2];
    // Move the alias at different phases of the poll cycle.
    std::this_thread::sleep_for(std::chrono::milliseconds((k * 97) % 250));
    const auto t = Clock::now();
    store.SetAlias("bench-model", "champion", target);
    while (!pce.ServedFor(twin::UseCase::kDeepRmsa) ||
           pce.ServedFor(twin::UseCase::kDeepRmsa)->ref.version != target) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    state.SetIterationTime(ms.back() / 1e3);
  }
  std::sort(ms.begin(), ms.end());
  state.counters["max_ms"] = ms.back();
  state.counters["median_ms"] = ms[ms.size() / 2];
  state.SetLabel("poll every 250 ms + fetch artifact + load + publish");
}
BENCHMARK(BM_AliasMoveToServed)->Iterations(12)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eonops::pce

BENCHMARK_MAIN();
