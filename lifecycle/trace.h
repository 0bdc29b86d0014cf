// The PCE's service trace as the lifecycle service keeps it: where it comes from (the PCE over
// HTTP, or a Pce object in the same process), the services live right now (a mirror started
// from a snapshot and kept by the events), and the latest arrivals with their release times, from
// which a replayable trace is cut: the requests of a window and the lightpaths that were lit
// when it began, so a policy can be replayed "from the same starting network state".
//
//   auto source = HttpTraceSource("http://127.0.0.1:8080");
//   TraceRecorder rec(4000);
//   rec.Reset(source->Snapshot());
//   for (const auto& e : source->Read(rec.cursor(), 1000).events) {
//     auto released = rec.Apply(e);   // a release: how long the service lived
//   }
//   ReplayTrace t = rec.Cut(2000);                    // the latest 2000 arrivals
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pce/pce.h"
#include "pce/service_trace.h"

namespace eonops::lifecycle {

class TraceSource {
 public:
  virtual ~TraceSource() = default;
  virtual std::string Describe() const = 0;
  virtual pce::TraceSnapshot Snapshot() = 0;
  virtual pce::ServiceTrace::Page Read(int64_t after, size_t limit) = 0;
};

// GET /eonops/trace and /eonops/trace/snapshot of `eonops pce serve` (read-only, no token).
// Throws std::runtime_error when the PCE cannot be reached or answers badly.
std::unique_ptr<TraceSource> HttpTraceSource(const std::string& pce_url, int timeout_s = 10);
// A PCE in this process (tests, benchmarks); `pce` must outlive the source.
std::unique_ptr<TraceSource> InProcessTraceSource(const pce::Pce& pce);

// One request of a replayable trace.
struct ReplayRequest {
  double arrival_s = 0.0;  // from the trace's start
  double holding_s = std::numeric_limits<double>::infinity();  // NaN: unknown (blocked live)
  int src = 0, dst = 0;
  double bit_rate_gbps = 0.0;
  double latency_bound_us = std::numeric_limits<double>::infinity();
  twin::UseCase use_case = twin::UseCase::kDeepRmsa;
  bool live_accepted = false;
  // The live lightpath (accepted only), to replay other use cases' requests as they were.
  std::vector<int> nodes;
  int band = -1, slot = -1, width = 0, modulation = -1;
};

// A lightpath lit when the trace starts, with when it goes.
struct ReplayLightpath {
  ReplayRequest request;  // arrival_s <= 0
  double release_s = std::numeric_limits<double>::infinity();
};

struct ReplayTrace {
  nlohmann::json network;  // the PCE's NetworkOptions
  int64_t first_seq = 0, last_seq = 0;
  double start_s = 0.0;    // the PCE clock at the first request
  std::vector<ReplayLightpath> initial;
  std::vector<ReplayRequest> requests;
  nlohmann::json ToJson() const;
  static ReplayTrace FromJson(const nlohmann::json& j);  // std::invalid_argument
  int64_t Count(twin::UseCase use_case) const;
};

class TraceRecorder {
 public:
  // Keeps the latest `history` arrivals (of every use case) for cutting traces.
  explicit TraceRecorder(int64_t history) : history_(history) {}

  // Starts over from a snapshot (the first one, or after falling behind the PCE's buffer).
  void Reset(const pce::TraceSnapshot& snapshot);
  // Applies one event (seq order). Returns, for a release whose arrival is known, how long the
  // service lived and its use case.
  struct Released {
    double holding_s = 0.0;
    twin::UseCase use_case = twin::UseCase::kDeepRmsa;
  };
  std::optional<Released> Apply(const pce::TraceEvent& e);
  int64_t cursor() const { return cursor_; }  // the last seq applied
  int64_t epoch_us() const { return epoch_us_; }  // of the PCE trace being followed
  const nlohmann::json& network() const { return network_; }
  size_t live() const { return live_.size(); }
  int64_t arrivals() const { return static_cast<int64_t>(arrivals_.size()); }
  // The latest `n` arrivals (fewer if fewer are kept), with the lightpaths lit before the first.
  ReplayTrace Cut(int64_t n) const;
  // The mean holding time (s) of `use_case`'s services from the kept arrivals, at time `now_s`:
  // total time alive (released: holding; still lit: so far) over the number released. Unlike the
  // mean of completed holdings, it is not biased short when the services are young (a PCE that
  // started recently, or a traffic change): long-lived services count with their age. NaN when
  // fewer than `min_released` were released.
  // Only the latest `latest` arrivals count (0: all kept), so that a change of the holding
  // times (a load step on a paced network) shows within a window.
  double MeanHolding(twin::UseCase use_case, double now_s, int64_t latest = 0,
                     int64_t min_released = 30) const;
  // The latest arrivals as events (for calibration), oldest first.
  std::vector<pce::TraceEvent> Latest(int64_t n, std::optional<twin::UseCase> use_case) const;

 private:
  struct Arrival {
    pce::TraceEvent event;
    double release_s = std::numeric_limits<double>::infinity();
  };
  void Prune();

  int64_t history_;
  int64_t cursor_ = 0;
  int64_t epoch_us_ = 0;
  nlohmann::json network_;
  std::unordered_map<std::string, pce::TraceEvent> live_;  // uuid -> its arrival
  std::deque<Arrival> arrivals_;
  std::unordered_map<std::string, int64_t> arrival_index_;  // uuid -> seq in arrivals_
  std::deque<Arrival> released_;  // services released while their arrival is out of arrivals_
};

}  // namespace eonops::lifecycle
