// Dynamic traffic: Poisson arrivals, exponential holding times, random pairs and bit rates.
//
// Load in Erlang = arrival rate x mean holding time; the generator keeps the mean holding time
// and sets the arrival rate from the load (DeepRMSA: 250 Erlang, holding 25 -> 10 arrivals per
// time unit). Holding times may be truncated DeepRMSA-style: redrawn while >= 2x the mean.
// Pairs are uniform over ordered (src != dst) pairs or drawn from a traffic matrix; bit rates
// are uniform integers on [min, max] Gb/s or drawn from weighted classes, each class with an
// optional latency bound. One seed fixes the whole sequence, on any machine (twin/rng.h).
//
//   TrafficConfig cfg = TrafficConfig::FromJson(j, "exp.json");
//   TrafficGenerator gen(cfg, topology.NumNodes(), /*seed=*/1);
//   Request r = gen.Next();
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "twin/rng.h"

namespace eonops::twin {

struct BitRateClass {
  double bit_rate_gbps = 100.0;
  double weight = 1.0;
  double latency_bound_us = std::numeric_limits<double>::infinity();
};

struct TrafficConfig {
  double load_erlang = 250.0;
  double mean_holding_time = 25.0;
  // DeepRMSA redraws holding times >= truncate_factor x mean; 0 disables truncation.
  double holding_truncate_factor = 0.0;
  int bit_rate_min_gbps = 25;
  int bit_rate_max_gbps = 100;
  std::vector<BitRateClass> classes;  // when non-empty, used instead of the uniform range
  // Latency bound applied to every request of the uniform range (inf: none).
  double latency_bound_us = std::numeric_limits<double>::infinity();
  // Row-major N x N weights; empty means uniform over ordered pairs.
  std::vector<double> traffic_matrix;

  double ArrivalRate() const { return load_erlang / mean_holding_time; }
  // The largest bit rate a request can ask for (the classes' or the uniform range's).
  double MaxBitRateGbps() const;
  // The loosest latency bound a request can carry (infinite when some request has none).
  double LoosestLatencyBoundUs() const;
  // Every bit rate a request can ask for, with its probability (sums to 1).
  std::vector<std::pair<double, double>> BitRateDistribution() const;
  // Throws "<origin>.<field>: <reason>" on bad values. Unknown keys are rejected.
  static TrafficConfig FromJson(const nlohmann::json& j, const std::string& origin);
  nlohmann::json ToJson() const;
  // Checks ranges; throws std::invalid_argument naming the field.
  void Validate(int num_nodes) const;
};

struct Request {
  int64_t id = 0;
  double arrival_time = 0.0;
  double holding_time = 0.0;
  int src = 0;
  int dst = 0;
  double bit_rate_gbps = 0.0;
  double latency_bound_us = std::numeric_limits<double>::infinity();
  int traffic_class = -1;  // index into classes, -1 for the uniform range
  // > 0: a media channel of this many slots is asked for (a TAPI capacity in GHz): the width is
  // given instead of derived from the bit rate (RSA); the path must still carry some format.
  int media_channel_slots = 0;
};

class TrafficGenerator {
 public:
  TrafficGenerator(const TrafficConfig& config, int num_nodes, uint64_t seed);
  Request Next();
  const TrafficConfig& config() const { return config_; }
  // Traffic that changes while the network lives (a load generator's phases): the next arrivals
  // follow `config`; the clock, the request ids and the random stream go on from where they are.
  // Throws std::invalid_argument, leaving the generator as it was, when `config` is invalid.
  void Reconfigure(const TrafficConfig& config);

 private:
  void DrawPair(int* src, int* dst);
  void BuildTables();

  TrafficConfig config_;
  int num_nodes_;
  Rng rng_;
  double now_ = 0.0;
  int64_t next_id_ = 0;
  std::vector<double> class_cdf_, pair_cdf_;
};

}  // namespace eonops::twin
