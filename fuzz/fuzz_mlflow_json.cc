// Fuzz target: the MLflow REST request arguments and JSON entities (tracking/mlflow_json.h), as
// the tracking server reads a request (a JSON body, or a GET's query parameters) and as eonops'
// own clients (the PCE's registry poller, `eonops train --tracking`) read a server's replies.
//
// Input: a JSON request body; or, when it starts with '?', query parameters one per line
// ("name=value", the value's bytes as they are after URL decoding, so not always UTF-8).
//
// Properties checked on every input:
//   - reading any argument with any accessor, and parsing any member as any entity, either
//     works or throws TrackingError with a 4xx code (never another exception: the server would
//     answer 500 for the client's mistake);
//   - every entity parsed is a fixed point of its JSON form: FromJson(ToJson(x)) gives x again
//     (compared as JSON), so what a client reads back is what the server meant.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "fuzz/tracking_check.h"
#include "tracking/errors.h"
#include "tracking/mlflow_json.h"

namespace eonops::fuzz {
namespace {

using tracking::Json;

// FromJson(ToJson(FromJson(j))) must equal FromJson(j), compared through ToJson.
template <typename Parse>
void CheckFixedPoint(const Json& j, Parse parse, const char* entity) {
  ExpectClientError(
      [&] {
        const Json once = tracking::ToJson(parse(j));
        const Json twice = tracking::ToJson(parse(once));
        EONOPS_FUZZ_CHECK(once == twice,
                          std::string(entity) + " changes when read back: " +
                              Shown(once.dump(-1, ' ', false, Json::error_handler_t::replace)) +
                              " vs " +
                              Shown(twice.dump(-1, ' ', false, Json::error_handler_t::replace)));
      },
      entity);
}

void ParseEntities(const Json& j) {
  CheckFixedPoint(j, tracking::ExperimentFromJson, "Experiment");
  CheckFixedPoint(j, tracking::RunInfoFromJson, "RunInfo");
  CheckFixedPoint(j, tracking::RunFromJson, "Run");
  CheckFixedPoint(j, tracking::MetricFromJson, "Metric");
  CheckFixedPoint(j, tracking::ModelVersionFromJson, "ModelVersion");
  CheckFixedPoint(j, tracking::RegisteredModelFromJson, "RegisteredModel");
  CheckFixedPoint(j, tracking::ArtifactFileFromJson, "ArtifactFile");
  CheckFixedPoint(j, tracking::EpisodeFromJson, "Episode");
  CheckFixedPoint(j, tracking::AliasEventFromJson, "AliasEvent");
}

void ReadArguments(const tracking::RequestArgs& args) {
  for (const auto& item : args.json().items()) {
    const std::string name = item.key();
    const Json& value = item.value();
    ExpectClientError([&] { args.Has(name); }, name + ": Has");
    ExpectClientError([&] { args.RequiredString(name); }, name + ": RequiredString");
    ExpectClientError([&] { args.OptString(name); }, name + ": OptString");
    ExpectClientError([&] { args.OptInt64(name); }, name + ": OptInt64");
    ExpectClientError([&] { args.OptDouble(name); }, name + ": OptDouble");
    ExpectClientError([&] { args.OptBool(name); }, name + ": OptBool");
    ExpectClientError([&] { args.StringList(name); }, name + ": StringList");
    ExpectClientError([&] { args.ObjectList(name); }, name + ": ObjectList");
    ExpectClientError([&] { args.Tags(name); }, name + ": Tags");
    // Members of a body are what log-batch, create and search requests carry as entities.
    ParseEntities(value);
    if (value.is_array())
      for (const Json& item : value) ParseEntities(item);
  }
  ParseEntities(args.json());
}

}  // namespace
}  // namespace eonops::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eonops;
  using namespace eonops::fuzz;
  std::string_view rest = AsText(data, size);
  if (!rest.empty() && rest.front() == '?') {
    rest.remove_prefix(1);
    std::multimap<std::string, std::string> params;
    while (!rest.empty()) {
      const std::string_view line = TakeLine(&rest);
      const size_t eq = line.find('=');
      params.emplace(std::string(line.substr(0, eq)),
                     eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1)));
    }
    ReadArguments(tracking::RequestArgs::FromQuery(params));
    return 0;
  }
  ExpectClientError([&] { ReadArguments(tracking::RequestArgs::FromJsonBody(std::string(rest))); },
                    "FromJsonBody");
  return 0;
}
