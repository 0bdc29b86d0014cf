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
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "twin/envs.h"
#include "twin/scenario.h"

namespace eonops::tapi {

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
  nlohmann::json ToJson() const;
};

LoadgenResult RunLoadgen(const LoadgenOptions& options);

}  // namespace eonops::tapi
