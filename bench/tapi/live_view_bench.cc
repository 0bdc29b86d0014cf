// The live view under load: USNET with C+L+S at full width and several hundred provisioned
// services. Reported:
//   BM_LiveViewSnapshot          the server rebuilding /ui/api/snapshot after a change
//   BM_LiveViewUpdateChromium    one update rendered in headless Chromium: the page (?bench=N)
//                                alternately drops the newest service and puts it back, each
//                                time parsing the snapshot text and updating map, tables, grids
//                                and figures (layout included), and stamps mean/p50/max on
//                                <body>. It runs before the load event (synchronous XHR)
//                                and Chromium runs without a virtual-time budget, so
//                                performance.now() is the real clock. Target: under 100 ms.
//
//   build-ui/bench/bench_tapi --benchmark_filter=LiveView
#include <benchmark/benchmark.h>

#include <random>
#include <regex>
#include <string>

#include "pce/pce.h"
#include "tapi/live_view.h"
#include "tapi/server.h"
#include "tests/tracking/chromium.h"
#include "twin/topology.h"

namespace eonops::tapi {
namespace {

constexpr int kServices = 500;

pce::PceConfig UsnetConfig() {
  pce::PceConfig c = pce::PceConfig::Load(twin::ConfigDir() + "/pce-nsfnet-k5.json");
  c.network.topology = "usnet";
  c.network.bands = {"C", "L", "S"};
  c.network.slots_per_band = 0;
  c.pce.policies.clear();
  c.pce.decision_log.enabled = false;
  return c;
}

// Provisions random services until `target` are up (or attempts run out); returns how many.
int Fill(pce::Pce& p, int target) {
  std::mt19937_64 rng(7);
  const int n = p.model().topology().NumNodes();
  std::uniform_int_distribution<int> node(0, n - 1), rate(1, 4);
  int up = 0;
  for (int attempt = 0; attempt < target * 4 && up < target; ++attempt) {
    pce::ServiceSpec s;
    s.request.src = node(rng);
    do s.request.dst = node(rng); while (s.request.dst == s.request.src);
    s.request.bit_rate_gbps = 100.0 * rate(rng);
    if (p.CreateService(s).ok()) ++up;
  }
  return up;
}

void BM_LiveViewSnapshot(benchmark::State& state) {
  pce::Pce p(UsnetConfig());
  const int up = Fill(p, kServices);
  LiveView view(p);
  size_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto extra = p.CreateService([&] {
      pce::ServiceSpec s;
      s.request.src = 0;
      s.request.dst = 23;
      s.request.bit_rate_gbps = 100;
      return s;
    }());
    state.ResumeTiming();
    auto r = view.Handle("GET", "/ui/api/snapshot");
    bytes = r->body.size();
    state.PauseTiming();
    if (extra.ok()) p.DeleteService(extra.value->uuid);
    state.ResumeTiming();
  }
  state.counters["services"] = up;
  state.counters["snapshot_kB"] = bytes / 1e3;
}
BENCHMARK(BM_LiveViewSnapshot)->Unit(benchmark::kMillisecond)->MinTime(1.0);

void BM_LiveViewUpdateChromium(benchmark::State& state) {
  if (!tracking::testing::ChromiumAvailable()) {
    state.SkipWithError("/usr/bin/chromium is not installed");
    return;
  }
  pce::Pce p(UsnetConfig());
  const int up = Fill(p, kServices);
  TapiServerOptions o = TapiServerOptions::FromConfig(p.config());
  o.port = 0;
  TapiServer server(p, o);
  const int port = server.Start();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/ui?bench=" + std::to_string(state.range(0));
  auto attr = [](const std::string& dom, const std::string& name) {
    std::smatch m;
    return std::regex_search(dom, m, std::regex(name + "=\"([0-9.]+)\"")) ? std::stod(m[1].str()) : -1.0;
  };
  double mean = 0, p50 = 0, max = 0, first = 0, bytes = 0;  // first: the last update of each page
  int runs = 0;
  for (auto _ : state) {
    auto r = tracking::testing::RunChromium({"--window-size=1600,1000", "--dump-dom", url}, 120);
    const double m = attr(r.out, "data-bench-mean-ms");
    if (r.exit_code != 0 || m < 0) {
      state.SkipWithError("the page did not run its benchmark");
      break;
    }
    state.SetIterationTime(m / 1000.0);
    mean += m;
    p50 += attr(r.out, "data-bench-p50-ms");
    max = std::max(max, attr(r.out, "data-bench-max-ms"));
    bytes = attr(r.out, "data-bench-bytes");
    first += attr(r.out, "data-render-ms");
    ++runs;
  }
  server.Stop();
  if (runs) {
    state.counters["update_mean_ms"] = mean / runs;
    state.counters["update_p50_ms"] = p50 / runs;
    state.counters["update_max_ms"] = max;
    state.counters["services"] = up;
    state.counters["snapshot_kB"] = bytes / 1e3;
    state.counters["last_update_ms"] = first / runs;
    state.counters["updates_per_page"] = static_cast<double>(state.range(0));
  }
}
BENCHMARK(BM_LiveViewUpdateChromium)->Arg(40)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);

}  // namespace
}  // namespace eonops::tapi

BENCHMARK_MAIN();
