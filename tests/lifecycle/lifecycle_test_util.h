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
#include "lifecycle/trace.h"
#include "pce/pce.h"
#include "pce/served_policy.h"
#include "tests/pce/pce_test_util.h"
#include "tracking/store.h"
#include "twin/traffic.h"

namespace eonops::lifecycle::testing {

using pce::testing::TempDir;

using pce::testing::TrafficDriver;

// Applies everything `source` recorded since `rec`'s cursor.
inline void Drain(TraceSource& source, TraceRecorder& rec) {
  for (;;) {
    const auto page = source.Read(rec.cursor(), 1000);
    if (page.events.empty()) return;
    for (const auto& e : page.events) rec.Apply(e);
  }
}

// Polls `pred` every 20 ms for up to `seconds`.
template <typename Pred>
bool WaitFor(Pred pred, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// The decisions of `kind` about `model`, oldest first.
inline std::vector<tracking::ModelDecision> DecisionsOf(tracking::TrackingStore& store,
                                                        const std::string& kind,
                                                        const std::string& model = "rmsa") {
  std::vector<tracking::ModelDecision> out;
  for (const auto& d : store.GetModelDecisions(model))
    if (d.kind == kind) out.push_back(d);
  return out;
}

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

// The DeepRMSA-setting PCE config (configs/pce-nsfnet-k5.json: NSFNET, 100 slots, K = 5 by km,
// 250 Erlang, where KSP-FF blocks about 5%) with the deeprmsa use case bound to
// `model`@champion; short environment episodes so that a policy trains in a second.
inline pce::PceConfig ShippedBoundConfig(const std::string& model = "rmsa") {
  pce::PceConfig c = BoundConfig(model);
  const pce::PceConfig shipped = pce::testing::DeepRmsaK5Config();
  c.network = shipped.network;
  c.traffic = shipped.traffic;
  c.env = shipped.env;
  c.env.warmup = 200;
  c.env.episode_length = 200;
  return c;
}

}  // namespace eonops::lifecycle::testing
