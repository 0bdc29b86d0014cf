#include "lifecycle/replay.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>

#include "twin/paths.h"
#include "twin/rng.h"
#include "twin/simulator.h"

namespace eonops::lifecycle {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

nlohmann::json Num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

twin::Request ToRequest(const ReplayRequest& r, int64_t id) {
  twin::Request q;
  q.id = id;
  q.arrival_time = r.arrival_s;
  q.src = r.src;
  q.dst = r.dst;
  q.bit_rate_gbps = r.bit_rate_gbps;
  q.latency_bound_us = r.latency_bound_us;
  return q;
}

// Lights `r` exactly where it was live; -1 when that spectrum is taken now.
int32_t LightAsRecorded(twin::NetworkState& state, const twin::NetworkModel& m,
                        const ReplayRequest& r, int64_t id, double release,
                        std::vector<std::unique_ptr<twin::Path>>& paths) {
  if (r.nodes.size() < 2 || r.band < 0 || r.band >= m.NumBands() || r.modulation < 0 ||
      r.modulation >= m.modulations().NumFormats())
    return -1;
  twin::Path p;
  try {
    p = twin::PathFromNodes(m.topology(), r.nodes);
  } catch (const std::exception&) {
    return -1;  // a route this topology does not have
  }
  paths.push_back(std::make_unique<twin::Path>(std::move(p)));
  const twin::Request q = ToRequest(r, id);
  twin::Candidate c = m.EvaluatePath(q, *paths.back(), r.band);
  // What was lit is what counts, whatever today's rules would choose.
  c.cause = twin::BlockCause::kNone;
  c.width = r.width;
  c.modulation = r.modulation;
  if (r.slot < 0 || r.slot + r.width > m.plan().band(r.band).num_slots) return -1;
  return state.Provision(q, c, r.slot, release);
}

}  // namespace

nlohmann::json ReplayResult::ToJson() const {
  return {{"contender", contender},
          {"requests", requests},
          {"accepted", accepted},
          {"blocked", blocked},
          {"blocking", blocking},
          {"bit_rate_blocking", bit_rate_blocking},
          {"mean_power_w", mean_power_w},
          {"initial_lightpaths", initial},
          {"background_requests", background},
          {"background_dropped", background_dropped}};
}

ReplayResult Replay(std::shared_ptr<const twin::NetworkModel> model, const ReplayTrace& trace,
                    twin::UseCase use_case, const twin::Heuristic& contender, uint64_t seed) {
  const twin::NetworkModel& m = *model;
  ReplayResult res;
  res.contender = contender.Name();
  twin::NetworkState state(model);
  std::vector<std::unique_ptr<twin::Path>> paths;  // routes of relit lightpaths
  using Departure = std::pair<double, int32_t>;
  std::priority_queue<Departure, std::vector<Departure>, std::greater<Departure>> departures;
  int64_t id = 0;
  for (const ReplayLightpath& l : trace.initial) {
    const int32_t lp = LightAsRecorded(state, m, l.request, id++, l.release_s, paths);
    if (lp < 0) continue;
    ++res.initial;
    if (std::isfinite(l.release_s)) departures.push({l.release_s, lp});
  }
  // Holding times for requests blocked live: drawn once from the completed services, in trace
  // order, so every contender gets the same draws whatever it decides.
  std::vector<double> completed;
  for (const ReplayRequest& r : trace.requests)
    if (std::isfinite(r.holding_s)) completed.push_back(r.holding_s);
  for (const ReplayLightpath& l : trace.initial)
    if (std::isfinite(l.release_s)) completed.push_back(l.release_s - l.request.arrival_s);
  twin::Rng rng(seed);
  std::vector<double> holding(trace.requests.size());
  for (size_t i = 0; i < trace.requests.size(); ++i) {
    const double h = trace.requests[i].holding_s;
    if (!std::isnan(h)) {
      holding[i] = h;
    } else if (completed.empty()) {
      holding[i] = kInf;
    } else {
      holding[i] = completed[rng.Next() % completed.size()];
    }
  }
  double power = 0, gbps = 0, blocked_gbps = 0;
  for (size_t i = 0; i < trace.requests.size(); ++i) {
    const ReplayRequest& r = trace.requests[i];
    while (!departures.empty() && departures.top().first <= r.arrival_s) {
      state.Release(departures.top().second);
      departures.pop();
    }
    const double release = r.arrival_s + holding[i];
    if (r.use_case != use_case) {
      ++res.background;
      if (!r.live_accepted) continue;
      const int32_t lp = LightAsRecorded(state, m, r, id++, release, paths);
      if (lp < 0) {
        ++res.background_dropped;
      } else if (std::isfinite(release)) {
        departures.push({release, lp});
      }
      continue;
    }
    ++res.requests;
    power += state.PowerW();
    gbps += r.bit_rate_gbps;
    const twin::Request q = ToRequest(r, id++);
    bool accepted = false;
    if (r.src != r.dst && r.src >= 0 && r.dst >= 0 && r.src < m.topology().NumNodes() &&
        r.dst < m.topology().NumNodes()) {
      const twin::Decision d = contender.Decide(q, state);
      if (d.accepted) {
        const int32_t lp = state.Provision(q, d.candidate, d.slot, release);
        if (lp >= 0) {
          accepted = true;
          if (std::isfinite(release)) departures.push({release, lp});
        }
      }
    }
    res.blocked_flags.push_back(accepted ? 0 : 1);
    if (accepted) {
      ++res.accepted;
    } else {
      ++res.blocked;
      blocked_gbps += r.bit_rate_gbps;
    }
  }
  res.blocking = res.requests > 0 ? double(res.blocked) / res.requests : 0.0;
  res.bit_rate_blocking = gbps > 0 ? blocked_gbps / gbps : 0.0;
  res.mean_power_w = res.requests > 0 ? power / res.requests : 0.0;
  return res;
}

nlohmann::json PairedComparison::ToJson() const {
  return {{"n", n},
          {"a", a},
          {"b", b},
          {"difference", difference},
          {"ci95_low", Num(ci95_low)},
          {"ci95_high", Num(ci95_high)},
          {"relative", Num(relative)},
          {"lower", Lower()}};
}

PairedComparison ComparePaired(const std::vector<double>& a, const std::vector<double>& b) {
  PairedComparison c;
  const size_t n = std::min(a.size(), b.size());
  c.n = static_cast<int>(n);
  if (n == 0) return c;
  std::vector<double> d(n);
  double sa = 0, sb = 0;
  for (size_t i = 0; i < n; ++i) {
    d[i] = a[i] - b[i];
    sa += a[i];
    sb += b[i];
  }
  c.a = sa / n;
  c.b = sb / n;
  const twin::Estimate e = twin::MeanCi(d);
  c.difference = e.mean;
  // Identical outcomes give a zero-width interval at 0: "equal", never "better".
  const double half = std::isfinite(e.ci95) ? e.ci95 : std::numeric_limits<double>::infinity();
  c.ci95_low = e.mean - half;
  c.ci95_high = e.mean + half;
  c.relative = c.b > 0 ? c.difference / c.b : std::numeric_limits<double>::quiet_NaN();
  return c;
}

PairedComparison CompareBatches(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                                int batches) {
  const size_t n = std::min(a.size(), b.size());
  const size_t k = static_cast<size_t>(std::max(1, batches));
  std::vector<double> ma, mb;
  if (n >= k) {
    for (size_t j = 0; j < k; ++j) {
      const size_t from = n * j / k, to = n * (j + 1) / k;
      double sa = 0, sb = 0;
      for (size_t i = from; i < to; ++i) {
        sa += a[i];
        sb += b[i];
      }
      ma.push_back(sa / (to - from));
      mb.push_back(sb / (to - from));
    }
  }
  return ComparePaired(ma, mb);
}

std::vector<double> TwinBlocking(std::shared_ptr<const twin::NetworkModel> model,
                                 const twin::TrafficConfig& traffic,
                                 const twin::Heuristic& contender, int seeds, uint64_t seed0,
                                 int64_t requests, int64_t warmup) {
  std::vector<double> out;
  for (int s = 0; s < seeds; ++s) {
    twin::SimulationOptions o;
    o.requests = requests;
    o.warmup = warmup;
    o.batch_size = std::max<int64_t>(1, requests / 10);
    o.seed = seed0 + static_cast<uint64_t>(s);
    const twin::SimulationResult r = twin::Simulate(model, traffic, contender, o);
    out.push_back(r.requests > 0 ? double(r.blocked) / r.requests : 0.0);
  }
  return out;
}

}  // namespace eonops::lifecycle
