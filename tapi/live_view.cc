#include "tapi/live_view.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <string_view>
#include <vector>

#include "tapi/errors.h"

namespace eonops::tapi {

namespace {

using Json = nlohmann::json;

// FNV-1a, enough to tell one PCE state from the next.
struct Hasher {
  uint64_t h = 1469598103934665603ull;
  void Add(std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // field separator
  }
  void Add(int64_t v) { Add(std::string_view(reinterpret_cast<const char*>(&v), sizeof v)); }
};

Json Number(double v) { return std::isfinite(v) ? Json(std::round(v * 1000.0) / 1000.0) : Json(nullptr); }

std::string NameOf(const Json& name, const std::string& fallback) {
  // TAPI name list: [{"value-name": ..., "value": ...}]; the first value names the service.
  if (name.is_array()) {
    for (const auto& n : name) {
      if (n.is_object() && n.contains("value") && n["value"].is_string()) return n["value"].get<std::string>();
    }
  }
  return fallback;
}

// The counters the figures need, read from the PCE's Prometheus exposition (pce/metrics.h): the
// PCE keeps no in-memory decision history that a reader could ask for.
struct Counters {
  int64_t decisions = 0, blocked = 0, fallbacks = 0;
  std::map<std::string, int64_t> blocked_by_cause;
};

std::string Label(std::string_view line, std::string_view key) {
  const std::string needle = std::string(key) + "=\"";
  const auto p = line.find(needle);
  if (p == std::string_view::npos) return "";
  const auto start = p + needle.size();
  std::string out;
  for (size_t i = start; i < line.size() && line[i] != '"'; ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) ++i;
    out += line[i];
  }
  return out;
}

Counters ReadCounters(const std::string& text, Hasher* hash) {
  Counters c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const bool decisions = line.rfind("eonops_pce_decisions_total{", 0) == 0;
    const bool blocked = line.rfind("eonops_pce_blocked_total{", 0) == 0;
    const bool fallbacks = line.rfind("eonops_pce_fallbacks_total{", 0) == 0;
    if (!decisions && !blocked && !fallbacks) continue;
    const auto sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    const int64_t v = std::atoll(line.c_str() + sp + 1);
    hash->Add(line);
    if (decisions) c.decisions += v;
    if (blocked) {
      c.blocked += v;
      c.blocked_by_cause[Label(line, "cause")] += v;
    }
    if (fallbacks) c.fallbacks += v;
  }
  return c;
}

Json DecisionJson(const pce::PathDecision& d) {
  return {{"band", d.band},
          {"band_name", d.band_name},
          {"slot", d.slot},
          {"width", d.width},
          {"modulation", d.modulation_name},
          {"bit_rate_gbps", Number(d.bit_rate_gbps)},
          {"gsnr_db", Number(d.gsnr_db)},
          {"margin_db", Number(d.margin_db())},
          {"latency_us", Number(d.latency_us)},
          {"length_km", Number(d.length_km)},
          {"power_w", Number(d.incremental_power_w)},
          {"use_case", twin::ToString(d.use_case)},
          {"decided_by", d.decided_by},
          {"policy", d.policy ? Json(d.policy->Label()) : Json(nullptr)},
          {"fell_back", d.fell_back},
          {"fallback_reason", d.fallback_reason},
          {"compute_us", Number(d.compute_us)}};
}

const char* ContentType(const std::string& path) {
  auto ends = [&](const char* s) {
    const size_t n = std::char_traits<char>::length(s);
    return path.size() >= n && path.compare(path.size() - n, n, s) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "application/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

LiveView::Reply JsonReply(int status, const Json& body) {
  LiveView::Reply r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  r.headers["Cache-Control"] = "no-store";
  return r;
}

LiveView::Reply ErrorReply(ErrorCode code, const std::string& message) {
  const HttpError h = ToHttpError(code, message);
  return JsonReply(h.status, h.body);
}

}  // namespace

LiveView::Cached LiveView::Current() {
  // Read the PCE outside our lock; the services list is a consistent copy.
  std::vector<pce::Service> services = pce_.ListServices();
  std::vector<pce::ComputedPath> computed = pce_.ListComputedPaths();
  Hasher hash;
  for (const auto& s : services) {
    hash.Add(s.uuid);
    hash.Add(s.seq);
  }
  hash.Add("computed");
  for (const auto& p : computed) {
    hash.Add(p.uuid);
    hash.Add(p.seq);
  }
  const Counters counters = ReadCounters(pce_.RenderMetrics(), &hash);
  const auto policies = pce_.Policies();
  for (const auto& p : policies) hash.Add(p.served ? p.served->Label() : "none");

  std::lock_guard<std::mutex> lock(mutex_);
  if (have_cached_ && cached_.fingerprint == hash.h) return cached_;

  const twin::NetworkModel& model = pce_.model();
  const twin::Topology& topo = model.topology();
  const int num_bands = model.NumBands();
  const int num_fibres = topo.NumFibres();

  Json nodes = Json::array();
  for (const auto& n : topo.nodes()) {
    nodes.push_back({{"id", n.id},
                     {"name", n.name},
                     {"lat", n.latitude ? Json(*n.latitude) : Json(nullptr)},
                     {"lon", n.longitude ? Json(*n.longitude) : Json(nullptr)},
                     {"uuid", pce_.ted().NodeUuid(n.id)}});
  }
  Json fibres = Json::array();
  for (const auto& f : topo.fibres()) {
    fibres.push_back({{"id", f.id},
                      {"src", f.src},
                      {"dst", f.dst},
                      {"reverse", f.reverse},
                      {"length_km", Number(f.length_km)},
                      {"name", pce_.ted().LinkName(f.id)},
                      {"uuid", pce_.ted().LinkUuid(f.id)}});
  }
  Json bands = Json::array();
  for (int b = 0; b < num_bands; ++b) bands.push_back({{"name", model.plan().band(b).name}, {"slots", model.plan().band(b).num_slots}});

  // Occupancy runs per fibre and band, rebuilt from the services (each run names its owner).
  std::vector<std::vector<Json>> runs(static_cast<size_t>(num_fibres), std::vector<Json>(static_cast<size_t>(num_bands), Json::array()));
  std::vector<int64_t> used(static_cast<size_t>(num_bands), 0);
  Json service_list = Json::array();
  for (size_t i = 0; i < services.size(); ++i) {
    const pce::Service& s = services[i];
    const pce::PathDecision& d = s.decision;
    Json j = DecisionJson(d);
    j["uuid"] = s.uuid;
    j["name"] = NameOf(s.name, "");
    j["src"] = s.request.src;
    j["dst"] = s.request.dst;
    j["nodes"] = d.nodes;
    j["fibres"] = d.fibres;
    j["created_ms"] = s.created_ms;
    j["seq"] = s.seq;
    if (s.reverse) j["reverse_fibres"] = s.reverse->fibres;
    service_list.push_back(std::move(j));
    for (const pce::PathDecision* x : s.Directions()) {  // both lightpaths of a bidirectional one
      if (x->band < 0 || x->band >= num_bands) continue;
      for (int f : x->fibres) {
        if (f < 0 || f >= num_fibres) continue;
        runs[static_cast<size_t>(f)][static_cast<size_t>(x->band)].push_back({x->slot, x->width, static_cast<int64_t>(i)});
        used[static_cast<size_t>(x->band)] += x->width;
      }
    }
  }
  Json occupancy = Json::array();
  for (auto& per_band : runs) {
    Json fb = Json::array();
    for (auto& r : per_band) {
      std::sort(r.begin(), r.end(), [](const Json& a, const Json& b) { return a[0].get<int>() < b[0].get<int>(); });
      fb.push_back(std::move(r));
    }
    occupancy.push_back(std::move(fb));
  }

  // Latest decisions: provisioned services and computed paths, newest first.
  struct Entry {
    int64_t time_ms, seq;
    const pce::PathDecision* d;
    const std::string* uuid;
    std::string name, operation;
  };
  std::vector<Entry> entries;
  for (const auto& s : services) entries.push_back({s.created_ms, s.seq, &s.decision, &s.uuid, NameOf(s.name, ""), "create"});
  for (const auto& p : computed) entries.push_back({p.created_ms, p.seq, &p.decision, &p.uuid, NameOf(p.name, ""), "compute"});
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.time_ms != b.time_ms ? a.time_ms > b.time_ms : a.seq > b.seq;
  });
  if (entries.size() > static_cast<size_t>(kMaxDecisions)) entries.resize(kMaxDecisions);
  Json decisions = Json::array();
  for (const auto& e : entries) {
    Json j = DecisionJson(*e.d);
    j["operation"] = e.operation;
    j["uuid"] = *e.uuid;
    j["name"] = e.name;
    j["time_ms"] = e.time_ms;
    j["src"] = e.d->nodes.empty() ? Json(nullptr) : Json(e.d->nodes.front());
    j["dst"] = e.d->nodes.empty() ? Json(nullptr) : Json(e.d->nodes.back());
    decisions.push_back(std::move(j));
  }

  Json utilisation = Json::object();
  for (int b = 0; b < num_bands; ++b) {
    const double total = static_cast<double>(model.plan().band(b).num_slots) * num_fibres;
    utilisation[model.plan().band(b).name] = total > 0 ? Number(used[static_cast<size_t>(b)] / total) : Json(0.0);
  }
  Json served = Json::array();
  for (const auto& p : policies) {
    served.push_back({{"use_case", twin::ToString(p.use_case)},
                      {"model", p.binding.model},
                      {"served", p.served ? Json(p.served->Label()) : Json(nullptr)},
                      {"error", p.last_error}});
  }
  const int64_t version = have_cached_ ? cached_.version + 1 : 1;
  Json figures = {{"services", services.size()},
                  {"computed_paths", computed.size()},
                  {"decisions", counters.decisions},
                  {"blocked", counters.blocked},
                  {"blocking", counters.decisions > 0 ? Number(static_cast<double>(counters.blocked) / counters.decisions) : Json(0.0)},
                  {"blocked_by_cause", counters.blocked_by_cause},
                  {"fallbacks", counters.fallbacks},
                  {"utilisation", utilisation},
                  {"power_w", Number(pce_.PowerW())}};
  Json snapshot = {{"version", version},
                   {"time_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count()},
                   {"topology", {{"name", topo.name()}, {"nodes", nodes}, {"fibres", fibres}}},
                   {"bands", bands},
                   {"services", service_list},
                   {"occupancy", occupancy},
                   {"decisions", decisions},
                   {"figures", figures},
                   {"policies", served}};
  cached_.fingerprint = hash.h;
  cached_.version = version;
  cached_.body = snapshot.dump(-1, ' ', false, Json::error_handler_t::replace);
  cached_.etag = "\"v" + std::to_string(version) + "-" + std::to_string(hash.h % 1000000007ull) + "\"";
  have_cached_ = true;
  return cached_;
}

Json LiveView::Snapshot() { return Json::parse(Current().body); }

int64_t LiveView::version() { return Current().version; }

std::optional<LiveView::Reply> LiveView::Handle(const std::string& method, const std::string& path,
                                                const std::string& if_none_match) {
  if (path != "/ui" && path.rfind("/ui/", 0) != 0) return std::nullopt;
  try {
    if (method != "GET" && method != "HEAD") {
      Reply r = ErrorReply(ErrorCode::kOperationNotSupported, "the live view is read-only: " + method.substr(0, 16) + " is not allowed");
      r.status = 405;
      r.headers["Allow"] = "GET, HEAD";
      return r;
    }
    std::string rel = path == "/ui" ? "" : path.substr(4);
    if (rel == "api/snapshot") {
      const Cached c = Current();
      if (!if_none_match.empty() && if_none_match == c.etag) {
        Reply r;
        r.status = 304;
        r.headers["ETag"] = c.etag;
        r.headers["Cache-Control"] = "no-cache";
        return r;
      }
      Reply r;
      r.content_type = "application/json";
      r.body = c.body;
      r.headers["ETag"] = c.etag;
      r.headers["Cache-Control"] = "no-cache";
      return r;
    }
    if (rel == "api/version") return JsonReply(200, {{"version", Current().version}});
    if (rel.rfind("api/", 0) == 0 || rel == "api") return ErrorReply(ErrorCode::kUnknownResource, "no live-view resource /ui/" + rel.substr(0, 128));
    if (rel.empty()) rel = "index.html";
    size_t n = 0;
    const LiveViewAsset* assets = LiveViewAssets(&n);
    for (size_t i = 0; i < n; ++i) {
      if (rel == assets[i].path) {
        Reply r;
        r.content_type = ContentType(rel);
        r.body.assign(reinterpret_cast<const char*>(assets[i].data), assets[i].size);
        r.headers["Cache-Control"] = "no-cache";
        return r;
      }
    }
    return ErrorReply(ErrorCode::kUnknownResource, "no live-view file /ui/" + rel.substr(0, 128));
  } catch (const std::exception& e) {
    return ErrorReply(ErrorCode::kOperationFailed, std::string("live view: ") + e.what());
  }
}

bool LiveView::Serve(const httplib::Request& request, httplib::Response& response) {
  std::optional<Reply> r = Handle(request.method, request.path, request.get_header_value("If-None-Match"));
  if (!r) return false;
  response.status = r->status;
  for (const auto& [k, v] : r->headers) response.set_header(k, v);
  if (r->status != 304 && request.method != "HEAD") response.set_content(r->body, r->content_type.c_str());
  return true;
}

std::vector<std::vector<std::vector<int>>> ExpandOccupancy(const Json& snapshot) {
  const Json& bands = snapshot.at("bands");
  std::vector<std::vector<std::vector<int>>> out;
  for (const auto& per_fibre : snapshot.at("occupancy")) {
    std::vector<std::vector<int>> fb;
    for (size_t b = 0; b < per_fibre.size(); ++b) {
      std::vector<int> slots(bands.at(b).at("slots").get<size_t>(), -1);
      for (const auto& run : per_fibre[b]) {
        const int start = run.at(0), width = run.at(1), owner = run.at(2);
        for (int s = start; s < start + width; ++s) {
          if (s >= 0 && s < static_cast<int>(slots.size())) slots[static_cast<size_t>(s)] = owner;
        }
      }
      fb.push_back(std::move(slots));
    }
    out.push_back(std::move(fb));
  }
  return out;
}

}  // namespace eonops::tapi
