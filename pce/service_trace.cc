#include "pce/service_trace.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "tracking/entities.h"

namespace eonops::pce {

namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

nlohmann::json Finite(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

template <typename T>
T Field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw std::invalid_argument(std::string("trace event: missing '") + key + "'");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(std::string("trace event: '") + key + "' has the wrong type");
  }
}

double NumberOr(const nlohmann::json& j, const char* key, double fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

}  // namespace

const char* ToString(TraceEvent::Kind kind) {
  return kind == TraceEvent::Kind::kArrival ? "arrival" : "release";
}

nlohmann::json TraceEvent::ToJson() const {
  nlohmann::json j = {{"seq", seq},
                      {"kind", ToString(kind)},
                      {"time_s", time_s},
                      {"time_ms", time_ms},
                      {"uuid", uuid}};
  if (kind == Kind::kRelease) return j;
  j["src"] = src;
  j["dst"] = dst;
  j["bit_rate_gbps"] = bit_rate_gbps;
  j["latency_bound_us"] = Finite(latency_bound_us);
  j["use_case"] = twin::ToString(use_case);
  j["accepted"] = accepted;
  j["cause"] = twin::ToString(cause);
  j["decided_by"] = decided_by;
  j["policy"] = policy ? nlohmann::json{{"model", policy->model},
                                        {"version", policy->version},
                                        {"run_id", policy->run_id}}
                       : nlohmann::json(nullptr);
  j["fell_back"] = fell_back;
  j["network_power_w"] = network_power_w;
  if (accepted) {
    j["nodes"] = nodes;
    j["band"] = band;
    j["slot"] = slot;
    j["width"] = width;
    j["modulation"] = modulation;
    j["latency_us"] = latency_us;
    j["margin_db"] = Finite(margin_db);
  }
  return j;
}

TraceEvent TraceEvent::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("trace event: expected an object");
  TraceEvent e;
  e.seq = Field<int64_t>(j, "seq");
  const std::string kind = Field<std::string>(j, "kind");
  if (kind == "arrival") {
    e.kind = Kind::kArrival;
  } else if (kind == "release") {
    e.kind = Kind::kRelease;
  } else {
    throw std::invalid_argument("trace event: unknown kind '" + kind + "'");
  }
  e.time_s = Field<double>(j, "time_s");
  e.time_ms = Field<int64_t>(j, "time_ms");
  e.uuid = Field<std::string>(j, "uuid");
  if (e.kind == Kind::kRelease) {
    if (e.uuid.empty()) throw std::invalid_argument("trace event: a release without a uuid");
    return e;
  }
  e.src = Field<int>(j, "src");
  e.dst = Field<int>(j, "dst");
  e.bit_rate_gbps = Field<double>(j, "bit_rate_gbps");
  e.latency_bound_us = NumberOr(j, "latency_bound_us", std::numeric_limits<double>::infinity());
  try {
    e.use_case = twin::ParseUseCase(Field<std::string>(j, "use_case"));
    e.cause = ParseBlockCause(Field<std::string>(j, "cause"));
  } catch (const std::invalid_argument& x) {
    throw std::invalid_argument(std::string("trace event: ") + x.what());
  }
  e.accepted = Field<bool>(j, "accepted");
  e.decided_by = j.value("decided_by", "");
  if (j.contains("policy") && j["policy"].is_object()) {
    const auto& p = j["policy"];
    e.policy = PolicyRef{Field<std::string>(p, "model"), Field<int64_t>(p, "version"),
                         p.value("run_id", "")};
  }
  e.fell_back = j.value("fell_back", false);
  e.network_power_w = NumberOr(j, "network_power_w", 0.0);
  if (e.accepted) {
    e.nodes = Field<std::vector<int>>(j, "nodes");
    e.band = Field<int>(j, "band");
    e.slot = Field<int>(j, "slot");
    e.width = Field<int>(j, "width");
    e.modulation = Field<int>(j, "modulation");
    e.latency_us = NumberOr(j, "latency_us", 0.0);
    e.margin_db = NumberOr(j, "margin_db", std::numeric_limits<double>::quiet_NaN());
    if (e.uuid.empty() || e.nodes.size() < 2)
      throw std::invalid_argument("trace event: an accepted arrival needs a uuid and a route");
  }
  return e;
}

nlohmann::json TraceSnapshot::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : services) list.push_back(e.ToJson());
  return {{"next_seq", next_seq},
          {"epoch_us", epoch_us},
          {"time_s", time_s},
          {"time_ms", time_ms},
          {"network", network},
          {"services", list}};
}

TraceSnapshot TraceSnapshot::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("trace snapshot: expected an object");
  TraceSnapshot s;
  s.next_seq = Field<int64_t>(j, "next_seq");
  s.epoch_us = j.value("epoch_us", int64_t{0});
  s.time_s = Field<double>(j, "time_s");
  s.time_ms = Field<int64_t>(j, "time_ms");
  s.network = j.value("network", nlohmann::json::object());
  const auto it = j.find("services");
  if (it == j.end() || !it->is_array())
    throw std::invalid_argument("trace snapshot: 'services' must be an array");
  for (const auto& e : *it) s.services.push_back(TraceEvent::FromJson(e));
  return s;
}

ServiceTrace::ServiceTrace(size_t capacity)
    : capacity_(std::max<size_t>(capacity, 1)),
      start_ns_(SteadyNs()),
      epoch_us_(std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count()) {}

double ServiceTrace::NowS() const { return (SteadyNs() - start_ns_) * 1e-9; }

void ServiceTrace::RecordArrival(const std::string& uuid, const PathRequest& request,
                                 const PathDecision& d, double network_power_w) {
  TraceEvent e = TraceEvent::Arrival(uuid, request, d);
  e.network_power_w = network_power_w;
  Push(std::move(e));
}

TraceEvent TraceEvent::Arrival(const std::string& uuid, const PathRequest& request,
                               const PathDecision& d) {
  TraceEvent e;
  e.kind = Kind::kArrival;
  e.uuid = d.feasible ? uuid : "";
  e.src = request.src;
  e.dst = request.dst;
  e.bit_rate_gbps = request.bit_rate_gbps;
  e.latency_bound_us = request.latency_bound_us;
  e.use_case = d.use_case;
  e.accepted = d.feasible;
  e.cause = d.feasible ? twin::BlockCause::kNone : d.cause;
  e.decided_by = d.decided_by;
  e.policy = d.policy;
  e.fell_back = d.fell_back;
  if (d.feasible) {
    e.nodes = d.nodes;
    e.band = d.band;
    e.slot = d.slot;
    e.width = d.width;
    e.modulation = d.modulation;
    e.latency_us = d.latency_us;
    e.margin_db = d.margin_db();
  }
  return e;
}

void ServiceTrace::RecordRelease(const std::string& uuid) {
  TraceEvent e;
  e.kind = TraceEvent::Kind::kRelease;
  e.uuid = uuid;
  Push(std::move(e));
}

void ServiceTrace::Push(TraceEvent e) {
  e.time_ms = tracking::NowMs();
  std::lock_guard<std::mutex> lock(mutex_);
  // Stamped under the lock, so times never go backwards along the sequence.
  e.time_s = NowS();
  e.seq = next_seq_++;
  events_.push_back(std::move(e));
  if (events_.size() > capacity_) events_.pop_front();
}

ServiceTrace::Page ServiceTrace::Read(int64_t after, size_t limit) const {
  Page p;
  std::lock_guard<std::mutex> lock(mutex_);
  p.next_seq = next_seq_;
  p.epoch_us = epoch_us_;
  p.first_seq = events_.empty() ? next_seq_ : events_.front().seq;
  // Sequence numbers are consecutive, so the position of `after + 1` is arithmetic.
  const int64_t from = std::max(after + 1, p.first_seq);
  for (size_t i = static_cast<size_t>(from - p.first_seq); i < events_.size() && p.events.size() < limit;
       ++i)
    p.events.push_back(events_[i]);
  return p;
}

int64_t ServiceTrace::next_seq() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_seq_;
}

}  // namespace eonops::pce
