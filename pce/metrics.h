// Prometheus metrics of the PCE, rendered in the text exposition format (version 0.0.4).
//
//   Metrics m;
//   m.ObserveRequest("compute-p-2-p-path", "ok", 0.00042);   // tapi/ records every request
//   m.ObserveDecision(decision);                              // pce/ records every decision
//   std::string text = m.Render(gauges);                      // GET /metrics
//
// Series (all prefixed eonops_pce_):
//   requests_total{operation,outcome}                     counter
//   request_duration_seconds{operation} histogram         buckets 50 us .. 2.5 s
//   decisions_total{use_case,decided_by,result}          counter (result: accepted | blocked)
//   blocked_total{cause}                                  counter
//   fallbacks_total{use_case,reason}                      counter (reason: a short key)
//   policy_info{use_case,model,version,run_id} 1          gauge, one per served policy
//   policy_swaps_total, policy_load_errors_total          counters
//   active_services, computed_paths, spectrum_utilisation{band}, decision_log_pending gauges
//   decision_log_dropped_total, decision_log_logged_total counters
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace eonops::pce {

class Metrics {
 public:
  static constexpr std::array<double, 14> kBucketsS = {50e-6,  100e-6, 250e-6, 500e-6, 1e-3,
                                                       2.5e-3, 5e-3,   10e-3,  25e-3,  50e-3,
                                                       100e-3, 250e-3, 1.0,    2.5};

  void ObserveRequest(const std::string& operation, const std::string& outcome, double seconds);
  void ObserveDecision(const std::string& use_case, const std::string& decided_by, bool accepted,
                       const std::string& block_cause);
  void ObserveFallback(const std::string& use_case, const std::string& reason_key);
  void PolicySwapped() { ++policy_swaps_; }
  void PolicyLoadFailed() { ++policy_load_errors_; }
  void DecisionLogged(int64_t n) { decision_log_logged_ += n; }
  void DecisionsDropped(int64_t n) { decision_log_dropped_ += n; }

  // Point-in-time values supplied by the owner at render time.
  struct Gauges {
    int64_t active_services = 0;
    int64_t computed_paths = 0;
    int64_t decision_log_pending = 0;
    std::vector<std::pair<std::string, double>> spectrum_utilisation;  // band -> fraction
    struct Policy {
      std::string use_case, model, version, run_id;
    };
    std::vector<Policy> policies;
  };
  std::string Render(const Gauges& gauges) const;

  // For tests and benchmarks.
  int64_t RequestCount(const std::string& operation, const std::string& outcome) const;
  int64_t policy_swaps() const { return policy_swaps_; }

 private:
  struct Histogram {
    std::array<int64_t, kBucketsS.size()> buckets{};
    int64_t count = 0;
    double sum = 0.0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, int64_t> requests_;
  std::map<std::string, Histogram> durations_;
  std::map<std::array<std::string, 3>, int64_t> decisions_;
  std::map<std::string, int64_t> blocked_;
  std::map<std::pair<std::string, std::string>, int64_t> fallbacks_;
  std::atomic<int64_t> policy_swaps_{0}, policy_load_errors_{0}, decision_log_logged_{0},
      decision_log_dropped_{0};
};

// Prometheus label value escaping (backslash, double quote, newline).
std::string EscapeLabel(const std::string& value);

}  // namespace eonops::pce
