// MLflow's JSON shapes for the tracking entities, both ways, and typed access to request
// arguments (a JSON body, or the query string of a GET).
//
// The shapes follow MLflow's protos as its server prints them: int64 fields as JSON numbers,
// model versions as strings ("1"), NaN and infinities as "NaN" / "Infinity" / "-Infinity".
// Parsing is lenient the way a proto JSON parser is: an int64 may come as a number or a decimal
// string, a double as a number, a numeric string or "NaN".
//
//   nlohmann::json j = ToJson(store.GetRun(id));          // {"info": {...}, "data": {...}}
//   Run back = RunFromJson(j);
//   RequestArgs args = RequestArgs::FromJsonBody(req.body);   // BAD_REQUEST if malformed
//   std::string run_id = args.RequiredString("run_id");
//   int64_t step = args.OptInt64("step").value_or(0);
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tracking/entities.h"

namespace eonops::tracking {

using Json = nlohmann::json;

// A double as MLflow writes it: a number, or "NaN" / "Infinity" / "-Infinity".
Json DoubleToJson(double value);

Json ToJson(const Tag& tag);
Json ToJson(const Param& param);
Json ToJson(const Metric& metric);
Json ToJson(const Experiment& experiment);
Json ToJson(const RunInfo& info);
Json ToJson(const Run& run);
Json ToJson(const ArtifactFile& file);
Json ToJson(const ModelVersion& version);
Json ToJson(const RegisteredModel& model);
Json ToJson(const Episode& episode);
Json ToJson(const AliasEvent& event);
Json ToJson(const StageEvent& event);
Json ToJson(const ModelDecision& decision);  // figures as an embedded object

// The inverse, for clients. Missing optional fields take their defaults; a field of the wrong
// type throws TrackingError(kInvalidParameterValue).
Experiment ExperimentFromJson(const Json& j);
RunInfo RunInfoFromJson(const Json& j);
Run RunFromJson(const Json& j);
Metric MetricFromJson(const Json& j);
ModelVersion ModelVersionFromJson(const Json& j);
RegisteredModel RegisteredModelFromJson(const Json& j);
ArtifactFile ArtifactFileFromJson(const Json& j);
Episode EpisodeFromJson(const Json& j);
AliasEvent AliasEventFromJson(const Json& j);
ModelDecision ModelDecisionFromJson(const Json& j);

// The arguments of one request, with MLflow's error messages for missing or mistyped ones.
class RequestArgs {
 public:
  // An empty body is an empty object; anything else must be a JSON object (BAD_REQUEST).
  static RequestArgs FromJsonBody(const std::string& body);
  // Query parameters; a repeated key becomes a list.
  static RequestArgs FromQuery(const std::multimap<std::string, std::string>& params);

  bool Has(const std::string& name) const;
  std::string RequiredString(const std::string& name) const;
  std::optional<std::string> OptString(const std::string& name) const;
  std::optional<int64_t> OptInt64(const std::string& name) const;
  std::optional<double> OptDouble(const std::string& name) const;
  std::optional<bool> OptBool(const std::string& name) const;
  // A list of strings; a single string counts as a one-element list.
  std::vector<std::string> StringList(const std::string& name) const;
  // A list of JSON objects (e.g. log-batch's metrics); empty when absent.
  std::vector<Json> ObjectList(const std::string& name) const;
  // [{key, value}] as MLflow sends tags.
  std::vector<Tag> Tags(const std::string& name) const;
  const Json& json() const { return j_; }

 private:
  explicit RequestArgs(Json j) : j_(std::move(j)) {}
  Json j_;
};

// Typed reads from a JSON object, shared by RequestArgs and the FromJson functions; `where`
// names the field in error messages.
std::optional<int64_t> JsonInt64(const Json& value, const std::string& where);
std::optional<double> JsonDouble(const Json& value, const std::string& where);
std::string JsonString(const Json& value, const std::string& where);

}  // namespace eonops::tracking
