#include "lifecycle/drift.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

#include "twin/rng.h"

namespace eonops::lifecycle {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> Normalised(const std::vector<double>& x) {
  double sum = 0;
  for (double v : x) sum += v;
  std::vector<double> out(x.size(), 0.0);
  if (sum > 0)
    for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] / sum;
  return out;
}

int NonZero(const std::vector<double>& p) {
  return static_cast<int>(std::count_if(p.begin(), p.end(), [](double x) { return x > 0; }));
}

nlohmann::json Num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

}  // namespace

double JensenShannonBits(const std::vector<double>& p_raw, const std::vector<double>& q_raw) {
  if (p_raw.size() != q_raw.size()) throw std::invalid_argument("JS divergence: bin counts differ");
  const std::vector<double> p = Normalised(p_raw), q = Normalised(q_raw);
  double js = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) js += 0.5 * p[i] * std::log2(p[i] / m);
    if (q[i] > 0) js += 0.5 * q[i] * std::log2(q[i] / m);
  }
  return std::max(0.0, js);
}

double NormalQuantile(double p) {
  if (!(p > 0 && p < 1)) throw std::invalid_argument("NormalQuantile: p must be in (0, 1)");
  // Acklam's rational approximation (relative error < 1.2e-9).
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double lo = 0.02425;
  if (p < lo) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -NormalQuantile(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double ChiSquareQuantile(double dof, double p) {
  if (!(dof > 0)) return 0.0;
  const double z = NormalQuantile(p);
  const double h = 2.0 / (9.0 * dof);
  const double x = 1.0 - h + z * std::sqrt(h);
  return dof * std::max(0.0, x * x * x);
}

double JsNullQuantileBits(const std::vector<double>& p_raw, int64_t samples, double alpha,
                          int replicates, uint64_t seed) {
  if (samples <= 0 || NonZero(p_raw) < 2 || replicates < 2) return 0.0;
  const std::vector<double> p = Normalised(p_raw);
  std::vector<double> cdf(p.size());
  double acc = 0;
  for (size_t i = 0; i < p.size(); ++i) cdf[i] = acc += p[i];
  twin::Rng rng(seed);
  std::vector<double> counts(p.size());
  double sum = 0, sum2 = 0;
  for (int r = 0; r < replicates; ++r) {
    std::fill(counts.begin(), counts.end(), 0.0);
    for (int64_t i = 0; i < samples; ++i) {
      const double u = rng.Uniform() * acc;
      size_t k = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
      counts[std::min(k, counts.size() - 1)] += 1;
    }
    const double js = JensenShannonBits(counts, p);
    sum += js;
    sum2 += js * js;
  }
  const double mean = sum / replicates;
  const double var = std::max(sum2 / replicates - mean * mean, 1e-30);
  // JS ~ a chi2(nu) with the same mean (a nu) and variance (2 a^2 nu).
  const double a = var / (2.0 * mean), nu = 2.0 * mean * mean / var;
  return a * ChiSquareQuantile(nu, 1.0 - alpha);
}

double TruncatedMeanFactor(double c) {
  if (!(c > 0)) return 1.0;
  return (1.0 - (1.0 + c) * std::exp(-c)) / (1.0 - std::exp(-c));
}

TrafficReference TrafficReference::Make(const twin::TrafficConfig& t, int n, int holding_bins) {
  t.Validate(n);
  TrafficReference r;
  r.num_nodes = n;
  r.traffic = t;
  r.load_erlang = t.load_erlang * TruncatedMeanFactor(t.holding_truncate_factor);
  r.pairs.assign(static_cast<size_t>(n) * n, 0.0);
  for (int s = 0; s < n; ++s) {
    for (int d = 0; d < n; ++d) {
      if (s == d) continue;
      r.pairs[s * n + d] = t.traffic_matrix.empty() ? 1.0 : t.traffic_matrix[s * n + d];
    }
  }
  r.pairs = Normalised(r.pairs);
  std::map<double, double> rates;
  if (t.classes.empty()) {
    for (int b = t.bit_rate_min_gbps; b <= t.bit_rate_max_gbps; ++b) rates[b] += 1.0;
  } else {
    for (const auto& k : t.classes) rates[k.bit_rate_gbps] += k.weight;
  }
  for (const auto& [rate, w] : rates) {
    r.bit_rates.push_back(rate);
    r.bit_rate_p.push_back(w);
  }
  r.bit_rate_p.push_back(0.0);  // "another rate"
  r.bit_rate_p = Normalised(r.bit_rate_p);
  // Holding / mean for an exponential of mean mu truncated at c x mu (c = 0: not truncated).
  const double c = t.holding_truncate_factor;
  const double kept = c > 0 ? 1.0 - std::exp(-c) : 1.0;
  const double mean_over_mu = TruncatedMeanFactor(c);
  for (int i = 1; i < holding_bins; ++i) {
    const double q = double(i) / holding_bins;
    r.holding_edges.push_back(-std::log(1.0 - q * kept) / mean_over_mu);
  }
  return r;
}

int TrafficReference::BitRateBin(double bit_rate_gbps) const {
  for (size_t i = 0; i < bit_rates.size(); ++i)
    if (std::abs(bit_rates[i] - bit_rate_gbps) < 1e-6) return static_cast<int>(i);
  return static_cast<int>(bit_rates.size());
}

std::string DriftFigures::Summary() const {
  std::ostringstream s;
  s.precision(3);
  auto item = [&](const char* name, double v, double th, bool drifted) {
    if (!std::isfinite(v)) return;
    if (s.tellp() > 0) s << ", ";
    s << name << " " << v << (drifted ? " > " : " <= ") << th;
  };
  item("JS pairs", js_pairs, threshold_pairs, pairs_drifted);
  item("JS bit rate", js_bit_rate, threshold_bit_rate, bit_rate_drifted);
  item("JS holding", js_holding, threshold_holding, holding_drifted);
  if (std::isfinite(load_ratio)) {
    if (s.tellp() > 0) s << ", ";
    s << "load " << load_erlang << " E / " << reference_load_erlang << " E = " << load_ratio
      << (load_drifted ? " (drift)" : "");
  }
  return s.str();
}

nlohmann::json DriftFigures::ToJson() const {
  return {{"window", window},
          {"requests", requests},
          {"from_s", from_s},
          {"to_s", to_s},
          {"js_pairs", Num(js_pairs)},
          {"js_bit_rate", Num(js_bit_rate)},
          {"js_holding", Num(js_holding)},
          {"threshold_pairs", threshold_pairs},
          {"threshold_bit_rate", threshold_bit_rate},
          {"threshold_holding", threshold_holding},
          {"holding_samples", holding_samples},
          {"arrival_rate_per_s", Num(arrival_rate_per_s)},
          {"mean_holding_s", Num(mean_holding_s)},
          {"load_erlang", Num(load_erlang)},
          {"reference_load_erlang", reference_load_erlang},
          {"load_ratio", Num(load_ratio)},
          {"pairs_drifted", pairs_drifted},
          {"bit_rate_drifted", bit_rate_drifted},
          {"holding_drifted", holding_drifted},
          {"load_drifted", load_drifted},
          {"drifted", drifted()}};
}

DriftDetector::DriftDetector(TrafficReference reference, DriftOptions options,
                             std::function<double(double)> mean_holding)
    : reference_(std::move(reference)), options_(options), mean_holding_(std::move(mean_holding)) {
  pair_counts_.assign(reference_.pairs.size(), 0.0);
  rate_counts_.assign(reference_.bit_rate_p.size(), 0.0);
}

void DriftDetector::AddHolding(double holding_s) {
  if (std::isfinite(holding_s) && holding_s >= 0) holdings_.push_back(holding_s);
}

std::optional<DriftFigures> DriftDetector::AddArrival(int src, int dst, double bit_rate_gbps,
                                                      double time_s) {
  const int n = reference_.num_nodes;
  if (src < 0 || dst < 0 || src >= n || dst >= n || src == dst) return std::nullopt;
  if (n_ == 0) first_s_ = time_s;
  last_s_ = time_s;
  pair_counts_[src * n + dst] += 1;
  rate_counts_[reference_.BitRateBin(bit_rate_gbps)] += 1;
  if (++n_ < options_.window_requests) return std::nullopt;
  DriftFigures f = Judge();
  std::fill(pair_counts_.begin(), pair_counts_.end(), 0.0);
  std::fill(rate_counts_.begin(), rate_counts_.end(), 0.0);
  holdings_.clear();
  n_ = 0;
  consecutive_ = f.drifted() ? consecutive_ + 1 : 0;
  return f;
}

double DriftDetector::NullQuantile(const std::vector<double>& p, int64_t n, int which) {
  auto [it, fresh] = null_quantiles_.try_emplace({which, n}, 0.0);
  if (fresh) it->second = JsNullQuantileBits(p, n, options_.false_alarm_probability);
  return it->second;
}

DriftFigures DriftDetector::Judge() {
  DriftFigures f;
  f.window = ++window_;
  f.requests = n_;
  f.from_s = first_s_;
  f.to_s = last_s_;
  f.js_pairs = JensenShannonBits(pair_counts_, reference_.pairs);
  f.threshold_pairs = std::max(options_.js_pairs, NullQuantile(reference_.pairs, n_, 0));
  f.pairs_drifted = f.js_pairs > f.threshold_pairs;
  f.js_bit_rate = JensenShannonBits(rate_counts_, reference_.bit_rate_p);
  f.threshold_bit_rate = std::max(options_.js_bit_rate, NullQuantile(reference_.bit_rate_p, n_, 1));
  f.bit_rate_drifted = f.js_bit_rate > f.threshold_bit_rate;
  f.holding_samples = static_cast<int64_t>(holdings_.size());
  f.reference_load_erlang = reference_.load_erlang;
  f.arrival_rate_per_s = last_s_ > first_s_ ? (n_ - 1) / (last_s_ - first_s_) : kNaN;
  f.js_holding = f.threshold_holding = kNaN;
  f.mean_holding_s = f.load_erlang = f.load_ratio = kNaN;
  if (f.holding_samples >= options_.min_holding_samples) {
    double sum = 0;
    for (double h : holdings_) sum += h;
    const double mean = sum / holdings_.size();  // for the shape: completed services only
    f.mean_holding_s = mean_holding_ ? mean_holding_(last_s_) : mean;
    if (mean > 0) {
      const size_t bins = reference_.holding_edges.size() + 1;
      std::vector<double> counts(bins, 0.0), expected(bins, 1.0);
      for (double h : holdings_) {
        const double u = h / mean;
        counts[std::upper_bound(reference_.holding_edges.begin(), reference_.holding_edges.end(),
                                u) -
               reference_.holding_edges.begin()] += 1;
      }
      f.js_holding = JensenShannonBits(counts, expected);
      // Holding samples vary per window: quantiles cached per 50 samples (rounded down, a
      // slightly higher threshold).
      f.threshold_holding = std::max(
          options_.js_holding, NullQuantile(expected, f.holding_samples / 50 * 50, 2));
      f.holding_drifted = f.js_holding > f.threshold_holding;
    }
    if (std::isfinite(f.arrival_rate_per_s) && std::isfinite(f.mean_holding_s)) {
      f.load_erlang = f.arrival_rate_per_s * f.mean_holding_s;
      f.load_ratio = f.load_erlang / reference_.load_erlang;
      const double band = 1.0 + options_.load_ratio;
      f.load_drifted = f.load_ratio > band || f.load_ratio < 1.0 / band;
    }
  }
  return f;
}

}  // namespace eonops::lifecycle
