// The PCE's service trace: every connectivity request it was asked to provision (arrival,
// end-points, bit rate, latency bound, the decision and who made it) and every release, in the
// order they happened, as a bounded in-memory stream that a control loop (lifecycle/) reads to
// compute live KPIs, estimate the traffic and replay it in the twin.
//
// Arrivals and releases of one service share its uuid; a blocked request has no release. Times
// are seconds on the PCE's monotonic clock (time_s, for inter-arrival and holding times) and
// wall-clock milliseconds (time_ms, for charts). Readers poll with the last sequence number they
// saw; when they fall more than `capacity` events behind, `first_seq` tells them what they lost.
//
//   ServiceTrace trace(100000);
//   trace.RecordArrival(uuid, request, decision, network_power_w);   // Pce::CreateService
//   trace.RecordRelease(uuid);                                       // Pce::DeleteService
//   ServiceTrace::Page p = trace.Read(/*after=*/41, /*limit=*/1000);  // events with seq > 41
//   TraceSnapshot s = pce.Snapshot();   // the live services, to start a reader from
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pce/request.h"

namespace eonops::pce {

struct TraceEvent {
  enum class Kind { kArrival, kRelease };
  int64_t seq = 0;
  Kind kind = Kind::kArrival;
  double time_s = 0.0;  // monotonic, since the PCE started
  int64_t time_ms = 0;  // wall clock
  std::string uuid;     // the service ("" for a blocked arrival)

  // Arrivals: the request and what became of it.
  int src = -1, dst = -1;
  double bit_rate_gbps = 0.0;
  double latency_bound_us = std::numeric_limits<double>::infinity();
  twin::UseCase use_case = twin::UseCase::kDeepRmsa;
  bool accepted = false;
  twin::BlockCause cause = twin::BlockCause::kNone;
  std::string decided_by;
  std::optional<PolicyRef> policy;  // the served version consulted, if any
  bool fell_back = false;
  // The lightpath (accepted only): enough to light it again exactly.
  std::vector<int> nodes;
  int band = -1, slot = -1, width = 0, modulation = -1;
  double latency_us = 0.0, margin_db = std::numeric_limits<double>::quiet_NaN();
  double network_power_w = 0.0;  // after the decision

  // The arrival of `request` decided as `d` (the lightpath when accepted); times unset.
  static TraceEvent Arrival(const std::string& uuid, const PathRequest& request,
                            const PathDecision& d);
  nlohmann::json ToJson() const;
  // Throws std::invalid_argument naming the field for a malformed event.
  static TraceEvent FromJson(const nlohmann::json& j);
};
const char* ToString(TraceEvent::Kind kind);  // "arrival" | "release"

// The services live at one instant and the sequence number the trace had then: a reader that
// starts from a snapshot and applies every event with seq >= next_seq, keyed by uuid (an arrival
// of a uuid it has, or a release of one it lacks, changes nothing), tracks the live services
// exactly, whatever happened between reading the sequence number and the services.
struct TraceSnapshot {
  int64_t next_seq = 1;
  int64_t epoch_us = 0;  // as ServiceTrace::Page
  double time_s = 0.0;
  int64_t time_ms = 0;
  nlohmann::json network;            // the PCE's twin::NetworkOptions
  std::vector<TraceEvent> services;  // accepted arrivals, time_s estimated from creation time
  nlohmann::json ToJson() const;
  static TraceSnapshot FromJson(const nlohmann::json& j);  // std::invalid_argument
};

class ServiceTrace {
 public:
  explicit ServiceTrace(size_t capacity = 200000);

  void RecordArrival(const std::string& uuid, const PathRequest& request,
                     const PathDecision& decision, double network_power_w);
  void RecordRelease(const std::string& uuid);

  struct Page {
    std::vector<TraceEvent> events;  // seq > after, oldest first
    int64_t first_seq = 1;           // the oldest event still kept
    int64_t next_seq = 1;            // the seq the next event will get
    int64_t epoch_us = 0;            // when this trace began, in us (changed: the PCE restarted)
  };
  Page Read(int64_t after, size_t limit) const;
  int64_t next_seq() const;
  double NowS() const;
  int64_t epoch_us() const { return epoch_us_; }

 private:
  void Push(TraceEvent e);

  size_t capacity_;
  int64_t start_ns_;
  int64_t epoch_us_;
  mutable std::mutex mutex_;
  std::deque<TraceEvent> events_;
  int64_t next_seq_ = 1;
};

}  // namespace eonops::pce
