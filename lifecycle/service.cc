#include "lifecycle/service.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "agents/manifest.h"
#include "lifecycle/contender.h"
#include "lifecycle/gate.h"
#include "lifecycle/replay.h"
#include "lifecycle/retrain.h"
#include "tracking/errors.h"
#include "tracking/mlflow_json.h"

namespace eonops::lifecycle {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr size_t kHistory = 20;
constexpr int kMaxFailures = 3;

// Thrown from the trainer's progress hook when the service stops: training resumes from its
// checkpoint on the next start.
struct Cancelled {};

std::string Fmt(double x, int precision = 4) {
  if (!std::isfinite(x)) return "n/a";
  std::ostringstream s;
  s.precision(precision);
  s << x;
  return s.str();
}

std::string Pct(double x) { return std::isfinite(x) ? Fmt(100.0 * x, 3) + "%" : "n/a"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string TagOf(const tracking::ModelVersion& v, const std::string& key) {
  for (const auto& t : v.tags)
    if (t.key == key) return t.value;
  return "";
}

void Remember(TrackState& st, Json entry) {
  st.history.push_back(std::move(entry));
  while (st.history.size() > kHistory) st.history.erase(st.history.begin());
}

std::string Quote(const std::string& s) {
  std::string q;
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return "'" + q + "'";
}

bool IsConflict(const tracking::TrackingError& e) {
  return e.code() == tracking::ErrorCode::kResourceConflict;
}

}  // namespace

struct LifecycleService::Track {
  twin::UseCase use_case = twin::UseCase::kDeepRmsa;
  std::string uc;
  std::string model;
  std::string alias = "champion";
  TrackState* st = nullptr;  // in state_.tracks (map nodes do not move)
  std::map<int64_t, KpiWindow> kpi;
  std::map<int64_t, OutcomeRing> outcomes;
  std::set<int64_t> dirty;
  double last_time_s = 0;  // the PCE clock at the latest arrival
  std::unique_ptr<DriftDetector> drift;
  int64_t drift_version = -1;
  int64_t served_version = 0;       // the latest version seen deciding in the trace
  int64_t rollback_target = 0;      // waiting to see the PCE serve it again
  int64_t rollback_decided_ms = 0;
};

LifecycleService::LifecycleService(LifecycleConfig config, pce::PceConfig pce_config,
                                   LifecycleSetup setup)
    : config_(std::move(config)),
      pce_config_(std::move(pce_config)),
      setup_(std::move(setup)),
      recorder_(std::max(config_.gate.trace_requests, config_.retrain.calibration_requests) * 2) {
  if (!setup_.source) throw std::invalid_argument("lifecycle: no trace source (the PCE)");
  if (!setup_.tracking) throw std::invalid_argument("lifecycle: no tracking store (the registry)");
  model_ = std::make_shared<const twin::NetworkModel>(pce_config_.network);
  for (const auto& b : pce_config_.pce.policies) {
    const std::string uc = twin::ToString(b.use_case);
    if (!config_.use_cases.empty() &&
        std::find(config_.use_cases.begin(), config_.use_cases.end(), uc) == config_.use_cases.end())
      continue;
    auto t = std::make_unique<Track>();
    t->use_case = b.use_case;
    t->uc = uc;
    t->model = b.model;
    t->alias = b.alias;
    tracks_[b.use_case] = std::move(t);
  }
  for (const auto& uc : config_.use_cases) {
    if (!tracks_.count(twin::ParseUseCase(uc)))
      throw std::runtime_error(config_.origin + ": use_cases: " + uc + " has no policy binding in " +
                               pce_config_.origin);
  }
  if (tracks_.empty())
    throw std::runtime_error(pce_config_.origin +
                             ": pce.policies binds no registered model: nothing to manage");
}

LifecycleService::~LifecycleService() { Stop(); }

void LifecycleService::Log(const std::string& line) {
  if (setup_.log) setup_.log(line);
}

void LifecycleService::Step(Track& t, const std::string& step) {
  if (setup_.on_step) setup_.on_step(t.use_case, step);
}

void LifecycleService::Save() { state_.Save(setup_.state_dir + "/state.json"); }

LifecycleService::Track* LifecycleService::TrackFor(twin::UseCase u) {
  auto it = tracks_.find(u);
  return it == tracks_.end() ? nullptr : it->second.get();
}

pce::TrackingBackend& LifecycleService::LoopRegistry() {
  if (!loop_registry_) loop_registry_ = setup_.tracking();
  return *loop_registry_;
}

std::string LifecycleService::AttemptDir(const Attempt& a) const {
  return setup_.state_dir + "/attempts/" + a.id;
}

void LifecycleService::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_) return;
  fs::create_directories(setup_.state_dir + "/attempts");
  fs::create_directories(setup_.state_dir + "/scratch");
  state_ = ServiceState::Load(setup_.state_dir + "/state.json");
  for (auto& [u, t] : tracks_) t->st = &state_.tracks[t->uc];
  Resync();
  const Json mine = pce_config_.network.ToJson();
  if (recorder_.network() != mine) {
    throw std::runtime_error("the PCE at " + setup_.source->Describe() +
                             " serves another network than " + pce_config_.origin + " (" +
                             recorder_.network().dump() + " vs " + mine.dump() + ")");
  }
  const int64_t now = tracking::NowMs();
  PollRegistry(now);
  for (auto& [u, t] : tracks_) {
    if (t->st->attempt)
      Log(t->uc + ": resuming attempt " + t->st->attempt->id + " after step " +
          ToString(t->st->attempt->step));
  }
  Save();
  started_ = true;
  if (setup_.threads) {
    loop_ = std::thread([this] {
      while (!stop_) {
        try {
          PollOnce();
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> l(mutex_);
          if (last_error_ != e.what()) Log(std::string("loop: ") + e.what());
          last_error_ = e.what();
        }
        std::unique_lock<std::mutex> w(wake_mutex_);
        wake_.wait_for(w, std::chrono::milliseconds(config_.poll_ms), [&] { return stop_.load(); });
      }
    });
  }
}

void LifecycleService::Stop() {
  stop_ = true;
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
  if (worker_.joinable()) worker_.join();
}

void LifecycleService::Resync() {
  recorder_.Reset(setup_.source->Snapshot());
}

void LifecycleService::PollOnce() {
  int64_t cursor;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cursor = recorder_.cursor();
  }
  pce::ServiceTrace::Page page = setup_.source->Read(cursor, 5000);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (page.epoch_us != recorder_.epoch_us() || page.next_seq <= cursor) {
      // Another trace: the PCE restarted (its trace lives in memory).
      Log("trace: the PCE restarted (its trace is at " + std::to_string(page.next_seq - 1) +
          ", we were at " + std::to_string(cursor) + "); starting again from a snapshot");
      Resync();
      page.events.clear();
    } else if (page.first_seq > cursor + 1) {
      Log("trace: " + std::to_string(page.first_seq - cursor - 1) +
          " events were dropped by the PCE before we read them; starting again from a snapshot");
      Resync();
      page.events.clear();
    }
    for (const auto& e : page.events) {
      auto released = recorder_.Apply(e);
      if (e.kind == pce::TraceEvent::Kind::kArrival) {
        if (Track* t = TrackFor(e.use_case)) OnArrival(*t, e);
      } else if (released) {
        if (Track* t = TrackFor(released->use_case)) OnRelease(*t, released->holding_s);
      }
    }
    for (auto& [u, t] : tracks_) CheckWatch(*t);
    const int64_t now = tracking::NowMs();
    if (now - last_kpi_log_ms_ >= config_.kpi.log_interval_ms) {
      last_kpi_log_ms_ = now;
      LogKpis(now);
    }
    if (now - last_registry_poll_ms_ >= config_.registry_poll_ms) PollRegistry(now);
    if (config_.retrain.every_s > 0) {
      for (auto& [u, t] : tracks_) {
        if (!t->st->attempt && now - t->st->last_attempt_ms >= config_.retrain.every_s * 1000) {
          std::string why;
          if (!StartAttempt(*t, {{"kind", "schedule"}, {"every_s", config_.retrain.every_s}}, &why))
            t->st->last_attempt_ms = now;  // try again one period later
        }
      }
    }
  }
  MaybeStartWorker();
}

void LifecycleService::OnArrival(Track& t, const pce::TraceEvent& e) {
  const int64_t version = e.policy && e.policy->model == t.model ? e.policy->version : 0;
  t.served_version = version;
  t.last_time_s = e.time_s;
  t.kpi.try_emplace(version, config_.kpi.window_requests).first->second.Add(e);
  t.dirty.insert(version);
  t.outcomes.try_emplace(version, config_.rollback.baseline_requests)
      .first->second.Add(!e.accepted, e.bit_rate_gbps);
  if (t.st->watch && version == t.st->watch->version) {
    OutcomeCounts& live = t.st->watch->live;
    live.requests += 1;
    live.gbps += e.bit_rate_gbps;
    if (!e.accepted) {
      live.blocked += 1;
      live.blocked_gbps += e.bit_rate_gbps;
    }
  }
  if (t.rollback_target != 0 && version == t.rollback_target) {
    const int64_t lag = e.time_ms - t.rollback_decided_ms;
    Log(t.uc + ": the PCE serves v" + std::to_string(version) + " again, " + std::to_string(lag) +
        " ms after the rollback");
    if (!t.st->history.empty() && t.st->history.back().value("kind", "") == "rollback")
      t.st->history.back()["pce_serving_previous_after_ms"] = lag;
    t.rollback_target = 0;
  }
  if (t.drift) {
    if (auto f = t.drift->AddArrival(e.src, e.dst, e.bit_rate_gbps, e.time_s)) OnDrift(t, *f);
  }
}

void LifecycleService::OnRelease(Track& t, double holding_s) {
  if (t.drift) t.drift->AddHolding(holding_s);
}

double LifecycleService::MeanHolding(const Track& t) const {
  return recorder_.MeanHolding(t.use_case, t.last_time_s, config_.kpi.window_requests * 2);
}

void LifecycleService::LogKpis(int64_t now) {
  pce::TrackingBackend& reg = LoopRegistry();
  for (auto& [u, tp] : tracks_) {
    Track& t = *tp;
    for (int64_t v : t.dirty) {
      const std::string key = v > 0 ? std::to_string(v) : "none";
      std::string& run = t.st->kpi_runs[key];
      try {
        if (run.empty()) {
          const std::string exp = reg.GetOrCreateExperiment(config_.kpi.experiment);
          tracking::SearchRunsRequest q;
          q.experiment_ids = {exp};
          q.filter = "tags.`eonops.lifecycle.model` = " + Quote(t.model) +
                     " AND tags.`eonops.lifecycle.version` = " + Quote(key) +
                     " AND tags.`eonops.lifecycle.use_case` = " + Quote(t.uc);
          q.max_results = 1;
          auto found = reg.SearchRuns(q).items;
          if (!found.empty()) {
            run = found.front().info.run_id;
          } else {
            tracking::CreateRunOptions o;
            o.experiment_id = exp;
            o.run_name = t.model + (v > 0 ? " v" + key : std::string(" (no policy)")) + " · " + t.uc;
            o.user_id = "eonops-lifecycle";
            o.tags = {{"eonops.kind", "lifecycle-kpi"},
                      {"eonops.lifecycle.model", t.model},
                      {"eonops.lifecycle.version", key},
                      {"eonops.lifecycle.use_case", t.uc}};
            run = reg.CreateRun(o).info.run_id;
          }
          Save();
        }
        reg.LogBatch(run, t.kpi.at(v).Figures(MeanHolding(t)).ToMetrics(recorder_.cursor(), now),
                     {}, {});
      } catch (const std::exception& e) {
        if (last_error_ != e.what()) Log(t.uc + ": KPI logging: " + e.what());
        last_error_ = e.what();
        if (run.empty()) t.st->kpi_runs.erase(key);
        return;  // keep them dirty; retried at the next interval
      }
    }
    t.dirty.clear();
    if (t.st->watch) Save();  // the watch's live counts
  }
}

void LifecycleService::PollRegistry(int64_t now) {
  last_registry_poll_ms_ = now;
  pce::TrackingBackend& reg = LoopRegistry();
  for (auto& [u, tp] : tracks_) {
    Track& t = *tp;
    int64_t version = 0;
    try {
      version = reg.GetModelVersionByAlias(t.model, t.alias).version;
    } catch (const tracking::TrackingError& e) {
      if (e.code() != tracking::ErrorCode::kResourceDoesNotExist) {
        if (last_error_ != e.what()) Log(t.uc + ": registry: " + e.what());
        last_error_ = e.what();
        continue;
      }
    }
    if (version != t.st->champion || t.drift_version < 0) ChampionChanged(t, version, now);
  }
}

void LifecycleService::ChampionChanged(Track& t, int64_t version, int64_t now) {
  const int64_t previous = t.st->champion;
  if (version != previous) {
    t.st->champion = version;
    Log(t.uc + ": " + t.model + "@" + t.alias + " is " +
        (version ? "v" + std::to_string(version) : std::string("unset")) +
        (previous ? " (was v" + std::to_string(previous) + ")" : ""));
    if (t.st->watch && t.st->watch->version != version) {
      Json h = t.st->watch->ToJson();
      h["kind"] = "watch";
      h["outcome"] = "superseded by v" + std::to_string(version);
      Remember(*t.st, h);
      t.st->watch.reset();
    }
    if (version != 0 && version == t.st->rolled_back_to) {
      t.st->rolled_back_to = 0;  // our own rollback landed: nothing to watch
    } else if (previous != 0 && version != 0) {
      Watch w;
      w.version = version;
      w.previous = previous;
      w.promoted_at_ms = now;
      try {
        for (const auto& ev : LoopRegistry().GetAliasHistory(t.model, t.alias)) {
          if (ev.to_version == version) {
            w.promoted_at_ms = ev.changed_at_ms;
            w.promoted_by = ev.changed_by;
          }
        }
      } catch (const std::exception&) {
        // the poll time stands in for the move's time
      }
      auto it = t.outcomes.find(previous);
      if (it != t.outcomes.end()) w.baseline = it->second.Counts();
      w.next_look = config_.rollback.min_requests;
      t.st->watch = w;
      Log(t.uc + ": watching v" + std::to_string(version) + " (promoted by " +
          (w.promoted_by.empty() ? std::string("?") : w.promoted_by) + ") against v" +
          std::to_string(previous) + "'s baseline blocking " +
          Pct(w.baseline.Rate(config_.rollback.kpi)) + " over " +
          std::to_string(w.baseline.requests) + " requests");
      Step(t, "watch");
    }
  }
  // The drift reference: the new champion's training scenario.
  twin::TrafficConfig reference = pce_config_.traffic;
  std::string from = pce_config_.origin + " (the PCE config's traffic)";
  if (version != 0) {
    try {
      Contender c = LoadContender(LoopRegistry(), LoopRegistry().GetModelVersion(t.model, version),
                                  t.use_case, model_, pce_config_, setup_.state_dir + "/scratch");
      if (c.training_traffic) {
        reference = *c.training_traffic;
        from = c.label + "'s training scenario";
      }
    } catch (const std::exception& e) {
      Log(t.uc + ": v" + std::to_string(version) + ": " + e.what());
    }
  }
  const twin::UseCase uc = t.use_case;
  t.drift = std::make_unique<DriftDetector>(
      TrafficReference::Make(reference, model_->topology().NumNodes()), config_.drift,
      [this, uc](double now_s) {
        return recorder_.MeanHolding(uc, now_s, config_.drift.window_requests);
      });
  t.drift_version = version;
  Log(t.uc + ": drift reference: " + from + ", " + Fmt(reference.load_erlang) + " Erlang" +
      (reference.traffic_matrix.empty() ? ", uniform pairs" : ", weighted pairs"));
  Save();
}

void LifecycleService::CheckWatch(Track& t) {
  if (!t.st->watch) return;
  Watch& w = *t.st->watch;
  const RollbackOptions& o = config_.rollback;
  if (w.live.requests < w.next_look) return;
  auto end_watch = [&](const std::string& kind, const std::string& outcome, const Json& figures) {
    Json h = w.ToJson();
    h["kind"] = "watch";
    h["outcome"] = outcome;
    Remember(*t.st, h);
    try {
      tracking::RecordDecisionRequest r;
      r.name = t.model;
      r.version = w.version;
      r.kind = kind;
      r.reason = outcome;
      r.figures_json = figures.dump();
      r.key = "watch:" + std::to_string(w.version) + ":" + std::to_string(w.promoted_at_ms);
      LoopRegistry().RecordModelDecision(r);
    } catch (const std::exception& e) {
      Log(t.uc + ": recording the watch's end: " + e.what());
    }
    Log(t.uc + ": " + outcome);
    t.st->watch.reset();
    Save();
    Step(t, kind);
  };
  const double pa = w.baseline.Rate(o.kpi), pb = w.live.Rate(o.kpi);
  Json figures = {{"kpi", o.kpi},
                  {"baseline", w.baseline.ToJson()},
                  {"live", w.live.ToJson()},
                  {"baseline_version", w.previous},
                  {"relative_threshold", o.relative_threshold},
                  {"promoted_at_ms", w.promoted_at_ms},
                  {"promoted_by", w.promoted_by}};
  if (w.baseline.requests < o.min_requests) {
    end_watch("confirm",
              "v" + std::to_string(w.version) + " kept: v" + std::to_string(w.previous) +
                  " left no baseline (" + std::to_string(w.baseline.requests) +
                  " requests seen) to judge it against",
              figures);
    return;
  }
  // H0: pb <= pa (1 + threshold). One-sided z-test, Bonferroni over the planned looks.
  const int64_t looks = std::max<int64_t>(1, (o.watch_requests + o.min_requests - 1) / o.min_requests);
  const double alpha = (1.0 - o.confidence) / looks;
  const double z = NormalQuantile(1.0 - alpha);
  const double bound = pa * (1.0 + o.relative_threshold);
  double se = std::sqrt(pa * (1 - pa) / w.baseline.requests + pb * (1 - pb) / w.live.requests);
  if (se <= 0) se = 1.0 / (w.baseline.requests + w.live.requests);
  const double statistic = (pb - bound) / se;
  figures["z_critical"] = z;
  figures["statistic"] = statistic;
  figures["looks"] = looks;
  if (statistic > z) {
    const int64_t now = tracking::NowMs();
    figures["detected_at_ms"] = now;
    figures["promotion_to_rollback_ms"] = now - w.promoted_at_ms;
    tracking::RecordDecisionRequest r;
    r.name = t.model;
    r.version = w.previous;
    r.kind = "rollback";
    r.reason = "v" + std::to_string(w.version) + " blocks " + Pct(pb) + " over " +
               std::to_string(w.live.requests) + " requests against v" +
               std::to_string(w.previous) + "'s " + Pct(pa) + " (worse by more than " +
               Pct(o.relative_threshold) + " relative, z = " + Fmt(statistic, 3) + " > " +
               Fmt(z, 3) + "): back to v" + std::to_string(w.previous);
    r.figures_json = figures.dump();
    r.key = "rollback:" + std::to_string(w.version) + ":" + std::to_string(w.promoted_at_ms);
    r.alias = t.alias;
    r.expect_alias_version = w.version;
    Json h = w.ToJson();
    h["kind"] = "rollback";
    h["figures"] = figures;
    try {
      LoopRegistry().RecordModelDecision(r);
      h["outcome"] = r.reason;
      t.st->rolled_back_to = w.previous;
      t.rollback_target = w.previous;
      t.rollback_decided_ms = now;
      Log(t.uc + ": ROLLBACK " + r.reason + " (" + std::to_string(now - w.promoted_at_ms) +
          " ms after the promotion)");
    } catch (const tracking::TrackingError& e) {
      if (!IsConflict(e)) throw;
      h["outcome"] = std::string("not rolled back: ") + e.what();
      Log(t.uc + ": " + h["outcome"].get<std::string>());
    }
    Remember(*t.st, h);
    t.st->watch.reset();
    Save();
    Step(t, "rollback");
    return;
  }
  if (w.live.requests >= o.watch_requests) {
    end_watch("confirm",
              "v" + std::to_string(w.version) + " confirmed after " +
                  std::to_string(w.live.requests) + " requests: blocking " + Pct(pb) +
                  " against v" + std::to_string(w.previous) + "'s " + Pct(pa),
              figures);
    return;
  }
  w.next_look += o.min_requests;
}

void LifecycleService::OnDrift(Track& t, const DriftFigures& f) {
  Json j = f.ToJson();
  j["at_ms"] = tracking::NowMs();
  j["reference_version"] = t.drift_version;
  t.st->last_drift = j;
  // The figures as series of the champion's KPI run, beside its KPIs.
  auto run = t.st->kpi_runs.find(t.drift_version > 0 ? std::to_string(t.drift_version) : "none");
  if (run != t.st->kpi_runs.end()) {
    std::vector<tracking::Metric> m;
    const int64_t now = tracking::NowMs(), step = recorder_.cursor();
    for (const auto& [k, v] : {std::pair<const char*, double>{"drift/js_pairs", f.js_pairs},
                               {"drift/js_bit_rate", f.js_bit_rate},
                               {"drift/js_holding", f.js_holding},
                               {"drift/load_ratio", f.load_ratio}})
      if (std::isfinite(v)) m.push_back({k, v, now, step});
    try {
      LoopRegistry().LogBatch(run->second, m, {}, {});
    } catch (const std::exception& e) {
      Log(t.uc + ": logging drift figures: " + e.what());
    }
  }
  if (!f.drifted() || t.drift->consecutive() < config_.drift.confirm_windows) return;
  if (t.drift->consecutive() == config_.drift.confirm_windows) {
    Log(t.uc + ": DRIFT in window " + std::to_string(f.window) + ": " + f.Summary());
    try {
      tracking::RecordDecisionRequest r;
      r.name = t.model;
      r.version = t.st->champion;
      r.kind = "drift";
      r.reason = "traffic drifted from " +
                 (t.st->champion ? "v" + std::to_string(t.st->champion) + "'s training scenario"
                                 : std::string("the PCE config's traffic")) +
                 ": " + f.Summary();
      r.figures_json = j.dump();
      r.key = "drift:" + t.uc + ":" + std::to_string(j["at_ms"].get<int64_t>()) + ":" +
              std::to_string(f.window);
      LoopRegistry().RecordModelDecision(r);
    } catch (const std::exception& e) {
      Log(t.uc + ": recording the drift event: " + e.what());
    }
    Save();
    Step(t, "drift");
  }
  if (config_.retrain.on_drift) {
    std::string why;
    if (!StartAttempt(t, {{"kind", "drift"}, {"figures", j}}, &why) &&
        t.drift->consecutive() == config_.drift.confirm_windows)
      Log(t.uc + ": no retraining now: " + why);
  }
}

bool LifecycleService::RequestRetrain(twin::UseCase use_case, const std::string& heuristic,
                                      std::string* why) {
  bool ok;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Track* t = TrackFor(use_case);
    if (!t) {
      *why = std::string("no managed use case ") + twin::ToString(use_case);
      return false;
    }
    Json trigger = {{"kind", "manual"}};
    if (!heuristic.empty()) {
      try {
        std::optional<pce::HeuristicSource> h = pce::HeuristicSource::Parse(heuristic);
        if (!h) h = pce::HeuristicSource::Parse(pce::HeuristicSource::kScheme + heuristic);
        pce::LoadServedHeuristic(*h, use_case, {}, *model_);  // the PCE's checks, now
        trigger["heuristic"] = h->ToSource();
      } catch (const std::invalid_argument& e) {
        *why = e.what();
        return false;
      }
    }
    ok = StartAttempt(*t, trigger, why);
  }
  if (ok) MaybeStartWorker();
  return ok;
}

bool LifecycleService::StartAttempt(Track& t, const Json& trigger, std::string* why) {
  const int64_t now = tracking::NowMs();
  const bool manual = trigger.value("kind", "") == "manual";
  if (t.st->attempt) {
    *why = "attempt " + t.st->attempt->id + " is at step " + ToString(t.st->attempt->step);
    return false;
  }
  for (const auto& [u, other] : tracks_) {
    if (other->st && other->st->attempt) {
      *why = other->uc + "'s attempt " + other->st->attempt->id + " is running (one at a time)";
      return false;
    }
  }
  if (!manual && now - t.st->last_attempt_ms < config_.retrain.cooldown_s * 1000) {
    *why = "cooling down (" + Fmt((config_.retrain.cooldown_s * 1000 - (now - t.st->last_attempt_ms)) / 1000.0, 3) +
           " s left of retrain.cooldown_s)";
    return false;
  }
  if (t.st->champion == 0) {
    *why = "no champion to start from";
    return false;
  }
  const int64_t recorded = static_cast<int64_t>(recorder_.Latest(config_.gate.trace_requests, t.use_case).size());
  if (recorded < config_.gate.min_trace_requests) {
    *why = "only " + std::to_string(recorded) + " requests of " + t.uc + " recorded (gate.min_trace_requests " +
           std::to_string(config_.gate.min_trace_requests) + ")";
    return false;
  }
  Attempt a;
  a.id = t.uc + "-" + std::to_string(now);
  a.trigger = trigger;
  a.parent_version = t.st->champion;
  a.started_ms = now;
  // The calibrated scenario: what the PCE saw lately.
  double load = std::numeric_limits<double>::quiet_NaN();
  bool bit_rates = false;
  if (trigger.contains("figures")) {
    const Json& f = trigger["figures"];
    if (f.contains("load_erlang") && f["load_erlang"].is_number()) load = f["load_erlang"].get<double>();
    bit_rates = f.value("bit_rate_drifted", false);
  }
  if (!std::isfinite(load)) {
    auto k = t.kpi.find(t.st->champion);
    if (k != t.kpi.end()) load = k->second.Figures(MeanHolding(t)).offered_load_erlang;
  }
  const twin::TrafficConfig reference = t.drift ? t.drift->reference().traffic : pce_config_.traffic;
  const twin::TrafficConfig calibrated = CalibrateTraffic(
      reference, recorder_.Latest(config_.retrain.calibration_requests, t.use_case), load, bit_rates,
      config_.retrain, model_->topology().NumNodes());
  a.traffic = calibrated.ToJson();
  const ReplayTrace trace = recorder_.Cut(config_.gate.trace_requests);
  const std::string dir = AttemptDir(a);
  fs::create_directories(dir);
  WriteFileAtomically(dir + "/trace.json", trace.ToJson().dump());
  a.step = AttemptStep::kTraining;
  if (trigger.contains("heuristic")) {  // a heuristic challenger: nothing to train
    a.kind = "heuristic";
    a.heuristic = trigger["heuristic"].get<std::string>();
    a.step = AttemptStep::kLogged;
  }
  t.st->attempt = a;
  t.st->last_attempt_ms = now;
  Save();
  Log(t.uc + ": attempt " + a.id + " (" + trigger.value("kind", "?") + "): calibrated twin at " +
      Fmt(calibrated.load_erlang) + " Erlang with the observed node-pair weights; trace of " +
      std::to_string(trace.requests.size()) + " requests and " + std::to_string(trace.initial.size()) +
      " lit lightpaths saved; " +
      (a.kind == "heuristic" ? "challenger " + a.heuristic
                             : "training budget " + std::to_string(config_.retrain.steps) + " steps") +
      " against v" + std::to_string(a.parent_version));
  Step(t, ToString(a.step));
  return true;
}

void LifecycleService::MaybeStartWorker() {
  if (!setup_.threads || stop_) return;
  Track* pending = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!started_ || worker_busy_) return;
    for (auto& [u, t] : tracks_)
      if (t->st && t->st->attempt) pending = t.get();
  }
  if (!pending) return;
  if (worker_.joinable()) worker_.join();
  worker_busy_ = true;
  worker_ = std::thread([this, pending] {
    RunAttempt(*pending);
    worker_busy_ = false;
  });
}

void LifecycleService::RunPendingAttempt() {
  for (auto& [u, t] : tracks_) {
    bool has;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      has = t->st && t->st->attempt.has_value();
    }
    if (has) RunAttempt(*t);
  }
}

bool LifecycleService::Idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (worker_busy_) return false;
  for (const auto& [u, t] : tracks_)
    if (t->st && t->st->attempt) return false;
  return true;
}

void LifecycleService::RunAttempt(Track& t) {
  std::unique_ptr<pce::TrackingBackend> registry;
  while (!stop_) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!t.st->attempt) return;
    }
    try {
      if (!registry) registry = setup_.tracking();
      AdvanceAttempt(t, *registry);
    } catch (const Cancelled&) {
      return;  // stopping: the checkpoint and the state file carry on next time
    } catch (const std::exception& e) {
      std::unique_lock<std::mutex> lock(mutex_);
      Attempt& a = *t.st->attempt;
      a.failures += 1;
      a.last_error = std::string(ToString(a.step)) + ": " + e.what();
      Log(t.uc + ": attempt " + a.id + " failed after step " + ToString(a.step) + " (" +
          std::to_string(a.failures) + "/" + std::to_string(kMaxFailures) + "): " + e.what());
      registry.reset();
      if (a.failures >= kMaxFailures) {
        a.verdict = "abandoned";
        a.reason = a.last_error;
        Attempt done = a;
        FinishAttempt(t, done);
        return;
      }
      Save();
      lock.unlock();
      std::unique_lock<std::mutex> w(wake_mutex_);
      wake_.wait_for(w, std::chrono::seconds(2), [&] { return stop_.load(); });
    }
  }
}

void LifecycleService::AdvanceAttempt(Track& t, pce::TrackingBackend& reg) {
  Attempt a;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    a = *t.st->attempt;
  }
  const std::string dir = AttemptDir(a);
  fs::create_directories(dir);
  const tracking::ModelVersion parent = reg.GetModelVersion(t.model, a.parent_version);
  auto experiment = [&](const std::optional<agents::Manifest>& manifest) {
    return RetrainExperiment(config_, pce_config_, manifest,
                             twin::TrafficConfig::FromJson(a.traffic, a.id + " calibrated traffic"),
                             config_.gate.seed + static_cast<uint64_t>(a.started_ms % 1000003),
                             "retrain-" + t.model);
  };
  auto parent_manifest = [&](std::string* parent_dir) -> std::optional<agents::Manifest> {
    if (pce::HeuristicSource::Parse(parent.source)) return std::nullopt;
    *parent_dir = pce::FetchArtifactDir(reg, parent, dir + "/parent");
    return agents::ReadManifest(*parent_dir);
  };
  switch (a.step) {
    case AttemptStep::kTraining: {
      std::string parent_dir;
      const auto manifest = parent_manifest(&parent_dir);
      agents::ExperimentConfig cfg = experiment(manifest);
      cfg.train.log_interval = std::min<int64_t>(std::max<int64_t>(cfg.train.log_interval, 1), 4096);
      int64_t next_report = cfg.train.total_steps / 4;
      const bool es = cfg.train.algorithm == agents::Algorithm::kEs;
      Log(t.uc + ": training " + a.id + (manifest ? " warm-started from v" + std::to_string(a.parent_version)
                                                  : std::string(" from scratch (the champion is a heuristic)")) +
          (es ? " by evolution strategies, " + std::to_string(cfg.es.generations) + " generation(s) of " +
                    std::to_string(2 * cfg.es.pairs) + " simulations x " +
                    std::to_string(cfg.es.requests + cfg.es.warmup) + " requests"
              : ""));
      const RetrainOutcome r = Retrain(cfg, parent_dir, dir + "/checkpoint", dir + "/policy",
                                       [&](const agents::Progress& p) {
                                         if (stop_) throw Cancelled{};
                                         if (es) {
                                           Log(t.uc + ": training generation " + std::to_string(p.updates) + "/" +
                                               std::to_string(cfg.es.generations) + ", blocking " + Pct(p.blocking));
                                         } else if (p.env_steps >= next_report && next_report > 0) {
                                           Log(t.uc + ": training " + std::to_string(p.env_steps) + "/" +
                                               std::to_string(p.total_steps) + " steps, blocking " +
                                               Pct(p.blocking));
                                           next_report += cfg.train.total_steps / 4;
                                         }
                                       });
      a.figures["training"] = {{"env_steps", r.env_steps},     {"seconds", r.seconds},
                               {"blocking", r.blocking},       {"warm_started", r.warm_started},
                               {"resumed", r.resumed},         {"parent_version", a.parent_version}};
      a.step = AttemptStep::kTrained;
      break;
    }
    case AttemptStep::kTrained: {
      std::string parent_dir;
      const agents::ExperimentConfig cfg = experiment(parent_manifest(&parent_dir));
      const std::string exp = reg.GetOrCreateExperiment(config_.retrain.run_experiment);
      tracking::SearchRunsRequest q;
      q.experiment_ids = {exp};
      q.filter = std::string("tags.`") + kTagAttempt + "` = " + Quote(a.id);
      q.max_results = 1;
      auto found = reg.SearchRuns(q).items;
      std::string run;
      if (!found.empty()) {
        run = found.front().info.run_id;
      } else {
        tracking::CreateRunOptions o;
        o.experiment_id = exp;
        o.run_name = "challenger " + t.model + " " + a.id;
        o.user_id = "eonops-lifecycle";
        o.tags = {{kTagAttempt, a.id},
                  {kTagParent, std::to_string(a.parent_version)},
                  {"eonops.kind", "lifecycle-retrain"},
                  {"eonops.lifecycle.model", t.model}};
        run = reg.CreateRun(o).info.run_id;
      }
      std::vector<tracking::Param> params;
      for (const auto& [k, v] : agents::FlattenParams(cfg)) {
        if (k.rfind("traffic.traffic_matrix", 0) == 0) continue;  // in scenario.json instead
        params.push_back({k, v.substr(0, 6000)});
        if (params.size() == 100) {
          reg.LogBatch(run, {}, params, {});
          params.clear();
        }
      }
      if (!params.empty()) reg.LogBatch(run, {}, params, {});
      const Json& tr = a.figures.value("training", Json::object());
      std::vector<tracking::Metric> m;
      const int64_t now = tracking::NowMs();
      for (const char* k : {"env_steps", "seconds", "blocking"})
        if (tr.contains(k) && tr[k].is_number()) m.push_back({std::string("train/") + k, tr[k].get<double>(), now, 0});
      if (!m.empty()) reg.LogBatch(run, m, {}, {});
      for (const auto& f : fs::directory_iterator(dir + "/policy"))
        if (f.is_regular_file()) reg.LogArtifact(run, f.path().string(), "policy");
      WriteFileAtomically(dir + "/scenario.json", Json{{"traffic", a.traffic}, {"trigger", a.trigger}}.dump(2));
      reg.LogArtifact(run, dir + "/scenario.json", "");
      reg.LogArtifact(run, dir + "/trace.json", "");
      reg.EndRun(run, tracking::RunStatus::kFinished);
      a.run_id = run;
      a.step = AttemptStep::kLogged;
      break;
    }
    case AttemptStep::kLogged: {
      tracking::SearchModelsRequest q;
      q.filter = "name = " + Quote(t.model);
      q.max_results = 10000;
      std::optional<tracking::ModelVersion> existing;
      for (const auto& v : reg.SearchModelVersions(q).items) {
        if (TagOf(v, kTagAttempt) == a.id) existing = v;
        if (a.kind == "heuristic" && v.source == a.heuristic && !existing) existing = v;
      }
      if (!existing) {
        std::string trigger = a.trigger.dump();
        if (trigger.size() > 7000) trigger = Json{{"kind", a.trigger.value("kind", "?")}}.dump();
        const std::vector<tracking::Tag> tags = {
            {kTagAttempt, a.id},
            {kTagParent, std::to_string(a.parent_version)},
            {kTagTrigger, trigger},
            {kTagScenario, a.traffic.dump()},
            {kTagKind, a.kind == "heuristic" ? "heuristic" : "drl"}};
        if (a.kind == "heuristic") {
          existing = reg.CreateModelVersion(t.model, a.heuristic, "",
                                            "heuristic " + a.heuristic + " (name + parameters, no weights)",
                                            tags);
        } else {
          existing = reg.CreateModelVersion(
              t.model, "runs:/" + a.run_id + "/policy", a.run_id,
              "retrained on a calibrated twin from v" + std::to_string(a.parent_version) + " (" +
                  a.trigger.value("kind", "?") + ")",
              tags);
        }
      }
      a.version = existing->version;
      a.step = AttemptStep::kRegistered;
      Log(t.uc + ": registered " + t.model + "/" + std::to_string(a.version) + " (" + a.kind +
          ", parent v" + std::to_string(a.parent_version) + ")");
      break;
    }
    case AttemptStep::kRegistered: {
      tracking::RecordDecisionRequest r;
      r.name = t.model;
      r.version = a.version;
      r.kind = "challenger";
      r.reason = (a.kind == "heuristic" ? "heuristic " + a.heuristic : std::string("retrained policy")) +
                 " is the challenger of v" + std::to_string(a.parent_version) + " (" +
                 a.trigger.value("kind", "?") + ")";
      r.figures_json = Json{{"trigger", a.trigger},
                            {"training", a.figures.value("training", Json::object())},
                            {"parent_version", a.parent_version},
                            {"attempt", a.id}}
                           .dump();
      r.key = a.id + ":challenger";
      r.alias = "challenger";
      reg.RecordModelDecision(r);
      a.step = AttemptStep::kChallenger;
      break;
    }
    case AttemptStep::kChallenger:
      a.figures["gate"] = Evaluate(t, a, reg);
      a.step = AttemptStep::kEvaluated;
      Log(t.uc + ": gate for v" + std::to_string(a.version) + ": " + a.verdict + " — " + a.reason);
      break;
    case AttemptStep::kEvaluated:
      Decide(t, a, reg);
      a.step = AttemptStep::kDecided;
      break;
    case AttemptStep::kDecided: {
      std::lock_guard<std::mutex> lock(mutex_);
      FinishAttempt(t, a);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    a.failures = 0;
    t.st->attempt = a;
    Save();
  }
  Step(t, ToString(a.step));
}

Json LifecycleService::Evaluate(Track& t, Attempt& a, pce::TrackingBackend& reg) {
  const std::string dir = AttemptDir(a);
  const ReplayTrace trace = ReplayTrace::FromJson(Json::parse(ReadFile(dir + "/trace.json")));
  const std::string scratch = dir + "/contenders";
  const Contender champion = LoadContender(reg, reg.GetModelVersion(t.model, a.parent_version),
                                           t.use_case, model_, pce_config_, scratch);
  std::optional<Contender> challenger;
  try {
    challenger = LoadContender(reg, reg.GetModelVersion(t.model, a.version), t.use_case, model_,
                               pce_config_, scratch);
  } catch (const std::runtime_error& e) {
    a.verdict = "refuse";
    a.reason = std::string("fails the PCE's compatibility checks: ") + e.what();
    return {{"compatibility", e.what()}, {"verdict", "refuse"}};
  }
  std::vector<Contender> heuristics;
  for (const auto& name : config_.gate.heuristics)
    heuristics.push_back(
        HeuristicContender(name, t.use_case, *model_, twin::HeuristicOptions::ForTraffic(pce_config_.traffic)));
  const GateVerdict v = JudgeChallenger(
      champion, *challenger, heuristics, trace, t.use_case, model_,
      twin::TrafficConfig::FromJson(a.traffic, a.id + " calibrated traffic"), config_.gate);
  a.verdict = v.promote ? "promote" : "refuse";
  a.reason = v.reason;
  Json figures = v.figures;
  figures["compatibility"] = "ok";
  return figures;
}

void LifecycleService::Decide(Track& t, Attempt& a, pce::TrackingBackend& reg) {
  tracking::RecordDecisionRequest r;
  r.name = t.model;
  r.version = a.version;
  r.key = a.id + ":decision";
  Json figures = a.figures.value("gate", Json::object());
  figures["attempt"] = a.id;
  figures["parent_version"] = a.parent_version;
  if (a.verdict == "promote") {
    r.kind = "promote";
    r.reason = a.reason;
    r.figures_json = figures.dump();
    r.alias = t.alias;
    r.expect_alias_version = a.parent_version;
    try {
      reg.RecordModelDecision(r);
      Log(t.uc + ": PROMOTED v" + std::to_string(a.version) + " to " + t.alias + " (was v" +
          std::to_string(a.parent_version) + "): " + a.reason);
      return;
    } catch (const tracking::TrackingError& e) {
      if (!IsConflict(e)) throw;
      a.verdict = "refuse";
      a.reason = std::string("the champion moved during the attempt: ") + e.what();
    }
  }
  r.kind = "refuse";
  r.reason = a.reason;
  r.figures_json = figures.dump();
  r.alias.clear();
  r.expect_alias_version.reset();
  reg.RecordModelDecision(r);
  Log(t.uc + ": REFUSED v" + std::to_string(a.version) + ": " + a.reason);
}

void LifecycleService::FinishAttempt(Track& t, Attempt& a) {
  Json h = {{"kind", "attempt"},        {"id", a.id},
            {"attempt_kind", a.kind},   {"version", a.version},
            {"parent_version", a.parent_version}, {"verdict", a.verdict},
            {"reason", a.reason},       {"trigger", a.trigger.value("kind", "?")},
            {"started_ms", a.started_ms}, {"finished_ms", tracking::NowMs()}};
  Remember(*t.st, h);
  t.st->attempt.reset();
  t.st->last_attempt_ms = tracking::NowMs();
  // The best heuristic beat the champion where the trained challenger did not: it competes next.
  const Json& best = a.figures.value("gate", Json::object()).value("best_heuristic", Json::object());
  if (a.kind == "retrain" && a.verdict == "refuse" && config_.gate.heuristics_compete &&
      best.value("beats_champion", false)) {
    Attempt next;
    next.id = a.id + "-h";
    next.kind = "heuristic";
    next.heuristic = best.value("source", "");
    next.trigger = {{"kind", "heuristic"}, {"after", a.id}};
    next.parent_version = a.parent_version;
    next.traffic = a.traffic;
    next.started_ms = tracking::NowMs();
    next.step = AttemptStep::kLogged;  // nothing to train or log: a source is all it is
    fs::create_directories(AttemptDir(next));
    fs::copy_file(AttemptDir(a) + "/trace.json", AttemptDir(next) + "/trace.json",
                  fs::copy_options::overwrite_existing);
    t.st->attempt = next;
    Log(t.uc + ": " + next.heuristic + " beat the champion on the replay and the twin: it competes next");
  }
  Save();
  std::error_code ec;  // downloaded copies only; the attempt's own files stay for inspection
  fs::remove_all(AttemptDir(a) + "/parent", ec);
  fs::remove_all(AttemptDir(a) + "/contenders", ec);
  Step(t, "finished");
}

Json LifecycleService::Status() const {
  Json tracks = Json::object();
  std::map<std::string, std::string> models;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [u, tp] : tracks_) {
      const Track& t = *tp;
      if (!t.st) continue;
      Json j = {{"use_case", t.uc},
                {"model", t.model},
                {"alias", t.alias},
                {"champion", t.st->champion},
                {"served_version", t.served_version},
                {"watch", t.st->watch ? t.st->watch->ToJson() : Json(nullptr)},
                {"last_drift", t.st->last_drift},
                {"history", t.st->history}};
      if (t.st->attempt) {
        Json a = t.st->attempt->ToJson();
        a.erase("traffic");
        j["attempt"] = a;
      } else {
        j["attempt"] = nullptr;
      }
      auto k = t.kpi.find(t.st->champion);
      j["kpi"] = k != t.kpi.end() ? k->second.Figures(MeanHolding(t)).ToJson() : Json(nullptr);
      if (t.drift) {
        j["drift_reference"] = {{"version", t.drift_version},
                                {"load_erlang", t.drift->reference().load_erlang},
                                {"weighted_pairs", !t.drift->reference().traffic.traffic_matrix.empty()}};
      }
      tracks[t.uc] = j;
      models[t.uc] = t.model;
    }
  }
  // Fresh from the registry (its own connection: the loop's is not shared across threads).
  try {
    auto reg = setup_.tracking();
    for (const auto& [uc, model] : models) {
      Json d = Json::array();
      for (const auto& x : reg->GetModelDecisions(model, 10)) d.push_back(tracking::ToJson(x));
      tracks[uc]["decisions"] = d;
      try {
        tracks[uc]["challenger"] = reg->GetModelVersionByAlias(model, "challenger").version;
      } catch (const std::exception&) {
        tracks[uc]["challenger"] = nullptr;
      }
    }
  } catch (const std::exception& e) {
    for (auto& [uc, j] : tracks.items()) j["decisions_error"] = e.what();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return {{"pce", setup_.source->Describe()},
          {"trace_cursor", recorder_.cursor()},
          {"live_services", recorder_.live()},
          {"recorded_arrivals", recorder_.arrivals()},
          {"worker_busy", worker_busy_.load()},
          {"last_error", last_error_},
          {"use_cases", tracks}};
}

}  // namespace eonops::lifecycle
