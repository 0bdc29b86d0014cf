// Spectrum search costs on NSFNET with the C, L and S bands (1248 slots per fibre), on a state
// loaded by running the engine with KSP-FF until it blocks a few percent:
//   BM_SpectrumSearchK5/ff   one request's search over K=5 paths x 3 bands: Evaluate,
//                            PathOccupancy and FirstFit per candidate (items: requests)
//   BM_SpectrumSearchK5/bf   the same with best fit, /lf with last fit
//   BM_PathOccupancy         OR of a path's fibres for one band (items: candidates)
// Counters: candidates searched per second, the fraction feasible, the blocking and spectrum
// utilisation of the loaded state, mean hops.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "twin/engine.h"
#include "twin/heuristics.h"
#include "twin/network.h"
#include "twin/spectrum.h"
#include "twin/traffic.h"

namespace eonops::twin {
namespace {

struct LoadedNsfnet {
  std::shared_ptr<const NetworkModel> model;
  std::unique_ptr<NetworkState> state;
  std::vector<Request> requests;
  double blocking = 0;
  double utilisation = 0;

  LoadedNsfnet() {
    NetworkOptions o;
    o.topology = "nsfnet";
    o.bands = {"C", "L", "S"};
    o.k_paths = 5;
    o.modulation_mode = ModulationMode::kGsnr;
    model = std::make_shared<const NetworkModel>(o);
    // 100-400 Gb/s at 2500 Erlang fills the three bands to where KSP-FF blocks a few percent.
    TrafficConfig t;
    t.load_erlang = 2500;
    t.holding_truncate_factor = 2;
    t.bit_rate_min_gbps = 100;
    t.bit_rate_max_gbps = 400;
    Engine engine(model, t, 1);
    const auto h = MakeHeuristic("ksp-ff");
    int blocked = 0;
    const int n = 30000;
    for (int i = 0; i < n; ++i) {
      const Request& r = engine.Advance();
      const Decision d = h->Decide(r, engine.state());
      if (d.accepted) {
        engine.Commit(d.candidate, d.slot);
      } else if (i >= n / 2) {
        ++blocked;
      }
    }
    blocking = double(blocked) / (n - n / 2);
    state = std::make_unique<NetworkState>(engine.state());
    long long used = 0, total = 0;
    for (int b = 0; b < model->NumBands(); ++b) {
      used += state->spectrum().TotalUsedSlots(b);
      total +=
          static_cast<long long>(model->plan().band(b).num_slots) * model->topology().NumFibres();
    }
    utilisation = double(used) / total;
    TrafficGenerator gen(t, model->topology().NumNodes(), 77);
    for (int i = 0; i < 4096; ++i) requests.push_back(gen.Next());
  }
};

const LoadedNsfnet& Loaded() {
  static const LoadedNsfnet f;
  return f;
}

void BM_SpectrumSearchK5(benchmark::State& state, FitPolicy fit) {
  const LoadedNsfnet& f = Loaded();
  const NetworkModel& m = *f.model;
  const NetworkState& s = *f.state;
  std::vector<uint64_t> occ(s.spectrum().MaxWords());
  size_t i = 0;
  int64_t candidates = 0, feasible = 0;
  for (auto _ : state) {
    const Request& r = f.requests[i++ & 4095];
    for (int k = 0; k < m.k(); ++k) {
      for (int b = 0; b < m.NumBands(); ++b) {
        const Candidate c = m.Evaluate(r, k, b);
        ++candidates;
        if (!c.usable()) continue;
        s.PathOccupancy(c, occ.data());
        const int slot = Fit(fit, occ.data(), m.plan().band(b).num_slots, c.width);
        feasible += slot >= 0;
        benchmark::DoNotOptimize(slot);
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["candidates/s"] =
      benchmark::Counter(double(candidates), benchmark::Counter::kIsRate);
  state.counters["feasible_frac"] = double(feasible) / std::max<int64_t>(1, candidates);
  state.counters["load_blocking"] = f.blocking;
  state.counters["utilisation"] = f.utilisation;
}
BENCHMARK_CAPTURE(BM_SpectrumSearchK5, ff, FitPolicy::kFirstFit);
BENCHMARK_CAPTURE(BM_SpectrumSearchK5, bf, FitPolicy::kBestFit);
BENCHMARK_CAPTURE(BM_SpectrumSearchK5, lf, FitPolicy::kLastFit);

void BM_PathOccupancy(benchmark::State& state) {
  const LoadedNsfnet& f = Loaded();
  const NetworkModel& m = *f.model;
  const NetworkState& s = *f.state;
  std::vector<Candidate> cands;
  double hops = 0;
  for (int i = 0; i < 256; ++i) {
    for (int k = 0; k < m.k(); ++k) {
      for (int b = 0; b < m.NumBands(); ++b) {
        cands.push_back(m.Evaluate(f.requests[i], k, b));
        hops += cands.back().path->hops;
      }
    }
  }
  std::vector<uint64_t> occ(s.spectrum().MaxWords());
  size_t i = 0;
  for (auto _ : state) {
    s.PathOccupancy(cands[i++ % cands.size()], occ.data());
    benchmark::DoNotOptimize(occ.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["mean_hops"] = hops / cands.size();
}
BENCHMARK(BM_PathOccupancy);

}  // namespace
}  // namespace eonops::twin
