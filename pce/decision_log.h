// The PCE's decision log: every decision (request, policy version, decision, fallback, compute
// time) goes to a run of the tracking store, so the tracking UI can show which policy served
// what.
//
// The run lives in experiment `options.experiment` ("pce"), one run per PCE process; each
// decision is an RL episode of length 1 (reward +1 accepted / -1 blocked, blocking 0/1, energy
// = incremental power in W) whose extra_json holds the whole record, and every flush logs
// running metrics (pce/decisions, pce/blocking, pce/fallback_rate, pce/compute_p50_us,
// pce/compute_p99_us) at step = decisions so far. The served policy is a run tag
// (pce.policy.<use case>) that follows swaps.
//
// Record() only appends to a bounded in-memory queue; a background thread writes batches every
// flush interval. When the store is unreachable, batches are retried and, past max_queue, the
// oldest are dropped and counted, so the request path never waits on the tracking store.
//
//   DecisionLog log(options.decision_log, connector, params, &metrics);
//   log.Record({"create", service_uuid, request, decision});
//   log.Flush();   // tests; the destructor flushes and ends the run
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "pce/config.h"
#include "pce/metrics.h"
#include "pce/request.h"
#include "pce/tracking_backend.h"

namespace eonops::pce {

struct DecisionRecord {
  std::string operation;  // "compute" | "create"
  std::string uuid;       // of the service or computed path ("" when blocked)
  PathRequest request;
  PathDecision decision;
  int64_t time_ms = 0;  // stamped by Record when 0
  int64_t seq = 0;      // stamped by Record
  nlohmann::json ToJson() const;
};

class DecisionLog {
 public:
  // `run_params` are logged once as the run's params (flat strings).
  DecisionLog(DecisionLogOptions options, TrackingConnector connector,
              std::map<std::string, std::string> run_params, Metrics* metrics);
  ~DecisionLog();
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  void Record(DecisionRecord record);
  // Sets a run tag (e.g. the served policy), written with the next flush.
  void SetTag(const std::string& key, const std::string& value);
  // Writes everything pending now; false when the store could not be reached.
  bool Flush();

  std::string run_id() const;
  size_t pending() const;
  int64_t logged() const { return logged_; }
  int64_t dropped() const { return dropped_; }
  std::string last_error() const;

 private:
  void Loop();
  bool FlushLocked(std::unique_lock<std::mutex>& io_lock);
  bool EnsureRun();

  DecisionLogOptions options_;
  TrackingConnector connector_;
  std::map<std::string, std::string> run_params_;
  Metrics* metrics_;

  mutable std::mutex mutex_;  // queue, tags, error
  std::condition_variable wake_;
  std::deque<DecisionRecord> queue_;
  std::map<std::string, std::string> pending_tags_;
  int64_t next_seq_ = 0;
  bool stop_ = false;
  std::string last_error_;

  std::mutex io_mutex_;  // the backend and the run (one writer at a time)
  std::unique_ptr<TrackingBackend> backend_;
  std::string run_id_;
  int64_t decisions_ = 0, blocked_ = 0, fallbacks_ = 0;
  std::atomic<int64_t> logged_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace eonops::pce
