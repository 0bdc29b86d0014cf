// Tracking benchmarks (targets from issue 5; PostgreSQL vs SQLite from issue 16):
//   log-batch throughput          >= 100,000 metric points/s   (BM_LogBatchHttp: items_per_second)
//   get-history of 100,000 points  < 200 ms                     (BM_GetHistoryHttp100k)
//   compare view, 20 runs x 10,000 points, headless Chromium < 1 s (BM_CompareViewChromium)
// The HTTP benchmarks run over a matrix: engine (0 SQLite file, 1 PostgreSQL) x clients (1, 4)
// x tracking server replicas (1, 2, on the same database, clients spread over them).
//
//   build/bench/bench_tracking                                   # all
//   build/bench/bench_tracking --benchmark_filter='LogBatchHttp/pg:1'
//
// PostgreSQL is Debian's, started by the benchmark in a temporary directory (as the tests
// do), with fsync on and synchronous_commit off: the durability of the SQLite store's WAL
// with synchronous=NORMAL (an OS crash may lose the last commits, nothing is corrupted).
// EONOPS_BENCH_POSTGRES=postgresql://... uses an existing server instead. Each benchmark works
// on its own database (a file or a schema), removed afterwards.
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "tests/tracking/chromium.h"
#include "tests/tracking/postgres_server.h"
#include "tracking/http_client.h"
#include "tracking/postgres_db.h"
#include "tracking/server.h"
#include "tracking/store.h"

namespace eonops::tracking {
namespace {

// Where PostgreSQL benchmarks put their schemas: $EONOPS_BENCH_POSTGRES, or a server started
// once for this process. Empty when PostgreSQL is not installed.
std::string PostgresBase() {
  static std::unique_ptr<testing::PostgresServer> server;
  static std::string base = [] {
    if (const char* env = std::getenv("EONOPS_BENCH_POSTGRES"); env && *env) return std::string(env);
    if (testing::PostgresBinDir().empty()) return std::string();
    server = testing::PostgresServer::Start(testing::PostgresServer::Durability::kLikeSqlite);
    return server->Url("postgres");
  }();
  return base;
}

// One tracking database (a SQLite file, or a fresh schema on PostgreSQL) served by `replicas`
// tracking servers on ephemeral loopback ports.
struct Served {
  std::string dir;
  std::string location;
  std::string schema;  // PostgreSQL only
  std::vector<std::unique_ptr<TrackingStore>> stores;
  std::vector<std::unique_ptr<TrackingServer>> servers;
  std::vector<int> ports;

  explicit Served(bool postgres = false, int replicas = 1) {
    std::string templ = (std::filesystem::temp_directory_path() / "eonops-bench-XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    dir = templ;
    location = dir + "/bench.db";
    if (postgres) {
      schema = "bench_" + std::to_string(std::random_device{}() % 1000000);
      PostgresConnection(PostgresBase(), {}).Exec("CREATE SCHEMA " + schema);
      location = PostgresBase() + (PostgresBase().find('?') == std::string::npos ? "?" : "&") +
                 "options=-csearch_path%3D" + schema;
    }
    for (int r = 0; r < replicas; ++r) {
      StoreOptions o;
      o.db_path = location;
      o.artifact_root = dir + "/artifacts";
      stores.push_back(std::make_unique<TrackingStore>(o));
      ServerOptions so;
      so.port = 0;
      so.access_log = std::getenv("EONOPS_ACCESS_LOG") != nullptr;  // per-request timings
      servers.push_back(std::make_unique<TrackingServer>(*stores.back(), so));
      ports.push_back(servers.back()->Start());
    }
  }
  ~Served() {
    for (auto& s : servers) s->Stop();
    servers.clear();
    stores.clear();
    if (!schema.empty()) PostgresConnection(PostgresBase(), {}).Exec("DROP SCHEMA " + schema + " CASCADE");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TrackingStore& store() { return *stores.front(); }
  int port(int client) const { return ports[client % ports.size()]; }
  std::string Url(int client = 0) const { return "http://127.0.0.1:" + std::to_string(port(client)); }
};

// Skips a PostgreSQL case when there is no server; true when the case can run.
bool HaveBackend(benchmark::State& state, bool postgres) {
  if (postgres && PostgresBase().empty()) {
    state.SkipWithError("PostgreSQL is not installed");
    return false;
  }
  return true;
}

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

// Metric points per second through the REST API: log-batch requests of 1000 metrics (the
// MLflow limit) from the C++ HTTP client; each client logs to its own run, 10 requests per
// client per iteration, all clients at once, spread over the replicas.
void BM_LogBatchHttp(benchmark::State& state) {
  const bool postgres = state.range(0) != 0;
  const int clients = static_cast<int>(state.range(1));
  const int replicas = static_cast<int>(state.range(2));
  if (!HaveBackend(state, postgres)) return;
  Served s(postgres, replicas);
  std::vector<std::string> runs;
  for (int c = 0; c < clients; ++c) runs.push_back(s.store().CreateRun({}).info.run_id);
  std::vector<int64_t> steps(clients, 0);
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&, c] {
        TrackingHttpClient client(s.Url(c));
        for (int i = 0; i < 10; ++i) {
          client.LogBatch(runs[c], MakeBatch(steps[c], 1000), {}, {});
          steps[c] += 250;
        }
      });
    for (auto& t : threads) t.join();
  }
  state.SetItemsProcessed(state.iterations() * clients * 10 * 1000);
}
BENCHMARK(BM_LogBatchHttp)
    ->ArgNames({"pg", "clients", "replicas"})
    ->ArgsProduct({{0, 1}, {1, 4}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

// The same in-process (what `eonops train` does without --tracking): one client, no HTTP.
void BM_LogBatchInProcess(benchmark::State& state) {
  const bool postgres = state.range(0) != 0;
  if (!HaveBackend(state, postgres)) return;
  Served s(postgres);
  const std::string run = s.store().CreateRun({}).info.run_id;
  int64_t step = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = MakeBatch(step, 1000);
    step += 250;
    state.ResumeTiming();
    s.store().LogBatch(run, batch, {}, {});
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_LogBatchInProcess)->ArgName("pg")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

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

// GET metrics/get-history of a 100,000-point metric: the request, the server's read and JSON,
// and the transfer (body received, not parsed). Each client reads the whole history once per
// iteration, all at once, spread over the replicas; the time is per iteration.
void BM_GetHistoryHttp100k(benchmark::State& state) {
  const bool postgres = state.range(0) != 0;
  const int clients = static_cast<int>(state.range(1));
  const int replicas = static_cast<int>(state.range(2));
  if (!HaveBackend(state, postgres)) return;
  Served s(postgres, replicas);
  const std::string run = LogHistory(s.store(), 100000);
  std::vector<std::unique_ptr<httplib::Client>> http;
  for (int c = 0; c < clients; ++c) {
    http.push_back(std::make_unique<httplib::Client>("127.0.0.1", s.port(c)));
    http.back()->set_read_timeout(60, 0);
  }
  std::atomic<bool> failed{false};
  size_t bytes = 0;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&, c] {
        auto r = http[c]->Get("/api/2.0/mlflow/metrics/get-history",
                              {{"run_id", run}, {"metric_key", "reward"}}, httplib::Headers{});
        if (!r || r->status != 200) failed = true;
        if (c == 0 && r) bytes = r->body.size();
      });
    for (auto& t : threads) t.join();
    if (failed) {
      state.SkipWithError("get-history failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * clients);  // histories per second
  state.counters["points"] = 100000;
  state.counters["MB"] = bytes / 1e6;
}
BENCHMARK(BM_GetHistoryHttp100k)
    ->ArgNames({"pg", "clients", "replicas"})
    ->ArgsProduct({{0, 1}, {1, 4}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

// The same through TrackingHttpClient, including parsing into 100,000 Metric values.
void BM_GetHistoryClient100k(benchmark::State& state) {
  Served s;
  const std::string run = LogHistory(s.store(), 100000);
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

// The store alone (no HTTP): the database read of 100,000 points.
void BM_GetHistoryStore100k(benchmark::State& state) {
  const bool postgres = state.range(0) != 0;
  if (!HaveBackend(state, postgres)) return;
  Served s(postgres);
  const std::string run = LogHistory(s.store(), 100000);
  for (auto _ : state) benchmark::DoNotOptimize(s.store().GetMetricHistory(run, "reward"));
}
BENCHMARK(BM_GetHistoryStore100k)->ArgName("pg")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

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
  std::string exp = s.store().CreateExperiment("compare-bench");
  for (int r = 0; r < kRuns; ++r) {
    CreateRunOptions o;
    o.experiment_id = exp;
    o.run_name = "run-" + std::to_string(r);
    const std::string id = s.store().CreateRun(o).info.run_id;
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
    s.store().LogEpisodes(id, eps);
    std::vector<Metric> batch;
    for (int i = 0; i < kPoints; ++i) {
      batch.push_back({"reward", r + std::log1p(i), 1, i});
      batch.push_back({"blocking", 0.05 * std::exp(-i / 3000.0), 1, i});
      if (batch.size() == 1000) {
        s.store().LogBatch(id, batch, {}, {});
        batch.clear();
      }
    }
    std::vector<Metric> loads;
    for (int load : {100, 200, 300, 400, 500}) {
      loads.push_back({"blocking@load=" + std::to_string(load), 1e-4 * load * (1 + 0.1 * r), 1, 0});
      loads.push_back({"blocking@load=" + std::to_string(load) + "/ksp-ff", 2e-4 * load, 1, 0});
    }
    s.store().LogBatch(id, loads, {{"algo", r % 2 ? "ppo" : "dqn"}, {"seed", std::to_string(r)}},
                      {});
  }
  std::string joined;
  for (const auto& id : ids) joined += (joined.empty() ? "" : ",") + id;

  // The API call the page makes, alone.
  httplib::Client http("127.0.0.1", s.port(0));
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
