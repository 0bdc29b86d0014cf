#include "lifecycle/kpi.h"

#include <cmath>
#include <limits>

namespace eonops::lifecycle {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

nlohmann::json Num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

}  // namespace

std::vector<tracking::Metric> KpiFigures::ToMetrics(int64_t step, int64_t timestamp_ms) const {
  std::vector<tracking::Metric> out;
  auto add = [&](const char* name, double v) {
    if (std::isfinite(v)) out.push_back({std::string("kpi/") + name, v, timestamp_ms, step});
  };
  add("requests", double(requests));
  add("request_rate_per_s", request_rate_per_s);
  add("offered_load_erlang", offered_load_erlang);
  add("blocking", blocking);
  add("bit_rate_blocking", bit_rate_blocking);
  add("blocking_no_spectrum", blocking_no_spectrum);
  add("blocking_qot", blocking_qot);
  add("blocking_latency", blocking_latency);
  add("blocking_no_path", blocking_no_path);
  add("fallback_rate", fallback_rate);
  add("latency_violations", latency_violations);
  add("gsnr_margin_db", gsnr_margin_db);
  add("network_power_w", network_power_w);
  return out;
}

nlohmann::json KpiFigures::ToJson() const {
  return {{"requests", requests},
          {"span_s", span_s},
          {"request_rate_per_s", Num(request_rate_per_s)},
          {"offered_load_erlang", Num(offered_load_erlang)},
          {"blocking", blocking},
          {"bit_rate_blocking", bit_rate_blocking},
          {"blocking_by_cause",
           {{"no_spectrum", blocking_no_spectrum},
            {"qot", blocking_qot},
            {"latency", blocking_latency},
            {"no_path", blocking_no_path}}},
          {"fallback_rate", fallback_rate},
          {"latency_violations", latency_violations},
          {"gsnr_margin_db", Num(gsnr_margin_db)},
          {"network_power_w", network_power_w}};
}

void KpiWindow::Add(const pce::TraceEvent& e) {
  Item it;
  it.time_s = e.time_s;
  it.bit_rate_gbps = e.bit_rate_gbps;
  it.margin_db = e.accepted ? e.margin_db : kNaN;
  it.power_w = e.network_power_w;
  it.cause = e.accepted ? twin::BlockCause::kNone : e.cause;
  it.accepted = e.accepted;
  it.fell_back = e.fell_back;
  it.latency_violation = e.accepted && std::isfinite(e.latency_bound_us) &&
                         e.latency_us > e.latency_bound_us;
  items_.push_back(it);
  while (static_cast<int64_t>(items_.size()) > capacity_) items_.pop_front();
}

KpiFigures KpiWindow::Figures(double mean_holding_s) const {
  KpiFigures k;
  k.requests = static_cast<int64_t>(items_.size());
  if (items_.empty()) return k;
  double gbps = 0, blocked_gbps = 0, margin = 0, power = 0;
  int64_t blocked = 0, margins = 0, fell_back = 0, violations = 0, accepted = 0;
  int64_t by_cause[5] = {0, 0, 0, 0, 0};
  for (const Item& it : items_) {
    gbps += it.bit_rate_gbps;
    power += it.power_w;
    if (it.fell_back) ++fell_back;
    if (it.accepted) {
      ++accepted;
      if (it.latency_violation) ++violations;
      if (std::isfinite(it.margin_db)) {
        margin += it.margin_db;
        ++margins;
      }
    } else {
      ++blocked;
      blocked_gbps += it.bit_rate_gbps;
      ++by_cause[static_cast<int>(it.cause)];
    }
  }
  const double n = double(k.requests);
  k.span_s = items_.back().time_s - items_.front().time_s;
  k.request_rate_per_s = k.span_s > 0 ? (n - 1) / k.span_s : kNaN;
  k.offered_load_erlang = std::isfinite(mean_holding_s) && std::isfinite(k.request_rate_per_s)
                              ? k.request_rate_per_s * mean_holding_s
                              : kNaN;
  k.blocking = blocked / n;
  k.bit_rate_blocking = gbps > 0 ? blocked_gbps / gbps : 0.0;
  k.blocking_no_spectrum = by_cause[static_cast<int>(twin::BlockCause::kNoSpectrum)] / n;
  k.blocking_qot = by_cause[static_cast<int>(twin::BlockCause::kQot)] / n;
  k.blocking_latency = by_cause[static_cast<int>(twin::BlockCause::kLatency)] / n;
  k.blocking_no_path = by_cause[static_cast<int>(twin::BlockCause::kNoPath)] / n;
  k.fallback_rate = fell_back / n;
  k.latency_violations = accepted > 0 ? double(violations) / accepted : 0.0;
  k.gsnr_margin_db = margins > 0 ? margin / margins : kNaN;
  k.network_power_w = power / n;
  return k;
}

double OutcomeCounts::Rate(const std::string& kpi) const {
  if (kpi == "bit_rate_blocking") return gbps > 0 ? blocked_gbps / gbps : 0.0;
  return requests > 0 ? double(blocked) / requests : 0.0;
}

nlohmann::json OutcomeCounts::ToJson() const {
  return {{"requests", requests},
          {"blocked", blocked},
          {"gbps", gbps},
          {"blocked_gbps", blocked_gbps},
          {"blocking", Rate("blocking")},
          {"bit_rate_blocking", Rate("bit_rate_blocking")}};
}

OutcomeCounts OutcomeCounts::FromJson(const nlohmann::json& j) {
  OutcomeCounts c;
  c.requests = j.value("requests", int64_t{0});
  c.blocked = j.value("blocked", int64_t{0});
  c.gbps = j.value("gbps", 0.0);
  c.blocked_gbps = j.value("blocked_gbps", 0.0);
  return c;
}

void OutcomeRing::Add(bool blocked, double gbps) {
  items_.emplace_back(blocked, gbps);
  counts_.requests += 1;
  counts_.blocked += blocked ? 1 : 0;
  counts_.gbps += gbps;
  counts_.blocked_gbps += blocked ? gbps : 0.0;
  while (static_cast<int64_t>(items_.size()) > capacity_) {
    const auto [b, g] = items_.front();
    items_.pop_front();
    counts_.requests -= 1;
    counts_.blocked -= b ? 1 : 0;
    counts_.gbps -= g;
    counts_.blocked_gbps -= b ? g : 0.0;
  }
}

}  // namespace eonops::lifecycle
