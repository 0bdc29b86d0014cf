// The PCE's view of experiment tracking: the model registry it serves policies from, the run
// artifacts it loads them from, and the run it logs its decisions to; and the registry calls of
// the lifecycle service that drives the PCE (lifecycle/: versions, lineage, decisions).
//
// Two implementations: an in-process TrackingStore (`--tracking-db FILE --artifacts DIR`) and
// the REST client of a tracking server (`--tracking http://...`). A connector makes one backend
// per user, because the registry poller and the decision log run on their own threads and an
// HTTP client is not shared between threads.
//
//   TrackingConnector connect = StoreConnector(&store);     // or HttpConnector("http://...", {})
//   std::unique_ptr<TrackingBackend> registry = connect();
//   std::optional<tracking::ModelVersion> v = ResolveServedVersion(*registry, binding);
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pce/config.h"
#include "tracking/entities.h"
#include "tracking/http_client.h"
#include "tracking/store.h"

namespace eonops::pce {

class TrackingBackend {
 public:
  virtual ~TrackingBackend() = default;
  virtual std::string Describe() const = 0;

  // Registry and artifacts. Errors are tracking::TrackingError (RESOURCE_DOES_NOT_EXIST when
  // absent) or, for an unreachable server, TEMPORARILY_UNAVAILABLE.
  virtual tracking::ModelVersion GetModelVersionByAlias(const std::string& name,
                                                        const std::string& alias) = 0;
  virtual tracking::RegisteredModel GetRegisteredModel(const std::string& name) = 0;
  virtual std::vector<tracking::ArtifactFile> ListArtifacts(const std::string& run_id,
                                                            const std::string& path) = 0;
  virtual std::string ReadArtifact(const std::string& run_id, const std::string& path) = 0;

  // Logging.
  virtual std::string GetOrCreateExperiment(const std::string& name) = 0;
  virtual tracking::Run CreateRun(const tracking::CreateRunOptions& options) = 0;
  virtual void LogBatch(const std::string& run_id, const std::vector<tracking::Metric>& metrics,
                        const std::vector<tracking::Param>& params,
                        const std::vector<tracking::Tag>& tags) = 0;
  virtual void LogEpisodes(const std::string& run_id,
                           const std::vector<tracking::Episode>& episodes) = 0;
  virtual void SetTag(const std::string& run_id, const std::string& key,
                      const std::string& value) = 0;
  virtual void EndRun(const std::string& run_id, tracking::RunStatus status) = 0;

  // What the lifecycle service adds: registering versions with their lineage, recording its
  // decisions (which move aliases), and finding what it registered before a restart.
  virtual tracking::ModelVersion GetModelVersion(const std::string& name, int64_t version) = 0;
  virtual tracking::Page<tracking::ModelVersion> SearchModelVersions(
      const tracking::SearchModelsRequest& request) = 0;
  virtual std::vector<tracking::AliasEvent> GetAliasHistory(const std::string& name,
                                                            const std::string& alias) = 0;
  virtual tracking::RegisteredModel CreateRegisteredModel(const std::string& name,
                                                          const std::string& description) = 0;
  virtual tracking::ModelVersion CreateModelVersion(const std::string& name,
                                                    const std::string& source,
                                                    const std::string& run_id,
                                                    const std::string& description,
                                                    const std::vector<tracking::Tag>& tags) = 0;
  virtual tracking::ModelDecision RecordModelDecision(
      const tracking::RecordDecisionRequest& request) = 0;
  virtual std::vector<tracking::ModelDecision> GetModelDecisions(const std::string& name,
                                                                 int64_t max_results) = 0;
  virtual tracking::Page<tracking::Run> SearchRuns(const tracking::SearchRunsRequest& request) = 0;
  virtual tracking::ArtifactFile LogArtifact(const std::string& run_id,
                                             const std::string& local_file,
                                             const std::string& artifact_dir) = 0;
};

using TrackingConnector = std::function<std::unique_ptr<TrackingBackend>()>;

// `store` is not owned and must outlive every backend made. `actor` is recorded as who moved an
// alias or made a decision through it (an HTTP client sends HttpClientOptions::user instead).
TrackingConnector StoreConnector(tracking::TrackingStore* store, std::string actor = "");
TrackingConnector HttpConnector(const std::string& base_url,
                                tracking::HttpClientOptions options = {});

// The version that should be served for `binding`: the one its alias points at, else the newest
// in stage Production (when allowed). nullopt when the registry says there is none; registry
// failures (unreachable, ...) throw, so that a network blip never unloads a served policy.
std::optional<tracking::ModelVersion> ResolveServedVersion(TrackingBackend& backend,
                                                           const PolicyBinding& binding);

// Copies the policy artifact of `version` (manifest.json, weights and any other files of the
// directory) into `dir` (created); returns `dir`, or the local directory itself for local
// sources. Throws on missing files.
std::string FetchArtifactDir(TrackingBackend& backend, const tracking::ModelVersion& version,
                             const std::string& dir);

}  // namespace eonops::pce
