// The closed MLOps loop around a PCE, for every use case it serves from the registry:
//
//   1. live KPIs per served version over sliding windows, from the PCE's service trace, logged as
//      time series (one tracking run per version, "kpi/..." metrics; the tracking UI draws them
//      as the model's performance trends);
//   2. traffic drift against the champion's training scenario (lifecycle/drift.h), each drift
//      event recorded in the registry's audit trail with its figures;
//   3. on drift (or a schedule, or a request), a retraining attempt on a calibrated twin, warm-
//      started from the champion, registered as alias `challenger` with its lineage;
//   4. shadow replay of the latest recorded trace for challenger, champion and heuristics, from
//      the same starting state, plus paired runs on the calibrated twin;
//   5. promotion only when the paired 95% CIs of the blocking difference lie below zero on both
//      and the PCE's compatibility checks pass; promoted or refused, the decision and its figures
//      go to the registry (the alias moves in the same transaction);
//   6. after any promotion (its own or a hand-moved alias), a watch on the new version's live
//      blocking: worse than the previous champion's baseline by more than 5% relative beyond the
//      noise (one-sided z-test, Bonferroni over the looks) moves the alias back; the PCE follows
//      the alias within its poll interval.
//
// Threads: one loop thread reads the trace, keeps KPIs, drift and watches, and polls the alias;
// one worker thread runs an attempt (train, register, replay, decide), one attempt at a time.
// The state (lifecycle/state.h) is persisted after every step, so a SIGKILL at any point resumes
// where it was and never records a registry change twice.
//
//   LifecycleSetup setup;
//   setup.source = HttpTraceSource("http://127.0.0.1:8080");
//   setup.tracking = pce::HttpConnector("http://127.0.0.1:5000", options);
//   setup.state_dir = "lifecycle-state";
//   LifecycleService service(LifecycleConfig::Load("configs/lifecycle.json"), pce_config,
//                            std::move(setup));
//   service.Start();  ...  nlohmann::json s = service.Status();  ...  service.Stop();
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "lifecycle/config.h"
#include "lifecycle/drift.h"
#include "lifecycle/kpi.h"
#include "lifecycle/state.h"
#include "lifecycle/trace.h"
#include "pce/config.h"
#include "pce/tracking_backend.h"
#include "twin/network.h"

namespace eonops::lifecycle {

struct LifecycleSetup {
  std::unique_ptr<TraceSource> source;  // the PCE
  pce::TrackingConnector tracking;      // the registry and the KPI runs
  std::string state_dir = "lifecycle-state";
  // Called after each persisted attempt step ("training", "trained", ..., "decided") and other
  // milestones ("drift", "rollback", "watch"): progress reports and crash tests.
  std::function<void(twin::UseCase, const std::string& step)> on_step;
  // The timeline, one human-readable line per event (drift, attempt steps, decisions, rollbacks).
  std::function<void(const std::string& line)> log;
  bool threads = true;  // false: the caller drives PollOnce() and RunPendingAttempt() (tests)
};

class LifecycleService {
 public:
  LifecycleService(LifecycleConfig config, pce::PceConfig pce_config, LifecycleSetup setup);
  ~LifecycleService();
  LifecycleService(const LifecycleService&) = delete;
  LifecycleService& operator=(const LifecycleService&) = delete;

  // Loads the state, reads the PCE's snapshot and starts the threads. Throws when the state file
  // is corrupt or the PCE serves another network than the PCE config describes.
  void Start();
  void Stop();

  // One loop iteration: trace, KPIs, drift, alias, watches, triggers.
  void PollOnce();
  // Runs the pending attempt (if any) to its end on the calling thread (threads = false).
  void RunPendingAttempt();
  // Starts an attempt for `use_case` now: a retraining, or with `heuristic` ("ksp-bf",
  // "heuristic:ksp-ff?k=3") that heuristic registered as the challenger. False (with why) when
  // one is running or none can be.
  bool RequestRetrain(twin::UseCase use_case, const std::string& heuristic, std::string* why);
  // True when no attempt is pending or running.
  bool Idle() const;

  nlohmann::json Status() const;
  const LifecycleConfig& config() const { return config_; }

 private:
  struct Track;
  void Log(const std::string& line);
  void Step(Track& t, const std::string& step);
  void Save();
  Track* TrackFor(twin::UseCase u);
  void Resync();
  void OnArrival(Track& t, const pce::TraceEvent& e);
  void OnRelease(Track& t, double holding_s);
  double MeanHolding(const Track& t) const;  // mutex_ held
  void LogKpis(int64_t now_ms);
  void PollRegistry(int64_t now_ms);
  void ChampionChanged(Track& t, int64_t version, int64_t now_ms);
  void CheckWatch(Track& t);
  void OnDrift(Track& t, const DriftFigures& f);
  bool StartAttempt(Track& t, const nlohmann::json& trigger, std::string* why);
  void MaybeStartWorker();
  void RunAttempt(Track& t);
  void AdvanceAttempt(Track& t, pce::TrackingBackend& registry);
  nlohmann::json Evaluate(Track& t, Attempt& a, pce::TrackingBackend& registry);
  void Decide(Track& t, Attempt& a, pce::TrackingBackend& registry);
  void FinishAttempt(Track& t, Attempt& a);
  std::string AttemptDir(const Attempt& a) const;
  pce::TrackingBackend& LoopRegistry();

  LifecycleConfig config_;
  pce::PceConfig pce_config_;
  LifecycleSetup setup_;
  std::shared_ptr<const twin::NetworkModel> model_;
  std::map<twin::UseCase, std::unique_ptr<Track>> tracks_;

  mutable std::mutex mutex_;  // state_, tracks' persisted parts, status
  ServiceState state_;
  TraceRecorder recorder_;
  std::unique_ptr<pce::TrackingBackend> loop_registry_;
  int64_t last_registry_poll_ms_ = 0, last_kpi_log_ms_ = 0;
  std::string last_error_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> worker_busy_{false};
  std::thread loop_, worker_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool started_ = false;
};

}  // namespace eonops::lifecycle
