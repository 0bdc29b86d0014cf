// Energy accounting costs on NSFNET with C, L and S, on a state loaded by KSP-FF at 1000 Erlang
// (100-400 Gb/s), where some bands are lit on some fibres and dark on others:
//   BM_IncrementalPower       NetworkState::IncrementalPowerW of one candidate (items: candidates)
//   BM_NetworkPowerRecompute  EnergyModel::NetworkPowerW from scratch, what the state's running
//                             total (NetworkState::PowerW, O(1)) saves on every step
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "twin/engine.h"
#include "twin/heuristics.h"
#include "twin/network.h"
#include "twin/traffic.h"

namespace eonops::twin {
namespace {

struct EnergyFixture {
  std::shared_ptr<const NetworkModel> model;
  std::unique_ptr<NetworkState> state;
  std::vector<Candidate> candidates;
  double lit_fraction = 0;

  EnergyFixture() {
    NetworkOptions o;
    o.topology = "nsfnet";
    o.bands = {"C", "L", "S"};
    o.k_paths = 5;
    o.modulation_mode = ModulationMode::kGsnr;
    model = std::make_shared<const NetworkModel>(o);
    TrafficConfig t;
    t.load_erlang = 1000;
    t.holding_truncate_factor = 2;
    t.bit_rate_min_gbps = 100;
    t.bit_rate_max_gbps = 400;
    Engine engine(model, t, 1);
    const auto h = MakeHeuristic("ksp-ff");
    for (int i = 0; i < 20000; ++i) {
      const Request& r = engine.Advance();
      const Decision d = h->Decide(r, engine.state());
      if (d.accepted) engine.Commit(d.candidate, d.slot);
    }
    state = std::make_unique<NetworkState>(engine.state());
    int lit = 0;
    for (int f = 0; f < model->topology().NumFibres(); ++f) {
      for (int b = 0; b < model->NumBands(); ++b) lit += state->spectrum().Lightpaths(f, b) > 0;
    }
    lit_fraction = double(lit) / (model->topology().NumFibres() * model->NumBands());
    TrafficGenerator gen(t, model->topology().NumNodes(), 99);
    while (candidates.size() < 4096) {
      const Request r = gen.Next();
      for (int k = 0; k < model->k(); ++k) {
        for (int b = 0; b < model->NumBands(); ++b) {
          const Candidate c = model->Evaluate(r, k, b);
          if (c.usable()) candidates.push_back(c);
        }
      }
    }
  }
};

const EnergyFixture& Get() {
  static const EnergyFixture f;
  return f;
}

void BM_IncrementalPower(benchmark::State& state) {
  const EnergyFixture& f = Get();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.state->IncrementalPowerW(f.candidates[i++ & 4095]));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["lit_fibre_bands"] = f.lit_fraction;
}
BENCHMARK(BM_IncrementalPower);

void BM_NetworkPowerRecompute(benchmark::State& state) {
  const EnergyFixture& f = Get();
  double trx = 0;
  for (const Lightpath* lp : f.state->Lightpaths()) trx += lp->transponder_w;
  const int ports = 2 * f.state->ActiveLightpaths();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        f.model->energy().NetworkPowerW(f.model->topology(), f.state->spectrum(), trx, ports));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["active_lightpaths"] = f.state->ActiveLightpaths();
}
BENCHMARK(BM_NetworkPowerRecompute);

}  // namespace
}  // namespace eonops::twin
