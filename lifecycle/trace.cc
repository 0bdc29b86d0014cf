#include "lifecycle/trace.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace eonops::lifecycle {

namespace {

using Json = nlohmann::json;

class HttpSource final : public TraceSource {
 public:
  HttpSource(const std::string& url, int timeout_s) : url_(url), http_(url) {
    if (!http_.is_valid())
      throw std::runtime_error("--pce: cannot use '" + url + "' (expected http://host:port)");
    http_.set_keep_alive(true);
    http_.set_connection_timeout(timeout_s, 0);
    http_.set_read_timeout(timeout_s, 0);
  }
  std::string Describe() const override { return url_; }
  pce::TraceSnapshot Snapshot() override {
    return pce::TraceSnapshot::FromJson(Get("/eonops/trace/snapshot", {}));
  }
  pce::ServiceTrace::Page Read(int64_t after, size_t limit) override {
    const Json j = Get("/eonops/trace",
                       {{"after", std::to_string(after)}, {"limit", std::to_string(limit)}});
    pce::ServiceTrace::Page p;
    try {
      p.first_seq = j.at("first_seq").get<int64_t>();
      p.next_seq = j.at("next_seq").get<int64_t>();
      p.epoch_us = j.value("epoch_us", int64_t{0});
      for (const auto& e : j.at("events")) p.events.push_back(pce::TraceEvent::FromJson(e));
    } catch (const Json::exception& e) {
      throw std::runtime_error("PCE at " + url_ + ": malformed trace page: " + e.what());
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("PCE at " + url_ + ": " + e.what());
    }
    return p;
  }

 private:
  Json Get(const std::string& path, const httplib::Params& params) {
    auto r = http_.Get(path.c_str(), params, httplib::Headers{{"Accept", "application/json"}});
    if (!r)
      throw std::runtime_error("PCE at " + url_ + " unreachable (" + httplib::to_string(r.error()) +
                               ")");
    if (r->status != 200)
      throw std::runtime_error("PCE at " + url_ + path + ": HTTP " + std::to_string(r->status) +
                               (r->status == 404 ? " (an eonops PCE without a service trace?)" : ""));
    Json j = Json::parse(r->body, nullptr, false);
    if (j.is_discarded()) throw std::runtime_error("PCE at " + url_ + path + ": not JSON");
    return j;
  }

  std::string url_;
  httplib::Client http_;
};

class LocalSource final : public TraceSource {
 public:
  explicit LocalSource(const pce::Pce& pce) : pce_(pce) {}
  std::string Describe() const override { return "in-process PCE"; }
  pce::TraceSnapshot Snapshot() override { return pce_.Snapshot(); }
  pce::ServiceTrace::Page Read(int64_t after, size_t limit) override {
    return pce_.trace().Read(after, limit);
  }

 private:
  const pce::Pce& pce_;
};

Json Num(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

Json RequestJson(const ReplayRequest& r) {
  Json j = {{"t", r.arrival_s}, {"h", std::isnan(r.holding_s) ? Json("unknown") : Num(r.holding_s)},
            {"s", r.src},       {"d", r.dst},
            {"b", r.bit_rate_gbps}, {"l", Num(r.latency_bound_us)},
            {"u", twin::ToString(r.use_case)}, {"a", r.live_accepted}};
  if (r.live_accepted) {
    j["nodes"] = r.nodes;
    j["lp"] = {r.band, r.slot, r.width, r.modulation};
  }
  return j;
}

ReplayRequest RequestFromJson(const Json& j) {
  ReplayRequest r;
  try {
    r.arrival_s = j.at("t").get<double>();
    const Json& h = j.at("h");
    r.holding_s = h.is_string() ? std::numeric_limits<double>::quiet_NaN()
                  : h.is_null() ? std::numeric_limits<double>::infinity()
                                : h.get<double>();
    r.src = j.at("s").get<int>();
    r.dst = j.at("d").get<int>();
    r.bit_rate_gbps = j.at("b").get<double>();
    r.latency_bound_us =
        j.at("l").is_null() ? std::numeric_limits<double>::infinity() : j.at("l").get<double>();
    r.use_case = twin::ParseUseCase(j.at("u").get<std::string>());
    r.live_accepted = j.at("a").get<bool>();
    if (r.live_accepted) {
      r.nodes = j.at("nodes").get<std::vector<int>>();
      const auto lp = j.at("lp").get<std::vector<int>>();
      if (lp.size() != 4) throw std::invalid_argument("lp must be [band, slot, width, modulation]");
      r.band = lp[0];
      r.slot = lp[1];
      r.width = lp[2];
      r.modulation = lp[3];
    }
  } catch (const Json::exception& e) {
    throw std::invalid_argument(std::string("replay trace: malformed request: ") + e.what());
  }
  return r;
}

ReplayRequest FromEvent(const pce::TraceEvent& e, double start_s) {
  ReplayRequest r;
  r.arrival_s = e.time_s - start_s;
  r.src = e.src;
  r.dst = e.dst;
  r.bit_rate_gbps = e.bit_rate_gbps;
  r.latency_bound_us = e.latency_bound_us;
  r.use_case = e.use_case;
  r.live_accepted = e.accepted;
  if (e.accepted) {
    r.nodes = e.nodes;
    r.band = e.band;
    r.slot = e.slot;
    r.width = e.width;
    r.modulation = e.modulation;
  }
  return r;
}

}  // namespace

std::unique_ptr<TraceSource> HttpTraceSource(const std::string& pce_url, int timeout_s) {
  return std::make_unique<HttpSource>(pce_url, timeout_s);
}

std::unique_ptr<TraceSource> InProcessTraceSource(const pce::Pce& pce) {
  return std::make_unique<LocalSource>(pce);
}

Json ReplayTrace::ToJson() const {
  Json init = Json::array(), reqs = Json::array();
  for (const auto& l : initial) {
    Json j = RequestJson(l.request);
    j["r"] = Num(l.release_s);
    init.push_back(std::move(j));
  }
  for (const auto& r : requests) reqs.push_back(RequestJson(r));
  return {{"network", network}, {"first_seq", first_seq}, {"last_seq", last_seq},
          {"start_s", start_s}, {"initial", init},        {"requests", reqs}};
}

ReplayTrace ReplayTrace::FromJson(const Json& j) {
  ReplayTrace t;
  try {
    t.network = j.at("network");
    t.first_seq = j.at("first_seq").get<int64_t>();
    t.last_seq = j.at("last_seq").get<int64_t>();
    t.start_s = j.at("start_s").get<double>();
    for (const auto& x : j.at("initial")) {
      ReplayLightpath l;
      l.request = RequestFromJson(x);
      l.release_s = x.at("r").is_null() ? std::numeric_limits<double>::infinity()
                                        : x.at("r").get<double>();
      if (!l.request.live_accepted)
        throw std::invalid_argument("replay trace: an initial lightpath that was not lit");
      t.initial.push_back(std::move(l));
    }
    for (const auto& x : j.at("requests")) t.requests.push_back(RequestFromJson(x));
  } catch (const Json::exception& e) {
    throw std::invalid_argument(std::string("replay trace: ") + e.what());
  }
  return t;
}

int64_t ReplayTrace::Count(twin::UseCase use_case) const {
  return std::count_if(requests.begin(), requests.end(),
                       [&](const ReplayRequest& r) { return r.use_case == use_case; });
}

void TraceRecorder::Reset(const pce::TraceSnapshot& snapshot) {
  live_.clear();
  arrivals_.clear();
  arrival_index_.clear();
  released_.clear();
  network_ = snapshot.network;
  epoch_us_ = snapshot.epoch_us;
  for (const auto& s : snapshot.services) live_[s.uuid] = s;
  cursor_ = snapshot.next_seq - 1;
}

std::optional<TraceRecorder::Released> TraceRecorder::Apply(const pce::TraceEvent& e) {
  if (e.seq <= cursor_) return std::nullopt;
  cursor_ = e.seq;
  if (e.kind == pce::TraceEvent::Kind::kArrival) {
    arrivals_.push_back(Arrival{e});
    if (e.accepted && !e.uuid.empty()) {
      live_[e.uuid] = e;  // also when a snapshot already had it: the event's time is exact
      arrival_index_[e.uuid] = e.seq;
    }
    Prune();
    return std::nullopt;
  }
  auto it = live_.find(e.uuid);
  if (it == live_.end()) return std::nullopt;  // released before our snapshot, or unknown
  const pce::TraceEvent arrival = std::move(it->second);
  live_.erase(it);
  bool kept = false;
  if (auto idx = arrival_index_.find(e.uuid); idx != arrival_index_.end()) {
    // Arrival sequence numbers grow along the deque: binary search by seq.
    auto pos = std::lower_bound(arrivals_.begin(), arrivals_.end(), idx->second,
                                [](const Arrival& a, int64_t seq) { return a.event.seq < seq; });
    if (pos != arrivals_.end() && pos->event.seq == idx->second) {
      pos->release_s = e.time_s;
      kept = true;
    }
    arrival_index_.erase(idx);
  }
  if (!kept) released_.push_back(Arrival{arrival, e.time_s});
  return Released{e.time_s - arrival.time_s, arrival.use_case};
}

void TraceRecorder::Prune() {
  while (static_cast<int64_t>(arrivals_.size()) > history_) {
    Arrival a = std::move(arrivals_.front());
    arrivals_.pop_front();
    if (!a.event.uuid.empty()) {
      auto idx = arrival_index_.find(a.event.uuid);
      if (idx != arrival_index_.end() && idx->second == a.event.seq) arrival_index_.erase(idx);
    }
    // Released already: a later window may still start before it went.
    if (a.event.accepted && std::isfinite(a.release_s)) released_.push_back(std::move(a));
  }
  if (released_.size() > static_cast<size_t>(2 * history_) + 64 && !arrivals_.empty()) {
    const double earliest = arrivals_.front().event.time_s;
    released_.erase(std::remove_if(released_.begin(), released_.end(),
                                   [&](const Arrival& a) { return a.release_s < earliest; }),
                    released_.end());
  }
}

ReplayTrace TraceRecorder::Cut(int64_t n) const {
  ReplayTrace t;
  t.network = network_;
  const int64_t k = std::min<int64_t>(n, static_cast<int64_t>(arrivals_.size()));
  if (k <= 0) return t;
  const size_t first = arrivals_.size() - static_cast<size_t>(k);
  const pce::TraceEvent& head = arrivals_[first].event;
  t.first_seq = head.seq;
  t.last_seq = arrivals_.back().event.seq;
  t.start_s = head.time_s;
  auto lit_before = [&](const pce::TraceEvent& a, double release_s) {
    ReplayLightpath l;
    l.request = FromEvent(a, t.start_s);
    l.release_s = std::isfinite(release_s) ? release_s - t.start_s : release_s;
    t.initial.push_back(std::move(l));
  };
  for (const auto& [uuid, a] : live_) {
    if (a.seq < head.seq) lit_before(a, std::numeric_limits<double>::infinity());
  }
  for (size_t i = 0; i < first; ++i) {
    const Arrival& a = arrivals_[i];
    if (a.event.accepted && std::isfinite(a.release_s) && a.release_s >= t.start_s)
      lit_before(a.event, a.release_s);
  }
  for (const Arrival& a : released_) {
    if (a.event.seq < head.seq && a.release_s >= t.start_s) lit_before(a.event, a.release_s);
  }
  std::sort(t.initial.begin(), t.initial.end(), [](const ReplayLightpath& a, const ReplayLightpath& b) {
    return a.request.arrival_s < b.request.arrival_s;
  });
  for (size_t i = first; i < arrivals_.size(); ++i) {
    const Arrival& a = arrivals_[i];
    ReplayRequest r = FromEvent(a.event, t.start_s);
    if (!a.event.accepted) {
      r.holding_s = std::numeric_limits<double>::quiet_NaN();
    } else if (std::isfinite(a.release_s)) {
      r.holding_s = a.release_s - a.event.time_s;
    }
    t.requests.push_back(std::move(r));
  }
  return t;
}

double TraceRecorder::MeanHolding(twin::UseCase use_case, double now_s, int64_t latest,
                                  int64_t min_released) const {
  double exposure = 0;
  int64_t released = 0, seen = 0;
  for (auto it = arrivals_.rbegin(); it != arrivals_.rend(); ++it) {
    const Arrival& a = *it;
    if (a.event.use_case != use_case) continue;
    if (latest > 0 && seen++ >= latest) break;
    if (!a.event.accepted) continue;
    if (std::isfinite(a.release_s)) {
      exposure += a.release_s - a.event.time_s;
      ++released;
    } else {
      exposure += std::max(0.0, now_s - a.event.time_s);
    }
  }
  return released >= min_released ? exposure / released : std::numeric_limits<double>::quiet_NaN();
}

std::vector<pce::TraceEvent> TraceRecorder::Latest(int64_t n,
                                                   std::optional<twin::UseCase> use_case) const {
  std::vector<pce::TraceEvent> out;
  for (auto it = arrivals_.rbegin(); it != arrivals_.rend() && static_cast<int64_t>(out.size()) < n;
       ++it) {
    if (!use_case || it->event.use_case == *use_case) out.push_back(it->event);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace eonops::lifecycle
