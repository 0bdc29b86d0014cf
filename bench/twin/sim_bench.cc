// Engine steps per second on NSFNET, one core. A step is one request: release what expired,
// decide, commit. Each benchmark runs the engine in continuous operation from a state warmed up
// by 3000 requests, so the spectrum is as loaded as in a measurement.
//   BM_KspFfStep/reach       DeepRMSA benchmark (C, 100 slots, reach-based modulation, 250 Erlang)
//   BM_KspFfStep/gsnr        C+L+S (1248 slots), modulation from the cached worst-case GSNR,
//                            100-400 Gb/s at 2500 Erlang
//   BM_MaskedRandomStep/...  a random feasible (path, band) with its first-fit block: what a
//                            masked random agent costs (every candidate is searched to build the
//                            mask)
//   BM_EnergyAwareStep/...   the energy-aware heuristic (incremental power of every feasible
//   candidate) BM_Simulate/...          Simulate() end to end with KSP-FF, 3000 + 20000 requests
//   per iteration
// Counters: blocking over the timed steps.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "twin/engine.h"
#include "twin/heuristics.h"
#include "twin/network.h"
#include "twin/rng.h"
#include "twin/scenario.h"
#include "twin/simulator.h"

namespace eonops::twin {
namespace {

enum Setting { kReach = 0, kGsnr = 1 };

struct Setup {
  std::shared_ptr<const NetworkModel> model;
  TrafficConfig traffic;
};

const Setup& Get(Setting s) {
  static const Setup reach = [] {
    const Scenario sc = Scenario::Load(ConfigDir() + "/benchmarks/deeprmsa-nsfnet.json");
    return Setup{std::make_shared<const NetworkModel>(sc.network), sc.traffic};
  }();
  static const Setup gsnr = [] {
    NetworkOptions o;
    o.topology = "nsfnet";
    o.bands = {"C", "L", "S"};
    o.k_paths = 5;
    o.modulation_mode = ModulationMode::kGsnr;
    TrafficConfig t;
    t.load_erlang = 2500;
    t.holding_truncate_factor = 2;
    t.bit_rate_min_gbps = 100;
    t.bit_rate_max_gbps = 400;
    return Setup{std::make_shared<const NetworkModel>(o), t};
  }();
  return s == kReach ? reach : gsnr;
}

// A policy that searches every (path, band) with first fit and picks one feasible option at
// random: the cost of building a full action mask plus a trivial agent.
class MaskedRandom {
 public:
  explicit MaskedRandom(uint64_t seed) : rng_(seed) {}
  Decision Decide(const Request& r, const NetworkState& s) {
    const NetworkModel& m = s.model();
    const int paths = static_cast<int>(m.paths().Get(r.src, r.dst).size());
    feasible_.clear();
    uint64_t occ[16];
    for (int p = 0; p < paths; ++p) {
      for (int b = 0; b < m.NumBands(); ++b) {
        const Candidate c = m.Evaluate(r, p, b);
        if (!c.usable()) continue;
        s.PathOccupancy(c, occ);
        const int slot = FirstFit(occ, m.plan().band(b).num_slots, c.width);
        if (slot >= 0) feasible_.push_back({c, slot});
      }
    }
    Decision d;
    if (feasible_.empty()) {
      d.cause = BlockCause::kNoSpectrum;
      return d;
    }
    const auto& [c, slot] =
        feasible_[rng_.UniformInt(0, static_cast<int64_t>(feasible_.size()) - 1)];
    d.accepted = true;
    d.cause = BlockCause::kNone;
    d.candidate = c;
    d.slot = slot;
    return d;
  }

 private:
  Rng rng_;
  std::vector<std::pair<Candidate, int>> feasible_;
};

template <typename Policy>
void RunSteps(benchmark::State& state, const Setup& setup, Policy&& decide) {
  Engine engine(setup.model, setup.traffic, 1);
  for (int i = 0; i < 3000; ++i) {
    const Request& r = engine.Advance();
    const Decision d = decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  int64_t blocked = 0;
  for (auto _ : state) {
    const Request& r = engine.Advance();
    const Decision d = decide(r, engine.state());
    if (d.accepted) {
      engine.Commit(d.candidate, d.slot);
    } else {
      ++blocked;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["blocking"] = double(blocked) / std::max<int64_t>(1, state.iterations());
  state.counters["active_lightpaths"] = engine.state().ActiveLightpaths();
}

void BM_KspFfStep(benchmark::State& state, Setting setting) {
  const auto h = MakeHeuristic("ksp-ff");
  RunSteps(state, Get(setting),
           [&](const Request& r, const NetworkState& s) { return h->Decide(r, s); });
}
BENCHMARK_CAPTURE(BM_KspFfStep, reach, kReach);
BENCHMARK_CAPTURE(BM_KspFfStep, gsnr, kGsnr);

void BM_MaskedRandomStep(benchmark::State& state, Setting setting) {
  MaskedRandom policy(5);
  RunSteps(state, Get(setting),
           [&](const Request& r, const NetworkState& s) { return policy.Decide(r, s); });
}
BENCHMARK_CAPTURE(BM_MaskedRandomStep, reach, kReach);
BENCHMARK_CAPTURE(BM_MaskedRandomStep, gsnr, kGsnr);

void BM_EnergyAwareStep(benchmark::State& state, Setting setting) {
  const auto h = MakeHeuristic("energy-aware");
  RunSteps(state, Get(setting),
           [&](const Request& r, const NetworkState& s) { return h->Decide(r, s); });
}
BENCHMARK_CAPTURE(BM_EnergyAwareStep, reach, kReach);
BENCHMARK_CAPTURE(BM_EnergyAwareStep, gsnr, kGsnr);

void BM_Simulate(benchmark::State& state, Setting setting) {
  const Setup& setup = Get(setting);
  const auto h = MakeHeuristic("ksp-ff");
  SimulationOptions opt;
  opt.warmup = 3000;
  opt.requests = 20000;
  opt.batch_size = 5000;
  double blocking = 0;
  for (auto _ : state) {
    const SimulationResult r = Simulate(setup.model, setup.traffic, *h, opt);
    blocking = r.blocking.mean;
    ++opt.seed;
  }
  state.SetItemsProcessed(state.iterations() * (opt.warmup + opt.requests));
  state.counters["blocking"] = blocking;
}
BENCHMARK_CAPTURE(BM_Simulate, reach, kReach)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Simulate, gsnr, kGsnr)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eonops::twin
