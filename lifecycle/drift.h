// Traffic drift: how far the live traffic is from the traffic a served version was trained on.
//
// The reference is the version's training scenario (twin::TrafficConfig). Live arrivals are
// collected in tumbling windows; each window is compared with the reference by Jensen-Shannon
// divergence (in bits: 0 identical, 1 disjoint) of
//   - the source-destination matrix (N(N-1) ordered pairs),
//   - the bit-rate distribution (the reference's rates, plus one bin for any other rate),
//   - the holding-time shape: holding / mean holding, in equiprobable bins of the reference's
//     (truncated) exponential, since the live clock is wall seconds and the twin's is its own unit;
// and by the offered-load ratio (arrival rate x mean holding time / the reference's Erlang).
//
// Identical traffic still diverges a little in a finite window (sampling noise), so every
// threshold is raised to the divergence identical traffic exceeds with the configured false-alarm
// probability (JsNullQuantileBits): small windows over many bins do not alarm on noise, and a
// shift far beyond the noise crosses within one window.
//
//   DriftDetector d(TrafficReference::Make(training_traffic, num_nodes), options);
//   for (event : arrivals) if (auto f = d.AddArrival(src, dst, rate, time_s)) if (f->drifted()) ...
//   d.AddHolding(release_s - arrival_s);   // completed services, for the shape and the load
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lifecycle/config.h"
#include "twin/traffic.h"

namespace eonops::lifecycle {

// JS divergence in bits of two distributions over the same bins (each normalised here).
double JensenShannonBits(const std::vector<double>& p, const std::vector<double>& q);
// The standard normal quantile Phi^-1(p), p in (0, 1).
double NormalQuantile(double p);
// The p-quantile of chi-square with `dof` degrees of freedom (Wilson-Hilferty).
double ChiSquareQuantile(double dof, double p);
// The JS (bits) that `samples` draws from `p` exceed with probability `alpha` against `p`
// itself: the noise floor of a window. The small-deviation form chi2(k-1) / (8 n ln 2)
// underestimates it badly when bins hold few samples (1000 draws over 182 node pairs), so the
// mean and variance of the divergence are measured by `replicates` seeded Monte Carlo windows
// and matched to a scaled chi-square (Satterthwaite), whose tail gives the quantile.
double JsNullQuantileBits(const std::vector<double>& p, int64_t samples, double alpha,
                          int replicates = 200, uint64_t seed = 1);

// Mean of a holding time drawn DeepRMSA-style (exponential of mean mu, redrawn while >= c x mu)
// over mu: 1 without truncation, 0.687 for c = 2. The offered load a twin::TrafficConfig really
// produces is load_erlang times this factor (its arrival rate is load_erlang / mu).
double TruncatedMeanFactor(double truncate_factor);

// The reference distributions of a traffic configuration.
struct TrafficReference {
  int num_nodes = 0;
  std::vector<double> pairs;        // N x N, zero diagonal, sums to 1
  std::vector<double> bit_rates;    // the rates the reference draws
  std::vector<double> bit_rate_p;   // their probabilities, plus a last "other rate" bin of 0
  std::vector<double> holding_edges;  // inner bin edges of holding / mean, equiprobable
  double load_erlang = 0.0;           // the offered load it produces (see TruncatedMeanFactor)
  twin::TrafficConfig traffic;

  static TrafficReference Make(const twin::TrafficConfig& traffic, int num_nodes,
                               int holding_bins = 10);
  int BitRateBin(double bit_rate_gbps) const;
};

struct DriftFigures {
  int64_t window = 0;  // 1, 2, ...
  int64_t requests = 0;
  double from_s = 0, to_s = 0;
  double js_pairs = 0, js_bit_rate = 0, js_holding = 0;  // NaN when not judged
  double threshold_pairs = 0, threshold_bit_rate = 0, threshold_holding = 0;
  int64_t holding_samples = 0;
  double arrival_rate_per_s = 0, mean_holding_s = 0;
  double load_erlang = 0, reference_load_erlang = 0, load_ratio = 0;  // NaN when not judged
  bool pairs_drifted = false, bit_rate_drifted = false, holding_drifted = false,
       load_drifted = false;
  bool drifted() const {
    return pairs_drifted || bit_rate_drifted || holding_drifted || load_drifted;
  }
  std::string Summary() const;  // "JS pairs 0.21 > 0.05, load ratio 1.6" ...
  nlohmann::json ToJson() const;
};

class DriftDetector {
 public:
  // `mean_holding(now_s)`, when given, estimates the mean holding time for the load (e.g.
  // TraceRecorder::MeanHolding, which services still lit also inform); without it, the mean of the
  // window's completed services is used, which is biased short while the services are young.
  DriftDetector(TrafficReference reference, DriftOptions options,
                std::function<double(double now_s)> mean_holding = {});

  // One arrival of the watched traffic; returns the window's figures when it completes.
  std::optional<DriftFigures> AddArrival(int src, int dst, double bit_rate_gbps, double time_s);
  // One completed service (release - arrival, seconds).
  void AddHolding(double holding_s);
  // Consecutive drifted windows so far (reset by a window without drift).
  int consecutive() const { return consecutive_; }
  const TrafficReference& reference() const { return reference_; }

 private:
  DriftFigures Judge();

  double NullQuantile(const std::vector<double>& p, int64_t n, int which);

  TrafficReference reference_;
  DriftOptions options_;
  std::function<double(double)> mean_holding_;
  std::map<std::pair<int, int64_t>, double> null_quantiles_;  // (distribution, n) -> bits
  std::vector<double> pair_counts_, rate_counts_;
  std::vector<double> holdings_;
  int64_t n_ = 0, window_ = 0;
  double first_s_ = 0, last_s_ = 0;
  int consecutive_ = 0;
};

}  // namespace eonops::lifecycle
