// What a PCE is asked (PathRequest) and what it answers (PathDecision), as plain values; the
// services and computed paths it keeps are these two plus an identity.
//
//   PathRequest r;
//   r.src = 0; r.dst = 13; r.bit_rate_gbps = 100;
//   r.exclude_links = {ted.FindLink("Seattle->Palo Alto").value()};
//   PathDecision d = pce.ComputePath(r);
//   if (d.feasible) std::cout << d.channel.lower_hz << " .. " << d.channel.upper_hz;
//   else std::cout << twin::ToString(d.cause) << ": " << d.reason;
//
// Units are in the names (SI inside, dB only where the name says so); ToJson/FromJson are the
// durable and decision-log forms (snake_case), not the TAPI wire format (tapi/ owns that).
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "twin/bands.h"
#include "twin/envs.h"
#include "twin/network.h"
#include "twin/traffic.h"

namespace eonops::pce {

struct PathRequest {
  int src = -1;
  int dst = -1;
  // What is asked for, one of two: a bit rate (RMSA: the PCE picks the modulation and sizes
  // the channel), or a media channel of this much contiguous spectrum (a TAPI capacity in GHz or
  // MHz: RSA, the width is given and no modulation is chosen). Exactly one is positive.
  double bit_rate_gbps = 0.0;
  double spectrum_width_hz = 0.0;
  // The client gave no capacity (absent or empty): bit_rate_gbps is the config's default.
  bool capacity_defaulted = false;
  // One request for both directions: A->Z (src->dst) and Z->A, provisioned together.
  bool bidirectional = false;
  double latency_bound_us = std::numeric_limits<double>::infinity();
  std::optional<twin::UseCase> use_case;  // nullopt: the PCE's default use case
  // Topology constraints (TAPI include/exclude link and node); links are directed fibre ids.
  std::vector<int> include_links, exclude_links, include_nodes, exclude_nodes;
  // A media channel the client asks for (TAPI mc-config spectrum); nullopt: the PCE chooses.
  struct MediaChannel {
    int band = -1, slot = -1, width = 0;
  };
  std::optional<MediaChannel> spectrum;

  bool IsSpectrumRequest() const { return spectrum_width_hz > 0; }
  // The twin's request (id `id`); a spectrum request asks for whole slots of `slot_width_hz`
  // (50 GHz is 4 slots of 12.5 GHz, 40 GHz rounds up to the same 4).
  twin::Request ToTwin(int64_t id, double slot_width_hz) const;
  // The same request in the other direction (Z->A): end points swapped, link constraints
  // mapped to the fibres of the opposite direction (a link a bidirectional request includes or
  // avoids is the cable, both ways); the media channel, if any, is the same.
  PathRequest Reversed(const twin::Topology& topology) const;
  bool HasTopologyConstraints() const {
    return !include_links.empty() || !exclude_links.empty() || !include_nodes.empty() ||
           !exclude_nodes.empty();
  }
  // "" when every field is in range for `model`, else what is wrong (for a 400).
  std::string Check(const twin::NetworkModel& model) const;
  nlohmann::json ToJson() const;
  static PathRequest FromJson(const nlohmann::json& j);
};

// The registered model version that was consulted.
struct PolicyRef {
  std::string model;
  int64_t version = 0;
  std::string run_id;
  std::string Label() const { return model + "/" + std::to_string(version); }
};

struct PathDecision {
  bool feasible = false;
  twin::BlockCause cause = twin::BlockCause::kNoPath;  // kNone when feasible
  std::string reason;                                  // why blocked, in words
  twin::UseCase use_case = twin::UseCase::kDeepRmsa;

  // The lightpath (when feasible).
  std::vector<int> nodes, fibres;
  double length_km = 0.0;
  int band = -1, slot = -1, width = 0, modulation = -1;
  std::string band_name, modulation_name;
  twin::FlexGridChannel channel;    // G.694.1 n, m and frequencies in Hz
  double bit_rate_gbps = 0.0;       // 0 for a spectrum request
  double spectrum_width_hz = 0.0;   // > 0 for a spectrum request (what was asked for)
  bool capacity_defaulted = false;  // the client gave no capacity: the config's default
  double gsnr_db = std::numeric_limits<double>::quiet_NaN();  // actual occupancy
  double worst_case_gsnr_db =
      std::numeric_limits<double>::quiet_NaN();                    // fully loaded, band minimum
  double threshold_db = std::numeric_limits<double>::quiet_NaN();  // the format's
  double required_margin_db = 0.0;                                 // configured
  double latency_us = 0.0;
  double incremental_power_w = 0.0;

  // Provenance.
  std::string decided_by;           // "policy", "heuristic:<name>", "explicit-spectrum"
  std::optional<PolicyRef> policy;  // the policy consulted, if any (also when it fell back)
  bool fell_back = false;           // the policy was consulted or expected, the heuristic decided
  std::string fallback_reason;
  double compute_us = 0.0;

  double margin_db() const { return gsnr_db - threshold_db; }
  nlohmann::json ToJson() const;
  static PathDecision FromJson(const nlohmann::json& j);
};

// A provisioned lightpath service: one lightpath, or two for a bidirectional request (A->Z in
// `decision`, Z->A in `reverse`), provisioned and released together.
struct Service {
  std::string uuid;
  nlohmann::json name = nlohmann::json::array();  // TAPI name list as given by the client
  PathRequest request;
  PathDecision decision;
  std::optional<PathDecision> reverse;  // Z->A of a bidirectional service
  int64_t created_ms = 0;
  int64_t seq = 0;  // creation order
  // The decisions of both directions, A->Z first.
  std::vector<const PathDecision*> Directions() const;
};

// A computed, not provisioned, path (TAPI path-computation-context): `uuid` is the path's,
// `service_uuid` the path-comp-service's; a bidirectional request also has the Z->A path.
struct ComputedPath {
  std::string uuid;
  std::string service_uuid;
  nlohmann::json name = nlohmann::json::array();
  PathRequest request;
  PathDecision decision;
  std::optional<PathDecision> reverse;
  std::string reverse_uuid;  // of the Z->A path (bidirectional only)
  int64_t created_ms = 0;
  int64_t seq = 0;
};

twin::BlockCause ParseBlockCause(const std::string& s);  // inverse of twin::ToString

}  // namespace eonops::pce
