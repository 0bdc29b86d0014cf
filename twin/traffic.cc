#include "twin/traffic.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "twin/json_util.h"

namespace eonops::twin {

namespace {
const std::set<std::string> kTrafficKeys = {"load_erlang", "mean_holding_time", "holding_truncate_factor",
                                            "bit_rate_min_gbps", "bit_rate_max_gbps", "classes",
                                            "latency_bound_us", "traffic_matrix", "_source", "_comment"};

double BoundFromJson(const nlohmann::json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return std::numeric_limits<double>::infinity();
  return RequirePositive(j, key, where);
}
}  // namespace

double TrafficConfig::MaxBitRateGbps() const {
  if (classes.empty()) return bit_rate_max_gbps;
  double m = 0.0;
  for (const auto& c : classes) m = std::max(m, c.bit_rate_gbps);
  return m;
}

double TrafficConfig::LoosestLatencyBoundUs() const {
  if (classes.empty()) return latency_bound_us;
  double m = 0.0;
  for (const auto& c : classes) m = std::max(m, c.latency_bound_us);
  return m;
}

std::vector<std::pair<double, double>> TrafficConfig::BitRateDistribution() const {
  std::vector<std::pair<double, double>> d;
  if (classes.empty()) {
    const int n = std::max(1, bit_rate_max_gbps - bit_rate_min_gbps + 1);
    for (int b = bit_rate_min_gbps; b <= bit_rate_max_gbps; ++b) d.push_back({static_cast<double>(b), 1.0 / n});
    return d;
  }
  double total = 0;
  for (const auto& c : classes) total += c.weight;
  for (const auto& c : classes) d.push_back({c.bit_rate_gbps, total > 0 ? c.weight / total : 0.0});
  return d;
}

TrafficConfig TrafficConfig::FromJson(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) ConfigError(origin, "expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kTrafficKeys.count(it.key())) ConfigError(origin + "." + it.key(), "unknown key");
  }
  TrafficConfig c;
  c.load_erlang = NumberOr(j, "load_erlang", c.load_erlang, origin);
  c.mean_holding_time = NumberOr(j, "mean_holding_time", c.mean_holding_time, origin);
  c.holding_truncate_factor = NumberOr(j, "holding_truncate_factor", c.holding_truncate_factor, origin);
  if (j.contains("bit_rate_min_gbps")) c.bit_rate_min_gbps = RequireInt(j, "bit_rate_min_gbps", origin);
  if (j.contains("bit_rate_max_gbps")) c.bit_rate_max_gbps = RequireInt(j, "bit_rate_max_gbps", origin);
  c.latency_bound_us = BoundFromJson(j, "latency_bound_us", origin);
  if (j.contains("classes")) {
    const auto& arr = j["classes"];
    if (!arr.is_array()) ConfigError(origin + ".classes", "expected an array");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string where = origin + ".classes[" + std::to_string(i) + "]";
      BitRateClass k;
      k.bit_rate_gbps = RequirePositive(arr[i], "bit_rate_gbps", where);
      k.weight = arr[i].contains("weight") ? RequirePositive(arr[i], "weight", where) : 1.0;
      k.latency_bound_us = BoundFromJson(arr[i], "latency_bound_us", where);
      c.classes.push_back(k);
    }
  }
  if (j.contains("traffic_matrix")) {
    const auto& m = j["traffic_matrix"];
    if (!m.is_array()) ConfigError(origin + ".traffic_matrix", "expected an N x N array of numbers");
    for (size_t r = 0; r < m.size(); ++r) {
      if (!m[r].is_array() || m[r].size() != m.size()) {
        ConfigError(origin + ".traffic_matrix[" + std::to_string(r) + "]", "expected a row of " + std::to_string(m.size()) + " numbers");
      }
      for (const auto& x : m[r]) {
        if (!x.is_number()) ConfigError(origin + ".traffic_matrix[" + std::to_string(r) + "]", "expected numbers");
        c.traffic_matrix.push_back(x.get<double>());
      }
    }
  }
  try {
    c.Validate(-1);
  } catch (const std::invalid_argument& e) {
    ConfigError(origin, e.what());
  }
  return c;
}

nlohmann::json TrafficConfig::ToJson() const {
  nlohmann::json j = {{"load_erlang", load_erlang},
                      {"mean_holding_time", mean_holding_time},
                      {"holding_truncate_factor", holding_truncate_factor},
                      {"bit_rate_min_gbps", bit_rate_min_gbps},
                      {"bit_rate_max_gbps", bit_rate_max_gbps}};
  if (std::isfinite(latency_bound_us)) j["latency_bound_us"] = latency_bound_us;
  for (const auto& k : classes) {
    nlohmann::json e = {{"bit_rate_gbps", k.bit_rate_gbps}, {"weight", k.weight}};
    if (std::isfinite(k.latency_bound_us)) e["latency_bound_us"] = k.latency_bound_us;
    j["classes"].push_back(e);
  }
  if (!traffic_matrix.empty()) {
    const size_t n = static_cast<size_t>(std::llround(std::sqrt(traffic_matrix.size())));
    for (size_t r = 0; r < n; ++r) {
      j["traffic_matrix"].push_back(std::vector<double>(traffic_matrix.begin() + r * n, traffic_matrix.begin() + (r + 1) * n));
    }
  }
  return j;
}

void TrafficConfig::Validate(int num_nodes) const {
  if (!(load_erlang > 0) || !std::isfinite(load_erlang)) throw std::invalid_argument("load_erlang: must be positive");
  if (!(mean_holding_time > 0) || !std::isfinite(mean_holding_time)) {
    throw std::invalid_argument("mean_holding_time: must be positive");
  }
  if (holding_truncate_factor != 0 && !(holding_truncate_factor > 1)) {
    throw std::invalid_argument("holding_truncate_factor: must be 0 (off) or > 1");
  }
  if (classes.empty() && (bit_rate_min_gbps <= 0 || bit_rate_max_gbps < bit_rate_min_gbps)) {
    throw std::invalid_argument("bit_rate_min_gbps/bit_rate_max_gbps: need 0 < min <= max");
  }
  if (!traffic_matrix.empty()) {
    const size_t n = static_cast<size_t>(std::llround(std::sqrt(traffic_matrix.size())));
    if (n * n != traffic_matrix.size()) throw std::invalid_argument("traffic_matrix: must be square");
    if (num_nodes >= 0 && static_cast<int>(n) != num_nodes) {
      throw std::invalid_argument("traffic_matrix: is " + std::to_string(n) + " x " + std::to_string(n) +
                                  " but the topology has " + std::to_string(num_nodes) + " nodes");
    }
    double total = 0;
    for (size_t i = 0; i < traffic_matrix.size(); ++i) {
      if (traffic_matrix[i] < 0 || !std::isfinite(traffic_matrix[i])) {
        throw std::invalid_argument("traffic_matrix: weights must be finite and non-negative");
      }
      if (i / n != i % n) total += traffic_matrix[i];
    }
    if (!(total > 0)) throw std::invalid_argument("traffic_matrix: needs a positive off-diagonal weight");
  }
}

TrafficGenerator::TrafficGenerator(const TrafficConfig& config, int num_nodes, uint64_t seed)
    : config_(config), num_nodes_(num_nodes), rng_(seed) {
  if (num_nodes < 2) throw std::invalid_argument("traffic needs at least two nodes");
  config_.Validate(num_nodes);
  BuildTables();
}

void TrafficGenerator::Reconfigure(const TrafficConfig& config) {
  config.Validate(num_nodes_);
  config_ = config;
  BuildTables();
}

void TrafficGenerator::BuildTables() {
  class_cdf_.clear();
  pair_cdf_.clear();
  double acc = 0;
  for (const auto& k : config_.classes) class_cdf_.push_back(acc += k.weight);
  if (!config_.traffic_matrix.empty()) {
    acc = 0;
    for (int i = 0; i < num_nodes_ * num_nodes_; ++i) {
      if (i / num_nodes_ != i % num_nodes_) acc += config_.traffic_matrix[i];
      pair_cdf_.push_back(acc);
    }
  }
}

void TrafficGenerator::DrawPair(int* src, int* dst) {
  if (pair_cdf_.empty()) {
    *src = static_cast<int>(rng_.UniformInt(0, num_nodes_ - 1));
    int d = static_cast<int>(rng_.UniformInt(0, num_nodes_ - 2));
    *dst = d >= *src ? d + 1 : d;
    return;
  }
  const double u = rng_.Uniform() * pair_cdf_.back();
  int i = static_cast<int>(std::upper_bound(pair_cdf_.begin(), pair_cdf_.end(), u) - pair_cdf_.begin());
  i = std::min(i, num_nodes_ * num_nodes_ - 1);
  while (i / num_nodes_ == i % num_nodes_) --i;  // zero-width diagonal entries are never hit, but be safe
  *src = i / num_nodes_;
  *dst = i % num_nodes_;
}

Request TrafficGenerator::Next() {
  Request r;
  r.id = next_id_++;
  now_ += rng_.Exponential(1.0 / config_.ArrivalRate());
  r.arrival_time = now_;
  const double mean = config_.mean_holding_time;
  do {
    r.holding_time = rng_.Exponential(mean);
  } while (config_.holding_truncate_factor > 0 && r.holding_time >= config_.holding_truncate_factor * mean);
  DrawPair(&r.src, &r.dst);
  if (class_cdf_.empty()) {
    r.bit_rate_gbps = static_cast<double>(rng_.UniformInt(config_.bit_rate_min_gbps, config_.bit_rate_max_gbps));
    r.latency_bound_us = config_.latency_bound_us;
  } else {
    const double u = rng_.Uniform() * class_cdf_.back();
    int k = static_cast<int>(std::upper_bound(class_cdf_.begin(), class_cdf_.end(), u) - class_cdf_.begin());
    k = std::min<int>(k, static_cast<int>(config_.classes.size()) - 1);
    r.traffic_class = k;
    r.bit_rate_gbps = config_.classes[k].bit_rate_gbps;
    r.latency_bound_us = config_.classes[k].latency_bound_us;
  }
  return r;
}

}  // namespace eonops::twin
