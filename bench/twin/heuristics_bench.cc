// Cost per request of every heuristic on the DeepRMSA NSFNET benchmark (K = 5 and 50 fewest-hop
// paths), on states loaded by running the benchmark traffic with the heuristic itself: what a
// simulation, an environment's expert action or the PCE's fallback pays per decision.
//   BM_HeuristicDecision/<heuristic>/<K>   one Decide (items: requests)
//   BM_CapacityLossAll/<K>                 LossAll over every candidate path of a request
// The capacity-loss rules re-scan only the routes whose spectrum changed since the last
// request (twin/capacity_loss.h): here every iteration replays a recorded arrival on a state
// that the previous decisions changed, as in a simulation.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "twin/capacity_loss.h"
#include "twin/engine.h"
#include "twin/heuristics.h"
#include "twin/scenario.h"

namespace eonops::twin {
namespace {

const std::vector<std::string> kRules = {"ksp-ff", "ff-ksp", "ksp-bf", "ksp-ef", "ksp-mscl", "mscl-ksp"};

std::shared_ptr<const NetworkModel> Model(int k) {
  Scenario s = Scenario::Load(std::string(EONOPS_CONFIG_DIR) + "/benchmarks/deeprmsa-nsfnet.json");
  s.network.k_paths = k;
  s.network.path_order = PathOrder::kHops;
  return std::make_shared<const NetworkModel>(s.network);
}

void BM_HeuristicDecision(benchmark::State& st) {
  const std::string name = kRules[st.range(0)];
  const int k = static_cast<int>(st.range(1));
  st.SetLabel(name + " K=" + std::to_string(k));
  auto model = Model(k);
  Scenario s = Scenario::Load(std::string(EONOPS_CONFIG_DIR) + "/benchmarks/deeprmsa-nsfnet.json");
  Engine engine(model, s.traffic, 1);
  const auto h = MakeHeuristic(name);
  auto step = [&] {
    const Request& r = engine.Advance();
    const Decision d = h->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  };
  for (int i = 0; i < 3000; ++i) step();  // warm-up: a loaded network
  for (auto _ : st) step();
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_HeuristicDecision)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {5, 50}})
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(0.5);

void BM_CapacityLossAll(benchmark::State& st) {
  const int k = static_cast<int>(st.range(0));
  auto model = Model(k);
  Scenario s = Scenario::Load(std::string(EONOPS_CONFIG_DIR) + "/benchmarks/deeprmsa-nsfnet.json");
  Engine engine(model, s.traffic, 1);
  const auto h = MakeHeuristic("ksp-ff");
  CapacityLoss cl(*model, CapacityLoss::MaxRequestWidth(*model, 100));
  std::vector<int64_t> loss(100);
  for (int i = 0; i < 3000; ++i) {
    const Request& r = engine.Advance();
    const Decision d = h->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  for (auto _ : st) {
    const Request& r = engine.Advance();
    {
      const CapacityLoss::Scope scope(cl, engine.state());
      for (int p = 0; p < k; ++p) {
        const Candidate c = model->Evaluate(r, p, 0);
        if (c.usable()) cl.LossAll(engine.state(), *c.path, 0, c.width, loss.data());
      }
    }
    const Decision d = h->Decide(r, engine.state());
    if (d.accepted) engine.Commit(d.candidate, d.slot);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_CapacityLossAll)->Arg(5)->Arg(50)->Unit(benchmark::kMicrosecond)->MinTime(0.5);

}  // namespace
}  // namespace eonops::twin
