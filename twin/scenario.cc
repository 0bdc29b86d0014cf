#include "twin/scenario.h"

#include "twin/json_util.h"

namespace eonops::twin {

Scenario Scenario::Load(const std::string& path) {
  const nlohmann::json j = ReadJsonFile(path);
  if (!j.is_object()) ConfigError(path, "expected a JSON object");
  if (!j.contains("network")) {
    std::string has;
    for (auto it = j.begin(); it != j.end(); ++it) has += (has.empty() ? "" : ", ") + it.key();
    ConfigError(path, "not a scenario: it has no \"network\" section (a scenario file has "
                      "network, traffic and measurement; this one has " +
                          (has.empty() ? std::string("nothing") : has) + ")");
  }
  RejectUnknownKeys(j, {"name", "description", "network", "traffic", "measurement"}, path);
  return FromJson(j, path);
}

Scenario Scenario::FromJson(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) ConfigError(origin, "expected an object");
  Scenario s;
  s.origin = origin;
  if (j.contains("network")) s.network = NetworkOptions::FromJson(j["network"], origin + ".network");
  if (j.contains("traffic")) s.traffic = TrafficConfig::FromJson(j["traffic"], origin + ".traffic");
  if (j.contains("measurement")) {
    const auto& m = j["measurement"];
    const std::string where = origin + ".measurement";
    RejectUnknownKeys(m, {"warmup", "requests", "batch_size"}, where);
    if (m.contains("warmup")) s.measurement.warmup = RequireInt(m, "warmup", where);
    if (m.contains("requests")) s.measurement.requests = RequireInt(m, "requests", where);
    if (m.contains("batch_size")) s.measurement.batch_size = RequireInt(m, "batch_size", where);
    if (s.measurement.warmup < 0) ConfigError(where + ".warmup", "must not be negative");
    if (s.measurement.requests <= 0) ConfigError(where + ".requests", "must be positive");
    if (s.measurement.batch_size <= 0) ConfigError(where + ".batch_size", "must be positive");
  }
  return s;
}

nlohmann::json Scenario::ToJson() const {
  return {{"network", network.ToJson()},
          {"traffic", traffic.ToJson()},
          {"measurement", {{"warmup", measurement.warmup}, {"requests", measurement.requests}, {"batch_size", measurement.batch_size}}}};
}

}  // namespace eonops::twin
