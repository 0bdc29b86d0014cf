#include "agents/run_logger.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace eonops::agents {

using nlohmann::json;

std::string ToString(RunStatus status) {
  switch (status) {
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  return "?";
}

JsonLinesRunLogger::JsonLinesRunLogger(std::ostream& out, std::string run_id, bool log_episodes)
    : out_(out), run_id_(std::move(run_id)), log_episodes_(log_episodes) {}

void JsonLinesRunLogger::Write(const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  out_ << line << "\n";
  out_.flush();
}

void JsonLinesRunLogger::LogParams(const std::map<std::string, std::string>& params) {
  Write(json{{"type", "params"}, {"run_id", run_id_}, {"params", params}}.dump());
}

void JsonLinesRunLogger::LogMetrics(int64_t step, const std::map<std::string, double>& metrics) {
  json m = json::object();
  for (const auto& [k, v] : metrics) m[k] = std::isfinite(v) ? json(v) : json(nullptr);
  Write(json{{"type", "metrics"}, {"run_id", run_id_}, {"step", step}, {"metrics", m}}.dump());
}

void JsonLinesRunLogger::LogEpisode(const EpisodeRecord& e) {
  if (!log_episodes_) return;
  Write(json{{"type", "episode"},
             {"run_id", run_id_},
             {"step", e.env_steps},
             {"env", e.env_index},
             {"reward", e.reward},
             {"length", e.length},
             {"accepted", e.accepted},
             {"blocking", e.blocking()}}
            .dump());
}

void JsonLinesRunLogger::SetTag(const std::string& key, const std::string& value) {
  Write(json{{"type", "tag"}, {"run_id", run_id_}, {"key", key}, {"value", value}}.dump());
}

void JsonLinesRunLogger::LogArtifact(const std::string& local_path,
                                     const std::string& artifact_path) {
  Write(json{{"type", "artifact"},
             {"run_id", run_id_},
             {"local_path", local_path},
             {"artifact_path", artifact_path}}
            .dump());
}

void JsonLinesRunLogger::EndRun(RunStatus status) {
  Write(json{{"type", "end"}, {"run_id", run_id_}, {"status", ToString(status)}}.dump());
}

}  // namespace eonops::agents
