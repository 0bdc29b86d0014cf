// QoT model costs on NSFNET with the shipped C+L+S band plan and configs:
//   BM_WorstCaseGsnrLookup   every first-fit candidate block of K=5 paths, three bands
//   BM_PathQotLookup         the same through a per-path cached profile
//   BM_QotModelBuild         the worst-case table (a bound: NLI fill, three Raman states)
//   BM_ActualGsnr/40, /95    GSNR under the actual occupancy, 40 (95) active channels per fibre
//   BM_QotImpact             the impact of a candidate on the lit lightpaths it touches, NSFNET
//                            C+L+S with 500 lit lightpaths (target <= 20 us per candidate)
//   BM_ProvisionTracked      Provision + Release with the lightpaths' GSNR tracked (the cost of
//                            keeping QotImpact's inputs up to date)
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "twin/bands.h"
#include "twin/heuristics.h"
#include "twin/network.h"
#include "twin/paths.h"
#include "twin/qot.h"
#include "twin/topology.h"

namespace eonops::twin {
namespace {

struct Fixture {
  BandPlan plan = BandPlan::Load(ConfigDir() + "/bands.json");
  Topology topology = Topology::Load(ResolveTopologyPath("nsfnet"));
  QotModel model = QotModel::Load(topology, plan);
  // Seattle (0) to the farthest node by hops, Washington DC (13): the K=5 candidate paths.
  std::vector<Path> paths = KShortestPaths(topology, 0, 13, 5);
};

const Fixture& Get() {
  static const Fixture f;
  return f;
}

// One lookup per (path, band, first slot) for a 4-slot block: the inner loop of a QoT-aware
// spectrum search.
void BM_WorstCaseGsnrLookup(benchmark::State& state) {
  const Fixture& f = Get();
  const int width = 4;
  for (auto _ : state) {
    double sum = 0;
    for (const Path& p : f.paths) {
      for (int b = 0; b < f.plan.NumBands(); ++b) {
        for (int s = 0; s + width <= f.plan.band(b).num_slots; ++s) {
          sum += f.model.WorstCaseGsnrDb(p.fibres, b, s, width);
        }
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  int64_t per_iteration = 0;
  for (size_t i = 0; i < f.paths.size(); ++i) {
    for (int b = 0; b < f.plan.NumBands(); ++b)
      per_iteration += f.plan.band(b).num_slots - width + 1;
  }
  state.SetItemsProcessed(state.iterations() * per_iteration);
  state.counters["avg_hops"] = [&] {
    double h = 0;
    for (const Path& p : f.paths) h += p.hops;
    return h / f.paths.size();
  }();
}
BENCHMARK(BM_WorstCaseGsnrLookup);

void BM_PathQotLookup(benchmark::State& state) {
  const Fixture& f = Get();
  const int width = 4;
  std::vector<PathQot> cached;
  for (const Path& p : f.paths) cached.emplace_back(f.model, p.fibres);
  int64_t per_iteration = 0;
  for (auto _ : state) {
    double sum = 0;
    per_iteration = 0;
    for (const PathQot& q : cached) {
      for (int b = 0; b < f.plan.NumBands(); ++b) {
        for (int s = 0; s + width <= f.plan.band(b).num_slots; ++s, ++per_iteration) {
          sum += q.WorstCaseGsnrDb(b, s, width);
        }
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * per_iteration);
}
BENCHMARK(BM_PathQotLookup);

void BM_QotModelBuild(benchmark::State& state) {
  const Fixture& f = Get();
  for (auto _ : state) {
    QotModel m(f.topology, f.plan, f.model.fibre_params(), f.model.config(), f.model.amplifiers());
    benchmark::DoNotOptimize(m.NumFibres());
  }
  state.counters["distinct_span_lists"] = f.model.NumDistinctSpanLists();
}
BENCHMARK(BM_QotModelBuild)->Unit(benchmark::kMillisecond);

// `n` active 4-slot channels in the C band around the block (and none elsewhere), on each fibre
// of the longest-hop candidate path.
void BM_ActualGsnr(benchmark::State& state) {
  const Fixture& f = Get();
  const int n = static_cast<int>(state.range(0));
  const Path* path = &f.paths.front();
  for (const Path& p : f.paths) {
    if (p.hops > path->hops) path = &p;
  }
  std::vector<ActiveChannel> lit;
  for (int i = 0; static_cast<int>(lit.size()) < n; ++i) {
    int slot = 4 * i;
    if (slot == 200) continue;  // the block under test
    lit.push_back(f.model.BlockChannel(0, slot, 4));
  }
  auto channels = [&](int, std::vector<ActiveChannel>* out) {
    out->insert(out->end(), lit.begin(), lit.end());
  };
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.model.ActualGsnrDb(path->fibres, 0, 200, 4, channels));
  }
  state.counters["hops"] = path->hops;
}
BENCHMARK(BM_ActualGsnr)->Arg(40)->Arg(95);  // 95: the C band full

// NSFNET C+L+S in GSNR mode with 500 lightpaths of 100-400 Gb/s lit by KSP-FF, tracked.
struct LoadedNetwork {
  std::shared_ptr<const NetworkModel> model;
  std::unique_ptr<NetworkState> state;
  std::vector<Decision> candidates;  // KSP-FF's answers to 200 further requests
  std::vector<Request> requests;
};

const LoadedNetwork& Loaded500() {
  static const LoadedNetwork* net = [] {
    auto* n = new LoadedNetwork;
    NetworkOptions o;
    o.topology = "nsfnet";
    o.bands = {"C", "L", "S"};
    o.modulation_mode = ModulationMode::kGsnr;
    n->model = std::make_shared<const NetworkModel>(o);
    n->state = std::make_unique<NetworkState>(n->model);
    n->state->EnableQotTracking();
    const auto ksp = MakeHeuristic("ksp-ff");
    uint64_t x = 12345;
    auto next = [&x] {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      return x >> 33;
    };
    for (int r = 0; n->state->ActiveLightpaths() < 500 || n->candidates.size() < 200; ++r) {
      Request q;
      q.id = r;
      q.src = static_cast<int>(next() % 14);
      q.dst = static_cast<int>(next() % 14);
      q.bit_rate_gbps = 100.0 * (1 + next() % 4);
      if (q.src == q.dst) continue;
      const Decision d = ksp->Decide(q, *n->state);
      if (!d.accepted) continue;
      if (n->state->ActiveLightpaths() < 500) {
        n->state->Provision(q, d.candidate, d.slot, 1e9);
      } else {
        n->candidates.push_back(d);
        n->requests.push_back(q);
      }
    }
    return n;
  }();
  return *net;
}

void BM_QotImpact(benchmark::State& state) {
  const LoadedNetwork& n = Loaded500();
  size_t i = 0;
  double touched = 0;
  for (auto _ : state) {
    const Decision& d = n.candidates[i++ % n.candidates.size()];
    const QotImpact impact = n.state->QotImpactOf(d.candidate, d.slot, 1.0);
    touched += impact.touched;
    benchmark::DoNotOptimize(impact.min_margin_db);
  }
  state.counters["lit_lightpaths"] = n.state->ActiveLightpaths();
  state.counters["touched_per_candidate"] = touched / state.iterations();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QotImpact);

void BM_ProvisionTracked(benchmark::State& state) {
  const LoadedNetwork& n = Loaded500();
  NetworkState s = *n.state;
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % n.candidates.size();
    const int32_t id = s.Provision(n.requests[k], n.candidates[k].candidate, n.candidates[k].slot, 1e9);
    if (id >= 0) s.Release(id);
  }
  state.counters["lit_lightpaths"] = s.ActiveLightpaths();
}
BENCHMARK(BM_ProvisionTracked)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace eonops::twin

// bench_twin's one main(): other files in bench/twin only register benchmarks.
BENCHMARK_MAIN();
