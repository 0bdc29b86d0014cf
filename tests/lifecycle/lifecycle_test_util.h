// Helpers for tests/lifecycle: an SDN controller's traffic driven into an in-process PCE (the
// load generator's create/delete rhythm without HTTP), heuristic versions in a tracking store,
// and a lifecycle config small enough for tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>
#include <queue>
#include <string>
#include <vector>

#include "lifecycle/config.h"
#include "pce/pce.h"
#include "pce/served_policy.h"
#include "tests/pce/pce_test_util.h"
#include "tracking/store.h"
#include "twin/traffic.h"

namespace eonops::lifecycle::testing {

using pce::testing::TempDir;

// Creates and deletes services on `pce` like `eonops loadgen`: before each arrival the services
// whose twin holding time ended are deleted, then the arrival is a create. With
// `seconds_per_unit` > 0 arrivals are paced in real time (one twin time unit = that many
// seconds), so holding times and rates measured on the PCE's clock follow the twin's.
class TrafficDriver {
 public:
  TrafficDriver(pce::Pce& pce, const twin::TrafficConfig& traffic, uint64_t seed,
                double seconds_per_unit = 0.0)
      : pce_(pce),
        gen_(traffic, pce.model().topology().NumNodes(), seed),
        seconds_per_unit_(seconds_per_unit),
        start_(std::chrono::steady_clock::now()) {}
  void Reconfigure(const twin::TrafficConfig& traffic) { gen_.Reconfigure(traffic); }
  // Drives `n` arrivals; returns how many were accepted.
  int64_t Run(int64_t n) {
    int64_t accepted = 0;
    for (int64_t i = 0; i < n; ++i) {
      const twin::Request r = gen_.Next();
      if (seconds_per_unit_ > 0)
        std::this_thread::sleep_until(start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                   std::chrono::duration<double>(r.arrival_time * seconds_per_unit_)));
      while (!departures_.empty() && departures_.top().first <= r.arrival_time) {
        pce_.DeleteService(departures_.top().second);
        departures_.pop();
      }
      pce::ServiceSpec spec;
      spec.request.src = r.src;
      spec.request.dst = r.dst;
      spec.request.bit_rate_gbps = r.bit_rate_gbps;
      spec.request.latency_bound_us = r.latency_bound_us;
      auto res = pce_.CreateService(spec);
      if (res.ok()) {
        ++accepted;
        departures_.push({r.arrival_time + r.holding_time, res.value->uuid});
      }
    }
    return accepted;
  }
  void DeleteAll() {
    while (!departures_.empty()) {
      pce_.DeleteService(departures_.top().second);
      departures_.pop();
    }
  }

 private:
  using Departure = std::pair<double, std::string>;
  pce::Pce& pce_;
  twin::TrafficGenerator gen_;
  double seconds_per_unit_;
  std::chrono::steady_clock::time_point start_;
  std::priority_queue<Departure, std::vector<Departure>, std::greater<Departure>> departures_;
};

// Registers heuristic `name` as a new version of `model` (creating the model), optionally
// pointing `alias` at it.
inline int64_t RegisterHeuristic(tracking::TrackingStore& store, const std::string& model,
                                 const std::string& name, const std::string& alias = "") {
  try {
    store.CreateRegisteredModel(model);
  } catch (const std::exception&) {
    // already registered
  }
  const int64_t v = store.CreateModelVersion(model, "heuristic:" + name).version;
  if (!alias.empty()) store.SetAlias(model, alias, v, "test");
  return v;
}

// configs/lifecycle.json cut down for tests: small windows, short budgets, no cooldown.
inline LifecycleConfig SmallLifecycleConfig() {
  LifecycleConfig c = LifecycleConfig::Load(std::string(EONOPS_SOURCE_DIR) + "/configs/lifecycle.json");
  c.poll_ms = 20;
  c.registry_poll_ms = 50;
  c.kpi.window_requests = 200;
  c.kpi.log_interval_ms = 100;
  c.drift.window_requests = 400;
  c.drift.min_holding_samples = 100;
  c.retrain.cooldown_s = 0;
  c.retrain.calibration_requests = 800;
  c.retrain.experiment = std::string(EONOPS_SOURCE_DIR) + "/configs/experiments/tiny-test.json";
  c.retrain.steps = 512;
  c.retrain.checkpoint_steps = 256;
  c.retrain.overrides = {{"train", {{"num_envs", 2}, {"log_interval", 256}}},
                         {"env", {{"warmup", 200}, {"episode_length", 200}}}};
  c.gate.trace_requests = 800;
  c.gate.min_trace_requests = 300;
  c.gate.replay_batches = 8;
  c.gate.twin_seeds = 3;
  c.gate.twin_requests = 1500;
  c.gate.twin_warmup = 300;
  c.rollback.min_requests = 150;
  c.rollback.baseline_requests = 600;
  c.rollback.watch_requests = 1500;
  return c;
}

// SmallConfig with the deeprmsa use case bound to `model`@champion.
inline pce::PceConfig BoundConfig(const std::string& model = "rmsa") {
  pce::PceConfig c = pce::testing::SmallConfig();
  pce::PolicyBinding b;
  b.use_case = twin::UseCase::kDeepRmsa;
  b.model = model;
  b.alias = "champion";
  c.pce.policies = {b};
  c.pce.registry_poll_ms = 50;
  c.pce.decision_log.enabled = false;
  return c;
}

// The shipped PCE config (DeepRMSA NSFNET, 100 slots, K = 5, 250 Erlang, where KSP-FF blocks
// about 5%) with the deeprmsa use case bound to `model`@champion; short environment episodes so
// that a policy trains in a second.
inline pce::PceConfig ShippedBoundConfig(const std::string& model = "rmsa") {
  pce::PceConfig c = BoundConfig(model);
  const pce::PceConfig shipped = pce::testing::ShippedConfig();
  c.network = shipped.network;
  c.traffic = shipped.traffic;
  c.env = shipped.env;
  c.env.warmup = 200;
  c.env.episode_length = 200;
  return c;
}

}  // namespace eonops::lifecycle::testing
