#include "pce/metrics.h"

#include <cmath>
#include <sstream>

namespace eonops::pce {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::string Number(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "+Inf" : "-Inf";
  std::ostringstream s;
  s.precision(10);
  s << x;
  return s.str();
}

void Header(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP eonops_pce_" << name << " " << help << "\n# TYPE eonops_pce_" << name << " " << type
    << "\n";
}

}  // namespace

void Metrics::ObserveRequest(const std::string& operation, const std::string& outcome,
                             double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{operation, outcome}];
  Histogram& h = durations_[operation];
  for (size_t i = 0; i < kBucketsS.size(); ++i) {
    if (seconds <= kBucketsS[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::ObserveDecision(const std::string& use_case, const std::string& decided_by,
                              bool accepted, const std::string& block_cause) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++decisions_[{use_case, decided_by, accepted ? "accepted" : "blocked"}];
  if (!accepted) ++blocked_[block_cause];
}

void Metrics::ObserveFallback(const std::string& use_case, const std::string& reason_key) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++fallbacks_[{use_case, reason_key}];
}

int64_t Metrics::RequestCount(const std::string& operation, const std::string& outcome) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = requests_.find({operation, outcome});
  return it == requests_.end() ? 0 : it->second;
}

std::string Metrics::Render(const Gauges& g) const {
  std::ostringstream o;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Header(o, "requests_total", "counter", "TAPI requests by operation and outcome.");
    for (const auto& [k, v] : requests_) {
      o << "eonops_pce_requests_total{operation=\"" << EscapeLabel(k.first) << "\",outcome=\""
        << EscapeLabel(k.second) << "\"} " << v << "\n";
    }
    Header(o, "request_duration_seconds", "histogram",
           "TAPI request latency, from request parsed to reply ready.");
    for (const auto& [op, h] : durations_) {
      const std::string l = "operation=\"" + EscapeLabel(op) + "\"";
      for (size_t i = 0; i < kBucketsS.size(); ++i) {
        o << "eonops_pce_request_duration_seconds_bucket{" << l << ",le=\"" << Number(kBucketsS[i])
          << "\"} " << h.buckets[i] << "\n";
      }
      o << "eonops_pce_request_duration_seconds_bucket{" << l << ",le=\"+Inf\"} " << h.count
        << "\n";
      o << "eonops_pce_request_duration_seconds_sum{" << l << "} " << Number(h.sum) << "\n";
      o << "eonops_pce_request_duration_seconds_count{" << l << "} " << h.count << "\n";
    }
    Header(o, "decisions_total", "counter",
           "Path decisions by use case, decider (policy or heuristic) and result.");
    for (const auto& [k, v] : decisions_) {
      o << "eonops_pce_decisions_total{use_case=\"" << EscapeLabel(k[0]) << "\",decided_by=\""
        << EscapeLabel(k[1]) << "\",result=\"" << k[2] << "\"} " << v << "\n";
    }
    Header(o, "blocked_total", "counter",
           "Requests refused for lack of a feasible lightpath, by cause.");
    for (const auto& [k, v] : blocked_)
      o << "eonops_pce_blocked_total{cause=\"" << EscapeLabel(k) << "\"} " << v << "\n";
    Header(o, "fallbacks_total", "counter",
           "Decisions taken by the fallback heuristic instead of the policy, by reason.");
    for (const auto& [k, v] : fallbacks_) {
      o << "eonops_pce_fallbacks_total{use_case=\"" << EscapeLabel(k.first) << "\",reason=\""
        << EscapeLabel(k.second) << "\"} " << v << "\n";
    }
  }
  Header(o, "policy_info", "gauge",
         "The policy served per use case (registered model and version).");
  for (const auto& p : g.policies) {
    o << "eonops_pce_policy_info{use_case=\"" << EscapeLabel(p.use_case) << "\",model=\""
      << EscapeLabel(p.model) << "\",version=\"" << EscapeLabel(p.version) << "\",run_id=\""
      << EscapeLabel(p.run_id) << "\"} 1\n";
  }
  Header(o, "policy_swaps_total", "counter",
         "Served policies replaced after a registry alias or stage moved.");
  o << "eonops_pce_policy_swaps_total " << policy_swaps_.load() << "\n";
  Header(o, "policy_load_errors_total", "counter",
         "Registered policies that could not be loaded or do not fit.");
  o << "eonops_pce_policy_load_errors_total " << policy_load_errors_.load() << "\n";
  Header(o, "active_services", "gauge", "Provisioned connectivity services.");
  o << "eonops_pce_active_services " << g.active_services << "\n";
  Header(o, "computed_paths", "gauge", "Computed paths kept in the path-computation context.");
  o << "eonops_pce_computed_paths " << g.computed_paths << "\n";
  Header(o, "spectrum_utilisation", "gauge",
         "Fraction of occupied slots over all fibres, per band.");
  for (const auto& [band, u] : g.spectrum_utilisation) {
    o << "eonops_pce_spectrum_utilisation{band=\"" << EscapeLabel(band) << "\"} " << Number(u)
      << "\n";
  }
  Header(o, "decision_log_pending", "gauge",
         "Decisions waiting to be written to the tracking store.");
  o << "eonops_pce_decision_log_pending " << g.decision_log_pending << "\n";
  Header(o, "decision_log_logged_total", "counter", "Decisions written to the tracking store.");
  o << "eonops_pce_decision_log_logged_total " << decision_log_logged_.load() << "\n";
  Header(o, "decision_log_dropped_total", "counter",
         "Decisions dropped because the tracking store was unreachable.");
  o << "eonops_pce_decision_log_dropped_total " << decision_log_dropped_.load() << "\n";
  return o.str();
}

}  // namespace eonops::pce
