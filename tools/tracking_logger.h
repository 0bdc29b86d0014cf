// The bridge from the trainer's RunLogger (agents/) to the tracking store (tracking/): the run,
// its params, metrics, per-episode records and artifacts, and the policy's registration as a
// new model version. Works in-process (a SQLite file) or through a tracking server.
//
//   auto sink = OpenTrackingSink("http://127.0.0.1:5000", "", "");     // or ("", db, artifacts)
//   TrackingRunLogger log(*sink, "deeprmsa-nsfnet", "ppo-seed1", /*existing_run_id=*/"");
//   ... trainer.Train() ...
//   log.LogArtifact("out/x/policy", "policy");
//   int64_t v = sink->RegisterPolicy("deeprmsa-nsfnet", log.RunId(), "policy", "champion");
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agents/run_logger.h"
#include "tracking/entities.h"

namespace eonops::tools {

// The operations training needs, over either client (TrackingStore or TrackingHttpClient).
class TrackingSink {
 public:
  virtual ~TrackingSink() = default;
  virtual std::string GetOrCreateExperiment(const std::string& name) = 0;
  virtual std::string CreateRun(const std::string& experiment_id, const std::string& run_name,
                                const std::vector<tracking::Tag>& tags) = 0;
  virtual bool RunExists(const std::string& run_id) = 0;
  virtual void Reopen(const std::string& run_id) = 0;  // status back to RUNNING (resume)
  virtual void LogBatch(const std::string& run_id, const std::vector<tracking::Metric>& metrics,
                        const std::vector<tracking::Param>& params, const std::vector<tracking::Tag>& tags) = 0;
  virtual void LogEpisodes(const std::string& run_id, const std::vector<tracking::Episode>& episodes) = 0;
  virtual void LogArtifactFile(const std::string& run_id, const std::string& local_file, const std::string& dir) = 0;
  virtual void EndRun(const std::string& run_id, const std::string& status) = 0;
  // Registers `runs:/<run_id>/<artifact_path>` as a new version of `model` (created if new) and,
  // when `alias` is non-empty, points the alias at it. Returns the version number.
  virtual int64_t RegisterPolicy(const std::string& model, const std::string& run_id,
                                 const std::string& artifact_path, const std::string& alias) = 0;
};

// `url` non-empty: a tracking server; else the SQLite file `db` with artifacts under `artifacts`.
std::unique_ptr<TrackingSink> OpenTrackingSink(const std::string& url, const std::string& db,
                                               const std::string& artifacts, const std::string& token = "");

class TrackingRunLogger final : public agents::RunLogger {
 public:
  // Creates a run in `experiment`, or reopens `existing_run_id` when it is non-empty and known.
  TrackingRunLogger(TrackingSink& sink, const std::string& experiment, const std::string& run_name,
                    const std::string& existing_run_id);
  ~TrackingRunLogger() override;

  std::string RunId() const override { return run_id_; }
  void LogParams(const std::map<std::string, std::string>& params) override;
  void LogMetrics(int64_t step, const std::map<std::string, double>& metrics) override;
  void LogEpisode(const agents::EpisodeRecord& episode) override;
  void SetTag(const std::string& key, const std::string& value) override;
  void LogArtifact(const std::string& local_path, const std::string& artifact_path) override;
  void EndRun(agents::RunStatus status) override;

 private:
  void FlushEpisodes();

  TrackingSink& sink_;
  std::string run_id_;
  std::mutex mutex_;
  std::vector<tracking::Episode> episodes_;  // batched: one request per few hundred episodes
  int64_t next_episode_ = 0;
  bool ended_ = false;
};

// Fans one run's records out to several loggers (the JSON-lines file and the tracking store).
class TeeRunLogger final : public agents::RunLogger {
 public:
  TeeRunLogger(agents::RunLogger& primary, agents::RunLogger& secondary) : a_(primary), b_(secondary) {}
  std::string RunId() const override { return a_.RunId(); }
  void LogParams(const std::map<std::string, std::string>& p) override { a_.LogParams(p), b_.LogParams(p); }
  void LogMetrics(int64_t s, const std::map<std::string, double>& m) override { a_.LogMetrics(s, m), b_.LogMetrics(s, m); }
  void LogEpisode(const agents::EpisodeRecord& e) override { a_.LogEpisode(e), b_.LogEpisode(e); }
  void SetTag(const std::string& k, const std::string& v) override { a_.SetTag(k, v), b_.SetTag(k, v); }
  void LogArtifact(const std::string& l, const std::string& p) override { a_.LogArtifact(l, p), b_.LogArtifact(l, p); }
  void EndRun(agents::RunStatus s) override { a_.EndRun(s), b_.EndRun(s); }

 private:
  agents::RunLogger& a_;
  agents::RunLogger& b_;
};

}  // namespace eonops::tools
