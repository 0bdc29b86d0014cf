#include "tracking/entities.h"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace eonops::tracking {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kScheduled:
      return "SCHEDULED";
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  return "RUNNING";
}

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  // MLflow's proto enum numbers are accepted too: a proto JSON parser takes either.
  static constexpr std::pair<const char*, RunStatus> kNames[] = {
      {"RUNNING", RunStatus::kRunning},     {"1", RunStatus::kRunning},
      {"SCHEDULED", RunStatus::kScheduled}, {"2", RunStatus::kScheduled},
      {"FINISHED", RunStatus::kFinished},   {"3", RunStatus::kFinished},
      {"FAILED", RunStatus::kFailed},       {"4", RunStatus::kFailed},
      {"KILLED", RunStatus::kKilled},       {"5", RunStatus::kKilled},
  };
  for (const auto& [n, s] : kNames)
    if (EqualsIgnoreCase(name, n)) return s;
  return std::nullopt;
}

std::optional<ViewType> ParseViewType(std::string_view name) {
  static constexpr std::pair<const char*, ViewType> kNames[] = {
      {"ACTIVE_ONLY", ViewType::kActiveOnly},
      {"1", ViewType::kActiveOnly},
      {"DELETED_ONLY", ViewType::kDeletedOnly},
      {"2", ViewType::kDeletedOnly},
      {"ALL", ViewType::kAll},
      {"3", ViewType::kAll},
  };
  for (const auto& [n, v] : kNames)
    if (EqualsIgnoreCase(name, n)) return v;
  return std::nullopt;
}

const char* StageName(Stage stage) {
  switch (stage) {
    case Stage::kNone:
      return "None";
    case Stage::kStaging:
      return "Staging";
    case Stage::kProduction:
      return "Production";
    case Stage::kArchived:
      return "Archived";
  }
  return "None";
}

std::optional<Stage> ParseStage(std::string_view name) {
  for (Stage s : {Stage::kNone, Stage::kStaging, Stage::kProduction, Stage::kArchived})
    if (EqualsIgnoreCase(name, StageName(s))) return s;
  return std::nullopt;
}

}  // namespace eonops::tracking
