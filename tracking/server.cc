#include "tracking/server.h"

#include <httplib.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tracking/errors.h"
#include "tracking/exclusive_listen.h"
#include "tracking/mlflow_json.h"
#include "tracking/server_internal.h"
#include "tracking/db.h"
#include "tracking/web_assets.h"

namespace eonops::tracking {

using server_internal::Context;
using server_internal::Route;
using server_internal::RouteTable;

namespace server_internal {

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void UiMarks::Add(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  marks_.emplace_back(name.substr(0, 100), NowMs());
  while (marks_.size() > 200) marks_.pop_front();
}

Json UiMarks::ToJson() {
  std::lock_guard<std::mutex> lock(mutex_);
  Json a = Json::array();
  for (const auto& [name, t] : marks_) a.push_back({{"name", name}, {"time_ms", t}});
  return {{"marks", a}};
}

}  // namespace server_internal

namespace {

constexpr const char* kApiPrefixes[] = {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/",
                                        "/api/2.0/preview/mlflow/"};
constexpr const char* kArtifactsPrefix = "/api/2.0/mlflow-artifacts/artifacts";
constexpr size_t kMaxJsonBodyBytes = size_t{32} << 20;
// With a charset parameter, cpp-httplib leaves JSON uncompressed. Its automatic compression
// picks Brotli at quality 11 whenever a client (any browser, Python's requests with brotli)
// offers "br": seconds of CPU for a 2 MB compare payload or a 100k-point history, far more
// than sending it uncompressed costs on the loopback or a LAN.
constexpr const char* kJson = "application/json; charset=utf-8";

[[noreturn]] void Invalid(const std::string& message) {
  throw TrackingError(ErrorCode::kInvalidParameterValue, message);
}

std::string RunIdOf(const RequestArgs& args) {
  auto id = args.OptString("run_id");
  if (!id || id->empty()) id = args.OptString("run_uuid");
  if (!id || id->empty()) Invalid("Missing value for required parameter 'run_id'.");
  return *id;
}

int64_t VersionOf(const RequestArgs& args) {
  if (!args.Has("version")) Invalid("Missing value for required parameter 'version'.");
  auto v = args.OptInt64("version");
  if (!v || *v <= 0) Invalid("Model version must be a positive integer.");
  return *v;
}

ViewType ViewOf(const RequestArgs& args, const char* name) {
  if (!args.Has(name)) return ViewType::kActiveOnly;
  const Json& j = args.json()[name];
  std::string text = j.is_number_integer() ? std::to_string(j.get<int64_t>()) : JsonString(j, name);
  auto v = ParseViewType(text);
  if (!v)
    Invalid("Invalid value '" + text + "' for parameter '" + name +
            "': expected ACTIVE_ONLY, DELETED_ONLY or ALL.");
  return *v;
}

Json WithToken(Json j, const std::string& token) {
  if (!token.empty()) j["next_page_token"] = token;
  return j;
}

// Appends a double in the shortest form that round-trips, as JSON (or MLflow's NaN strings).
void AppendDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += std::isnan(v) ? "\"NaN\"" : (v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// The metric history is the one response that can hold 100,000+ points; building it as text
// directly is several times faster than through nlohmann::json objects.
std::string MetricHistoryJson(const Page<Metric>& page, const std::string& key) {
  const std::string quoted_key = server_internal::Dump(Json(key));
  std::string out;
  out.reserve(64 + page.items.size() * (quoted_key.size() + 64));
  out += "{\"metrics\":[";
  for (size_t i = 0; i < page.items.size(); ++i) {
    const Metric& m = page.items[i];
    if (i) out += ',';
    out += "{\"key\":";
    out += quoted_key;
    out += ",\"value\":";
    AppendDouble(out, m.value);
    out += ",\"timestamp\":";
    AppendInt(out, m.timestamp_ms);
    out += ",\"step\":";
    AppendInt(out, m.step);
    out += '}';
  }
  out += ']';
  if (!page.next_page_token.empty()) {
    out += ",\"next_page_token\":";
    out += server_internal::Dump(Json(page.next_page_token));
  }
  out += '}';
  return out;
}

std::vector<Metric> MetricsOf(const RequestArgs& args) {
  std::vector<Metric> metrics;
  const auto list = args.ObjectList("metrics");
  if (list.size() > Limits::kMaxMetricsPerBatch)  // refuse before converting them all
    Invalid("A batch logging request can contain at most " +
            std::to_string(Limits::kMaxMetricsPerBatch) + " metrics. Got " +
            std::to_string(list.size()) + " metrics.");
  metrics.reserve(list.size());
  const int64_t now = NowMs();
  for (const Json& j : list) {
    Metric m;
    auto key = j.find("key");
    if (key == j.end()) Invalid("Missing value for required parameter 'metrics.key'.");
    m.key = JsonString(*key, "metrics.key");
    auto value = j.find("value");
    if (value == j.end() || value->is_null())
      Invalid("Missing value for required parameter 'metrics.value' (metric '" + m.key + "').");
    m.value = *JsonDouble(*value, "metrics.value");
    auto ts = j.find("timestamp");
    m.timestamp_ms = ts == j.end() ? now : JsonInt64(*ts, "metrics.timestamp").value_or(now);
    auto step = j.find("step");
    m.step = step == j.end() ? 0 : JsonInt64(*step, "metrics.step").value_or(0);
    metrics.push_back(std::move(m));
  }
  return metrics;
}

std::vector<Param> ParamsOf(const RequestArgs& args) {
  std::vector<Param> params;
  for (const Json& j : args.ObjectList("params")) {
    auto key = j.find("key");
    if (key == j.end()) Invalid("Missing value for required parameter 'params.key'.");
    auto value = j.find("value");
    params.push_back({JsonString(*key, "params.key"), value == j.end() || value->is_null()
                                                          ? ""
                                                          : JsonString(*value, "params.value")});
  }
  return params;
}

SearchModelsRequest ModelSearchOf(const RequestArgs& args, int64_t default_max) {
  SearchModelsRequest r;
  r.filter = args.OptString("filter").value_or("");
  r.max_results = args.OptInt64("max_results").value_or(default_max);
  r.order_by = args.StringList("order_by");
  r.page_token = args.OptString("page_token").value_or("");
  return r;
}

// The MLflow REST API, keyed by the path after the /api/2.0/mlflow/ prefix.
RouteTable MlflowRoutes(TrackingStore& store) {
  RouteTable t;
  auto add = [&](const char* method, const char* path, bool write, server_internal::Handler h) {
    t[std::string(method) + " " + path] = Route{write, std::move(h)};
  };

  // --- experiments -------------------------------------------------------------------------
  add("POST", "experiments/create", true, [&store](Context& c) {
    std::string id = store.CreateExperiment(c.args.RequiredString("name"),
                                            c.args.OptString("artifact_location").value_or(""),
                                            c.args.Tags("tags"));
    return Json{{"experiment_id", id}};
  });
  add("GET", "experiments/get", false, [&store](Context& c) {
    return Json{
        {"experiment", ToJson(store.GetExperiment(c.args.RequiredString("experiment_id")))}};
  });
  add("GET", "experiments/get-by-name", false, [&store](Context& c) {
    std::string name = c.args.RequiredString("experiment_name");
    auto e = store.GetExperimentByName(name);
    if (!e)
      throw TrackingError(ErrorCode::kResourceDoesNotExist,
                          "Could not find experiment with name '" + name + "'");
    return Json{{"experiment", ToJson(*e)}};
  });
  auto search_experiments = [&store](Context& c) {
    SearchExperimentsRequest r;
    r.filter = c.args.OptString("filter").value_or("");
    r.view = ViewOf(c.args, "view_type");
    r.max_results = c.args.OptInt64("max_results").value_or(1000);
    r.order_by = c.args.StringList("order_by");
    r.page_token = c.args.OptString("page_token").value_or("");
    auto page = store.SearchExperiments(r);
    Json list = Json::array();
    for (const auto& e : page.items) list.push_back(ToJson(e));
    return WithToken({{"experiments", list}}, page.next_page_token);
  };
  add("POST", "experiments/search", false, search_experiments);
  add("GET", "experiments/search", false, search_experiments);
  add("POST", "experiments/delete", true, [&store](Context& c) {
    store.DeleteExperiment(c.args.RequiredString("experiment_id"));
    return Json::object();
  });
  add("POST", "experiments/restore", true, [&store](Context& c) {
    store.RestoreExperiment(c.args.RequiredString("experiment_id"));
    return Json::object();
  });
  add("POST", "experiments/update", true, [&store](Context& c) {
    store.RenameExperiment(c.args.RequiredString("experiment_id"),
                           c.args.RequiredString("new_name"));
    return Json::object();
  });
  add("POST", "experiments/set-experiment-tag", true, [&store](Context& c) {
    store.SetExperimentTag(c.args.RequiredString("experiment_id"), c.args.RequiredString("key"),
                           c.args.OptString("value").value_or(""));
    return Json::object();
  });

  // --- runs --------------------------------------------------------------------------------
  add("POST", "runs/create", true, [&store](Context& c) {
    CreateRunOptions o;
    o.experiment_id = c.args.OptString("experiment_id").value_or("0");
    if (o.experiment_id.empty()) o.experiment_id = "0";
    o.user_id = c.args.OptString("user_id").value_or("");
    o.run_name = c.args.OptString("run_name").value_or("");
    o.start_time_ms = c.args.OptInt64("start_time");
    o.tags = c.args.Tags("tags");
    return Json{{"run", ToJson(store.CreateRun(o))}};
  });
  add("GET", "runs/get", false, [&store](Context& c) {
    return Json{{"run", ToJson(store.GetRun(RunIdOf(c.args)))}};
  });
  add("POST", "runs/update", true, [&store](Context& c) {
    std::optional<RunStatus> status;
    if (auto s = c.args.OptString("status")) {
      status = ParseRunStatus(*s);
      if (!status)
        Invalid("Invalid value '" + *s +
                "' for parameter 'status': expected RUNNING, SCHEDULED, FINISHED, FAILED or "
                "KILLED.");
    }
    RunInfo info = store.UpdateRun(RunIdOf(c.args), status, c.args.OptInt64("end_time"),
                                   c.args.OptString("run_name"));
    return Json{{"run_info", ToJson(info)}};
  });
  add("POST", "runs/delete", true, [&store](Context& c) {
    store.DeleteRun(RunIdOf(c.args));
    return Json::object();
  });
  add("POST", "runs/restore", true, [&store](Context& c) {
    store.RestoreRun(RunIdOf(c.args));
    return Json::object();
  });
  add("POST", "runs/search", false, [&store](Context& c) {
    SearchRunsRequest r;
    r.experiment_ids = c.args.StringList("experiment_ids");
    r.filter = c.args.OptString("filter").value_or("");
    r.view = ViewOf(c.args, "run_view_type");
    r.max_results = c.args.OptInt64("max_results").value_or(1000);
    r.order_by = c.args.StringList("order_by");
    r.page_token = c.args.OptString("page_token").value_or("");
    auto page = store.SearchRuns(r);
    Json list = Json::array();
    for (const auto& run : page.items) list.push_back(ToJson(run));
    return WithToken({{"runs", list}}, page.next_page_token);
  });
  add("POST", "runs/log-metric", true, [&store](Context& c) {
    Metric m;
    m.key = c.args.RequiredString("key");
    auto value = c.args.OptDouble("value");
    if (!value) Invalid("Missing value for required parameter 'value'.");
    m.value = *value;
    m.timestamp_ms = c.args.OptInt64("timestamp").value_or(NowMs());
    m.step = c.args.OptInt64("step").value_or(0);
    store.LogMetric(RunIdOf(c.args), m);
    return Json::object();
  });
  add("POST", "runs/log-parameter", true, [&store](Context& c) {
    if (!c.args.Has("value")) Invalid("Missing value for required parameter 'value'.");
    store.LogParam(RunIdOf(c.args), c.args.RequiredString("key"), *c.args.OptString("value"));
    return Json::object();
  });
  add("POST", "runs/log-batch", true, [&store](Context& c) {
    std::string run_id = RunIdOf(c.args);
    store.LogBatch(run_id, MetricsOf(c.args), ParamsOf(c.args), c.args.Tags("tags"));
    return Json::object();
  });
  add("POST", "runs/set-tag", true, [&store](Context& c) {
    store.SetTag(RunIdOf(c.args), c.args.RequiredString("key"),
                 c.args.OptString("value").value_or(""));
    return Json::object();
  });
  add("POST", "runs/delete-tag", true, [&store](Context& c) {
    store.DeleteTag(RunIdOf(c.args), c.args.RequiredString("key"));
    return Json::object();
  });
  add("GET", "metrics/get-history", false, [&store](Context& c) {
    std::string key = c.args.RequiredString("metric_key");
    int64_t max_results = c.args.OptInt64("max_results").value_or(0);
    if (max_results < 0) Invalid("max_results must not be negative");
    auto page = store.GetMetricHistory(RunIdOf(c.args), key, max_results,
                                       c.args.OptString("page_token").value_or(""));
    c.res.set_content(MetricHistoryJson(page, key), kJson);
    c.raw = true;
    return Json();
  });
  add("GET", "artifacts/list", false, [&store](Context& c) {
    std::string run_id = RunIdOf(c.args);
    std::string path = c.args.OptString("path").value_or("");
    Run run = store.GetRun(run_id);
    Json files = Json::array();
    for (const auto& f : store.ListArtifacts(run_id, path)) files.push_back(ToJson(f));
    return Json{{"root_uri", run.info.artifact_uri}, {"files", files}};
  });

  // --- model registry ----------------------------------------------------------------------
  add("POST", "registered-models/create", true, [&store](Context& c) {
    return Json{{"registered_model",
                 ToJson(store.CreateRegisteredModel(c.args.RequiredString("name"),
                                                    c.args.OptString("description").value_or(""),
                                                    c.args.Tags("tags")))}};
  });
  add("GET", "registered-models/get", false, [&store](Context& c) {
    return Json{
        {"registered_model", ToJson(store.GetRegisteredModel(c.args.RequiredString("name")))}};
  });
  add("GET", "registered-models/search", false, [&store](Context& c) {
    auto page = store.SearchRegisteredModels(ModelSearchOf(c.args, 100));
    Json list = Json::array();
    for (const auto& m : page.items) list.push_back(ToJson(m));
    return WithToken({{"registered_models", list}}, page.next_page_token);
  });
  auto latest_versions = [&store](Context& c) {
    std::vector<Stage> stages;
    for (const auto& s : c.args.StringList("stages")) {
      auto stage = ParseStage(s);
      if (!stage)
        Invalid("Invalid Model Version stage: " + s +
                ". Value must be one of None, Staging, Production, Archived.");
      stages.push_back(*stage);
    }
    Json list = Json::array();
    for (const auto& v : store.GetLatestVersions(c.args.RequiredString("name"), stages))
      list.push_back(ToJson(v));
    return Json{{"model_versions", list}};
  };
  add("POST", "registered-models/get-latest-versions", false, latest_versions);
  add("GET", "registered-models/get-latest-versions", false, latest_versions);
  add("POST", "model-versions/create", true, [&store](Context& c) {
    return Json{{"model_version",
                 ToJson(store.CreateModelVersion(
                     c.args.RequiredString("name"), c.args.RequiredString("source"),
                     c.args.OptString("run_id").value_or(""),
                     c.args.OptString("description").value_or(""), c.args.Tags("tags"), c.actor))}};
  });
  add("GET", "model-versions/get", false, [&store](Context& c) {
    return Json{{"model_version",
                 ToJson(store.GetModelVersion(c.args.RequiredString("name"), VersionOf(c.args)))}};
  });
  add("GET", "model-versions/search", false, [&store](Context& c) {
    auto page = store.SearchModelVersions(ModelSearchOf(c.args, 10000));
    Json list = Json::array();
    for (const auto& v : page.items) list.push_back(ToJson(v));
    return WithToken({{"model_versions", list}}, page.next_page_token);
  });
  add("POST", "model-versions/transition-stage", true, [&store](Context& c) {
    std::string stage_text = c.args.RequiredString("stage");
    auto stage = ParseStage(stage_text);
    if (!stage)
      Invalid("Invalid Model Version stage: " + stage_text +
              ". Value must be one of None, Staging, Production, Archived.");
    return Json{{"model_version",
                 ToJson(store.TransitionStage(
                     c.args.RequiredString("name"), VersionOf(c.args), *stage,
                     c.args.OptBool("archive_existing_versions").value_or(false), c.actor))}};
  });
  add("GET", "model-versions/get-download-uri", false, [&store](Context& c) {
    ModelVersion v = store.GetModelVersion(c.args.RequiredString("name"), VersionOf(c.args));
    return Json{{"artifact_uri", v.source}};
  });
  add("POST", "registered-models/alias", true, [&store](Context& c) {
    store.SetAlias(c.args.RequiredString("name"), c.args.RequiredString("alias"), VersionOf(c.args),
                   c.actor);
    return Json::object();
  });
  add("DELETE", "registered-models/alias", true, [&store](Context& c) {
    store.DeleteAlias(c.args.RequiredString("name"), c.args.RequiredString("alias"), c.actor);
    return Json::object();
  });
  add("GET", "registered-models/alias", false, [&store](Context& c) {
    return Json{
        {"model_version", ToJson(store.GetModelVersionByAlias(c.args.RequiredString("name"),
                                                              c.args.RequiredString("alias")))}};
  });
  return t;
}

std::string ContentTypeFor(const std::string& path) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "application/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json")) return "application/json";
  if (ends(".txt") || ends(".yaml") || ends(".yml") || ends(".csv") || ends(".log"))
    return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// Streams a stored artifact without loading it into memory.
void SendFile(httplib::Response& res, const std::string& file, const ArtifactFile& info) {
  res.set_header("X-Content-SHA256", info.sha256);
  if (info.file_size == 0) {
    res.set_content("", ContentTypeFor(info.path));
    return;
  }
  auto in = std::make_shared<std::ifstream>(file, std::ios::binary);
  if (!*in) throw TrackingError(ErrorCode::kInternalError, "cannot open stored artifact");
  res.set_content_provider(static_cast<size_t>(info.file_size), ContentTypeFor(info.path),
                           [in](size_t offset, size_t length, httplib::DataSink& sink) {
                             char buf[1 << 16];
                             in->seekg(static_cast<std::streamoff>(offset));
                             size_t n = std::min(length, sizeof buf);
                             in->read(buf, static_cast<std::streamsize>(n));
                             std::streamsize got = in->gcount();
                             if (got <= 0) return false;
                             sink.write(buf, static_cast<size_t>(got));
                             return true;
                           });
}

bool ConstantTimeEquals(const std::string& presented, const std::string& expected) {
  // Look at every byte of the expected token whatever the first mismatch, so the response time
  // does not reveal how much of a guessed prefix was right.
  if (expected.empty()) return false;
  unsigned char diff = presented.size() != expected.size() ? 1 : 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= static_cast<unsigned char>(p ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

}  // namespace

std::vector<ApiToken> LoadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw TrackingError(ErrorCode::kInternalError, "cannot read token file " + path);
  std::vector<ApiToken> tokens;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string s; words >> s;) w.push_back(s);
    if (w.empty()) continue;
    if (w.size() > 2)
      throw TrackingError(ErrorCode::kInternalError,
                          path + ":" + std::to_string(n) + ": expected '[user] token'");
    ApiToken t{w.size() == 2 ? w[0] : "token", w.back()};
    // Short tokens can be guessed over the network; refuse them rather than run weakly.
    if (t.token.size() < 16)
      throw TrackingError(ErrorCode::kInternalError,
                          path + ":" + std::to_string(n) + ": token shorter than 16 characters");
    tokens.push_back(std::move(t));
  }
  if (tokens.empty())
    throw TrackingError(ErrorCode::kInternalError, "token file " + path + " holds no token");
  return tokens;
}

struct TrackingServer::Impl {
  TrackingStore& store;
  ServerOptions options;
  httplib::Server http;
  RouteTable mlflow_routes;
  RouteTable extra_routes;  // full paths (/api/eonops/...)
  server_internal::UiMarks marks;
  std::vector<ApiToken> tokens;
  std::atomic<int> port{-1};
  std::thread thread;

  Impl(TrackingStore& s, ServerOptions o) : store(s), options(std::move(o)) {}

  void WriteError(httplib::Response& res, ErrorCode code, const std::string& message) {
    res.status = HttpStatus(code);
    res.set_content(
        server_internal::Dump({{"error_code", ErrorCodeName(code)}, {"message", message}}), kJson);
  }

  // Who is calling, and whether they may write. Returns false (with the 401 written) if not.
  bool Authorize(const httplib::Request& req, httplib::Response& res, bool write,
                 std::string* actor) {
    const std::string header_user = req.get_header_value("X-Eonops-User");
    *actor = header_user.empty() ? "anonymous" : header_user.substr(0, 100);
    if (tokens.empty()) return true;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.compare(0, prefix.size(), prefix) == 0) {
      const std::string presented = auth.substr(prefix.size());
      for (const ApiToken& t : tokens) {
        if (ConstantTimeEquals(presented, t.token)) {
          if (t.user != "token" || header_user.empty()) *actor = t.user;
          return true;
        }
      }
    }
    if (!write) return true;  // reads stay open
    res.set_header("WWW-Authenticate", "Bearer");
    WriteError(res, ErrorCode::kUnauthenticated,
               auth.empty() ? "This endpoint writes; send 'Authorization: Bearer <token>'"
                            : "Invalid bearer token");
    return false;
  }

  void RunRoute(const Route& route, const httplib::Request& req, httplib::Response& res) {
    std::string actor;
    if (!Authorize(req, res, route.write, &actor)) return;
    if (req.body.size() > kMaxJsonBodyBytes)
      throw TrackingError(ErrorCode::kInvalidParameterValue,
                          "request body of " + std::to_string(req.body.size()) +
                              " bytes exceeds the limit of " + std::to_string(kMaxJsonBodyBytes));
    // GET carries its arguments in the query string (MLflow's clients do so); the other
    // methods in a JSON body, falling back to the query string for a body-less DELETE.
    std::multimap<std::string, std::string> query(req.params.begin(), req.params.end());
    const bool use_body = req.method != "GET" && !(req.body.empty() && !query.empty());
    Context c{req, res,
              use_body ? RequestArgs::FromJsonBody(req.body) : RequestArgs::FromQuery(query),
              actor};
    Json out = route.handler(c);
    if (c.raw) return;
    res.status = 200;
    res.set_content(server_internal::Dump(out.is_null() ? Json::object() : out), kJson);
  }

  bool TryArtifactRoutes(const httplib::Request& req, httplib::Response& res) {
    const std::string& path = req.path;
    if (path == "/get-artifact" || path == "/ajax-api/2.0/mlflow/get-artifact") {
      if (req.method != "GET") return false;
      auto args = RequestArgs::FromQuery({req.params.begin(), req.params.end()});
      ArtifactFile info;
      std::string file = store.ArtifactFilePath(RunIdOf(args), args.RequiredString("path"), &info);
      SendFile(res, file, info);
      return true;
    }
    if (path.compare(0, strlen(kArtifactsPrefix), kArtifactsPrefix) != 0) return false;
    std::string rest = path.substr(strlen(kArtifactsPrefix));
    std::string actor;
    if (rest.empty() || rest == "/") {  // list: ?path=<exp>/<run>/artifacts[/dir]
      if (req.method != "GET") return false;
      auto args = RequestArgs::FromQuery({req.params.begin(), req.params.end()});
      rest = "/" + args.OptString("path").value_or("");
    }
    // <exp>/<run_id>/artifacts/<path>
    std::vector<std::string> parts;
    for (size_t start = 1; start <= rest.size();) {
      size_t end = rest.find('/', start);
      if (end == std::string::npos) end = rest.size();
      parts.push_back(rest.substr(start, end - start));
      start = end + 1;
    }
    if (parts.size() < 3 || parts[2] != "artifacts")
      throw TrackingError(ErrorCode::kResourceDoesNotExist,
                          "artifact paths look like <experiment_id>/<run_id>/artifacts/<path>");
    const std::string run_id = parts[1];
    std::string artifact_path;
    for (size_t i = 3; i < parts.size(); ++i)
      artifact_path += (artifact_path.empty() ? "" : "/") + parts[i];
    eonops::tracking::Run run = store.GetRun(run_id);
    if (run.info.experiment_id != parts[0])
      throw TrackingError(ErrorCode::kResourceDoesNotExist,
                          "Run " + run_id + " is not in experiment " + parts[0]);
    const bool listing = req.path.size() <= strlen(kArtifactsPrefix) + 1;
    if (req.method == "PUT" && !listing) {
      if (!Authorize(req, res, true, &actor)) return true;
      ArtifactFile f = store.LogArtifactBytes(run_id, artifact_path, req.body);
      res.set_content(server_internal::Dump({{"sha256", f.sha256}, {"file_size", f.file_size}}),
                      kJson);
      return true;
    }
    if (req.method != "GET") return false;
    if (listing) {
      Json files = Json::array();
      const std::string prefix = artifact_path.empty() ? "" : artifact_path + "/";
      for (auto f : store.ListArtifacts(run_id, artifact_path)) {
        f.path = f.path.substr(prefix.size());  // relative to the listed directory
        files.push_back(ToJson(f));
      }
      res.set_content(server_internal::Dump({{"files", files}}), kJson);
      return true;
    }
    ArtifactFile info;
    std::string file = store.ArtifactFilePath(run_id, artifact_path, &info);
    SendFile(res, file, info);
    return true;
  }

  bool TryWebUi(const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET") return false;
    std::string asset;
    if (req.path == "/" || req.path == "/index.html") {
      asset = "index.html";
    } else if (req.path.compare(0, 8, "/static/") == 0) {
      asset = req.path.substr(8);
    } else {
      return false;
    }
    const WebAsset* a = FindWebAsset(asset);
    if (!a) return false;
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, ContentTypeFor(asset));
    // Embedded files change only with the binary; a short cache keeps reloads cheap.
    res.set_header("Cache-Control", "no-cache");
    return true;
  }

  void Dispatch(const httplib::Request& req, httplib::Response& res) {
    if (!options.access_log) return DispatchUnlogged(req, res);
    const auto start = std::chrono::steady_clock::now();
    DispatchUnlogged(req, res);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    // One write per line so that lines from concurrent requests do not interleave.
    char line[600];
    std::snprintf(line, sizeof line, "%lld %s %s %d %.1f ms\n",
                  static_cast<long long>(NowMs() - static_cast<int64_t>(ms)), req.method.c_str(),
                  req.path.substr(0, 450).c_str(), res.status, ms);
    std::fputs(line, stderr);
  }

  void DispatchUnlogged(const httplib::Request& req, httplib::Response& res) {
    try {
      for (const char* prefix : kApiPrefixes) {
        size_t n = strlen(prefix);
        if (req.path.compare(0, n, prefix) != 0) continue;
        const std::string key = req.method + " " + req.path.substr(n);
        auto it = mlflow_routes.find(key);
        if (it != mlflow_routes.end()) return RunRoute(it->second, req, res);
        return WriteError(res, ErrorCode::kEndpointNotFound,
                          "No endpoint " + req.method + " " + req.path);
      }
      auto it = extra_routes.find(req.method + " " + req.path);
      if (it != extra_routes.end()) return RunRoute(it->second, req, res);
      if (TryArtifactRoutes(req, res)) return;
      if (TryWebUi(req, res)) return;
      if (req.path.compare(0, 5, "/api/") == 0 || req.path.compare(0, 10, "/ajax-api/") == 0)
        return WriteError(res, ErrorCode::kEndpointNotFound,
                          "No endpoint " + req.method + " " + req.path);
      res.status = 404;
      res.set_content("not found\n", "text/plain");
    } catch (const TrackingError& e) {
      WriteError(res, e.code(), e.what());
    } catch (const DbError& e) {
      // Busy past the retry budget or the database unreachable: MLflow clients retry a 503.
      WriteError(res,
                 e.retryable()                                 ? ErrorCode::kTemporarilyUnavailable
                 : e.kind() == DbError::Kind::kInvalidValue ? ErrorCode::kInvalidParameterValue
                                                               : ErrorCode::kInternalError,
                 e.what());
    } catch (const nlohmann::json::type_error& e) {
      WriteError(res, ErrorCode::kInvalidParameterValue, e.what());
    } catch (const nlohmann::json::exception& e) {
      WriteError(res, ErrorCode::kBadRequest, e.what());
    } catch (const std::exception& e) {
      WriteError(res, ErrorCode::kInternalError, e.what());
    } catch (...) {
      WriteError(res, ErrorCode::kInternalError, "unknown error");
    }
  }

  void Configure() {
    if (!options.token_file.empty()) tokens = LoadTokenFile(options.token_file);
    mlflow_routes = MlflowRoutes(store);
    server_internal::AddUiApiRoutes(extra_routes, store, marks);
    const int threads = std::max(1, options.threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(options.max_body_bytes);
    // Without TCP_NODELAY a response written in two segments (headers, then body) waits for the
    // client's delayed ACK: ~40 ms per request, which caps log-batch at ~25 requests/s.
    http.set_tcp_nodelay(true);
    http.set_read_timeout(60, 0);
    http.set_write_timeout(60, 0);
    auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
      Dispatch(req, res);
    };
    http.Get(".*", dispatch);
    http.Post(".*", dispatch);
    http.Put(".*", dispatch);
    http.Delete(".*", dispatch);
    http.Patch(".*", dispatch);
    // httplib's own refusals (oversize body, bad request line) get MLflow's error shape too;
    // responses we already filled are left alone.
    http.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      ErrorCode code = res.status == 413   ? ErrorCode::kRequestLimitExceeded
                       : res.status == 404 ? ErrorCode::kEndpointNotFound
                       : res.status >= 500 ? ErrorCode::kInternalError
                                           : ErrorCode::kBadRequest;
      int status = res.status;
      WriteError(res, code, "HTTP " + std::to_string(status));
      res.status = status;
    });
    http.set_exception_handler(
        [this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          WriteError(res, ErrorCode::kInternalError, "internal error");
        });
  }

  int Bind() {
    Configure();
    try {
      port = BindExclusive(http, options.host, options.port);
    } catch (const std::runtime_error& e) {
      throw TrackingError(ErrorCode::kInternalError, e.what());
    }
    return port;
  }
};

TrackingServer::TrackingServer(TrackingStore& store, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

TrackingServer::~TrackingServer() { Stop(); }

int TrackingServer::Start() {
  int p = impl_->Bind();
  impl_->thread = std::thread([this] { impl_->http.listen_after_bind(); });
  // Wait until the accept loop runs, so that Stop() right after Start() cannot be missed.
  while (!impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return p;
}

void TrackingServer::Run() {
  impl_->Bind();
  impl_->http.listen_after_bind();
}

void TrackingServer::Stop() {
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int TrackingServer::port() const { return impl_->port; }

}  // namespace eonops::tracking
