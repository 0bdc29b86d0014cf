// The PCE's configuration: the same network/traffic/env sections as a twin experiment (so the
// traffic-engineering database is built exactly as the twin builds its model), plus a "pce"
// section for serving and a "tapi" section that tapi/ reads.
//
//   PceConfig cfg = PceConfig::Load("configs/pce.json");   // throws "<file>: <field>: <reason>"
//   auto model = std::make_shared<const twin::NetworkModel>(cfg.network);
//
// configs/pce.json:
//   {"network": {...twin NetworkOptions...}, "traffic": {...}, "measurement": {...},
//    "env": {...twin EnvOptions: the observation options a policy was trained with...},
//    "pce": {"default_use_case": "deeprmsa", "fallback": "ksp-ff",
//            "fallback_by_use_case": {"latency-rsa": "latency-aware"},
//            "policies": [{"use_case": "deeprmsa", "model": "deeprmsa-nsfnet",
//                          "alias": "champion",
//                          "default_policy": "policies/deeprmsa-nsfnet-es-linear-k50"}],
//            "validation": {"gsnr_margin_db": 0.5, "qot": true},
//            "registry_poll_ms": 250, "max_computed_paths": 10000, "durability": "normal",
//            "trace_events": 50000,
//            "default_bit_rate_gbps": 100, "bidirectional_spectrum": "symmetric",
//            "decision_log": {"enabled": true, "experiment": "pce", "flush_interval_ms": 1000,
//                             "max_batch": 2000, "max_queue": 200000}},
//    "tapi": {...}}
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "twin/envs.h"
#include "twin/network.h"
#include "twin/scenario.h"
#include "twin/traffic.h"

namespace eonops::pce {

// Which registered model serves a use case: the version its `alias` points at, else (when
// `production_stage`) the newest version in stage Production.
struct PolicyBinding {
  twin::UseCase use_case = twin::UseCase::kDeepRmsa;
  std::string model;
  std::string alias = "champion";
  bool production_stage = true;
  // A policy artifact directory served while the registry has no version for this binding (no
  // tracking store, or nothing registered yet): the policy the configuration ships with. A
  // registered version replaces it as soon as the poller sees one. Resolved at load: relative
  // paths against the config file's directory. Empty: none (heuristic fallback only).
  std::string default_policy;
};

struct ValidationOptions {
  // Required above a format's GSNR threshold, on the GSNR under the actual occupancy.
  double gsnr_margin_db = 0.0;
  bool qot = true;  // false: skip the actual-occupancy GSNR check (spectrum and latency remain)
};

struct DecisionLogOptions {
  bool enabled = true;
  std::string experiment = "pce";
  std::string run_name;  // empty: "pce-<topology>-<start time>"
  int flush_interval_ms = 1000;
  size_t max_batch = 2000;    // decisions per LogEpisodes call (tracking allows 10000)
  size_t max_queue = 200000;  // beyond this the oldest pending decisions are dropped (counted)
};

enum class Durability { kNormal, kFull };  // SQLite synchronous=NORMAL (process crash) or FULL

// Spectrum of the two lightpaths of a bidirectional service: the same slots both ways (one
// transceiver pair on one frequency, the usual choice), or the best block per direction.
enum class BidirectionalSpectrum { kSymmetric, kPerDirection };

struct PceOptions {
  twin::UseCase default_use_case = twin::UseCase::kDeepRmsa;
  std::string fallback = "ksp-ff";                            // twin heuristic name
  std::map<twin::UseCase, std::string> fallback_by_use_case;  // overrides `fallback`
  std::vector<PolicyBinding> policies;
  ValidationOptions validation;
  int registry_poll_ms = 250;
  size_t max_computed_paths = 10000;
  // Served requests and releases kept for readers of the service trace (pce/service_trace.h).
  size_t trace_events = 50000;
  Durability durability = Durability::kNormal;
  DecisionLogOptions decision_log;
  // The bit rate of a request that gives no capacity (absent, or an empty container).
  double default_bit_rate_gbps = 100.0;
  BidirectionalSpectrum bidirectional_spectrum = BidirectionalSpectrum::kSymmetric;

  const std::string& FallbackFor(twin::UseCase u) const;
};

struct PceConfig {
  twin::NetworkOptions network;
  twin::TrafficConfig traffic;
  twin::Measurement measurement;
  twin::EnvOptions env;
  PceOptions pce;
  nlohmann::json tapi = nlohmann::json::object();  // parsed by tapi/
  std::string origin = "defaults";

  static PceConfig Load(const std::string& path);
  static PceConfig FromJson(const nlohmann::json& j, const std::string& origin);
  nlohmann::json ToJson() const;
  // The twin scenario of this config (what `eonops simulate --config` replays).
  twin::Scenario ToScenario() const;
};

}  // namespace eonops::pce
