#include "tracking/mlflow_json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "tracking/errors.h"

namespace eonops::tracking {
namespace {

[[noreturn]] void BadValue(const std::string& where, const Json& value, const char* expected) {
  // Query-string values are bytes after URL decoding, not always UTF-8: a strict dump() would
  // throw json::type_error instead of naming the parameter (found by fuzz_mlflow_json).
  std::string shown = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (shown.size() > 80) shown = shown.substr(0, 80) + "...";
  throw TrackingError(ErrorCode::kInvalidParameterValue,
                      "Invalid value " + shown + " for parameter '" + where +
                          "' supplied: expected " + expected + ".");
}

const Json* Field(const Json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string Str(const Json& j, const char* name) {
  const Json* f = Field(j, name);
  return f ? JsonString(*f, name) : std::string();
}

int64_t Int(const Json& j, const char* name, int64_t fallback = 0) {
  const Json* f = Field(j, name);
  return f ? JsonInt64(*f, name).value_or(fallback) : fallback;
}

std::vector<Tag> TagsOf(const Json& j, const char* name) {
  std::vector<Tag> tags;
  const Json* f = Field(j, name);
  if (!f) return tags;
  if (!f->is_array()) BadValue(name, *f, "a list of {key, value}");
  for (const Json& t : *f) {
    if (!t.is_object()) BadValue(name, t, "an object {key, value}");
    tags.push_back({Str(t, "key"), Str(t, "value")});
  }
  return tags;
}

Json TagsJson(const std::vector<Tag>& tags) {
  Json a = Json::array();
  for (const Tag& t : tags) a.push_back(ToJson(t));
  return a;
}

}  // namespace

std::optional<int64_t> JsonInt64(const Json& value, const std::string& where) {
  if (value.is_null()) return std::nullopt;
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      BadValue(where, value, "a 64-bit integer");
    return static_cast<int64_t>(value.get<uint64_t>());
  }
  if (value.is_number_float()) {
    double d = value.get<double>();
    // Proto JSON accepts 1.0 for an integer field but not 1.5.
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18)
      return static_cast<int64_t>(d);
    BadValue(where, value, "an integer");
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.empty()) BadValue(where, value, "an integer");
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (end != s.c_str() + s.size() || errno == ERANGE) BadValue(where, value, "an integer");
    return v;
  }
  BadValue(where, value, "an integer");
}

std::optional<double> JsonDouble(const Json& value, const std::string& where) {
  if (value.is_null()) return std::nullopt;
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    if (s.empty()) BadValue(where, value, "a number");
    errno = 0;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || errno == ERANGE) BadValue(where, value, "a number");
    return d;
  }
  BadValue(where, value, "a number");
}

std::string JsonString(const Json& value, const std::string& where) {
  if (value.is_string()) return value.get<std::string>();
  BadValue(where, value, "a string");
}

Json DoubleToJson(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

Json ToJson(const Tag& tag) { return {{"key", tag.key}, {"value", tag.value}}; }
Json ToJson(const Param& param) { return {{"key", param.key}, {"value", param.value}}; }

Json ToJson(const Metric& m) {
  return {{"key", m.key},
          {"value", DoubleToJson(m.value)},
          {"timestamp", m.timestamp_ms},
          {"step", m.step}};
}

Json ToJson(const Experiment& e) {
  return {{"experiment_id", e.experiment_id},
          {"name", e.name},
          {"artifact_location", e.artifact_location},
          {"lifecycle_stage", e.lifecycle_stage},
          {"creation_time", e.creation_time_ms},
          {"last_update_time", e.last_update_time_ms},
          {"tags", TagsJson(e.tags)}};
}

Json ToJson(const RunInfo& r) {
  Json j = {{"run_id", r.run_id},
            {"run_uuid", r.run_id},
            {"run_name", r.run_name},
            {"experiment_id", r.experiment_id},
            {"user_id", r.user_id},
            {"status", RunStatusName(r.status)},
            {"start_time", r.start_time_ms},
            {"artifact_uri", r.artifact_uri},
            {"lifecycle_stage", r.lifecycle_stage}};
  // Like MLflow's proto output: no end_time until the run has ended.
  if (r.end_time_ms) j["end_time"] = *r.end_time_ms;
  return j;
}

Json ToJson(const Run& run) {
  Json metrics = Json::array(), params = Json::array();
  for (const Metric& m : run.data.metrics) metrics.push_back(ToJson(m));
  for (const Param& p : run.data.params) params.push_back(ToJson(p));
  return {{"info", ToJson(run.info)},
          {"data", {{"metrics", metrics}, {"params", params}, {"tags", TagsJson(run.data.tags)}}},
          {"inputs", Json::object()}};
}

Json ToJson(const ArtifactFile& f) {
  Json j = {{"path", f.path}, {"is_dir", f.is_dir}};
  if (!f.is_dir) {
    j["file_size"] = f.file_size;
    j["sha256"] = f.sha256;  // ours; MLflow clients ignore unknown fields
  }
  return j;
}

Json ToJson(const ModelVersion& v) {
  Json aliases = Json::array();
  for (const auto& a : v.aliases) aliases.push_back(a);
  return {{"name", v.name},
          {"version", std::to_string(v.version)},
          {"creation_timestamp", v.creation_timestamp_ms},
          {"last_updated_timestamp", v.last_updated_timestamp_ms},
          {"description", v.description},
          {"user_id", v.user_id},
          {"current_stage", StageName(v.current_stage)},
          {"source", v.source},
          {"run_id", v.run_id},
          {"run_link", v.run_link},
          {"status", v.status},
          {"status_message", v.status_message},
          {"tags", TagsJson(v.tags)},
          {"aliases", aliases}};
}

Json ToJson(const RegisteredModel& m) {
  Json latest = Json::array(), aliases = Json::array();
  for (const auto& v : m.latest_versions) latest.push_back(ToJson(v));
  for (const auto& a : m.aliases)
    aliases.push_back({{"alias", a.alias}, {"version", std::to_string(a.version)}});
  return {{"name", m.name},
          {"creation_timestamp", m.creation_timestamp_ms},
          {"last_updated_timestamp", m.last_updated_timestamp_ms},
          {"description", m.description},
          {"latest_versions", latest},
          {"tags", TagsJson(m.tags)},
          {"aliases", aliases}};
}

Json ToJson(const Episode& e) {
  Json extra = Json::parse(e.extra_json, nullptr, false);
  if (extra.is_discarded()) extra = Json::object();
  return {{"episode", e.episode},
          {"reward", DoubleToJson(e.reward)},
          {"length", e.length},
          {"blocking", DoubleToJson(e.blocking)},
          {"energy", DoubleToJson(e.energy)},
          {"extra", extra},
          {"timestamp", e.timestamp_ms}};
}

Json ToJson(const AliasEvent& e) {
  Json j = {{"id", e.id},
            {"name", e.name},
            {"alias", e.alias},
            {"changed_at", e.changed_at_ms},
            {"changed_by", e.changed_by}};
  j["from_version"] = e.from_version ? Json(std::to_string(*e.from_version)) : Json(nullptr);
  j["to_version"] = e.to_version ? Json(std::to_string(*e.to_version)) : Json(nullptr);
  return j;
}

Json ToJson(const StageEvent& e) {
  return {{"id", e.id},
          {"name", e.name},
          {"version", std::to_string(e.version)},
          {"from_stage", StageName(e.from_stage)},
          {"to_stage", StageName(e.to_stage)},
          {"changed_at", e.changed_at_ms},
          {"changed_by", e.changed_by}};
}

Json ToJson(const ModelDecision& d) {
  Json figures = Json::parse(d.figures_json, nullptr, false);
  if (figures.is_discarded()) figures = Json::object();
  Json j = {{"id", d.id},
            {"name", d.name},
            {"version", std::to_string(d.version)},
            {"kind", d.kind},
            {"reason", d.reason},
            {"figures", figures},
            {"alias", d.alias},
            {"key", d.key},
            {"decided_at", d.decided_at_ms},
            {"decided_by", d.decided_by}};
  j["from_version"] = d.from_version ? Json(std::to_string(*d.from_version)) : Json(nullptr);
  j["to_version"] = d.to_version ? Json(std::to_string(*d.to_version)) : Json(nullptr);
  return j;
}

Experiment ExperimentFromJson(const Json& j) {
  Experiment e;
  e.experiment_id = Str(j, "experiment_id");
  e.name = Str(j, "name");
  e.artifact_location = Str(j, "artifact_location");
  e.lifecycle_stage = Str(j, "lifecycle_stage");
  e.creation_time_ms = Int(j, "creation_time");
  e.last_update_time_ms = Int(j, "last_update_time");
  e.tags = TagsOf(j, "tags");
  return e;
}

RunInfo RunInfoFromJson(const Json& j) {
  RunInfo r;
  r.run_id = Str(j, "run_id");
  if (r.run_id.empty()) r.run_id = Str(j, "run_uuid");
  r.run_name = Str(j, "run_name");
  r.experiment_id = Str(j, "experiment_id");
  r.user_id = Str(j, "user_id");
  r.status = ParseRunStatus(Str(j, "status")).value_or(RunStatus::kRunning);
  r.start_time_ms = Int(j, "start_time");
  if (const Json* f = Field(j, "end_time")) r.end_time_ms = JsonInt64(*f, "end_time");
  r.artifact_uri = Str(j, "artifact_uri");
  r.lifecycle_stage = Str(j, "lifecycle_stage");
  return r;
}

Metric MetricFromJson(const Json& j) {
  Metric m;
  m.key = Str(j, "key");
  if (const Json* f = Field(j, "value")) m.value = JsonDouble(*f, "value").value_or(0.0);
  m.timestamp_ms = Int(j, "timestamp");
  m.step = Int(j, "step");
  return m;
}

Run RunFromJson(const Json& j) {
  Run run;
  if (const Json* info = Field(j, "info")) run.info = RunInfoFromJson(*info);
  if (const Json* data = Field(j, "data")) {
    if (const Json* ms = Field(*data, "metrics"))
      for (const Json& m : *ms) run.data.metrics.push_back(MetricFromJson(m));
    if (const Json* ps = Field(*data, "params"))
      for (const Json& p : *ps) run.data.params.push_back({Str(p, "key"), Str(p, "value")});
    run.data.tags = TagsOf(*data, "tags");
  }
  return run;
}

ModelVersion ModelVersionFromJson(const Json& j) {
  ModelVersion v;
  v.name = Str(j, "name");
  if (const Json* f = Field(j, "version")) v.version = JsonInt64(*f, "version").value_or(0);
  v.creation_timestamp_ms = Int(j, "creation_timestamp");
  v.last_updated_timestamp_ms = Int(j, "last_updated_timestamp");
  v.description = Str(j, "description");
  v.user_id = Str(j, "user_id");
  v.current_stage = ParseStage(Str(j, "current_stage")).value_or(Stage::kNone);
  v.source = Str(j, "source");
  v.run_id = Str(j, "run_id");
  v.run_link = Str(j, "run_link");
  v.status = Str(j, "status");
  v.status_message = Str(j, "status_message");
  v.tags = TagsOf(j, "tags");
  if (const Json* a = Field(j, "aliases"))
    for (const Json& s : *a) v.aliases.push_back(JsonString(s, "aliases"));
  return v;
}

RegisteredModel RegisteredModelFromJson(const Json& j) {
  RegisteredModel m;
  m.name = Str(j, "name");
  m.creation_timestamp_ms = Int(j, "creation_timestamp");
  m.last_updated_timestamp_ms = Int(j, "last_updated_timestamp");
  m.description = Str(j, "description");
  if (const Json* l = Field(j, "latest_versions"))
    for (const Json& v : *l) m.latest_versions.push_back(ModelVersionFromJson(v));
  m.tags = TagsOf(j, "tags");
  if (const Json* a = Field(j, "aliases"))
    for (const Json& x : *a) m.aliases.push_back({Str(x, "alias"), Int(x, "version")});
  return m;
}

ArtifactFile ArtifactFileFromJson(const Json& j) {
  ArtifactFile f;
  f.path = Str(j, "path");
  if (const Json* d = Field(j, "is_dir")) f.is_dir = d->is_boolean() && d->get<bool>();
  f.file_size = Int(j, "file_size");
  f.sha256 = Str(j, "sha256");
  return f;
}

Episode EpisodeFromJson(const Json& j) {
  Episode e;
  if (!j.is_object()) BadValue("episodes", j, "an object");
  const Json* ep = Field(j, "episode");
  if (!ep)
    throw TrackingError(ErrorCode::kInvalidParameterValue,
                        "Missing value for required parameter 'episode'.");
  e.episode = JsonInt64(*ep, "episode").value_or(0);
  if (const Json* f = Field(j, "reward")) e.reward = *JsonDouble(*f, "reward");
  e.length = Int(j, "length");
  if (const Json* f = Field(j, "blocking")) e.blocking = *JsonDouble(*f, "blocking");
  if (const Json* f = Field(j, "energy")) e.energy = *JsonDouble(*f, "energy");
  if (const Json* f = Field(j, "extra")) {
    if (!f->is_object()) BadValue("extra", *f, "a JSON object");
    e.extra_json = f->dump();
  }
  e.timestamp_ms = Int(j, "timestamp");
  return e;
}

AliasEvent AliasEventFromJson(const Json& j) {
  AliasEvent e;
  e.id = Int(j, "id");
  e.name = Str(j, "name");
  e.alias = Str(j, "alias");
  if (const Json* f = Field(j, "from_version")) e.from_version = JsonInt64(*f, "from_version");
  if (const Json* f = Field(j, "to_version")) e.to_version = JsonInt64(*f, "to_version");
  e.changed_at_ms = Int(j, "changed_at");
  e.changed_by = Str(j, "changed_by");
  return e;
}

ModelDecision ModelDecisionFromJson(const Json& j) {
  ModelDecision d;
  d.id = Int(j, "id");
  d.name = Str(j, "name");
  if (const Json* f = Field(j, "version")) d.version = JsonInt64(*f, "version").value_or(0);
  d.kind = Str(j, "kind");
  d.reason = Str(j, "reason");
  if (const Json* f = Field(j, "figures")) d.figures_json = f->dump();
  d.alias = Str(j, "alias");
  if (const Json* f = Field(j, "from_version")) d.from_version = JsonInt64(*f, "from_version");
  if (const Json* f = Field(j, "to_version")) d.to_version = JsonInt64(*f, "to_version");
  d.key = Str(j, "key");
  d.decided_at_ms = Int(j, "decided_at");
  d.decided_by = Str(j, "decided_by");
  return d;
}

RequestArgs RequestArgs::FromJsonBody(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return RequestArgs(Json::object());
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw TrackingError(ErrorCode::kBadRequest, "Malformed JSON in the request body");
  if (!j.is_object())
    throw TrackingError(ErrorCode::kBadRequest, "The request body must be a JSON object");
  return RequestArgs(std::move(j));
}

RequestArgs RequestArgs::FromQuery(const std::multimap<std::string, std::string>& params) {
  Json j = Json::object();
  for (const auto& [k, v] : params) {
    auto it = j.find(k);
    if (it == j.end()) {
      j[k] = v;
    } else if (it->is_array()) {
      it->push_back(v);
    } else {
      *it = Json::array({*it, v});
    }
  }
  return RequestArgs(std::move(j));
}

bool RequestArgs::Has(const std::string& name) const {
  auto it = j_.find(name);
  return it != j_.end() && !it->is_null();
}

std::string RequestArgs::RequiredString(const std::string& name) const {
  auto v = OptString(name);
  if (!v || v->empty())
    throw TrackingError(ErrorCode::kInvalidParameterValue,
                        "Missing value for required parameter '" + name + "'.");
  return *v;
}

std::optional<std::string> RequestArgs::OptString(const std::string& name) const {
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return std::nullopt;
  // Query strings repeat keys into lists; a scalar parameter given twice is a client mistake.
  if (it->is_array()) BadValue(name, *it, "a single string");
  return JsonString(*it, name);
}

std::optional<int64_t> RequestArgs::OptInt64(const std::string& name) const {
  auto it = j_.find(name);
  if (it == j_.end()) return std::nullopt;
  return JsonInt64(*it, name);
}

std::optional<double> RequestArgs::OptDouble(const std::string& name) const {
  auto it = j_.find(name);
  if (it == j_.end()) return std::nullopt;
  return JsonDouble(*it, name);
}

std::optional<bool> RequestArgs::OptBool(const std::string& name) const {
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return std::nullopt;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s == "true" || s == "True" || s == "1") return true;
    if (s == "false" || s == "False" || s == "0") return false;
  }
  BadValue(name, *it, "a boolean");
}

std::vector<std::string> RequestArgs::StringList(const std::string& name) const {
  std::vector<std::string> out;
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return out;
  if (it->is_string()) return {it->get<std::string>()};
  if (!it->is_array()) BadValue(name, *it, "a list of strings");
  for (const Json& v : *it) {
    // Experiment ids are strings in MLflow's protos, but a JSON client may well send 1.
    if (v.is_number_integer()) {
      out.push_back(std::to_string(v.get<int64_t>()));
      continue;
    }
    out.push_back(JsonString(v, name));
  }
  return out;
}

std::vector<Json> RequestArgs::ObjectList(const std::string& name) const {
  std::vector<Json> out;
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return out;
  if (!it->is_array()) BadValue(name, *it, "a list of objects");
  for (const Json& v : *it) {
    if (!v.is_object()) BadValue(name, v, "an object");
    out.push_back(v);
  }
  return out;
}

std::vector<Tag> RequestArgs::Tags(const std::string& name) const {
  std::vector<Tag> tags;
  for (const Json& t : ObjectList(name)) {
    const Json* k = Field(t, "key");
    if (!k)
      throw TrackingError(ErrorCode::kInvalidParameterValue,
                          "Missing value for required parameter '" + name + ".key'.");
    const Json* v = Field(t, "value");
    tags.push_back({JsonString(*k, name + ".key"), v ? JsonString(*v, name + ".value") : ""});
  }
  return tags;
}

}  // namespace eonops::tracking
