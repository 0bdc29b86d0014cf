#include "twin/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "twin/engine.h"

namespace eonops::twin {

double StudentT975(int dof) {
  // Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom; the normal beyond.
  static const double kT[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                              2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                              2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof <= 0) return std::numeric_limits<double>::quiet_NaN();
  if (dof <= 30) return kT[dof - 1];
  return 1.960 + 2.4 / dof;  // within 0.003 of the exact value for dof > 30
}

Estimate MeanCi(const std::vector<double>& x) {
  Estimate e;
  e.samples = static_cast<int>(x.size());
  if (x.empty()) {
    e.mean = e.ci95 = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  double sum = 0;
  for (double v : x) sum += v;
  e.mean = sum / x.size();
  if (x.size() < 2) {
    e.ci95 = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  double ss = 0;
  for (double v : x) ss += (v - e.mean) * (v - e.mean);
  const double sd = std::sqrt(ss / (x.size() - 1));
  e.ci95 = StudentT975(static_cast<int>(x.size()) - 1) * sd / std::sqrt(static_cast<double>(x.size()));
  return e;
}

namespace {
double Percentile(std::vector<float>& v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  size_t k = static_cast<size_t>(std::min<double>(v.size() - 1, std::floor(q * (v.size() - 1) + 0.5)));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

nlohmann::json Num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json SimulationResult::ToJson() const {
  nlohmann::json util = nlohmann::json::object();
  for (size_t b = 0; b < band_names.size(); ++b) util[band_names[b]] = band_utilisation[b];
  return {{"policy", policy},
          {"load_erlang", load_erlang},
          {"seed", seed},
          {"requests", requests},
          {"accepted", accepted},
          {"blocked", blocked},
          {"blocking_probability", Num(blocking.mean)},
          {"blocking_ci95", Num(blocking.ci95)},
          {"blocking_batches", blocking.samples},
          {"bit_rate_blocking", Num(bit_rate_blocking)},
          {"blocked_by_cause",
           {{"no_spectrum", blocked_no_spectrum}, {"qot", blocked_qot}, {"latency", blocked_latency}, {"no_path", blocked_no_path}}},
          {"utilisation_by_band", util},
          {"latency_mean_us", Num(latency_mean_us)},
          {"latency_p50_us", Num(latency_p50_us)},
          {"latency_p95_us", Num(latency_p95_us)},
          {"latency_p99_us", Num(latency_p99_us)},
          {"power_mean_w", Num(power_mean_w)},
          {"energy_per_bit_pj", Num(energy_per_bit_pj)},
          {"mean_active_lightpaths", mean_active_lightpaths},
          {"wall_seconds", wall_seconds},
          {"steps_per_second", steps_per_second}};
}

SimulationResult Simulate(std::shared_ptr<const NetworkModel> model, const TrafficConfig& traffic,
                          const Heuristic& policy, const SimulationOptions& opt) {
  if (opt.requests <= 0) throw std::invalid_argument("requests must be positive");
  if (opt.warmup < 0) throw std::invalid_argument("warmup must not be negative");
  if (opt.batch_size <= 0) throw std::invalid_argument("batch size must be positive");
  const auto start = std::chrono::steady_clock::now();
  Engine engine(model, traffic, opt.seed);
  const NetworkModel& m = *model;
  SimulationResult res;
  res.policy = policy.Name();
  res.load_erlang = traffic.load_erlang;
  res.seed = opt.seed;
  const int nb = m.NumBands();
  for (int b = 0; b < nb; ++b) res.band_names.push_back(m.plan().band(b).name);
  std::vector<double> util_sum(nb, 0.0), band_capacity(nb);
  for (int b = 0; b < nb; ++b) band_capacity[b] = double(m.plan().band(b).num_slots) * m.topology().NumFibres();
  std::vector<float> latencies;
  latencies.reserve(static_cast<size_t>(opt.requests));
  std::vector<double> batch_blocking;
  int64_t batch_blocked = 0, batch_n = 0;
  double offered_gbps = 0, blocked_gbps = 0, power_sum = 0, carried_sum = 0, active_sum = 0, latency_sum = 0;

  const int64_t total = opt.warmup + opt.requests;
  const int64_t progress_every = std::max<int64_t>(1, total / 100);
  for (int64_t i = 0; i < total; ++i) {
    const Request& r = engine.Advance();
    const bool counted = i >= opt.warmup;
    if (counted) {
      // Sample the state the arrival sees (PASTA).
      const NetworkState& s = engine.state();
      for (int b = 0; b < nb; ++b) util_sum[b] += s.spectrum().TotalUsedSlots(b) / band_capacity[b];
      power_sum += s.PowerW();
      carried_sum += s.CarriedGbps();
      active_sum += s.ActiveLightpaths();
    }
    Decision d = policy.Decide(r, engine.state());
    bool ok = d.accepted && engine.Commit(d.candidate, d.slot) >= 0;
    if (d.accepted && !ok) throw std::logic_error("policy " + policy.Name() + " chose a block that is not free");
    if (opt.check_invariants) {
      std::string err = engine.state().CheckInvariants();
      if (!err.empty()) throw std::logic_error("invariant broken after request " + std::to_string(r.id) + ": " + err);
    }
    if (counted) {
      ++res.requests;
      offered_gbps += r.bit_rate_gbps;
      ++batch_n;
      if (ok) {
        ++res.accepted;
        latencies.push_back(static_cast<float>(d.candidate.latency_us));
        latency_sum += d.candidate.latency_us;
      } else {
        ++res.blocked;
        ++batch_blocked;
        blocked_gbps += r.bit_rate_gbps;
        switch (d.cause) {
          case BlockCause::kQot: ++res.blocked_qot; break;
          case BlockCause::kLatency: ++res.blocked_latency; break;
          case BlockCause::kNoPath: ++res.blocked_no_path; break;
          default: ++res.blocked_no_spectrum; break;
        }
      }
      if (batch_n == opt.batch_size) {
        batch_blocking.push_back(double(batch_blocked) / batch_n);
        batch_n = batch_blocked = 0;
      }
    }
    if (opt.progress && (i + 1) % progress_every == 0) opt.progress(i + 1, total);
  }
  res.blocking = MeanCi(batch_blocking);
  // With fewer than two full batches the point estimate still comes from every counted request.
  if (batch_blocking.size() < 2) res.blocking.mean = double(res.blocked) / res.requests;
  res.bit_rate_blocking = blocked_gbps / offered_gbps;
  for (int b = 0; b < nb; ++b) res.band_utilisation.push_back(util_sum[b] / res.requests);
  res.latency_mean_us = latencies.empty() ? std::numeric_limits<double>::quiet_NaN() : latency_sum / latencies.size();
  res.latency_p50_us = Percentile(latencies, 0.50);
  res.latency_p95_us = Percentile(latencies, 0.95);
  res.latency_p99_us = Percentile(latencies, 0.99);
  res.power_mean_w = power_sum / res.requests;
  res.mean_active_lightpaths = active_sum / res.requests;
  const double carried_bps = carried_sum / res.requests * 1e9;
  res.energy_per_bit_pj = carried_bps > 0 ? res.power_mean_w / carried_bps * 1e12 : std::numeric_limits<double>::quiet_NaN();
  res.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  res.steps_per_second = total / std::max(res.wall_seconds, 1e-9);
  return res;
}

}  // namespace eonops::twin
