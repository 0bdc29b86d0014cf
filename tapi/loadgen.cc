#include "tapi/loadgen.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <queue>
#include <stdexcept>
#include <thread>
#include <vector>

#include "twin/topology.h"
#include "twin/traffic.h"

namespace eonops::tapi {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr const char* kContext = "/restconf/data/tapi-common:context";
constexpr const char* kServices =
    "/restconf/data/tapi-common:context/tapi-connectivity:connectivity-context";

LatencyStats Stats(std::vector<double> us) {
  LatencyStats s;
  s.count = static_cast<int64_t>(us.size());
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double x : us) sum += x;
  auto pct = [&](double q) {
    return us[static_cast<size_t>(std::floor(q * (us.size() - 1) + 0.5))];
  };
  s.mean_us = sum / us.size();
  s.p50_us = pct(0.5);
  s.p90_us = pct(0.9);
  s.p99_us = pct(0.99);
  s.max_us = us.back();
  return s;
}

Json StatsJson(const LatencyStats& s) {
  return {{"count", s.count},   {"mean_us", s.mean_us}, {"p50_us", s.p50_us},
          {"p90_us", s.p90_us}, {"p99_us", s.p99_us},   {"max_us", s.max_us}};
}

std::string Describe(const httplib::Result& r) {
  if (!r) return "no reply (" + httplib::to_string(r.error()) + ")";
  std::string msg = "HTTP " + std::to_string(r->status);
  Json j = Json::parse(r->body, nullptr, false);
  if (!j.is_discarded() && j.contains("ietf-restconf:errors")) {
    try {
      msg += ": " + j["ietf-restconf:errors"]["error"][0].value("error-message", "");
    } catch (const std::exception&) {
    }
  }
  return msg;
}

Json ReadJsonFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(what + " " + path + ": cannot read");
  Json j = Json::parse(in, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error(what + " " + path + ": not valid JSON");
  return j;
}

std::vector<double> MatrixFromJson(const Json& j, int num_nodes, const std::string& where) {
  const Json& m = j.is_object() && j.contains("traffic_matrix") ? j["traffic_matrix"] : j;
  if (!m.is_array() || m.size() != static_cast<size_t>(num_nodes))
    throw std::runtime_error(where + ": expected a " + std::to_string(num_nodes) + " x " +
                             std::to_string(num_nodes) + " array of node-pair weights");
  twin::TrafficConfig c;
  for (size_t r = 0; r < m.size(); ++r) {
    if (!m[r].is_array() || m[r].size() != m.size())
      throw std::runtime_error(where + ": row " + std::to_string(r) + " must have " +
                               std::to_string(num_nodes) + " numbers");
    for (const auto& x : m[r]) {
      if (!x.is_number()) throw std::runtime_error(where + ": row " + std::to_string(r) + " holds a non-number");
      c.traffic_matrix.push_back(x.get<double>());
    }
  }
  try {
    c.Validate(num_nodes);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
  return c.traffic_matrix;
}

}  // namespace

std::vector<double> LoadTrafficMatrix(const std::string& path, int num_nodes) {
  return MatrixFromJson(ReadJsonFile(path, "traffic matrix"), num_nodes, path);
}

std::vector<TrafficPhase> LoadTrafficPhases(const std::string& path, int num_nodes) {
  const Json j = ReadJsonFile(path, "phases");
  if (!j.is_object() || !j.contains("phases") || !j["phases"].is_array() || j["phases"].empty())
    throw std::runtime_error(path + ": expected {\"phases\": [...]} with at least one phase");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "phases" && it.key().rfind('_', 0) != 0)
      throw std::runtime_error(path + ": " + it.key() + ": unknown key");
  }
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::vector<TrafficPhase> out;
  for (size_t i = 0; i < j["phases"].size(); ++i) {
    const Json& p = j["phases"][i];
    const std::string where = path + ": phases[" + std::to_string(i) + "]";
    if (!p.is_object()) throw std::runtime_error(where + ": expected an object");
    TrafficPhase ph;
    for (auto it = p.begin(); it != p.end(); ++it) {
      const std::string& k = it.key();
      if (k == "at_request") {
        if (!it->is_number_integer() || it->get<int64_t>() < 0)
          throw std::runtime_error(where + ".at_request: expected a non-negative integer");
        ph.at_request = it->get<int64_t>();
      } else if (k == "label") {
        if (!it->is_string()) throw std::runtime_error(where + ".label: expected a string");
        ph.label = it->get<std::string>();
      } else if (k == "load_erlang") {
        if (!it->is_number() || !(it->get<double>() > 0) || !std::isfinite(it->get<double>()))
          throw std::runtime_error(where + ".load_erlang: expected a positive number");
        ph.load_erlang = it->get<double>();
      } else if (k == "traffic_matrix") {
        if (it->is_string() && it->get<std::string>() == "uniform") {
          ph.traffic_matrix = std::vector<double>{};
        } else if (it->is_string()) {
          std::filesystem::path f = it->get<std::string>();
          if (f.is_relative()) f = dir / f;
          ph.traffic_matrix = LoadTrafficMatrix(f.string(), num_nodes);
        } else {
          ph.traffic_matrix = MatrixFromJson(*it, num_nodes, where + ".traffic_matrix");
        }
      } else if (k.rfind('_', 0) != 0) {
        throw std::runtime_error(where + "." + k + ": unknown key");
      }
    }
    if (!p.contains("at_request")) throw std::runtime_error(where + ": at_request is missing");
    if (!out.empty() && ph.at_request <= out.back().at_request)
      throw std::runtime_error(where + ".at_request: phases must start at increasing requests");
    if (ph.label.empty()) ph.label = "phase " + std::to_string(i + 1);
    out.push_back(std::move(ph));
  }
  return out;
}

Json TrafficPhase::ToJson() const {
  Json j = {{"at_request", at_request}, {"label", label}};
  if (load_erlang) j["load_erlang"] = *load_erlang;
  if (traffic_matrix) j["traffic_matrix"] = traffic_matrix->empty() ? Json("uniform") : Json("matrix");
  return j;
}

Json LoadgenResult::ToJson() const {
  return {{"warmup", warmup},
          {"requests", requests},
          {"accepted", accepted},
          {"blocked", blocked},
          {"blocking_probability", blocking},
          {"blocked_by_cause", blocked_by_cause},
          {"decided_by", decided_by},
          {"policy_versions", policy_versions},
          {"fell_back", fell_back},
          {"errors", errors},
          {"create_latency", StatsJson(create)},
          {"delete_latency", StatsJson(remove)},
          {"wall_seconds", wall_s},
          {"achieved_rate_per_s", achieved_rate_per_s},
          {"last_error", last_error},
          {"phases", [&] {
             Json list = Json::array();
             for (const auto& p : phases)
               list.push_back({{"label", p.label},
                               {"from_request", p.from_request},
                               {"load_erlang", p.load_erlang},
                               {"requests", p.requests},
                               {"accepted", p.accepted},
                               {"blocked", p.blocked},
                               {"blocking_probability", p.blocking}});
             return list;
           }()}};
}

LoadgenResult RunLoadgen(const LoadgenOptions& o) {
  const twin::Topology topo = twin::Topology::Load(
      twin::ResolveTopologyPath(o.scenario.network.topology), o.scenario.network.max_span_km);
  httplib::Client cli(o.pce_url);
  if (!cli.is_valid())
    throw std::runtime_error("--pce: cannot use '" + o.pce_url + "' (expected http://host:port)");
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(
      true);  // a POST is headers then body: without this, Nagle + delayed ACK add 40 ms
  cli.set_connection_timeout(o.timeout_s, 0);
  cli.set_read_timeout(o.timeout_s, 0);
  cli.set_write_timeout(o.timeout_s, 0);
  httplib::Headers headers = {{"Accept", "application/yang-data+json"}};
  if (!o.token.empty()) headers.emplace("Authorization", "Bearer " + o.token);

  // Node index -> SIP uuid, by the SIPs' local names.
  auto sips = cli.Get((std::string(kContext) + "/service-interface-point").c_str(), headers);
  if (!sips || sips->status != 200)
    throw std::runtime_error("PCE at " + o.pce_url + ": reading its SIPs: " + Describe(sips));
  Json sj = Json::parse(sips->body, nullptr, false);
  std::map<std::string, std::string> sip_by_name;
  if (!sj.is_discarded() && sj.contains("tapi-common:service-interface-point")) {
    for (const auto& s : sj["tapi-common:service-interface-point"]) {
      for (const auto& n : s.value("name", Json::array())) {
        if (n.value("value-name", "") == "local-name")
          sip_by_name[n.value("value", "")] = s.value("uuid", "");
      }
    }
  }
  std::vector<std::string> sip(topo.NumNodes());
  for (int n = 0; n < topo.NumNodes(); ++n) {
    auto it = sip_by_name.find(topo.node(n).name);
    if (it == sip_by_name.end()) {
      throw std::runtime_error("PCE at " + o.pce_url +
                               " has no service-interface-point for node '" + topo.node(n).name +
                               "': it serves another topology than " + topo.name());
    }
    sip[n] = it->second;
  }
  if (static_cast<int>(sip_by_name.size()) != topo.NumNodes()) {
    throw std::runtime_error("PCE at " + o.pce_url + " has " + std::to_string(sip_by_name.size()) +
                             " service-interface-points, topology " + topo.name() + " has " +
                             std::to_string(topo.NumNodes()) + " nodes");
  }

  std::vector<TrafficPhase> phases = o.phases;
  std::stable_sort(phases.begin(), phases.end(), [](const TrafficPhase& a, const TrafficPhase& b) {
    return a.at_request < b.at_request;
  });
  twin::TrafficConfig traffic = o.scenario.traffic;
  size_t next_phase = 0;
  LoadgenResult res;
  auto apply_phases = [&](int64_t i) {
    bool changed = false;
    while (next_phase < phases.size() && phases[next_phase].at_request <= i) {
      const TrafficPhase& ph = phases[next_phase++];
      if (ph.load_erlang) traffic.load_erlang = *ph.load_erlang;
      if (ph.traffic_matrix) traffic.traffic_matrix = *ph.traffic_matrix;
      PhaseResult pr;
      pr.label = ph.label;
      pr.from_request = i;
      if (!res.phases.empty() && res.phases.back().from_request == i) res.phases.pop_back();
      res.phases.push_back(pr);
      changed = true;
    }
    if (!res.phases.empty()) res.phases.back().load_erlang = traffic.load_erlang;
    return changed;
  };
  if (phases.empty() || phases.front().at_request > 0) {
    PhaseResult pr;
    pr.label = "initial";
    res.phases.push_back(pr);
  }
  apply_phases(0);
  res.phases.back().load_erlang = traffic.load_erlang;
  twin::TrafficGenerator gen(traffic, topo.NumNodes(), o.seed);
  res.warmup = o.scenario.measurement.warmup;
  const int64_t total = o.scenario.measurement.warmup + o.scenario.measurement.requests;
  struct Departure {
    double time;
    int64_t seq;
    std::string uuid;
    bool operator>(const Departure& x) const {
      return time > x.time || (time == x.time && seq > x.seq);
    }
  };
  std::priority_queue<Departure, std::vector<Departure>, std::greater<Departure>> departures;
  std::vector<double> create_us, delete_us;
  create_us.reserve(static_cast<size_t>(total));
  auto fail = [&](const std::string& what) {
    ++res.errors;
    res.last_error = what;
    if (res.errors > o.max_errors)
      throw std::runtime_error("giving up after " + std::to_string(res.errors) +
                               " errors; last: " + what);
  };
  auto remove = [&](const std::string& uuid) {
    const auto t = Clock::now();
    auto r =
        cli.Delete((std::string(kServices) + "/connectivity-service=" + uuid).c_str(), headers);
    delete_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    if (!r || r->status != 204) fail("DELETE " + uuid + ": " + Describe(r));
  };

  const auto start = Clock::now();
  const int64_t progress_every = std::max<int64_t>(1, total / 100);
  for (int64_t i = 0; i < total; ++i) {
    if (i > 0 && apply_phases(i)) gen.Reconfigure(traffic);
    const twin::Request req = gen.Next();
    while (!departures.empty() && departures.top().time <= req.arrival_time) {
      remove(departures.top().uuid);
      departures.pop();
    }
    if (o.rate_per_s > 0) {
      std::this_thread::sleep_until(start +
                                    std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(double(i) / o.rate_per_s)));
    }
    Json capacity;
    if (std::abs(req.bit_rate_gbps - std::round(req.bit_rate_gbps)) < 1e-9) {
      capacity = {{"total-size", {{"value", std::llround(req.bit_rate_gbps)}, {"unit", "GBPS"}}}};
    } else {
      capacity = {
          {"total-size", {{"value", std::llround(req.bit_rate_gbps * 1000)}, {"unit", "MBPS"}}}};
    }
    Json svc = {{"end-point",
                 {{{"local-id", "a"},
                   {"service-interface-point", {{"service-interface-point-uuid", sip[req.src]}}},
                   {"layer-protocol-name", "PHOTONIC_MEDIA"},
                   {"direction", "INPUT"}},
                  {{"local-id", "z"},
                   {"service-interface-point", {{"service-interface-point-uuid", sip[req.dst]}}},
                   {"layer-protocol-name", "PHOTONIC_MEDIA"},
                   {"direction", "OUTPUT"}}}},
                {"connectivity-constraint",
                 {{"requested-capacity", capacity}, {"connectivity-direction", "UNIDIRECTIONAL"}}}};
    if (std::isfinite(req.latency_bound_us)) {
      // TAPI's delay bound is an integer (microseconds); the exact bound rides along as the
      // eonops-pce extension, which the PCE prefers, so both sides decide on the same number.
      svc["routing-constraint"] = {
          {"max-allowed-delay", {{"value", std::llround(std::floor(req.latency_bound_us))}}}};
      svc["eonops-pce:latency-bound-us"] = req.latency_bound_us;
    }
    if (o.use_case) svc["eonops-pce:use-case"] = twin::ToString(*o.use_case);
    const std::string body = o.rpc ? Json{{"tapi-connectivity:input", svc}}.dump()
                                   : Json{{"tapi-connectivity:connectivity-service", {svc}}}.dump();
    const std::string target =
        o.rpc ? std::string("/restconf/operations/tapi-connectivity:create-connectivity-service")
              : std::string(kServices);
    const auto t = Clock::now();
    auto r = cli.Post(target.c_str(), headers, body, "application/yang-data+json");
    create_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    const bool counted = i >= o.scenario.measurement.warmup;
    if (r && (r->status == 200 || r->status == 201)) {
      Json j = Json::parse(r->body, nullptr, false);
      Json s;
      if (!j.is_discarded()) {
        if (o.rpc) {
          for (auto it = j.begin(); it != j.end(); ++it) {
            if (it.key() == "output" || it.key() == "tapi-connectivity:output")
              s = it.value().value("service", Json());
          }
        } else if (j.contains("tapi-connectivity:connectivity-service") &&
                   !j["tapi-connectivity:connectivity-service"].empty()) {
          s = j["tapi-connectivity:connectivity-service"][0];
        }
      }
      if (!s.is_object() || !s.contains("uuid")) {
        fail("create: a reply without the service uuid");
        continue;
      }
      departures.push({req.arrival_time + req.holding_time, i, s["uuid"].get<std::string>()});
      if (counted) {
        ++res.accepted;
        ++res.phases.back().accepted;
        const Json lp = s.value("eonops-pce:lightpath", Json::object());
        ++res.decided_by[lp.value("decided-by", "?")];
        ++res.policy_versions[lp.value("policy-version", "none")];
        if (lp.value("fell-back", false)) ++res.fell_back;
      }
    } else if (r && r->status == 409) {
      Json j = Json::parse(r->body, nullptr, false);
      Json info;
      if (!j.is_discarded()) {
        try {
          info = j["ietf-restconf:errors"]["error"][0].value("error-info", Json::object());
        } catch (const std::exception&) {
        }
      }
      if (!info.is_object() || !info.contains("eonops-pce:block-cause")) {
        fail("create: 409 that is not a refusal: " + Describe(r));
        continue;
      }
      if (counted) {
        ++res.blocked;
        ++res.phases.back().blocked;
        ++res.blocked_by_cause[info.value("eonops-pce:block-cause", "?")];
        ++res.decided_by[info.value("eonops-pce:decided-by", "?")];
        ++res.policy_versions[info.value("eonops-pce:policy-version", "none")];
        if (info.value("eonops-pce:fell-back", false)) ++res.fell_back;
      }
    } else {
      fail("create: " + Describe(r));
    }
    if (counted) {
      ++res.requests;
      ++res.phases.back().requests;
    }
    if (o.progress && (i + 1) % progress_every == 0) o.progress(i + 1, total);
  }
  const auto end = Clock::now();
  if (o.cleanup) {
    while (!departures.empty()) {
      remove(departures.top().uuid);
      departures.pop();
    }
  }
  res.blocking = res.requests > 0 ? double(res.blocked) / res.requests : 0.0;
  for (auto& p : res.phases) p.blocking = p.requests > 0 ? double(p.blocked) / p.requests : 0.0;
  res.create = Stats(create_us);
  res.remove = Stats(delete_us);
  res.wall_s = std::chrono::duration<double>(end - start).count();
  res.achieved_rate_per_s = res.wall_s > 0 ? total / res.wall_s : 0.0;
  return res;
}

}  // namespace eonops::tapi
