// TrackingStore: experiments, runs, metrics, RL episodes, artifacts and the model registry in
// one SQLite file or one PostgreSQL database, used in-process by the trainer and behind the
// REST server.
//
// Every public method is one transaction: it either happens completely or not at all, and it
// may be called from any number of threads (each call borrows a pooled connection) and
// processes (SQLite WAL or PostgreSQL SERIALIZABLE, plus retry; see db.h). The store keeps no
// state besides its connections, so several processes (tracking server replicas) on one
// PostgreSQL database and one shared artifact directory behave as one. Client mistakes (unknown id,
// duplicate name, bad value, oversize batch) throw TrackingError with MLflow's error code.
//
//   StoreOptions opts;
//   opts.db_path = "eonops.db";           // or "postgresql://user@host:5432/tracking"
//   opts.artifact_root = "./artifacts";
//   TrackingStore store(opts);
//   CreateRunOptions ro;
//   ro.experiment_id = store.GetOrCreateExperiment("rmsa/nsfnet");
//   ro.run_name = "ppo-seed1";
//   const std::string id = store.CreateRun(ro).info.run_id;
//   store.LogParam(id, "lr", "3e-4");
//   store.LogBatch(id, {{"loss", 0.31, NowMs(), 10}}, {}, {});
//   store.LogEpisodes(id, episodes);            // per-episode reward/blocking/energy
//   store.LogArtifact(id, "/tmp/policy.pt");    // content-hashed copy under the artifact root
//   store.EndRun(id);
//   store.CreateRegisteredModel("rmsa-nsfnet");
//   ModelVersion v = store.CreateModelVersion("rmsa-nsfnet", "runs:/" + id + "/policy.pt", id);
//   store.SetAlias("rmsa-nsfnet", "champion", v.version, "trainer");
//   ModelVersion serving = store.GetModelVersionByAlias("rmsa-nsfnet", "champion");
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tracking/entities.h"
#include "tracking/db.h"

namespace eonops::tracking {

struct StoreOptions {
  // A SQLite file, or a PostgreSQL URL: postgresql://USER[:PASS]@HOST[:PORT]/DB[?...] (any
  // libpq connection parameter may follow, e.g. ?sslmode=require).
  std::string db_path = "eonops.db";
  std::string artifact_root = "./artifacts";  // created if missing
  int busy_timeout_ms = 5000;                 // wait for a lock per attempt
  int max_busy_wait_ms = 60000;               // then TEMPORARILY_UNAVAILABLE
  size_t max_idle_connections = 16;
};

// MLflow's limits (mlflow/utils/validation.py).
struct Limits {
  static constexpr size_t kMaxMetricsPerBatch = 1000;
  static constexpr size_t kMaxParamsPerBatch = 100;
  static constexpr size_t kMaxTagsPerBatch = 100;
  static constexpr size_t kMaxEntitiesPerBatch = 1000;
  static constexpr size_t kMaxKeyLength = 250;
  static constexpr size_t kMaxParamValueLength = 6000;
  static constexpr size_t kMaxTagValueLength = 8000;
  static constexpr size_t kMaxEpisodesPerBatch = 10000;
  static constexpr int64_t kMaxSearchResults = 50000;
};

struct CreateRunOptions {
  std::string experiment_id = "0";
  std::string run_name;  // empty: taken from the mlflow.runName tag, else generated
  std::string user_id;
  std::optional<int64_t> start_time_ms;  // default: now
  std::vector<Tag> tags;
};

// Where the bytes of the artifact with this content hash live under an artifact root:
// <root>/sha256/<first two hex digits>/<hash>.
std::string ArtifactBlobPath(const std::string& artifact_root, const std::string& sha256);

class TrackingStore {
 public:
  // Opens or creates the database and applies pending migrations. Throws TrackingError or
  // DbError naming the database (password redacted) when it cannot be opened.
  explicit TrackingStore(StoreOptions options);
  ~TrackingStore();
  TrackingStore(const TrackingStore&) = delete;
  TrackingStore& operator=(const TrackingStore&) = delete;

  const StoreOptions& options() const { return options_; }
  Dialect dialect() const { return dialect_; }

  // --- experiments -------------------------------------------------------------------------
  // Returns the new id. Throws RESOURCE_ALREADY_EXISTS when the name is taken.
  std::string CreateExperiment(const std::string& name, const std::string& artifact_location = "",
                               const std::vector<Tag>& tags = {});
  Experiment GetExperiment(const std::string& experiment_id);
  std::optional<Experiment> GetExperimentByName(const std::string& name);
  // Atomic get-or-create: two trainers starting together both get the same id.
  std::string GetOrCreateExperiment(const std::string& name);
  Page<Experiment> SearchExperiments(const SearchExperimentsRequest& request);
  void DeleteExperiment(const std::string& experiment_id);
  void RestoreExperiment(const std::string& experiment_id);
  void RenameExperiment(const std::string& experiment_id, const std::string& new_name);
  void SetExperimentTag(const std::string& experiment_id, const std::string& key,
                        const std::string& value);

  // --- runs --------------------------------------------------------------------------------
  Run CreateRun(const CreateRunOptions& options);
  Run GetRun(const std::string& run_id);
  // Any of status / end time / name; returns the updated info.
  RunInfo UpdateRun(const std::string& run_id, std::optional<RunStatus> status,
                    std::optional<int64_t> end_time_ms, std::optional<std::string> run_name);
  // Sets the status (FINISHED by default) and the end time to now.
  void EndRun(const std::string& run_id, RunStatus status = RunStatus::kFinished);
  void DeleteRun(const std::string& run_id);
  void RestoreRun(const std::string& run_id);
  Page<Run> SearchRuns(const SearchRunsRequest& request);

  // Re-logging a param with the same value is a no-op; with another value it is
  // INVALID_PARAMETER_VALUE (params are inputs: they do not change during a run).
  void LogParam(const std::string& run_id, const std::string& key, const std::string& value);
  void LogMetric(const std::string& run_id, const Metric& metric);
  // Convenience: timestamp now.
  void LogMetric(const std::string& run_id, const std::string& key, double value, int64_t step = 0);
  // All or nothing, within MLflow's batch limits (Limits).
  void LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                const std::vector<Param>& params, const std::vector<Tag>& tags);
  void SetTag(const std::string& run_id, const std::string& key, const std::string& value);
  void DeleteTag(const std::string& run_id, const std::string& key);

  // Points of one metric ordered by step then timestamp. max_results <= 0: all of them.
  Page<Metric> GetMetricHistory(const std::string& run_id, const std::string& key,
                                int64_t max_results = 0, const std::string& page_token = "");
  // At most `max_points` points chosen by LTTB (downsample.h) over (step, value); NaN and
  // infinite values are left out. Empty when the run has no such metric.
  std::vector<Metric> GetMetricHistoryDownsampled(const std::string& run_id, const std::string& key,
                                                  size_t max_points);

  // --- RL episodes -------------------------------------------------------------------------
  // Re-logging an episode with identical values is a no-op (safe to retry); with different
  // values it is INVALID_PARAMETER_VALUE.
  void LogEpisodes(const std::string& run_id, const std::vector<Episode>& episodes);
  void LogEpisode(const std::string& run_id, const Episode& episode) {
    LogEpisodes(run_id, {episode});
  }
  // Episodes with number >= from_episode, ascending; limit <= 0: all.
  std::vector<Episode> GetEpisodes(const std::string& run_id, int64_t from_episode = 0,
                                   int64_t limit = 0);
  int64_t CountEpisodes(const std::string& run_id);
  // The run's episodes in at most `max_buckets` consecutive buckets of equal count, with the
  // mean (and reward min/max) of each: what a chart of a 100k-episode run needs.
  std::vector<EpisodeBucket> SummarizeEpisodes(const std::string& run_id, size_t max_buckets);

  // --- artifacts ---------------------------------------------------------------------------
  // Copies `local_file` into the artifact store as `<artifact_dir>/<file name>` of the run.
  ArtifactFile LogArtifact(const std::string& run_id, const std::string& local_file,
                           const std::string& artifact_dir = "");
  // Stores `bytes` as the run's artifact `path` (replacing an earlier one at that path).
  ArtifactFile LogArtifactBytes(const std::string& run_id, const std::string& path,
                                const std::string& bytes);
  // Direct children of `path` ("" = the root), directories first, as MLflow lists them.
  std::vector<ArtifactFile> ListArtifacts(const std::string& run_id, const std::string& path = "");
  // Every file of the run, recursively.
  std::vector<ArtifactFile> ListAllArtifacts(const std::string& run_id);
  // Where the bytes of the run's artifact `path` are on disk (RESOURCE_DOES_NOT_EXIST if none).
  std::string ArtifactFilePath(const std::string& run_id, const std::string& path,
                               ArtifactFile* info = nullptr);
  std::string ReadArtifact(const std::string& run_id, const std::string& path);

  // --- model registry ----------------------------------------------------------------------
  RegisteredModel CreateRegisteredModel(const std::string& name,
                                        const std::string& description = "",
                                        const std::vector<Tag>& tags = {});
  RegisteredModel GetRegisteredModel(const std::string& name);
  Page<RegisteredModel> SearchRegisteredModels(const SearchModelsRequest& request);
  // Versions count from 1 per model. `run_id`, when given, must name an existing run.
  ModelVersion CreateModelVersion(const std::string& name, const std::string& source,
                                  const std::string& run_id = "",
                                  const std::string& description = "",
                                  const std::vector<Tag>& tags = {},
                                  const std::string& user_id = "");
  ModelVersion GetModelVersion(const std::string& name, int64_t version);
  Page<ModelVersion> SearchModelVersions(const SearchModelsRequest& request);
  // The newest version in each of `stages` (all stages when empty).
  std::vector<ModelVersion> GetLatestVersions(const std::string& name,
                                              const std::vector<Stage>& stages = {});
  // Moves a version to `stage`; with archive_existing, the other versions in that stage move to
  // Archived. Every move is recorded in the stage history.
  ModelVersion TransitionStage(const std::string& name, int64_t version, Stage stage,
                               bool archive_existing, const std::string& actor = "");
  // Points `alias` at `version` and records the move (from which version, when, by whom).
  void SetAlias(const std::string& name, const std::string& alias, int64_t version,
                const std::string& actor = "");
  void DeleteAlias(const std::string& name, const std::string& alias,
                   const std::string& actor = "");
  ModelVersion GetModelVersionByAlias(const std::string& name, const std::string& alias);
  // Oldest first; `alias` empty: every alias of the model.
  std::vector<AliasEvent> GetAliasHistory(const std::string& name, const std::string& alias = "");
  std::vector<StageEvent> GetStageHistory(const std::string& name);
  // Records a control loop's decision, and moves its alias when it names one, in one
  // transaction. A request whose key was recorded before returns that decision and changes
  // nothing; an alias that does not point where expect_alias_version says is RESOURCE_CONFLICT.
  ModelDecision RecordModelDecision(const RecordDecisionRequest& request,
                                    const std::string& actor = "");
  // Oldest first; the newest `max_results` when > 0.
  std::vector<ModelDecision> GetModelDecisions(const std::string& name, int64_t max_results = 0);

  // --- maintenance -------------------------------------------------------------------------
  // Number of active runs per experiment id (experiments without runs are absent).
  std::map<std::string, int64_t> ActiveRunCounts();
  int SchemaVersion();
  // The engine's consistency check (SQLite: PRAGMA integrity_check): "ok" when sound.
  std::string IntegrityCheck();

 private:
  class Lease;
  friend class Lease;
  std::unique_ptr<Connection> Acquire();
  void Release(std::unique_ptr<Connection> conn);
  template <typename Fn>
  auto Read(Fn&& fn);
  template <typename Fn>
  auto Write(Fn&& fn);
  std::string StoreBlob(const std::string& source_file, std::string* sha256, int64_t* size);
  std::string BlobPath(const std::string& sha256) const;

  StoreOptions options_;
  Dialect dialect_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace eonops::tracking
