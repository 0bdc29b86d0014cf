// The SDN-controller side: drives a PCE over TAPI with the twin's Poisson traffic and measures
// blocking and latency, so the live PCE can be compared with `eonops simulate`.
//
// The requests are the twin's: a TrafficGenerator with the scenario's traffic and the same seed
// gives the same arrivals, pairs, bit rates and holding times as the simulator. Before each
// arrival the services whose holding time ended are deleted (DELETE connectivity-service=uuid),
// then the arrival is a create (POST connectivity-context, or the create-connectivity-service
// RPC); 201/200 is accepted, 409 resource-denied blocked. With the same network, load, seed and
// decision rule (e.g. KSP-FF on both sides) the accepted and blocked counts equal the
// simulator's exactly. Requests go one at a time, in arrival order (the order decides the
// state), optionally paced at `rate_per_s` to measure latency under a given request rate.
//
//   LoadgenOptions o;
//   o.pce_url = "http://127.0.0.1:8080";
//   o.scenario = PceConfig::Load("configs/pce.json").ToScenario();
//   LoadgenResult r = RunLoadgen(o);      // throws on an unreachable PCE or repeated errors
//   std::cout << r.ToJson().dump(2);
//
// Traffic that changes, to produce drift on purpose: `phases` (from a JSON file, see
// LoadTrafficPhases) switch the load and/or the traffic matrix at given request counts; the
// generator's clock and random stream go on across a switch (twin::TrafficGenerator::Reconfigure),
// and the result is reported per phase as well.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "twin/envs.h"
#include "twin/scenario.h"

namespace eonops::tapi {

// From request `at_request` on (0-based, warm-up included), the traffic takes these values; what
// a phase leaves unset stays as it was.
struct TrafficPhase {
  int64_t at_request = 0;
  std::string label;
  std::optional<double> load_erlang;
  std::optional<std::vector<double>> traffic_matrix;  // N x N row-major; empty: uniform pairs
  nlohmann::json ToJson() const;
};

// A node-pair weight matrix for `num_nodes` nodes from a JSON file: an N x N array of
// non-negative numbers, or an object with that array under "traffic_matrix". Throws
// std::runtime_error naming the file and what is wrong.
std::vector<double> LoadTrafficMatrix(const std::string& path, int num_nodes);
// Phases from a JSON file: {"phases": [{"at_request": 0, "label": "uniform", "load_erlang": 250},
// {"at_request": 4000, "label": "hot spot", "load_erlang": 400, "traffic_matrix": "hot.json"}]};
// "traffic_matrix" is a file (relative to the phases file), an inline N x N array, or "uniform".
// Checked strictly (unknown keys, unordered or duplicate starts, bad values): std::runtime_error.
std::vector<TrafficPhase> LoadTrafficPhases(const std::string& path, int num_nodes);

struct PhaseResult {
  std::string label;
  int64_t from_request = 0;
  double load_erlang = 0.0;
  int64_t requests = 0, accepted = 0, blocked = 0;  // counted requests (after warm-up) only
  double blocking = 0.0;
};

struct LoadgenOptions {
  std::string pce_url = "http://127.0.0.1:8080";
  twin::Scenario scenario;  // network (node names), traffic, measurement (warm-up and requests)
  uint64_t seed = 1;
  double rate_per_s = 0.0;  // > 0: one arrival every 1/rate seconds (deletes in between)
  std::string token;        // bearer token for writes
  std::optional<twin::UseCase> use_case;
  bool rpc = false;     // create-connectivity-service RPC instead of the data store
  bool cleanup = true;  // delete the services still up at the end
  int timeout_s = 30;
  int max_errors = 10;  // unexpected replies tolerated before giving up
  std::vector<TrafficPhase> phases;  // applied in order of at_request
  std::function<void(int64_t done, int64_t total)> progress;
};

struct LatencyStats {
  int64_t count = 0;
  double mean_us = 0, p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
};

struct LoadgenResult {
  int64_t warmup = 0, requests = 0, accepted = 0, blocked = 0, errors = 0;
  double blocking = 0.0;
  std::map<std::string, int64_t> blocked_by_cause, decided_by, policy_versions;
  int64_t fell_back = 0;
  LatencyStats create, remove;  // over every request, warm-up included
  double wall_s = 0.0, achieved_rate_per_s = 0.0;
  std::string last_error;
  std::vector<PhaseResult> phases;  // one per phase (one in all without phases)
  nlohmann::json ToJson() const;
};

LoadgenResult RunLoadgen(const LoadgenOptions& options);

}  // namespace eonops::tapi
