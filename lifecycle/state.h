// What the lifecycle service must not forget across a crash: per use case, the champion it last
// saw, the retraining attempt in progress and the step it completed, the watch on a fresh
// promotion, and the KPI runs it logs to. One JSON file, replaced atomically (written beside,
// fsynced, renamed), after every step; every step is idempotent against the registry (runs and
// versions carry the attempt id, decisions an idempotency key), so a restart from the last file
// redoes at most one step and never twice in the registry.
//
//   ServiceState s = ServiceState::Load(dir + "/state.json");   // empty when absent
//   s.tracks["deeprmsa"].attempt->step = AttemptStep::kTrained;
//   s.Save(dir + "/state.json");
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lifecycle/kpi.h"

namespace eonops::lifecycle {

// The steps of one attempt, in order. A retraining attempt starts at kTraining, a heuristic
// challenger at kTrained (nothing to train).
enum class AttemptStep {
  kTraining,    // calibrated scenario and trace saved; training (checkpoints in the attempt dir)
  kTrained,     // the policy is exported in the attempt dir
  kLogged,      // its run holds the artifacts
  kRegistered,  // a model version exists (tagged with the attempt id)
  kChallenger,  // the challenger alias points at it
  kEvaluated,   // replay and twin figures computed, verdict taken
  kDecided,     // promote/refuse recorded (and the champion alias moved when promoted)
};
const char* ToString(AttemptStep step);
AttemptStep ParseAttemptStep(const std::string& s);

struct Attempt {
  std::string id;
  std::string kind = "retrain";  // or "heuristic" (a registered heuristic as challenger)
  AttemptStep step = AttemptStep::kTraining;
  nlohmann::json trigger = nlohmann::json::object();  // why: drift figures, schedule, manual
  int64_t parent_version = 0;  // the champion it must beat
  nlohmann::json traffic;      // the calibrated twin::TrafficConfig
  std::string heuristic;       // kind "heuristic": its source
  std::string run_id;
  int64_t version = 0;
  nlohmann::json figures = nlohmann::json::object();
  std::string verdict;  // "promote" | "refuse"
  std::string reason;
  int64_t started_ms = 0;
  int failures = 0;
  std::string last_error;
  nlohmann::json ToJson() const;
  static Attempt FromJson(const nlohmann::json& j);
};

// The watch on a version that just became champion.
struct Watch {
  int64_t version = 0, previous = 0;
  int64_t promoted_at_ms = 0;
  std::string promoted_by;
  OutcomeCounts baseline;  // the previous champion's latest requests
  OutcomeCounts live;      // the new version's requests so far
  int64_t next_look = 0;   // live.requests at the next test
  nlohmann::json ToJson() const;
  static Watch FromJson(const nlohmann::json& j);
};

struct TrackState {
  int64_t champion = 0;           // last seen champion version (0: none yet)
  int64_t rolled_back_to = 0;     // our own rollback's target: its alias move is not watched
  std::optional<Attempt> attempt;
  std::optional<Watch> watch;
  std::map<std::string, std::string> kpi_runs;  // version ("3", "none") -> run id
  nlohmann::json last_drift = nullptr;
  std::vector<nlohmann::json> history;  // finished attempts and watches, newest last (<= 20)
  int64_t last_attempt_ms = 0;
  nlohmann::json ToJson() const;
  static TrackState FromJson(const nlohmann::json& j);
};

struct ServiceState {
  std::map<std::string, TrackState> tracks;  // by use case
  static ServiceState Load(const std::string& path);  // throws on a corrupt file
  void Save(const std::string& path) const;           // atomic replace
  nlohmann::json ToJson() const;
};

// Writes `text` to `path` atomically: a crash leaves the old file or the new one, never half.
void WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace eonops::lifecycle
