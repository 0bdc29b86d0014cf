// Live KPIs of a served version over a sliding window of its latest requests: what an operator
// watches to know whether the policy in service does its job.
//
//   KpiWindow w(500);
//   w.Add(arrival_event);                 // every arrival the version decided (pce/service_trace.h)
//   KpiFigures k = w.Figures(mean_holding_s);
//   store.LogBatch(run, k.ToMetrics(step, now_ms), {}, {});   // kpi/blocking, kpi/... series
//
// Blocking is per request, bit-rate blocking per Gb/s requested; blocking by cause splits the
// first; the fallback rate counts requests the served policy could not answer acceptably (the
// PCE's heuristic decided); latency-bound violations count accepted lightpaths over their bound
// (the PCE validates the bound, so anything but 0 is a bug worth an alarm); GSNR margin and
// network power are means over accepted requests and over all requests respectively. The
// offered load is the window's arrival rate times the mean holding time of completed services.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pce/service_trace.h"
#include "tracking/entities.h"

namespace eonops::lifecycle {

struct KpiFigures {
  int64_t requests = 0;
  double span_s = 0;
  double request_rate_per_s = 0;
  double offered_load_erlang = 0;  // NaN without completed services
  double blocking = 0, bit_rate_blocking = 0;
  double blocking_no_spectrum = 0, blocking_qot = 0, blocking_latency = 0, blocking_no_path = 0;
  double fallback_rate = 0;
  double latency_violations = 0;
  double gsnr_margin_db = 0;  // NaN without accepted requests with a margin
  double network_power_w = 0;

  // "kpi/<name>" metrics at `step` (the trace sequence number) and `timestamp_ms`.
  std::vector<tracking::Metric> ToMetrics(int64_t step, int64_t timestamp_ms) const;
  nlohmann::json ToJson() const;
};

class KpiWindow {
 public:
  explicit KpiWindow(int64_t capacity) : capacity_(capacity) {}
  void Add(const pce::TraceEvent& arrival);
  KpiFigures Figures(double mean_holding_s) const;
  int64_t size() const { return static_cast<int64_t>(items_.size()); }

 private:
  struct Item {
    double time_s, bit_rate_gbps, margin_db, power_w;
    twin::BlockCause cause;
    bool accepted, fell_back, latency_violation;
  };
  int64_t capacity_;
  std::deque<Item> items_;
};

// Blocked / requested counts of one version's latest requests, for rollback baselines.
struct OutcomeCounts {
  int64_t requests = 0, blocked = 0;
  double gbps = 0, blocked_gbps = 0;
  double Rate(const std::string& kpi) const;  // "blocking" | "bit_rate_blocking"
  nlohmann::json ToJson() const;
  static OutcomeCounts FromJson(const nlohmann::json& j);
};

class OutcomeRing {
 public:
  explicit OutcomeRing(int64_t capacity) : capacity_(capacity) {}
  void Add(bool blocked, double gbps);
  OutcomeCounts Counts() const { return counts_; }

 private:
  int64_t capacity_;
  std::deque<std::pair<bool, double>> items_;
  OutcomeCounts counts_;
};

}  // namespace eonops::lifecycle
