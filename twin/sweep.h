// Simulations over policies x loads x seeds, summarised per (policy, load) point: the figures
// `eonops simulate` prints and the Python API's simulate() returns, built once, here.
//
// Every (policy, load, seed) is one Simulate() run, with its own instance of the policy (some
// heuristics keep per-state caches), on a small pool of threads. With several seeds a point's
// confidence interval comes from the seeds (independent replications), with one from that run's
// batch means.
//
//   SweepOptions opt;  opt.loads = {150, 250};  opt.seeds = 3;  opt.threads = 2;
//   std::vector<SweepPolicy> policies = {HeuristicPolicy("ksp-ff", scenario)};
//   std::vector<nlohmann::json> rows = SimulateSweep(model, scenario, policies, opt);
//   std::cout << SweepReport(rows, scenario).dump(2);   // = eonops simulate --json
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "twin/heuristics.h"
#include "twin/network.h"
#include "twin/scenario.h"

namespace eonops::twin {

struct SweepOptions {
  std::vector<double> loads;  // Erlang; empty: the scenario's load
  uint64_t seed = 1;          // first seed; run s of a point uses seed + s
  int seeds = 1;
  int threads = 1;
  bool check_invariants = false;
  // Called with the fraction of all requests simulated so far, from any worker thread (calls
  // are serialised).
  std::function<void(double fraction)> progress;
};

// A policy of a sweep: its name in the rows and how to make an instance for one run (called
// from the worker threads, possibly at the same time).
struct SweepPolicy {
  std::string name;
  std::function<std::unique_ptr<Heuristic>()> make;
};

// The heuristic `name` (MakeHeuristic) set up for the scenario's traffic; throws
// std::invalid_argument listing the known names for an unknown one.
SweepPolicy HeuristicPolicy(const std::string& name, const Scenario& scenario);

// One JSON object per (policy, load), policies outer, loads inner: SimulationResult::ToJson()
// plus "seeds" and "ci_method", with blocking, bit-rate blocking and power averaged over the
// seeds and counts summed. Rethrows the first error of any run.
std::vector<nlohmann::json> SimulateSweep(std::shared_ptr<const NetworkModel> model, const Scenario& scenario,
                                          const std::vector<SweepPolicy>& policies, const SweepOptions& options);

// The document `eonops simulate --json` prints: a single row as is, several under "results";
// "scenario" holds the scenario simulated.
nlohmann::json SweepReport(const std::vector<nlohmann::json>& rows, const Scenario& scenario);

}  // namespace eonops::twin
