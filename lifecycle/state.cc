#include "lifecycle/state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace eonops::lifecycle {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr AttemptStep kSteps[] = {AttemptStep::kTraining,   AttemptStep::kTrained,
                                  AttemptStep::kLogged,     AttemptStep::kRegistered,
                                  AttemptStep::kChallenger, AttemptStep::kEvaluated,
                                  AttemptStep::kDecided};

void FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;  // best effort for directories on odd file systems
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

const char* ToString(AttemptStep s) {
  switch (s) {
    case AttemptStep::kTraining: return "training";
    case AttemptStep::kTrained: return "trained";
    case AttemptStep::kLogged: return "logged";
    case AttemptStep::kRegistered: return "registered";
    case AttemptStep::kChallenger: return "challenger";
    case AttemptStep::kEvaluated: return "evaluated";
    case AttemptStep::kDecided: return "decided";
  }
  return "?";
}

AttemptStep ParseAttemptStep(const std::string& s) {
  for (AttemptStep x : kSteps)
    if (s == ToString(x)) return x;
  throw std::invalid_argument("unknown attempt step '" + s + "'");
}

Json Attempt::ToJson() const {
  return {{"id", id},
          {"kind", kind},
          {"step", ToString(step)},
          {"trigger", trigger},
          {"parent_version", parent_version},
          {"traffic", traffic},
          {"heuristic", heuristic},
          {"run_id", run_id},
          {"version", version},
          {"figures", figures},
          {"verdict", verdict},
          {"reason", reason},
          {"started_ms", started_ms},
          {"failures", failures},
          {"last_error", last_error}};
}

Attempt Attempt::FromJson(const Json& j) {
  Attempt a;
  a.id = j.at("id").get<std::string>();
  a.kind = j.value("kind", "retrain");
  a.step = ParseAttemptStep(j.at("step").get<std::string>());
  a.trigger = j.value("trigger", Json::object());
  a.parent_version = j.value("parent_version", int64_t{0});
  a.traffic = j.value("traffic", Json());
  a.heuristic = j.value("heuristic", "");
  a.run_id = j.value("run_id", "");
  a.version = j.value("version", int64_t{0});
  a.figures = j.value("figures", Json::object());
  a.verdict = j.value("verdict", "");
  a.reason = j.value("reason", "");
  a.started_ms = j.value("started_ms", int64_t{0});
  a.failures = j.value("failures", 0);
  a.last_error = j.value("last_error", "");
  return a;
}

Json Watch::ToJson() const {
  return {{"version", version},         {"previous", previous},
          {"promoted_at_ms", promoted_at_ms}, {"promoted_by", promoted_by},
          {"baseline", baseline.ToJson()}, {"live", live.ToJson()},
          {"next_look", next_look}};
}

Watch Watch::FromJson(const Json& j) {
  Watch w;
  w.version = j.at("version").get<int64_t>();
  w.previous = j.at("previous").get<int64_t>();
  w.promoted_at_ms = j.value("promoted_at_ms", int64_t{0});
  w.promoted_by = j.value("promoted_by", "");
  w.baseline = OutcomeCounts::FromJson(j.value("baseline", Json::object()));
  w.live = OutcomeCounts::FromJson(j.value("live", Json::object()));
  w.next_look = j.value("next_look", int64_t{0});
  return w;
}

Json TrackState::ToJson() const {
  return {{"champion", champion},
          {"rolled_back_to", rolled_back_to},
          {"attempt", attempt ? attempt->ToJson() : Json(nullptr)},
          {"watch", watch ? watch->ToJson() : Json(nullptr)},
          {"kpi_runs", kpi_runs},
          {"last_drift", last_drift},
          {"history", history},
          {"last_attempt_ms", last_attempt_ms}};
}

TrackState TrackState::FromJson(const Json& j) {
  TrackState t;
  t.champion = j.value("champion", int64_t{0});
  t.rolled_back_to = j.value("rolled_back_to", int64_t{0});
  if (j.contains("attempt") && j["attempt"].is_object()) t.attempt = Attempt::FromJson(j["attempt"]);
  if (j.contains("watch") && j["watch"].is_object()) t.watch = Watch::FromJson(j["watch"]);
  t.kpi_runs = j.value("kpi_runs", std::map<std::string, std::string>{});
  t.last_drift = j.value("last_drift", Json());
  if (j.contains("history") && j["history"].is_array())
    for (const auto& h : j["history"]) t.history.push_back(h);
  t.last_attempt_ms = j.value("last_attempt_ms", int64_t{0});
  return t;
}

Json ServiceState::ToJson() const {
  Json tr = Json::object();
  for (const auto& [uc, t] : tracks) tr[uc] = t.ToJson();
  return {{"format", 1}, {"tracks", tr}};
}

ServiceState ServiceState::Load(const std::string& path) {
  ServiceState s;
  std::ifstream in(path);
  if (!in) return s;
  const Json j = Json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw std::runtime_error(path + ": not a lifecycle state file (invalid JSON)");
  try {
    if (j.value("format", 0) != 1) throw std::runtime_error("unsupported format");
    for (const auto& [uc, t] : j.at("tracks").items()) s.tracks[uc] = TrackState::FromJson(t);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": corrupt lifecycle state: " + e.what());
  }
  return s;
}

void ServiceState::Save(const std::string& path) const {
  WriteFileAtomically(path, ToJson().dump(1) + "\n");
}

void WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(tmp + ": cannot write (" + std::strerror(errno) + ")");
    out << text;
    out.flush();
    if (!out) throw std::runtime_error(tmp + ": write failed");
  }
  FsyncPath(tmp, O_RDONLY);
  fs::rename(tmp, path);
  FsyncPath(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().string(),
            O_RDONLY | O_DIRECTORY);
}

}  // namespace eonops::lifecycle
