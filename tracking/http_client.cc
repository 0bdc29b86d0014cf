#include "tracking/http_client.h"

#include <httplib.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tracking/errors.h"
#include "tracking/mlflow_json.h"
#include "tracking/store_internal.h"

namespace eonops::tracking {

namespace {

constexpr const char* kApi = "/api/2.0/mlflow/";

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// RFC 3986 percent-encoding of one path segment.
std::string PercentEncode(const std::string& segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

Json TagsJson(const std::vector<Tag>& tags) {
  Json a = Json::array();
  for (const Tag& t : tags) a.push_back(ToJson(t));
  return a;
}

}  // namespace

struct TrackingHttpClient::Impl {
  // `prefix` is declared first: SplitBase fills it while `base` is being initialised.
  std::string prefix;  // path prefix of the server, "" or "/something"
  std::string base;    // scheme://host:port
  HttpClientOptions options;
  httplib::Client http;

  Impl(const std::string& base_url, HttpClientOptions o)
      : base(SplitBase(base_url, &prefix)), options(std::move(o)), http(base) {
    if (!http.is_valid())
      throw TrackingError(ErrorCode::kInvalidParameterValue,
                          "invalid tracking URL '" + base_url + "' (expected http://host:port)");
    http.set_connection_timeout(options.timeout_seconds, 0);
    http.set_read_timeout(options.timeout_seconds, 0);
    http.set_write_timeout(options.timeout_seconds, 0);
    http.set_keep_alive(true);
    // A request goes out as headers then body; without TCP_NODELAY the body waits ~40 ms for
    // the server's delayed ACK (Nagle), which alone would cap log-batch at ~25 requests/s.
    http.set_tcp_nodelay(true);
  }

  static std::string SplitBase(const std::string& url, std::string* prefix) {
    size_t scheme = url.find("://");
    size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (path == std::string::npos) {
      prefix->clear();
      return url;
    }
    *prefix = url.substr(path);
    while (!prefix->empty() && prefix->back() == '/') prefix->pop_back();
    return url.substr(0, path);
  }

  httplib::Headers Headers() const {
    httplib::Headers h;
    if (!options.token.empty()) h.emplace("Authorization", "Bearer " + options.token);
    if (!options.user.empty()) h.emplace("X-Eonops-User", options.user);
    return h;
  }

  // Sends with retry; returns the successful response body, throws TrackingError otherwise.
  template <typename Send>
  std::string Call(const std::string& what, Send&& send) {
    for (int attempt = 0;; ++attempt) {
      httplib::Result r = send();
      const bool can_retry = attempt < options.max_retries;
      if (!r) {
        // Only a refused/failed connection is known not to have reached the server; a read
        // timeout after sending may have been applied, so it is reported, not repeated.
        const bool unsent = r.error() == httplib::Error::Connection ||
                            r.error() == httplib::Error::ConnectionTimeout;
        if (unsent && can_retry) {
          Backoff(attempt);
          continue;
        }
        throw TrackingError(
            ErrorCode::kTemporarilyUnavailable,
            what + ": cannot reach " + base + prefix + " (" + httplib::to_string(r.error()) + ")");
      }
      if (r->status == 200) return r->body;
      if ((r->status == 429 || r->status == 503) && can_retry) {
        Backoff(attempt);
        continue;
      }
      Json body = Json::parse(r->body, nullptr, false);
      if (body.is_object() && body.contains("error_code") && body["error_code"].is_string()) {
        auto code = ErrorCodeFromName(body["error_code"].get<std::string>());
        std::string message = body.value("message", std::string());
        throw TrackingError(code.value_or(ErrorCode::kInternalError), message);
      }
      throw TrackingError(ErrorCode::kInternalError, what + ": HTTP " + std::to_string(r->status) +
                                                         ": " + r->body.substr(0, 200));
    }
  }

  void Backoff(int attempt) {
    thread_local std::mt19937 rng{std::random_device{}()};
    int cap = std::min(5000, 100 << std::min(attempt, 6));
    std::uniform_int_distribution<int> jitter(cap / 2, cap);
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
  }

  static Json Parse(const std::string& body) {
    Json j = Json::parse(body, nullptr, false);
    if (j.is_discarded())
      throw TrackingError(ErrorCode::kInternalError, "server answered with malformed JSON");
    return j;
  }

  Json Post(const std::string& endpoint, const Json& body, const std::string& base_path = kApi) {
    const std::string path = prefix + base_path + endpoint;
    const std::string text = Dump(body);
    return Parse(Call("POST " + endpoint, [&] {
      return http.Post(path.c_str(), Headers(), text, "application/json");
    }));
  }

  Json Get(const std::string& endpoint, const httplib::Params& params,
           const std::string& base_path = kApi) {
    const std::string path = prefix + base_path + endpoint;
    return Parse(
        Call("GET " + endpoint, [&] { return http.Get(path.c_str(), params, Headers()); }));
  }

  Json Delete(const std::string& endpoint, const Json& body) {
    const std::string path = prefix + kApi + endpoint;
    const std::string text = Dump(body);
    return Parse(Call("DELETE " + endpoint, [&] {
      return http.Delete(path.c_str(), Headers(), text, "application/json");
    }));
  }
};

TrackingHttpClient::TrackingHttpClient(const std::string& base_url, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(base_url, std::move(options))) {}

TrackingHttpClient::~TrackingHttpClient() = default;

std::string TrackingHttpClient::CreateExperiment(const std::string& name,
                                                 const std::string& artifact_location,
                                                 const std::vector<Tag>& tags) {
  Json body = {{"name", name}, {"tags", TagsJson(tags)}};
  if (!artifact_location.empty()) body["artifact_location"] = artifact_location;
  return impl_->Post("experiments/create", body).at("experiment_id").get<std::string>();
}

Experiment TrackingHttpClient::GetExperiment(const std::string& experiment_id) {
  return ExperimentFromJson(
      impl_->Get("experiments/get", {{"experiment_id", experiment_id}}).at("experiment"));
}

std::optional<Experiment> TrackingHttpClient::GetExperimentByName(const std::string& name) {
  try {
    return ExperimentFromJson(
        impl_->Get("experiments/get-by-name", {{"experiment_name", name}}).at("experiment"));
  } catch (const TrackingError& e) {
    if (e.code() == ErrorCode::kResourceDoesNotExist) return std::nullopt;
    throw;
  }
}

std::string TrackingHttpClient::GetOrCreateExperiment(const std::string& name) {
  if (auto e = GetExperimentByName(name)) return e->experiment_id;
  try {
    return CreateExperiment(name);
  } catch (const TrackingError& e) {
    if (e.code() != ErrorCode::kResourceAlreadyExists) throw;
  }
  if (auto e = GetExperimentByName(name)) return e->experiment_id;
  throw TrackingError(ErrorCode::kResourceConflict,
                      "experiment '" + name + "' exists but cannot be read");
}

Page<Experiment> TrackingHttpClient::SearchExperiments(const SearchExperimentsRequest& request) {
  Json body = {{"max_results", request.max_results},
               {"filter", request.filter},
               {"order_by", request.order_by},
               {"view_type", request.view == ViewType::kAll           ? "ALL"
                             : request.view == ViewType::kDeletedOnly ? "DELETED_ONLY"
                                                                      : "ACTIVE_ONLY"}};
  if (!request.page_token.empty()) body["page_token"] = request.page_token;
  Json r = impl_->Post("experiments/search", body);
  Page<Experiment> page;
  for (const Json& e : r.value("experiments", Json::array()))
    page.items.push_back(ExperimentFromJson(e));
  page.next_page_token = r.value("next_page_token", std::string());
  return page;
}

Run TrackingHttpClient::CreateRun(const CreateRunOptions& options) {
  Json body = {{"experiment_id", options.experiment_id},
               {"user_id", options.user_id},
               {"start_time", options.start_time_ms.value_or(NowMs())},
               {"tags", TagsJson(options.tags)}};
  if (!options.run_name.empty()) body["run_name"] = options.run_name;
  return RunFromJson(impl_->Post("runs/create", body).at("run"));
}

Run TrackingHttpClient::GetRun(const std::string& run_id) {
  return RunFromJson(impl_->Get("runs/get", {{"run_id", run_id}, {"run_uuid", run_id}}).at("run"));
}

RunInfo TrackingHttpClient::UpdateRun(const std::string& run_id, std::optional<RunStatus> status,
                                      std::optional<int64_t> end_time_ms,
                                      std::optional<std::string> run_name) {
  Json body = {{"run_id", run_id}, {"run_uuid", run_id}};
  if (status) body["status"] = RunStatusName(*status);
  if (end_time_ms) body["end_time"] = *end_time_ms;
  if (run_name) body["run_name"] = *run_name;
  return RunInfoFromJson(impl_->Post("runs/update", body).at("run_info"));
}

void TrackingHttpClient::EndRun(const std::string& run_id, RunStatus status) {
  UpdateRun(run_id, status, NowMs(), std::nullopt);
}

void TrackingHttpClient::DeleteRun(const std::string& run_id) {
  impl_->Post("runs/delete", {{"run_id", run_id}});
}

Page<Run> TrackingHttpClient::SearchRuns(const SearchRunsRequest& request) {
  Json body = {{"experiment_ids", request.experiment_ids},
               {"filter", request.filter},
               {"run_view_type", request.view == ViewType::kAll           ? "ALL"
                                 : request.view == ViewType::kDeletedOnly ? "DELETED_ONLY"
                                                                          : "ACTIVE_ONLY"},
               {"max_results", request.max_results},
               {"order_by", request.order_by}};
  if (!request.page_token.empty()) body["page_token"] = request.page_token;
  Json r = impl_->Post("runs/search", body);
  Page<Run> page;
  for (const Json& run : r.value("runs", Json::array())) page.items.push_back(RunFromJson(run));
  page.next_page_token = r.value("next_page_token", std::string());
  return page;
}

void TrackingHttpClient::LogParam(const std::string& run_id, const std::string& key,
                                  const std::string& value) {
  impl_->Post("runs/log-parameter",
              {{"run_id", run_id}, {"run_uuid", run_id}, {"key", key}, {"value", value}});
}

void TrackingHttpClient::LogMetric(const std::string& run_id, const Metric& m) {
  impl_->Post("runs/log-metric", {{"run_id", run_id},
                                  {"run_uuid", run_id},
                                  {"key", m.key},
                                  {"value", DoubleToJson(m.value)},
                                  {"timestamp", m.timestamp_ms},
                                  {"step", m.step}});
}

void TrackingHttpClient::LogMetric(const std::string& run_id, const std::string& key, double value,
                                   int64_t step) {
  LogMetric(run_id, Metric{key, value, NowMs(), step});
}

void TrackingHttpClient::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                                  const std::vector<Param>& params, const std::vector<Tag>& tags) {
  Json ms = Json::array(), ps = Json::array();
  for (const Metric& m : metrics) ms.push_back(ToJson(m));
  for (const Param& p : params) ps.push_back(ToJson(p));
  impl_->Post("runs/log-batch",
              {{"run_id", run_id}, {"metrics", ms}, {"params", ps}, {"tags", TagsJson(tags)}});
}

void TrackingHttpClient::SetTag(const std::string& run_id, const std::string& key,
                                const std::string& value) {
  impl_->Post("runs/set-tag",
              {{"run_id", run_id}, {"run_uuid", run_id}, {"key", key}, {"value", value}});
}

void TrackingHttpClient::DeleteTag(const std::string& run_id, const std::string& key) {
  impl_->Post("runs/delete-tag", {{"run_id", run_id}, {"key", key}});
}

Page<Metric> TrackingHttpClient::GetMetricHistory(const std::string& run_id, const std::string& key,
                                                  int64_t max_results,
                                                  const std::string& page_token) {
  httplib::Params params{{"run_id", run_id}, {"run_uuid", run_id}, {"metric_key", key}};
  if (max_results > 0) params.emplace("max_results", std::to_string(max_results));
  if (!page_token.empty()) params.emplace("page_token", page_token);
  Json r = impl_->Get("metrics/get-history", params);
  Page<Metric> page;
  for (const Json& m : r.value("metrics", Json::array())) page.items.push_back(MetricFromJson(m));
  page.next_page_token = r.value("next_page_token", std::string());
  return page;
}

void TrackingHttpClient::LogEpisodes(const std::string& run_id,
                                     const std::vector<Episode>& episodes) {
  Json list = Json::array();
  for (const Episode& e : episodes) list.push_back(ToJson(e));
  impl_->Post("runs/log-episodes", {{"run_id", run_id}, {"episodes", list}}, "/api/eonops/");
}

std::vector<Episode> TrackingHttpClient::GetEpisodes(const std::string& run_id,
                                                     int64_t from_episode, int64_t limit) {
  std::vector<Episode> out;
  // The server pages at up to 100,000 episodes per request.
  int64_t next = from_episode;
  while (true) {
    int64_t want =
        limit > 0 ? std::min<int64_t>(limit - static_cast<int64_t>(out.size()), 100000) : 100000;
    if (want <= 0) break;
    Json r = impl_->Get("runs/episodes",
                        {{"run_id", run_id},
                         {"from_episode", std::to_string(next)},
                         {"max_results", std::to_string(want)}},
                        "/api/eonops/");
    const Json& list = r.at("episodes");
    for (const Json& e : list) out.push_back(EpisodeFromJson(e));
    if (static_cast<int64_t>(list.size()) < want) break;
    next = out.back().episode + 1;
  }
  return out;
}

ArtifactFile TrackingHttpClient::LogArtifact(const std::string& run_id,
                                             const std::string& local_file,
                                             const std::string& artifact_dir) {
  std::ifstream in(local_file, std::ios::binary);
  if (!in)
    throw TrackingError(ErrorCode::kInvalidParameterValue,
                        "cannot read artifact file " + local_file);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string name = std::filesystem::path(local_file).filename().string();
  return LogArtifactBytes(run_id, artifact_dir.empty() ? name : artifact_dir + "/" + name, bytes);
}

ArtifactFile TrackingHttpClient::LogArtifactBytes(const std::string& run_id,
                                                  const std::string& path,
                                                  const std::string& bytes) {
  detail::ValidateArtifactPath(path, false);
  const std::string experiment_id = GetRun(run_id).info.experiment_id;
  std::string url = impl_->prefix + "/api/2.0/mlflow-artifacts/artifacts/" + experiment_id + "/" +
                    run_id + "/artifacts";
  // Each segment is percent-encoded; '/' separates them.
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    url += "/" + PercentEncode(path.substr(start, end - start));
    start = end + 1;
  }
  Json r = Impl::Parse(impl_->Call("PUT artifact", [&] {
    return impl_->http.Put(url.c_str(), impl_->Headers(), bytes, "application/octet-stream");
  }));
  ArtifactFile f;
  f.path = path;
  f.sha256 = r.value("sha256", std::string());
  f.file_size = r.value("file_size", int64_t{0});
  return f;
}

std::vector<ArtifactFile> TrackingHttpClient::ListArtifacts(const std::string& run_id,
                                                            const std::string& path) {
  httplib::Params params{{"run_id", run_id}};
  if (!path.empty()) params.emplace("path", path);
  const Json r = impl_->Get("artifacts/list", params);
  std::vector<ArtifactFile> out;
  for (const Json& f : r.value("files", Json::array())) out.push_back(ArtifactFileFromJson(f));
  return out;
}

std::string TrackingHttpClient::ReadArtifact(const std::string& run_id, const std::string& path) {
  const std::string url = impl_->prefix + "/get-artifact";
  httplib::Params params{{"run_id", run_id}, {"path", path}};
  return impl_->Call("GET artifact",
                     [&] { return impl_->http.Get(url.c_str(), params, impl_->Headers()); });
}

RegisteredModel TrackingHttpClient::CreateRegisteredModel(const std::string& name,
                                                          const std::string& description,
                                                          const std::vector<Tag>& tags) {
  return RegisteredModelFromJson(
      impl_
          ->Post("registered-models/create",
                 {{"name", name}, {"description", description}, {"tags", TagsJson(tags)}})
          .at("registered_model"));
}

RegisteredModel TrackingHttpClient::GetRegisteredModel(const std::string& name) {
  return RegisteredModelFromJson(
      impl_->Get("registered-models/get", {{"name", name}}).at("registered_model"));
}

ModelVersion TrackingHttpClient::CreateModelVersion(const std::string& name,
                                                    const std::string& source,
                                                    const std::string& run_id,
                                                    const std::string& description,
                                                    const std::vector<Tag>& tags) {
  Json body = {{"name", name}, {"source", source}, {"tags", TagsJson(tags)}};
  if (!run_id.empty()) body["run_id"] = run_id;
  if (!description.empty()) body["description"] = description;
  return ModelVersionFromJson(impl_->Post("model-versions/create", body).at("model_version"));
}

ModelVersion TrackingHttpClient::GetModelVersion(const std::string& name, int64_t version) {
  return ModelVersionFromJson(
      impl_->Get("model-versions/get", {{"name", name}, {"version", std::to_string(version)}})
          .at("model_version"));
}

ModelVersion TrackingHttpClient::TransitionStage(const std::string& name, int64_t version,
                                                 Stage stage, bool archive_existing) {
  return ModelVersionFromJson(impl_
                                  ->Post("model-versions/transition-stage",
                                         {{"name", name},
                                          {"version", std::to_string(version)},
                                          {"stage", StageName(stage)},
                                          {"archive_existing_versions", archive_existing}})
                                  .at("model_version"));
}

void TrackingHttpClient::SetAlias(const std::string& name, const std::string& alias,
                                  int64_t version) {
  impl_->Post("registered-models/alias",
              {{"name", name}, {"alias", alias}, {"version", std::to_string(version)}});
}

void TrackingHttpClient::DeleteAlias(const std::string& name, const std::string& alias) {
  impl_->Delete("registered-models/alias", {{"name", name}, {"alias", alias}});
}

ModelVersion TrackingHttpClient::GetModelVersionByAlias(const std::string& name,
                                                        const std::string& alias) {
  return ModelVersionFromJson(
      impl_->Get("registered-models/alias", {{"name", name}, {"alias", alias}})
          .at("model_version"));
}

std::vector<AliasEvent> TrackingHttpClient::GetAliasHistory(const std::string& name,
                                                            const std::string& alias) {
  httplib::Params params{{"name", name}};
  if (!alias.empty()) params.emplace("alias", alias);
  // Keep the response in a named variable: a range-for over a member of a temporary would
  // iterate a destroyed object.
  const Json r = impl_->Get("registered-models/alias-history", params, "/api/eonops/");
  std::vector<AliasEvent> out;
  for (const Json& e : r.at("events")) out.push_back(AliasEventFromJson(e));
  return out;
}

Page<ModelVersion> TrackingHttpClient::SearchModelVersions(const SearchModelsRequest& request) {
  httplib::Params params{{"max_results", std::to_string(request.max_results)}};
  if (!request.filter.empty()) params.emplace("filter", request.filter);
  for (const auto& o : request.order_by) params.emplace("order_by", o);
  if (!request.page_token.empty()) params.emplace("page_token", request.page_token);
  const Json r = impl_->Get("model-versions/search", params);
  Page<ModelVersion> page;
  for (const Json& v : r.value("model_versions", Json::array()))
    page.items.push_back(ModelVersionFromJson(v));
  page.next_page_token = r.value("next_page_token", "");
  return page;
}

ModelDecision TrackingHttpClient::RecordModelDecision(const RecordDecisionRequest& request) {
  Json figures = Json::parse(request.figures_json, nullptr, false);
  if (figures.is_discarded() || !figures.is_object())
    throw TrackingError(ErrorCode::kInvalidParameterValue, "Decision figures must be a JSON object");
  Json body = {{"name", request.name},
               {"version", std::to_string(request.version)},
               {"kind", request.kind},
               {"reason", request.reason},
               {"figures", figures},
               {"key", request.key},
               {"alias", request.alias}};
  if (request.expect_alias_version)
    body["expect_alias_version"] = std::to_string(*request.expect_alias_version);
  return ModelDecisionFromJson(
      impl_->Post("registered-models/decisions", body, "/api/eonops/").at("decision"));
}

std::vector<ModelDecision> TrackingHttpClient::GetModelDecisions(const std::string& name,
                                                                 int64_t max_results) {
  const Json r = impl_->Get("registered-models/decisions",
                            {{"name", name}, {"max_results", std::to_string(max_results)}},
                            "/api/eonops/");
  std::vector<ModelDecision> out;
  for (const Json& d : r.at("decisions")) out.push_back(ModelDecisionFromJson(d));
  return out;
}

}  // namespace eonops::tracking
