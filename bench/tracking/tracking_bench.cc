// Tracking benchmarks (targets from issue 5):
//   log-batch throughput          >= 100,000 metric points/s   (BM_LogBatchHttp: items_per_second)
//   get-history of 100,000 points  < 200 ms                     (BM_GetHistoryHttp100k)
//   compare view, 20 runs x 10,000 points, headless Chromium < 1 s (BM_CompareViewChromium)
//
//   build-tracking/bench/bench_tracking                      # all
//   build-tracking/bench/bench_tracking --benchmark_filter=LogBatch
//
// Each benchmark works on its own temporary store (files under $TMPDIR, removed afterwards).
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <stdlib.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/tracking/chromium.h"
#include "tracking/http_client.h"
#include "tracking/server.h"
#include "tracking/store.h"

namespace eonops::tracking {
namespace {

// A store in a fresh temporary directory, served on an ephemeral loopback port.
struct Served {
  std::string dir;
  std::unique_ptr<TrackingStore> store;
  std::unique_ptr<TrackingServer> server;
  int port = 0;

  Served() {
    std::string templ = (std::filesystem::temp_directory_path() / "eonops-bench-XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    dir = templ;
    StoreOptions o;
    o.db_path = dir + "/bench.db";
    o.artifact_root = dir + "/artifacts";
    store = std::make_unique<TrackingStore>(o);
    ServerOptions so;
    so.port = 0;
    so.access_log = std::getenv("EONOPS_ACCESS_LOG") != nullptr;  // per-request timings
    server = std::make_unique<TrackingServer>(*store, so);
    port = server->Start();
  }
  ~Served() {
    server->Stop();
    server.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

std::vector<Metric> MakeBatch(int64_t first_step, int size) {
  std::vector<Metric> batch;
  batch.reserve(size);
  const int64_t now = NowMs();
  for (int i = 0; i < size; ++i) {
    const int64_t step = first_step + i / 4;
    batch.push_back(
        {"m" + std::to_string(i % 4), std::sin(0.001 * double(first_step + i)), now, step});
  }
  return batch;
}

// Metric points per second through the REST API: one log-batch request of 1000 metrics (the
// MLflow limit) per iteration, from the C++ HTTP client, into SQLite.
void BM_LogBatchHttp(benchmark::State& state) {
  Served s;
  TrackingHttpClient client(s.Url());
  const std::string run = client.CreateRun({}).info.run_id;
  int64_t step = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = MakeBatch(step, 1000);
    step += 250;
    state.ResumeTiming();
    client.LogBatch(run, batch, {}, {});
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_LogBatchHttp)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// The same in-process (what `eonops train` does without --tracking).
void BM_LogBatchInProcess(benchmark::State& state) {
  Served s;
  const std::string run = s.store->CreateRun({}).info.run_id;
  int64_t step = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = MakeBatch(step, 1000);
    step += 250;
    state.ResumeTiming();
    s.store->LogBatch(run, batch, {}, {});
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_LogBatchInProcess)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// Several trainers logging at once through the server (WAL + busy retry under contention).
void BM_LogBatchHttp4Clients(benchmark::State& state) {
  Served s;
  std::vector<std::string> runs;
  for (int i = 0; i < 4; ++i) runs.push_back(s.store->CreateRun({}).info.run_id);
  const auto batch = MakeBatch(0, 1000);
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int c = 0; c < 4; ++c)
      threads.emplace_back([&, c] {
        TrackingHttpClient client(s.Url());
        for (int i = 0; i < 10; ++i) client.LogBatch(runs[c], batch, {}, {});
      });
    for (auto& t : threads) t.join();
  }
  state.SetItemsProcessed(state.iterations() * 4 * 10 * 1000);
}
BENCHMARK(BM_LogBatchHttp4Clients)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

std::string LogHistory(TrackingStore& store, int points) {
  const std::string run = store.CreateRun({}).info.run_id;
  std::vector<Metric> batch;
  for (int i = 0; i < points; ++i) {
    batch.push_back({"reward", std::sin(i * 0.01), 1700000000000 + i, i});
    if (batch.size() == 1000) {
      store.LogBatch(run, batch, {}, {});
      batch.clear();
    }
  }
  if (!batch.empty()) store.LogBatch(run, batch, {}, {});
  return run;
}

// GET metrics/get-history of a 100,000-point metric: the request, the server's SQLite read and
// JSON, and the transfer (body received, not parsed).
void BM_GetHistoryHttp100k(benchmark::State& state) {
  Served s;
  const std::string run = LogHistory(*s.store, 100000);
  httplib::Client http("127.0.0.1", s.port);
  size_t bytes = 0;
  for (auto _ : state) {
    auto r = http.Get("/api/2.0/mlflow/metrics/get-history",
                      {{"run_id", run}, {"metric_key", "reward"}}, httplib::Headers{});
    if (!r || r->status != 200) {
      state.SkipWithError("get-history failed");
      break;
    }
    bytes = r->body.size();
  }
  state.counters["points"] = 100000;
  state.counters["MB"] = bytes / 1e6;
}
BENCHMARK(BM_GetHistoryHttp100k)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// The same through TrackingHttpClient, including parsing into 100,000 Metric values.
void BM_GetHistoryClient100k(benchmark::State& state) {
  Served s;
  const std::string run = LogHistory(*s.store, 100000);
  TrackingHttpClient client(s.Url());
  for (auto _ : state) {
    auto page = client.GetMetricHistory(run, "reward");
    if (page.items.size() != 100000) {
      state.SkipWithError("wrong number of points");
      break;
    }
  }
}
BENCHMARK(BM_GetHistoryClient100k)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// The store alone (no HTTP): SQLite read of 100,000 points.
void BM_GetHistoryStore100k(benchmark::State& state) {
  Served s;
  const std::string run = LogHistory(*s.store, 100000);
  for (auto _ : state) benchmark::DoNotOptimize(s.store->GetMetricHistory(run, "reward"));
}
BENCHMARK(BM_GetHistoryStore100k)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// The compare view of 20 runs x 10,000 episodes (plus 10,000-point reward and blocking metric
// histories each), rendered by headless Chromium. Timed from the page's first script ("boot",
// reported to the server) to "compare-rendered" (all fetches done, three charts and the tables
// in the DOM and laid out), both stamped by the server's clock: Chromium's own clock is virtual
// under --virtual-time-budget. Also reported: the server's compare endpoint alone and the
// whole Chromium process (start-up included).
void BM_CompareViewChromium(benchmark::State& state) {
  if (!testing::ChromiumAvailable()) {
    state.SkipWithError("/usr/bin/chromium is not installed");
    return;
  }
  Served s;
  constexpr int kRuns = 20, kPoints = 10000;
  std::vector<std::string> ids;
  std::string exp = s.store->CreateExperiment("compare-bench");
  for (int r = 0; r < kRuns; ++r) {
    CreateRunOptions o;
    o.experiment_id = exp;
    o.run_name = "run-" + std::to_string(r);
    const std::string id = s.store->CreateRun(o).info.run_id;
    ids.push_back(id);
    std::vector<Episode> eps;
    for (int e = 0; e < kPoints; ++e) {
      Episode ep;
      ep.episode = e;
      ep.reward = r + std::log1p(e) + 0.3 * std::sin(e * 0.05);
      ep.length = 100;
      ep.blocking = 0.05 * std::exp(-e / 3000.0) + 0.001 * r;
      ep.energy = 1.0;
      eps.push_back(ep);
    }
    s.store->LogEpisodes(id, eps);
    std::vector<Metric> batch;
    for (int i = 0; i < kPoints; ++i) {
      batch.push_back({"reward", r + std::log1p(i), 1, i});
      batch.push_back({"blocking", 0.05 * std::exp(-i / 3000.0), 1, i});
      if (batch.size() == 1000) {
        s.store->LogBatch(id, batch, {}, {});
        batch.clear();
      }
    }
    std::vector<Metric> loads;
    for (int load : {100, 200, 300, 400, 500}) {
      loads.push_back({"blocking@load=" + std::to_string(load), 1e-4 * load * (1 + 0.1 * r), 1, 0});
      loads.push_back({"blocking@load=" + std::to_string(load) + "/ksp-ff", 2e-4 * load, 1, 0});
    }
    s.store->LogBatch(id, loads, {{"algo", r % 2 ? "ppo" : "dqn"}, {"seed", std::to_string(r)}},
                      {});
  }
  std::string joined;
  for (const auto& id : ids) joined += (joined.empty() ? "" : ",") + id;

  // The API call the page makes, alone.
  httplib::Client http("127.0.0.1", s.port);
  auto t0 = std::chrono::steady_clock::now();
  auto api = http.Get(
      "/api/eonops/compare",
      {{"run_ids", joined}, {"fallback_metrics", "reward,blocking"}, {"max_points", "800"}},
      httplib::Headers{});
  const double api_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!api || api->status != 200) {
    state.SkipWithError("compare endpoint failed");
    return;
  }

  double render_total = 0, process_total = 0;
  int rendered = 0;
  for (auto _ : state) {
    const size_t before =
        nlohmann::json::parse(http.Get("/api/eonops/ui-marks")->body)["marks"].size();
    auto r = testing::DumpDom(s.Url() + "/?mark=1#/compare?runs=" + joined, 20000);
    auto marks = nlohmann::json::parse(http.Get("/api/eonops/ui-marks")->body)["marks"];
    int64_t boot = -1, done = -1;
    for (size_t i = before; i < marks.size(); ++i) {
      if (marks[i]["name"] == "boot") boot = marks[i]["time_ms"];
      if (marks[i]["name"] == "compare-rendered") done = marks[i]["time_ms"];
    }
    if (r.exit_code != 0 || boot < 0 || done < 0 ||
        r.out.find("data-rendered=\"1\"") == std::string::npos) {
      state.SkipWithError("the compare page did not render");
      break;
    }
    const double render_ms = static_cast<double>(done - boot);
    state.SetIterationTime(render_ms / 1000.0);
    render_total += render_ms;
    process_total += r.wall_ms;
    ++rendered;
  }
  if (rendered) {
    state.counters["render_ms"] = render_total / rendered;
    state.counters["chromium_process_ms"] = process_total / rendered;
    state.counters["compare_api_ms"] = api_ms;
    state.counters["api_MB"] = api->body.size() / 1e6;
    state.counters["runs"] = kRuns;
    state.counters["points_per_run"] = kPoints;
  }
}
BENCHMARK(BM_CompareViewChromium)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);

}  // namespace
}  // namespace eonops::tracking

BENCHMARK_MAIN();
