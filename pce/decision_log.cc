#include "pce/decision_log.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "tracking/entities.h"

namespace eonops::pce {

nlohmann::json DecisionRecord::ToJson() const {
  return {{"seq", seq},   {"time_ms", time_ms},          {"operation", operation},
          {"uuid", uuid}, {"request", request.ToJson()}, {"decision", decision.ToJson()}};
}

DecisionLog::DecisionLog(DecisionLogOptions options, TrackingConnector connector,
                         std::map<std::string, std::string> run_params, Metrics* metrics)
    : options_(std::move(options)),
      connector_(std::move(connector)),
      run_params_(std::move(run_params)),
      metrics_(metrics) {
  thread_ = std::thread([this] { Loop(); });
}

DecisionLog::~DecisionLog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DecisionLog::Record(DecisionRecord r) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    r.seq = next_seq_++;
    if (r.time_ms == 0) r.time_ms = tracking::NowMs();
    queue_.push_back(std::move(r));
    if (queue_.size() > options_.max_queue) {
      queue_.pop_front();
      ++dropped_;
      if (metrics_) metrics_->DecisionsDropped(1);
    }
    wake = queue_.size() >= options_.max_batch;
  }
  if (wake) wake_.notify_one();
}

void DecisionLog::SetTag(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_tags_[key] = value;
}

std::string DecisionLog::run_id() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return run_id_;
}

size_t DecisionLog::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

std::string DecisionLog::last_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

bool DecisionLog::Flush() {
  std::unique_lock<std::mutex> io(io_mutex_);
  return FlushLocked(io);
}

bool DecisionLog::EnsureRun() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!run_id_.empty()) return true;
  }
  try {
    if (!backend_) backend_ = connector_();
    const std::string exp = backend_->GetOrCreateExperiment(options_.experiment);
    tracking::CreateRunOptions ro;
    ro.experiment_id = exp;
    ro.run_name = options_.run_name;
    if (ro.run_name.empty()) {
      const std::time_t now = std::time(nullptr);
      char buf[32];
      std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", std::gmtime(&now));
      auto it = run_params_.find("topology");
      ro.run_name = "pce-" + (it != run_params_.end() ? it->second + "-" : std::string()) + buf;
    }
    ro.user_id = "eonops-pce";
    ro.tags = {{"eonops.kind", "pce-decisions"}};
    const std::string id = backend_->CreateRun(ro).info.run_id;
    std::vector<tracking::Param> params;
    for (const auto& [k, v] : run_params_) {
      params.push_back({k, v});
      if (params.size() == 100) {
        backend_->LogBatch(id, {}, params, {});
        params.clear();
      }
    }
    if (!params.empty()) backend_->LogBatch(id, {}, params, {});
    std::lock_guard<std::mutex> lock(mutex_);
    run_id_ = id;
    return true;
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_error_ = std::string("decision log: ") + e.what();
    return false;
  }
}

bool DecisionLog::FlushLocked(std::unique_lock<std::mutex>&) {
  if (!EnsureRun()) return false;
  for (;;) {
    std::vector<DecisionRecord> batch;
    std::map<std::string, std::string> tags;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const size_t n = std::min(queue_.size(), options_.max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      tags.swap(pending_tags_);
    }
    if (batch.empty() && tags.empty()) return true;
    int64_t decisions = decisions_, blocked = blocked_, fallbacks = fallbacks_;
    try {
      std::vector<tracking::Episode> episodes;
      std::vector<double> compute;
      episodes.reserve(batch.size());
      for (const auto& r : batch) {
        tracking::Episode e;
        e.episode = r.seq;
        e.reward = r.decision.feasible ? 1.0 : -1.0;
        e.length = 1;
        e.blocking = r.decision.feasible ? 0.0 : 1.0;
        if (r.decision.feasible) e.energy = r.decision.incremental_power_w;
        e.extra_json = r.ToJson().dump();
        e.timestamp_ms = r.time_ms;
        episodes.push_back(std::move(e));
        compute.push_back(r.decision.compute_us);
        ++decisions;
        if (!r.decision.feasible) ++blocked;
        if (r.decision.fell_back) ++fallbacks;
      }
      if (!episodes.empty()) backend_->LogEpisodes(run_id_, episodes);
      std::vector<tracking::Metric> metrics;
      if (!batch.empty()) {
        const int64_t now = tracking::NowMs();
        std::sort(compute.begin(), compute.end());
        auto pct = [&](double q) {
          return compute[static_cast<size_t>(std::floor(q * (compute.size() - 1) + 0.5))];
        };
        metrics = {{"pce/decisions", double(decisions), now, decisions},
                   {"pce/blocking", double(blocked) / decisions, now, decisions},
                   {"pce/fallback_rate", double(fallbacks) / decisions, now, decisions},
                   {"pce/compute_p50_us", pct(0.5), now, decisions},
                   {"pce/compute_p99_us", pct(0.99), now, decisions}};
      }
      std::vector<tracking::Tag> tag_list;
      for (const auto& [k, v] : tags) tag_list.push_back({k, v});
      if (!metrics.empty() || !tag_list.empty()) backend_->LogBatch(run_id_, metrics, {}, tag_list);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      last_error_ = std::string("decision log: ") + e.what();
      // Back to the front, oldest first; beyond the cap the oldest go.
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
      while (queue_.size() > options_.max_queue) {
        queue_.pop_front();
        ++dropped_;
        if (metrics_) metrics_->DecisionsDropped(1);
      }
      for (auto& [k, v] : tags) pending_tags_.emplace(k, v);  // newer values win
      return false;
    }
    decisions_ = decisions;
    blocked_ = blocked;
    fallbacks_ = fallbacks;
    logged_ += static_cast<int64_t>(batch.size());
    if (metrics_) metrics_->DecisionLogged(static_cast<int64_t>(batch.size()));
    if (batch.size() < options_.max_batch) return true;
  }
}

void DecisionLog::Loop() {
  for (;;) {
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms),
                     [&] { return stop_ || queue_.size() >= options_.max_batch; });
      stopping = stop_;
    }
    {
      std::unique_lock<std::mutex> io(io_mutex_);
      FlushLocked(io);
      if (stopping) {
        std::string id = run_id();
        if (!id.empty() && backend_) {
          try {
            backend_->EndRun(id, tracking::RunStatus::kFinished);
          } catch (const std::exception&) {
            // The run stays RUNNING in the store; nothing else to do on the way out.
          }
        }
        return;
      }
    }
  }
}

}  // namespace eonops::pce
