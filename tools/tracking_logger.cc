#include "tools/tracking_logger.h"

#include <filesystem>
#include <stdexcept>

#include "tracking/errors.h"
#include "tracking/http_client.h"
#include "tracking/store.h"

namespace eonops::tools {

namespace {

namespace fs = std::filesystem;

// MLflow's log-batch limits: at most 1000 metrics and 100 params per request.
constexpr size_t kMaxMetrics = 1000;
constexpr size_t kMaxParams = 100;
constexpr size_t kEpisodeBatch = 500;

tracking::RunStatus StatusOf(const std::string& s) {
  if (s == "FAILED") return tracking::RunStatus::kFailed;
  if (s == "KILLED") return tracking::RunStatus::kKilled;
  return tracking::RunStatus::kFinished;
}

// One implementation for both clients: they offer the same calls.
template <typename Client>
class Sink final : public TrackingSink {
 public:
  explicit Sink(std::unique_ptr<Client> client) : c_(std::move(client)) {}
  std::string GetOrCreateExperiment(const std::string& name) override { return c_->GetOrCreateExperiment(name); }
  std::string CreateRun(const std::string& experiment_id, const std::string& run_name,
                        const std::vector<tracking::Tag>& tags) override {
    tracking::CreateRunOptions o;
    o.experiment_id = experiment_id;
    o.run_name = run_name;
    o.user_id = "eonops-train";
    o.tags = tags;
    return c_->CreateRun(o).info.run_id;
  }
  bool RunExists(const std::string& run_id) override {
    try {
      c_->GetRun(run_id);
      return true;
    } catch (const tracking::TrackingError& e) {
      if (e.code() == tracking::ErrorCode::kResourceDoesNotExist) return false;
      throw;
    }
  }
  void Reopen(const std::string& run_id) override {
    c_->UpdateRun(run_id, tracking::RunStatus::kRunning, std::nullopt, std::nullopt);
  }
  void LogBatch(const std::string& run_id, const std::vector<tracking::Metric>& metrics,
                const std::vector<tracking::Param>& params, const std::vector<tracking::Tag>& tags) override {
    c_->LogBatch(run_id, metrics, params, tags);
  }
  void LogEpisodes(const std::string& run_id, const std::vector<tracking::Episode>& episodes) override {
    c_->LogEpisodes(run_id, episodes);
  }
  void LogArtifactFile(const std::string& run_id, const std::string& local_file, const std::string& dir) override {
    c_->LogArtifact(run_id, local_file, dir);
  }
  void EndRun(const std::string& run_id, const std::string& status) override { c_->EndRun(run_id, StatusOf(status)); }
  int64_t RegisterPolicy(const std::string& model, const std::string& run_id, const std::string& artifact_path,
                         const std::string& alias) override {
    try {
      c_->CreateRegisteredModel(model, "eonops policies for " + model);
    } catch (const tracking::TrackingError& e) {
      if (e.code() != tracking::ErrorCode::kResourceAlreadyExists) throw;
    }
    tracking::ModelVersion v = c_->CreateModelVersion(model, "runs:/" + run_id + "/" + artifact_path, run_id);
    if (!alias.empty()) c_->SetAlias(model, alias, v.version);
    return v.version;
  }

 private:
  std::unique_ptr<Client> c_;
};

}  // namespace

std::unique_ptr<TrackingSink> OpenTrackingSink(const std::string& url, const std::string& db,
                                               const std::string& artifacts, const std::string& token) {
  if (!url.empty()) {
    tracking::HttpClientOptions o;
    o.token = token;
    o.user = "eonops-train";
    return std::make_unique<Sink<tracking::TrackingHttpClient>>(std::make_unique<tracking::TrackingHttpClient>(url, o));
  }
  tracking::StoreOptions o;
  o.db_path = db;
  o.artifact_root = artifacts;
  return std::make_unique<Sink<tracking::TrackingStore>>(std::make_unique<tracking::TrackingStore>(o));
}

TrackingRunLogger::TrackingRunLogger(TrackingSink& sink, const std::string& experiment, const std::string& run_name,
                                     const std::string& existing_run_id)
    : sink_(sink) {
  if (!existing_run_id.empty() && sink_.RunExists(existing_run_id)) {
    run_id_ = existing_run_id;
    sink_.Reopen(run_id_);
    return;
  }
  run_id_ = sink_.CreateRun(sink_.GetOrCreateExperiment(experiment), run_name, {{"mlflow.source.name", "eonops train"}});
}

TrackingRunLogger::~TrackingRunLogger() {
  // A run whose EndRun never came (an exception unwound past it) is marked failed, not left
  // RUNNING forever; errors here must not escape a destructor.
  try {
    if (!ended_) EndRun(agents::RunStatus::kFailed);
  } catch (...) {
  }
}

void TrackingRunLogger::LogParams(const std::map<std::string, std::string>& params) {
  std::vector<tracking::Param> batch;
  for (const auto& [k, v] : params) {
    // MLflow caps a param value at 6000 characters.
    batch.push_back({k, v.size() > 6000 ? v.substr(0, 5990) + "..." : v});
    if (batch.size() == kMaxParams) {
      sink_.LogBatch(run_id_, {}, batch, {});
      batch.clear();
    }
  }
  if (!batch.empty()) sink_.LogBatch(run_id_, {}, batch, {});
}

void TrackingRunLogger::LogMetrics(int64_t step, const std::map<std::string, double>& metrics) {
  std::vector<tracking::Metric> batch;
  const int64_t now = tracking::NowMs();
  for (const auto& [k, v] : metrics) {
    batch.push_back({k, v, now, step});
    if (batch.size() == kMaxMetrics) {
      sink_.LogBatch(run_id_, batch, {}, {});
      batch.clear();
    }
  }
  if (!batch.empty()) sink_.LogBatch(run_id_, batch, {}, {});
}

void TrackingRunLogger::LogEpisode(const agents::EpisodeRecord& e) {
  std::lock_guard<std::mutex> lock(mutex_);
  tracking::Episode ep;
  ep.episode = next_episode_++;
  ep.reward = e.reward;
  ep.length = e.length;
  ep.blocking = e.blocking();
  ep.extra_json = "{\"env_steps\":" + std::to_string(e.env_steps) + ",\"env_index\":" + std::to_string(e.env_index) + "}";
  episodes_.push_back(ep);
  if (episodes_.size() >= kEpisodeBatch) FlushEpisodes();
}

void TrackingRunLogger::FlushEpisodes() {
  if (episodes_.empty()) return;
  sink_.LogEpisodes(run_id_, episodes_);
  episodes_.clear();
}

void TrackingRunLogger::SetTag(const std::string& key, const std::string& value) {
  sink_.LogBatch(run_id_, {}, {}, {{key, value}});
}

void TrackingRunLogger::LogArtifact(const std::string& local_path, const std::string& artifact_path) {
  if (!fs::is_directory(local_path)) {
    sink_.LogArtifactFile(run_id_, local_path, artifact_path);
    return;
  }
  for (const auto& entry : fs::recursive_directory_iterator(local_path)) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = fs::relative(entry.path().parent_path(), local_path);
    std::string dir = artifact_path;
    if (!rel.empty() && rel != ".") dir += "/" + rel.generic_string();
    sink_.LogArtifactFile(run_id_, entry.path().string(), dir);
  }
}

void TrackingRunLogger::EndRun(agents::RunStatus status) {
  std::lock_guard<std::mutex> lock(mutex_);
  FlushEpisodes();
  sink_.EndRun(run_id_, agents::ToString(status));
  ended_ = true;
}

}  // namespace eonops::tools
