// Where a training run reports to: parameters, metrics over steps, finished episodes, tags and
// artifacts. The trainer talks only to this interface; the experiment-tracking store (tracking/)
// gets an adapter in tools/, so agents/ knows nothing of SQL or HTTP.
//
//   JsonLinesRunLogger log(std::cout, "run-1");
//   log.LogParams({{"ppo.clip", "0.2"}});
//   log.LogMetrics(/*step=*/4096, {{"rollout/blocking", 0.031}});
//   log.EndRun(RunStatus::kFinished);
//
// Metric names are "<group>/<name>": rollout/ (what the agent experienced), loss/ and train/
// (the update), eval/ (the evaluation hook), time/. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>

namespace eonops::agents {

struct EpisodeRecord {
  int64_t env_steps = 0;  // training steps when the episode ended
  int env_index = 0;
  double reward = 0;     // undiscounted return
  int64_t length = 0;    // steps (requests)
  int64_t accepted = 0;  // requests served
  double blocking() const {
    return length > 0 ? 1.0 - static_cast<double>(accepted) / length : 0.0;
  }
};

enum class RunStatus { kFinished, kFailed, kKilled };
std::string ToString(RunStatus status);  // "FINISHED", "FAILED", "KILLED" (MLflow's names)

class RunLogger {
 public:
  virtual ~RunLogger() = default;
  // The tracking store's id of this run ("" when there is none); recorded in policy manifests.
  virtual std::string RunId() const = 0;
  // Logged once per run; a key must not be logged again with another value.
  virtual void LogParams(const std::map<std::string, std::string>& params) = 0;
  virtual void LogMetrics(int64_t step, const std::map<std::string, double>& metrics) = 0;
  virtual void LogEpisode(const EpisodeRecord& episode) = 0;
  virtual void SetTag(const std::string& key, const std::string& value) = 0;
  // A file or directory produced by the run (a policy artifact, a checkpoint, a CSV), stored
  // under `artifact_path` in the run's artifacts.
  virtual void LogArtifact(const std::string& local_path, const std::string& artifact_path) = 0;
  virtual void EndRun(RunStatus status) = 0;
};

// Discards everything.
class NullRunLogger final : public RunLogger {
 public:
  std::string RunId() const override { return ""; }
  void LogParams(const std::map<std::string, std::string>&) override {}
  void LogMetrics(int64_t, const std::map<std::string, double>&) override {}
  void LogEpisode(const EpisodeRecord&) override {}
  void SetTag(const std::string&, const std::string&) override {}
  void LogArtifact(const std::string&, const std::string&) override {}
  void EndRun(RunStatus) override {}
};

// One JSON object per line on a stream (stdout, or a run's log.jsonl):
//   {"type":"metrics","run_id":"r1","step":4096,"metrics":{"rollout/blocking":0.031}}
// Episodes are written only when `log_episodes` (they can be many).
class JsonLinesRunLogger final : public RunLogger {
 public:
  JsonLinesRunLogger(std::ostream& out, std::string run_id, bool log_episodes = false);
  std::string RunId() const override { return run_id_; }
  void LogParams(const std::map<std::string, std::string>& params) override;
  void LogMetrics(int64_t step, const std::map<std::string, double>& metrics) override;
  void LogEpisode(const EpisodeRecord& episode) override;
  void SetTag(const std::string& key, const std::string& value) override;
  void LogArtifact(const std::string& local_path, const std::string& artifact_path) override;
  void EndRun(RunStatus status) override;

 private:
  void Write(const std::string& line);
  std::ostream& out_;
  std::string run_id_;
  bool log_episodes_;
  std::mutex mutex_;
};

}  // namespace eonops::agents
