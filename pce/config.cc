#include "pce/config.h"

#include <filesystem>
#include <set>
#include <stdexcept>

#include "twin/heuristics.h"
#include "twin/json_util.h"
#include "twin/topology.h"

namespace eonops::pce {

using twin::ConfigError;
using twin::RejectUnknownKeys;

namespace {

twin::UseCase UseCaseAt(const nlohmann::json& j, const std::string& key, const std::string& where) {
  try {
    return twin::ParseUseCase(twin::RequireString(j, key, where));
  } catch (const std::invalid_argument& e) {
    ConfigError(where + "." + key, e.what());
  }
}

std::string HeuristicAt(const nlohmann::json& j, const std::string& key, const std::string& where) {
  std::string name = twin::RequireString(j, key, where);
  try {
    twin::MakeHeuristic(name);
  } catch (const std::invalid_argument& e) {
    ConfigError(where + "." + key, e.what());
  }
  return name;
}

bool BoolAt(const nlohmann::json& j, const std::string& key, bool fallback,
            const std::string& where) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_boolean())
    ConfigError(where + "." + key, "expected true or false, got " + j[key].dump());
  return j[key].get<bool>();
}

PceOptions ParsePceOptions(const nlohmann::json& j, const std::string& where,
                           const std::string& origin_file) {
  RejectUnknownKeys(j,
                    {"default_use_case", "fallback", "fallback_by_use_case", "policies",
                     "validation", "registry_poll_ms", "max_computed_paths", "durability",
                     "decision_log", "trace_events", "default_bit_rate_gbps",
                     "bidirectional_spectrum"},
                    where);
  PceOptions o;
  if (j.contains("default_use_case")) o.default_use_case = UseCaseAt(j, "default_use_case", where);
  if (j.contains("fallback")) o.fallback = HeuristicAt(j, "fallback", where);
  if (j.contains("fallback_by_use_case")) {
    const auto& m = j["fallback_by_use_case"];
    const std::string w = where + ".fallback_by_use_case";
    if (!m.is_object()) ConfigError(w, "expected an object of use case -> heuristic");
    for (auto it = m.begin(); it != m.end(); ++it) {
      twin::UseCase u;
      try {
        u = twin::ParseUseCase(it.key());
      } catch (const std::invalid_argument& e) {
        ConfigError(w + "." + it.key(), e.what());
      }
      o.fallback_by_use_case[u] = HeuristicAt(m, it.key(), w);
    }
  }
  if (j.contains("policies")) {
    const auto& list = j["policies"];
    if (!list.is_array()) ConfigError(where + ".policies", "expected an array");
    std::set<twin::UseCase> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string w = where + ".policies[" + std::to_string(i) + "]";
      RejectUnknownKeys(list[i], {"use_case", "model", "alias", "production_stage", "default_policy"}, w);
      PolicyBinding b;
      b.use_case = UseCaseAt(list[i], "use_case", w);
      b.model = twin::RequireString(list[i], "model", w);
      if (b.model.empty()) ConfigError(w + ".model", "must not be empty");
      if (list[i].contains("alias")) b.alias = twin::RequireString(list[i], "alias", w);
      b.production_stage = BoolAt(list[i], "production_stage", b.production_stage, w);
      if (list[i].contains("default_policy")) {
        b.default_policy = twin::RequireString(list[i], "default_policy", w);
        if (b.default_policy.empty()) ConfigError(w + ".default_policy", "must not be empty");
        // Absolute, so that the status and the round trip through ToJson name the same folder.
        b.default_policy = std::filesystem::absolute(twin::ResolveConfigPath(origin_file, b.default_policy))
                               .lexically_normal()
                               .string();
        if (!std::filesystem::exists(std::filesystem::path(b.default_policy) / "manifest.json"))
          ConfigError(w + ".default_policy", "no policy artifact (manifest.json) in " + b.default_policy);
      }
      if (!seen.insert(b.use_case).second)
        ConfigError(w + ".use_case", "a use case may be bound to one model only");
      o.policies.push_back(b);
    }
  }
  if (j.contains("validation")) {
    const auto& v = j["validation"];
    const std::string w = where + ".validation";
    RejectUnknownKeys(v, {"gsnr_margin_db", "qot"}, w);
    o.validation.gsnr_margin_db =
        twin::NumberOr(v, "gsnr_margin_db", o.validation.gsnr_margin_db, w);
    if (o.validation.gsnr_margin_db < 0) ConfigError(w + ".gsnr_margin_db", "must not be negative");
    o.validation.qot = BoolAt(v, "qot", o.validation.qot, w);
  }
  if (j.contains("registry_poll_ms")) {
    o.registry_poll_ms = twin::RequireInt(j, "registry_poll_ms", where);
    if (o.registry_poll_ms < 10 || o.registry_poll_ms > 500) {
      ConfigError(where + ".registry_poll_ms",
                  "must be in 10..500 (a moved alias is served within 1 s)");
    }
  }
  if (j.contains("max_computed_paths")) {
    int n = twin::RequireInt(j, "max_computed_paths", where);
    if (n < 1) ConfigError(where + ".max_computed_paths", "must be positive");
    o.max_computed_paths = static_cast<size_t>(n);
  }
  if (j.contains("trace_events")) {
    int n = twin::RequireInt(j, "trace_events", where);
    if (n < 100 || n > 10000000) ConfigError(where + ".trace_events", "must be in 100..10000000");
    o.trace_events = static_cast<size_t>(n);
  }
  if (j.contains("durability")) {
    std::string d = twin::RequireString(j, "durability", where);
    if (d == "normal") {
      o.durability = Durability::kNormal;
    } else if (d == "full") {
      o.durability = Durability::kFull;
    } else {
      ConfigError(where + ".durability",
                  "must be \"normal\" (survives a process crash) or \"full\" (power loss)");
    }
  }
  if (j.contains("default_bit_rate_gbps")) {
    o.default_bit_rate_gbps = twin::RequirePositive(j, "default_bit_rate_gbps", where);
    if (o.default_bit_rate_gbps > 1e5)
      ConfigError(where + ".default_bit_rate_gbps", "exceeds any line rate");
  }
  if (j.contains("bidirectional_spectrum")) {
    const std::string b = twin::RequireString(j, "bidirectional_spectrum", where);
    if (b == "symmetric") {
      o.bidirectional_spectrum = BidirectionalSpectrum::kSymmetric;
    } else if (b == "per-direction") {
      o.bidirectional_spectrum = BidirectionalSpectrum::kPerDirection;
    } else {
      ConfigError(where + ".bidirectional_spectrum",
                  "must be \"symmetric\" (same slots both ways) or \"per-direction\"");
    }
  }
  if (j.contains("decision_log")) {
    const auto& d = j["decision_log"];
    const std::string w = where + ".decision_log";
    RejectUnknownKeys(
        d, {"enabled", "experiment", "run_name", "flush_interval_ms", "max_batch", "max_queue"}, w);
    o.decision_log.enabled = BoolAt(d, "enabled", o.decision_log.enabled, w);
    if (d.contains("experiment"))
      o.decision_log.experiment = twin::RequireString(d, "experiment", w);
    if (d.contains("run_name")) o.decision_log.run_name = twin::RequireString(d, "run_name", w);
    if (d.contains("flush_interval_ms"))
      o.decision_log.flush_interval_ms = twin::RequireInt(d, "flush_interval_ms", w);
    if (d.contains("max_batch"))
      o.decision_log.max_batch = static_cast<size_t>(twin::RequireInt(d, "max_batch", w));
    if (d.contains("max_queue"))
      o.decision_log.max_queue = static_cast<size_t>(twin::RequireInt(d, "max_queue", w));
    if (o.decision_log.flush_interval_ms < 10)
      ConfigError(w + ".flush_interval_ms", "must be at least 10");
    if (o.decision_log.max_batch < 1 || o.decision_log.max_batch > 10000)
      ConfigError(w + ".max_batch", "must be in 1..10000");
    if (o.decision_log.max_queue < o.decision_log.max_batch)
      ConfigError(w + ".max_queue", "must be at least max_batch");
  }
  return o;
}

const char* DurabilityName(Durability d) { return d == Durability::kFull ? "full" : "normal"; }

}  // namespace

const std::string& PceOptions::FallbackFor(twin::UseCase u) const {
  auto it = fallback_by_use_case.find(u);
  return it != fallback_by_use_case.end() ? it->second : fallback;
}

PceConfig PceConfig::Load(const std::string& path) {
  return FromJson(twin::ReadJsonFile(path), path);
}

PceConfig PceConfig::FromJson(const nlohmann::json& j, const std::string& origin) {
  RejectUnknownKeys(
      j, {"name", "description", "network", "traffic", "measurement", "env", "pce", "tapi"},
      origin);
  twin::Require(j, "network", origin);  // a PCE serves one network: name it
  PceConfig c;
  c.origin = origin;
  twin::Scenario s = twin::Scenario::FromJson(j, origin);  // network, traffic, measurement
  c.network = s.network;
  c.traffic = s.traffic;
  c.measurement = s.measurement;
  if (j.contains("env")) c.env = twin::EnvOptions::FromJson(j["env"], origin + ".env");
  if (j.contains("pce")) c.pce = ParsePceOptions(j["pce"], origin + ".pce", origin);
  if (j.contains("tapi")) {
    if (!j["tapi"].is_object()) ConfigError(origin + ".tapi", "expected an object");
    c.tapi = j["tapi"];
  }
  return c;
}

nlohmann::json PceConfig::ToJson() const {
  nlohmann::json policies = nlohmann::json::array();
  for (const auto& b : pce.policies) {
    policies.push_back({{"use_case", twin::ToString(b.use_case)},
                        {"model", b.model},
                        {"alias", b.alias},
                        {"production_stage", b.production_stage}});
    if (!b.default_policy.empty()) policies.back()["default_policy"] = b.default_policy;
  }
  nlohmann::json fb = nlohmann::json::object();
  for (const auto& [u, h] : pce.fallback_by_use_case) fb[twin::ToString(u)] = h;
  nlohmann::json j = ToScenario().ToJson();
  j["env"] = env.ToJson();
  j["pce"] = {{"default_use_case", twin::ToString(pce.default_use_case)},
              {"fallback", pce.fallback},
              {"fallback_by_use_case", fb},
              {"policies", policies},
              {"validation",
               {{"gsnr_margin_db", pce.validation.gsnr_margin_db}, {"qot", pce.validation.qot}}},
              {"registry_poll_ms", pce.registry_poll_ms},
              {"max_computed_paths", pce.max_computed_paths},
              {"trace_events", pce.trace_events},
              {"durability", DurabilityName(pce.durability)},
              {"default_bit_rate_gbps", pce.default_bit_rate_gbps},
              {"bidirectional_spectrum",
               pce.bidirectional_spectrum == BidirectionalSpectrum::kSymmetric ? "symmetric"
                                                                               : "per-direction"},
              {"decision_log",
               {{"enabled", pce.decision_log.enabled},
                {"experiment", pce.decision_log.experiment},
                {"run_name", pce.decision_log.run_name},
                {"flush_interval_ms", pce.decision_log.flush_interval_ms},
                {"max_batch", pce.decision_log.max_batch},
                {"max_queue", pce.decision_log.max_queue}}}};
  j["tapi"] = tapi;
  return j;
}

twin::Scenario PceConfig::ToScenario() const {
  twin::Scenario s;
  s.network = network;
  s.traffic = traffic;
  s.measurement = measurement;
  s.origin = origin;
  return s;
}

}  // namespace eonops::pce
