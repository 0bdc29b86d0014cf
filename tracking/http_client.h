// TrackingHttpClient: the trainer's tracking calls over HTTP, for `--tracking http://host:port`.
//
// Same operation names, arguments and results as TrackingStore, so code can be written against
// either (a template parameter or a two-line adapter); every call is one MLflow REST request
// (or an /api/eonops/ one for episodes and alias history). Server errors come back as
// TrackingError with the server's error code; an unreachable server, 429 and 503 are retried
// with backoff (only when the request cannot have been applied: refused connections, and the
// statuses the server sends for requests it rolled back), then raise TEMPORARILY_UNAVAILABLE.
//
//   HttpClientOptions o;
//   o.token = "...";                                 // when the server has --token-file
//   TrackingHttpClient client("http://127.0.0.1:5000", o);
//   std::string exp = client.GetOrCreateExperiment("rmsa/nsfnet");
//   CreateRunOptions ro;
//   ro.experiment_id = exp;
//   std::string run = client.CreateRun(ro).info.run_id;
//   client.LogBatch(run, {{"loss", 0.3, NowMs(), 1}}, {{"lr", "3e-4"}}, {});
//   client.LogEpisodes(run, episodes);
//   client.LogArtifact(run, "/tmp/policy.pt");
//   client.EndRun(run);
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tracking/entities.h"
#include "tracking/store.h"

namespace eonops::tracking {

struct HttpClientOptions {
  std::string token;         // sent as "Authorization: Bearer <token>" when non-empty
  std::string user;          // sent as X-Eonops-User (the actor of alias moves)
  int timeout_seconds = 60;  // connect/read/write
  int max_retries = 5;
};

class TrackingHttpClient {
 public:
  // `base_url`: "http://host:port" (an optional path prefix is kept, e.g. "http://h/mlflow").
  explicit TrackingHttpClient(const std::string& base_url, HttpClientOptions options = {});
  ~TrackingHttpClient();
  TrackingHttpClient(const TrackingHttpClient&) = delete;
  TrackingHttpClient& operator=(const TrackingHttpClient&) = delete;

  // Experiments.
  std::string CreateExperiment(const std::string& name, const std::string& artifact_location = "",
                               const std::vector<Tag>& tags = {});
  Experiment GetExperiment(const std::string& experiment_id);
  std::optional<Experiment> GetExperimentByName(const std::string& name);
  // get-by-name, create on RESOURCE_DOES_NOT_EXIST, and get-by-name again if another client
  // created it in between (RESOURCE_ALREADY_EXISTS): MLflow's set_experiment, minus its race.
  std::string GetOrCreateExperiment(const std::string& name);
  Page<Experiment> SearchExperiments(const SearchExperimentsRequest& request);

  // Runs.
  Run CreateRun(const CreateRunOptions& options);
  Run GetRun(const std::string& run_id);
  RunInfo UpdateRun(const std::string& run_id, std::optional<RunStatus> status,
                    std::optional<int64_t> end_time_ms, std::optional<std::string> run_name);
  void EndRun(const std::string& run_id, RunStatus status = RunStatus::kFinished);
  void DeleteRun(const std::string& run_id);
  Page<Run> SearchRuns(const SearchRunsRequest& request);
  void LogParam(const std::string& run_id, const std::string& key, const std::string& value);
  void LogMetric(const std::string& run_id, const Metric& metric);
  void LogMetric(const std::string& run_id, const std::string& key, double value, int64_t step = 0);
  void LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                const std::vector<Param>& params, const std::vector<Tag>& tags);
  void SetTag(const std::string& run_id, const std::string& key, const std::string& value);
  void DeleteTag(const std::string& run_id, const std::string& key);
  Page<Metric> GetMetricHistory(const std::string& run_id, const std::string& key,
                                int64_t max_results = 0, const std::string& page_token = "");

  // RL episodes.
  void LogEpisodes(const std::string& run_id, const std::vector<Episode>& episodes);
  void LogEpisode(const std::string& run_id, const Episode& episode) {
    LogEpisodes(run_id, {episode});
  }
  std::vector<Episode> GetEpisodes(const std::string& run_id, int64_t from_episode = 0,
                                   int64_t limit = 0);

  // Artifacts (through the server's proxied artifact store).
  ArtifactFile LogArtifact(const std::string& run_id, const std::string& local_file,
                           const std::string& artifact_dir = "");
  ArtifactFile LogArtifactBytes(const std::string& run_id, const std::string& path,
                                const std::string& bytes);
  std::vector<ArtifactFile> ListArtifacts(const std::string& run_id, const std::string& path = "");
  std::string ReadArtifact(const std::string& run_id, const std::string& path);

  // Model registry.
  RegisteredModel CreateRegisteredModel(const std::string& name,
                                        const std::string& description = "",
                                        const std::vector<Tag>& tags = {});
  RegisteredModel GetRegisteredModel(const std::string& name);
  ModelVersion CreateModelVersion(const std::string& name, const std::string& source,
                                  const std::string& run_id = "",
                                  const std::string& description = "",
                                  const std::vector<Tag>& tags = {});
  ModelVersion GetModelVersion(const std::string& name, int64_t version);
  ModelVersion TransitionStage(const std::string& name, int64_t version, Stage stage,
                               bool archive_existing);
  void SetAlias(const std::string& name, const std::string& alias, int64_t version);
  void DeleteAlias(const std::string& name, const std::string& alias);
  ModelVersion GetModelVersionByAlias(const std::string& name, const std::string& alias);
  std::vector<AliasEvent> GetAliasHistory(const std::string& name, const std::string& alias = "");
  Page<ModelVersion> SearchModelVersions(const SearchModelsRequest& request);
  // Control-loop decisions (/api/eonops/registered-models/decisions), as TrackingStore's.
  ModelDecision RecordModelDecision(const RecordDecisionRequest& request);
  std::vector<ModelDecision> GetModelDecisions(const std::string& name, int64_t max_results = 0);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eonops::tracking
