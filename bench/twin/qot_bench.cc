// QoT model costs on NSFNET with the shipped C+L+S band plan and configs:
//   BM_WorstCaseGsnrLookup   every first-fit candidate block of K=5 paths, three bands
//   BM_PathQotLookup         the same through a per-path cached profile
//   BM_QotModelBuild         the worst-case table (ISRS GN, 312 reference channels)
//   BM_ActualGsnr/40, /95    GSNR under the actual occupancy, 40 (95) active channels per fibre
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "twin/bands.h"
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
    QotModel m(f.topology, f.plan, f.model.fibre_params(), f.model.config());
    benchmark::DoNotOptimize(m.NumFibres());
  }
  state.counters["reference_channels"] = 0;
  int n = 0;
  for (const Band& b : f.plan.bands()) {
    n += static_cast<int>(b.num_slots * f.plan.slot_width_hz() /
                          f.model.config().reference_spacing_hz);
  }
  state.counters["reference_channels"] = n;
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

}  // namespace
}  // namespace eonops::twin

// bench_twin's one main(): other files in bench/twin only register benchmarks.
BENCHMARK_MAIN();
