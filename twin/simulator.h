// Replays a network's life under dynamic traffic with a heuristic and measures it.
//
// Warm-up requests are served but not counted. Blocking is reported with a 95% confidence
// interval from batch means (batches of `batch_size` counted requests, Student's t). Spectrum
// utilisation, network power and carried traffic are sampled at arrivals, which by PASTA
// (Poisson arrivals see time averages) estimates their time averages.
//
//   SimulationOptions opt;  opt.requests = 100000;  opt.warmup = 3000;  opt.seed = 1;
//   SimulationResult res = Simulate(model, traffic, *MakeHeuristic("ksp-ff"), opt);
//   std::cout << res.ToJson().dump(2);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "twin/heuristics.h"
#include "twin/network.h"
#include "twin/traffic.h"

namespace eonops::twin {

struct SimulationOptions {
  int64_t requests = 100000;  // counted requests, after the warm-up
  int64_t warmup = 3000;
  int64_t batch_size = 10000;
  uint64_t seed = 1;
  bool check_invariants = false;  // run the state's invariant checker after every event (slow)
  std::function<void(int64_t done, int64_t total)> progress;  // called about 100 times
};

// A mean with the half-width of its 95% confidence interval (NaN when it cannot be estimated).
struct Estimate {
  double mean = 0.0;
  double ci95 = 0.0;
  int samples = 0;
};

// Student's t quantile t(0.975, dof), for confidence intervals over few batches or seeds.
double StudentT975(int dof);
Estimate MeanCi(const std::vector<double>& samples);

struct SimulationResult {
  std::string policy;
  double load_erlang = 0.0;
  uint64_t seed = 0;
  int64_t requests = 0, accepted = 0, blocked = 0;
  Estimate blocking;  // request blocking probability, batch means
  double bit_rate_blocking = 0.0;
  int64_t blocked_no_spectrum = 0, blocked_qot = 0, blocked_latency = 0, blocked_no_path = 0;
  std::vector<std::string> band_names;
  std::vector<double> band_utilisation;  // mean fraction of occupied slots per band
  double latency_mean_us = 0.0, latency_p50_us = 0.0, latency_p95_us = 0.0, latency_p99_us = 0.0;
  double power_mean_w = 0.0;
  double energy_per_bit_pj = 0.0;  // mean power / mean carried bit rate
  double mean_active_lightpaths = 0.0;
  double wall_seconds = 0.0;
  double steps_per_second = 0.0;  // all requests including warm-up, per wall-clock second

  nlohmann::json ToJson() const;
};

SimulationResult Simulate(std::shared_ptr<const NetworkModel> model, const TrafficConfig& traffic,
                          const Heuristic& policy, const SimulationOptions& options);

}  // namespace eonops::twin
