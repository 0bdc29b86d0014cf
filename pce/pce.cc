#include "pce/pce.h"

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "pce/routing.h"
#include "pce/validation.h"
#include "tracking/entities.h"
#include "twin/envs.h"

namespace eonops::pce {

namespace fs = std::filesystem;

namespace {

constexpr twin::UseCase kUseCases[] = {twin::UseCase::kDeepRmsa, twin::UseCase::kLatencyRsa,
                                       twin::UseCase::kQotRmbsa, twin::UseCase::kEnergyRmsa};

twin::Request ToTwinRequest(const PathRequest& p, int64_t id) {
  twin::Request r;
  r.id = id;
  r.src = p.src;
  r.dst = p.dst;
  r.bit_rate_gbps = p.bit_rate_gbps;
  r.latency_bound_us = p.latency_bound_us;
  return r;
}

std::string BlockReason(const twin::NetworkModel& m, const PathRequest& r, twin::BlockCause cause,
                        bool constrained) {
  const std::string where =
      " between " + m.topology().node(r.src).name + " and " + m.topology().node(r.dst).name;
  const std::string paths =
      constrained ? "candidate path satisfying the topology constraints" : "candidate path";
  switch (cause) {
    case twin::BlockCause::kNoSpectrum:
      return "no free block of contiguous slots on any " + paths + " and band" + where;
    case twin::BlockCause::kQot:
      return "no modulation format meets the QoT on any " + paths + where;
    case twin::BlockCause::kQotImpact:
      return "every usable lightpath" + where + " would push a lit one below its GSNR threshold";
    case twin::BlockCause::kLatency: {
      std::ostringstream s;
      s << "every " << paths << where << " exceeds the latency bound of " << r.latency_bound_us
        << " us";
      return s.str();
    }
    case twin::BlockCause::kNoPath:
      return constrained ? "no path" + where + " satisfies the topology constraints"
                         : "no path" + where;
    case twin::BlockCause::kNone:
      break;
  }
  return "blocked";
}

std::string SanitiseName(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out.substr(0, 64);
}

}  // namespace

// A decided lightpath before it is committed.
struct Pce::Proposal {
  twin::Candidate candidate;
  int slot = -1;
  Check check;
};

Pce::Pce(PceConfig config, PceSetup setup)
    : config_(std::move(config)),
      setup_(std::move(setup)),
      model_(std::make_shared<const twin::NetworkModel>(config_.network)),
      ted_(model_),
      state_(model_),
      trace_(config_.pce.trace_events) {
  // Validation refuses a lightpath that would push a lit one below its threshold: that needs the
  // lit lightpaths' GSNR kept up to date (twin/qot_impact.h).
  if (config_.pce.validation.qot) state_.EnableQotTracking();
  for (twin::UseCase u : kUseCases) {
    fallbacks_[u] = twin::MakeHeuristic(config_.pce.FallbackFor(u));
    slots_[u];
  }
  for (const auto& b : config_.pce.policies) {
    PolicyStatus st;
    st.use_case = b.use_case;
    st.binding = b;
    if (!setup_.tracking)
      st.last_error = "no tracking store configured (--tracking or --tracking-db)";
    policy_status_[b.use_case] = st;
  }
  if (!setup_.state_db.empty()) {
    store_ = std::make_unique<StateStore>(setup_.state_db, config_.pce.durability,
                                          model_->options().ToJson());
    for (Service& s : store_->LoadServices()) Relight(std::move(s));
    int64_t max_seq = 0;
    for (const auto& [uuid, live] : services_) max_seq = std::max(max_seq, live->service.seq);
    for (ComputedPath& p : store_->LoadPaths()) {
      max_seq = std::max(max_seq, p.seq);
      path_by_service_[p.service_uuid] = p.uuid;
      path_by_seq_[p.seq] = p.uuid;
      std::string uuid = p.uuid;
      paths_.emplace(std::move(uuid), std::move(p));
    }
    next_seq_ = max_seq + 1;
    {
      std::lock_guard<std::mutex> lock(paths_mutex_);
      EvictComputedPathsLocked();  // the limit may have been lowered since
    }
    std::string err = CheckInvariants();
    if (!err.empty())
      throw std::runtime_error("state database " + setup_.state_db +
                               ": inconsistent after restart: " + err);
  }
  if (setup_.tracking && config_.pce.decision_log.enabled) {
    std::map<std::string, std::string> params = {
        {"topology", model_->options().topology},
        {"topology_name", model_->topology().name()},
        {"bands",
         [&] {
           std::string s;
           for (const auto& b : model_->plan().bands()) s += (s.empty() ? "" : ",") + b.name;
           return s;
         }()},
        {"k_paths", std::to_string(model_->k())},
        {"modulation_mode", twin::ToString(model_->options().modulation_mode)},
        {"fallback", config_.pce.fallback},
        {"default_use_case", twin::ToString(config_.pce.default_use_case)},
        {"gsnr_margin_db", std::to_string(config_.pce.validation.gsnr_margin_db)},
        {"state_db", setup_.state_db.empty() ? "(memory)" : setup_.state_db}};
    for (const auto& b : config_.pce.policies) {
      params["policy." + std::string(twin::ToString(b.use_case))] = b.model + "@" + b.alias;
    }
    decision_log_ =
        std::make_unique<DecisionLog>(config_.pce.decision_log, setup_.tracking, params, &metrics_);
  }
  scratch_dir_ = setup_.scratch_dir;  // empty: made on the first download (ScratchDir)
  if (setup_.tracking && !config_.pce.policies.empty()) {
    RefreshPolicies();  // serve the champion from the first request on
    if (setup_.poll_registry) poller_ = std::thread([this] { PollLoop(); });
  }
}

Pce::~Pce() {
  {
    std::lock_guard<std::mutex> lock(poll_mutex_);
    stop_ = true;
  }
  poll_wake_.notify_all();
  if (poller_.joinable()) poller_.join();
  decision_log_.reset();  // flushes and ends the run
  if (owns_scratch_) {
    std::error_code ec;
    fs::remove_all(scratch_dir_, ec);
  }
}

PolicySlot& Pce::SlotFor(twin::UseCase u) { return slots_.at(u); }

const twin::Heuristic& Pce::FallbackFor(twin::UseCase u) const { return *fallbacks_.at(u); }

std::shared_ptr<const ServedPolicy> Pce::ServedFor(twin::UseCase u) const {
  return slots_.at(u).Get();
}

void Pce::Relight(Service s) {
  const twin::Topology& t = model_->topology();
  auto live = std::make_unique<LiveService>();
  const PathDecision& d = s.decision;
  if (!d.feasible || d.nodes.size() < 2)
    throw std::runtime_error("state database: service " + s.uuid + " has no lightpath");
  live->path = std::make_unique<twin::Path>(twin::PathFromNodes(t, d.nodes));
  twin::Request r = ToTwinRequest(s.request, next_request_id_++);
  twin::Candidate c = model_->EvaluatePath(r, *live->path, d.band);
  // The stored decision is what was lit; the rules of the day may have been different.
  c.cause = twin::BlockCause::kNone;
  c.width = d.width;
  c.modulation = d.modulation;
  if (d.band < 0 || d.band >= model_->NumBands() || c.modulation < 0 ||
      c.modulation >= model_->modulations().NumFormats()) {
    throw std::runtime_error("state database: service " + s.uuid +
                             " names a band or format this network lacks");
  }
  const int32_t id = state_.Provision(r, c, d.slot, std::numeric_limits<double>::infinity());
  if (id < 0) {
    throw std::runtime_error("state database: service " + s.uuid +
                             " cannot be re-lit: its slots are taken or out of range");
  }
  live->lightpath_id = id;
  live->service = std::move(s);
  std::string uuid = live->service.uuid;
  services_.emplace(std::move(uuid), std::move(live));
}

PathDecision Pce::Decide(const PathRequest& request, bool provision,
                         const std::string& service_uuid, const nlohmann::json& name,
                         Service* created, bool* duplicate) {
  const auto t0 = std::chrono::steady_clock::now();
  const twin::NetworkModel& m = *model_;
  PathDecision d;
  d.use_case = request.use_case.value_or(config_.pce.default_use_case);
  d.bit_rate_gbps = request.bit_rate_gbps;
  d.required_margin_db = config_.pce.validation.gsnr_margin_db;
  auto done = [&](PathDecision& x) {
    x.compute_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  };
  if (std::string err = request.Check(m); !err.empty()) {
    d.cause = twin::BlockCause::kNoPath;
    d.reason = err;
    done(d);
    return d;
  }
  const twin::Request r = ToTwinRequest(request, next_request_id_++);
  const bool constrained = request.HasTopologyConstraints();
  std::vector<twin::Path> constrained_paths;
  if (constrained) constrained_paths = ConstrainedPaths(m, request, m.k());

  // 1. The policy, on a snapshot; no lock is held while it decides.
  std::shared_ptr<const ServedPolicy> served =
      request.spectrum ? nullptr : SlotFor(d.use_case).Get();
  std::optional<twin::ActionChoice> choice;
  std::string fallback_reason, fallback_key;
  if (served && served->heuristic) {
    d.policy = served->ref;
    choice = AskServedHeuristic(*served->heuristic, r, constrained, constrained_paths);
    if (!choice) {
      fallback_reason = "the served heuristic " + served->heuristic->Name() +
                        " found no feasible lightpath";
      fallback_key = "no_feasible_action";
    }
  } else if (served) {
    d.policy = served->ref;
    const twin::ObservationLayout& l = served->layout;
    std::vector<float> obs(l.observation_size);
    std::vector<uint8_t> mask(l.num_actions);
    std::vector<twin::ActionChoice> actions;
    {
      std::shared_lock<std::shared_mutex> lock(state_mutex_);
      twin::BuildObservation(l, served->env, state_, r, obs.data(), mask.data(), &actions);
    }
    const int reject = l.RejectAction();
    bool any = false;
    for (int a = 0; a < reject; ++a) {
      if (mask[a] && constrained && !PathAllowed(*actions[a].candidate.path, request)) mask[a] = 0;
      any = any || mask[a];
    }
    mask[reject] = any ? 0 : 1;
    if (!any) {
      fallback_reason = constrained ? "no action of the policy satisfies the topology constraints"
                                    : "the policy has no feasible action (it can only reject)";
      fallback_key = "no_feasible_action";
    } else {
      agents::Decision pd = served->policy->Act(obs.data(), mask.data());
      if (pd.action < 0 || pd.action >= reject || !actions[pd.action].feasible) {
        fallback_reason = "the policy rejected a request that had feasible actions";
        fallback_key = "policy_rejected";
      } else {
        choice = actions[pd.action];
      }
    }
  } else if (!request.spectrum) {
    fallback_reason = "no policy served for " + std::string(twin::ToString(d.use_case));
    fallback_key = "no_policy";
  }

  // 2. Validate (and commit) on the current state.
  std::unique_lock<std::shared_mutex> exclusive(state_mutex_, std::defer_lock);
  std::shared_lock<std::shared_mutex> shared(state_mutex_, std::defer_lock);
  if (provision) {
    exclusive.lock();
    if (services_.count(service_uuid)) {
      if (duplicate) *duplicate = true;
      d.reason = "connectivity service " + service_uuid + " already exists";
      done(d);
      return d;
    }
  } else {
    shared.lock();
  }
  const ValidationOptions& vo = config_.pce.validation;
  std::optional<Proposal> accepted;
  twin::BlockCause cause = twin::BlockCause::kNoPath;
  std::string reason;
  if (choice) {
    Check k = Validate(state_, r, choice->candidate, choice->slot, vo);
    if (k.ok) {
      accepted = Proposal{choice->candidate, choice->slot, k};
      d.decided_by = "policy";
    } else {
      fallback_reason = "the policy's answer failed validation: " + k.reason;
      fallback_key = std::string("invalid_") + twin::ToString(k.cause);
    }
  }
  if (!accepted && request.spectrum) {
    // The client named the media channel: the first candidate path where it is usable.
    const auto& spec = *request.spectrum;
    const std::vector<twin::Path>& list =
        constrained ? constrained_paths : m.paths().Get(r.src, r.dst);
    bool any_candidate = false, any_usable = false, any_latency_ok = false;
    std::string last_reason;
    for (size_t p = 0; p < list.size() && !accepted; ++p) {
      twin::Candidate c = constrained ? m.EvaluatePath(r, list[p], spec.band)
                                      : m.Evaluate(r, static_cast<int>(p), spec.band);
      any_candidate = true;
      if (c.cause != twin::BlockCause::kLatency) any_latency_ok = true;
      if (!c.usable()) continue;
      any_usable = true;
      if (c.width > spec.width) {
        last_reason = "the requested media channel of " + std::to_string(spec.width) +
                      " slots is narrower than the " + std::to_string(c.width) + " slots " +
                      m.modulations().format(c.modulation).name + " needs";
        continue;
      }
      c.width = spec.width;
      Check k = Validate(state_, r, c, spec.slot, vo);
      if (k.ok) {
        accepted = Proposal{c, spec.slot, k};
        d.decided_by = "explicit-spectrum";
      } else {
        last_reason = k.reason;
      }
    }
    if (!accepted) {
      d.decided_by = "explicit-spectrum";
      cause = twin::AggregateCause(any_usable, any_latency_ok, any_candidate);
      reason = "requested spectrum: " +
               (last_reason.empty() ? BlockReason(m, request, cause, constrained) : last_reason);
    }
  } else if (!accepted) {
    const twin::Heuristic& h = FallbackFor(d.use_case);
    twin::Decision hd = constrained ? FitOver(m, state_, r, constrained_paths, FitOf(h.Name()))
                                    : h.Decide(r, state_);
    d.fell_back = true;
    d.fallback_reason = fallback_reason;
    if (hd.accepted) {
      Check k = Validate(state_, r, hd.candidate, hd.slot, vo);
      if (k.ok) {
        accepted = Proposal{hd.candidate, hd.slot, k};
        d.decided_by = "heuristic:" + h.Name();
      } else {
        cause = k.cause;
        reason = h.Name() + "'s lightpath failed validation: " + k.reason;
      }
    } else {
      cause = hd.cause;
      reason = BlockReason(m, request, hd.cause, constrained);
    }
    if (!accepted && d.decided_by.empty()) d.decided_by = "heuristic:" + h.Name();
  }

  if (accepted) {
    const twin::Candidate& c = accepted->candidate;
    d.feasible = true;
    d.cause = twin::BlockCause::kNone;
    d.nodes = c.path->nodes;
    d.fibres = c.path->fibres;
    d.length_km = c.path->length_km;
    d.band = c.band;
    d.band_name = m.plan().band(c.band).name;
    d.slot = accepted->slot;
    d.width = c.width;
    d.modulation = c.modulation;
    d.modulation_name = m.modulations().format(c.modulation).name;
    d.channel = m.plan().SlotsToGrid(c.band, accepted->slot, c.width);
    d.gsnr_db = std::isnan(accepted->check.gsnr_db)
                    ? ActualGsnrDb(state_, c.path->fibres, c.band, accepted->slot, c.width)
                    : accepted->check.gsnr_db;
    d.worst_case_gsnr_db = c.gsnr_db;
    d.threshold_db = m.modulations().format(c.modulation).gsnr_threshold_db;
    d.latency_us = c.latency_us;
    d.incremental_power_w = state_.IncrementalPowerW(c);
    if (provision) {
      auto live = std::make_unique<LiveService>();
      live->path = std::make_unique<twin::Path>(*c.path);
      twin::Candidate lit = c;
      lit.path = live->path.get();
      Service& s = live->service;
      s.uuid = service_uuid;
      s.name = name.is_array() ? name : nlohmann::json::array();
      s.request = request;
      s.created_ms = tracking::NowMs();
      s.seq = next_seq_++;
      done(d);
      s.decision = d;
      if (store_) store_->PutService(s);  // write ahead: throws before anything changes
      const int32_t id =
          state_.Provision(r, lit, accepted->slot, std::numeric_limits<double>::infinity());
      if (id < 0) {
        if (store_) store_->DeleteService(service_uuid);
        throw std::logic_error("validated block " + std::to_string(accepted->slot) +
                               " could not be lit");
      }
      live->lightpath_id = id;
      if (created) *created = s;
      services_.emplace(service_uuid, std::move(live));
    }
  } else {
    d.feasible = false;
    d.cause = cause;
    d.reason = reason;
  }
  done(d);
  return d;
}

std::optional<twin::ActionChoice> Pce::AskServedHeuristic(
    const twin::Heuristic& h, const twin::Request& r, bool constrained,
    const std::vector<twin::Path>& constrained_paths) const {
  twin::Decision hd;
  {
    std::shared_lock<std::shared_mutex> lock(state_mutex_);
    hd = constrained ? h.DecideAmong(r, state_, constrained_paths) : h.Decide(r, state_);
  }
  if (!hd.accepted) return std::nullopt;
  twin::ActionChoice c;
  c.feasible = true;
  c.candidate = hd.candidate;
  c.slot = hd.slot;
  return c;
}

void Pce::Log(const std::string& operation, const std::string& uuid, const PathRequest& r,
              const PathDecision& d) {
  const std::string uc = twin::ToString(d.use_case);
  const std::string by = d.decided_by.rfind("heuristic:", 0) == 0 ? "heuristic" : d.decided_by;
  metrics_.ObserveDecision(uc, by, d.feasible, twin::ToString(d.cause));
  if (d.fell_back) {
    std::string key = d.fallback_reason.empty() ? "unknown" : d.fallback_reason;
    if (key.rfind("no policy served", 0) == 0)
      key = "no_policy";
    else if (key.rfind("the policy's answer failed validation", 0) == 0)
      key = "invalid_answer";
    else if (key.rfind("the policy has no feasible action", 0) == 0 ||
             key.rfind("no action of the policy", 0) == 0)
      key = "no_feasible_action";
    else if (key.rfind("the policy rejected", 0) == 0)
      key = "policy_rejected";
    metrics_.ObserveFallback(uc, key);
  }
  if (decision_log_) decision_log_->Record({operation, uuid, r, d});
}

PathDecision Pce::ComputePath(const PathRequest& request) {
  PathDecision d = Decide(request, false, "", nullptr, nullptr, nullptr);
  Log("compute", "", request, d);
  return d;
}

void Pce::EvictComputedPathsLocked() {
  while (paths_.size() > config_.pce.max_computed_paths && !path_by_seq_.empty()) {
    const std::string uuid = path_by_seq_.begin()->second;
    path_by_seq_.erase(path_by_seq_.begin());
    auto it = paths_.find(uuid);
    if (it == paths_.end()) continue;
    if (store_) store_->DeletePath(uuid);
    path_by_service_.erase(it->second.service_uuid);
    paths_.erase(it);
  }
}

Result<ComputedPath> Pce::ComputeAndStorePath(const PathRequest& request,
                                              const nlohmann::json& name) {
  Result<ComputedPath> res;
  if (std::string err = request.Check(*model_); !err.empty()) {
    res.error = ErrorKind::kInvalid;
    res.message = err;
    return res;
  }
  PathDecision d = Decide(request, false, "", nullptr, nullptr, nullptr);
  ComputedPath p;
  if (d.feasible) {
    p.uuid = RandomUuid();
    p.service_uuid = RandomUuid();
    p.name = name.is_array() ? name : nlohmann::json::array();
    p.request = request;
    p.decision = d;
    p.created_ms = tracking::NowMs();
    p.seq = next_seq_++;
    std::lock_guard<std::mutex> lock(paths_mutex_);
    if (store_) store_->PutPath(p);
    path_by_service_[p.service_uuid] = p.uuid;
    path_by_seq_[p.seq] = p.uuid;
    paths_[p.uuid] = p;
    EvictComputedPathsLocked();
  }
  Log("compute", p.uuid, request, d);
  if (!d.feasible) {
    res.error = ErrorKind::kBlocked;
    res.message = d.reason;
    res.decision = d;
    return res;
  }
  res.value = std::move(p);
  res.decision = d;
  return res;
}

Result<ComputedPath> Pce::OptimizePath(const std::string& uuid,
                                       const std::optional<PathRequest>& request) {
  Result<ComputedPath> res;
  std::optional<ComputedPath> current = GetComputedPath(uuid);
  if (!current) {
    res.error = ErrorKind::kNotFound;
    res.message = "no computed path " + uuid;
    return res;
  }
  PathRequest r = request.value_or(current->request);
  if (std::string err = r.Check(*model_); !err.empty()) {
    res.error = ErrorKind::kInvalid;
    res.message = err;
    return res;
  }
  PathDecision d = Decide(r, false, "", nullptr, nullptr, nullptr);
  Log("optimize", current->uuid, r, d);
  if (!d.feasible) {
    res.error = ErrorKind::kBlocked;
    res.message = d.reason;
    res.decision = d;
    return res;
  }
  std::lock_guard<std::mutex> lock(paths_mutex_);
  auto it = paths_.find(current->uuid);
  if (it == paths_.end()) {
    res.error = ErrorKind::kNotFound;
    res.message = "computed path " + uuid + " was deleted meanwhile";
    return res;
  }
  it->second.request = r;
  it->second.decision = d;
  if (store_) store_->PutPath(it->second);
  res.value = it->second;
  res.decision = d;
  return res;
}

std::optional<ComputedPath> Pce::GetComputedPath(const std::string& uuid) const {
  std::lock_guard<std::mutex> lock(paths_mutex_);
  auto it = paths_.find(uuid);
  if (it == paths_.end()) {
    auto s = path_by_service_.find(uuid);
    if (s == path_by_service_.end()) return std::nullopt;
    it = paths_.find(s->second);
    if (it == paths_.end()) return std::nullopt;
  }
  return it->second;
}

std::vector<ComputedPath> Pce::ListComputedPaths() const {
  std::vector<ComputedPath> out;
  {
    std::lock_guard<std::mutex> lock(paths_mutex_);
    for (const auto& [uuid, p] : paths_) out.push_back(p);
  }
  std::sort(out.begin(), out.end(),
            [](const ComputedPath& a, const ComputedPath& b) { return a.seq < b.seq; });
  return out;
}

std::optional<ComputedPath> Pce::DeleteComputedPath(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(paths_mutex_);
  auto it = paths_.find(uuid);
  if (it == paths_.end()) {
    auto s = path_by_service_.find(uuid);
    if (s == path_by_service_.end()) return std::nullopt;
    it = paths_.find(s->second);
    if (it == paths_.end()) return std::nullopt;
  }
  if (store_) store_->DeletePath(it->first);
  ComputedPath p = std::move(it->second);
  path_by_service_.erase(p.service_uuid);
  path_by_seq_.erase(p.seq);
  paths_.erase(it);
  return p;
}

Result<Service> Pce::CreateService(const ServiceSpec& spec) {
  Result<Service> res;
  if (std::string err = spec.request.Check(*model_); !err.empty()) {
    res.error = ErrorKind::kInvalid;
    res.message = err;
    return res;
  }
  const std::string uuid = spec.uuid.empty() ? RandomUuid() : spec.uuid;
  if (GetService(uuid)) {
    res.error = ErrorKind::kExists;
    res.message = "connectivity service " + uuid + " already exists";
    return res;
  }
  Service created;
  bool duplicate = false;
  PathDecision d = Decide(spec.request, true, uuid, spec.name, &created, &duplicate);
  if (duplicate) {
    res.error = ErrorKind::kExists;
    res.message = d.reason;
    return res;
  }
  Log("create", d.feasible ? uuid : "", spec.request, d);
  trace_.RecordArrival(uuid, spec.request, d, PowerW());
  if (!d.feasible) {
    res.error = ErrorKind::kBlocked;
    res.message = d.reason;
    res.decision = d;
    return res;
  }
  res.value = std::move(created);
  res.decision = d;
  return res;
}

std::optional<Service> Pce::DeleteService(const std::string& uuid) {
  std::unique_lock<std::shared_mutex> lock(state_mutex_);
  auto it = services_.find(uuid);
  if (it == services_.end()) return std::nullopt;
  if (store_) store_->DeleteService(uuid);
  if (!state_.Release(it->second->lightpath_id)) {
    throw std::logic_error("service " + uuid + ": its lightpath was not lit");
  }
  Service s = std::move(it->second->service);
  services_.erase(it);
  lock.unlock();
  trace_.RecordRelease(uuid);
  return s;
}

std::optional<Service> Pce::GetService(const std::string& uuid) const {
  std::shared_lock<std::shared_mutex> lock(state_mutex_);
  auto it = services_.find(uuid);
  if (it == services_.end()) return std::nullopt;
  return it->second->service;
}

std::vector<Service> Pce::ListServices() const {
  std::vector<Service> out;
  {
    std::shared_lock<std::shared_mutex> lock(state_mutex_);
    out.reserve(services_.size());
    for (const auto& [uuid, live] : services_) out.push_back(live->service);
  }
  std::sort(out.begin(), out.end(),
            [](const Service& a, const Service& b) { return a.seq < b.seq; });
  return out;
}

OccupancySnapshot Pce::Occupancy() const {
  std::shared_lock<std::shared_mutex> lock(state_mutex_);
  return OccupancyLocked();
}

OccupancySnapshot Pce::OccupancyLocked() const {
  OccupancySnapshot o;
  const twin::SpectrumState& s = state_.spectrum();
  o.num_fibres = s.NumFibres();
  for (int b = 0; b < s.NumBands(); ++b) o.band_slots.push_back(s.NumSlots(b));
  o.words.reserve(static_cast<size_t>(s.NumFibres()) * s.NumBands());
  for (int f = 0; f < s.NumFibres(); ++f) {
    for (int b = 0; b < s.NumBands(); ++b) {
      const uint64_t* w = s.Words(f, b);
      o.words.emplace_back(w, w + (s.NumSlots(b) + 63) / 64);
    }
  }
  return o;
}

Pce::StateView Pce::View() const {
  StateView v;
  {
    std::shared_lock<std::shared_mutex> lock(state_mutex_);
    v.occupancy = OccupancyLocked();
    v.services.reserve(services_.size());
    for (const auto& [uuid, live] : services_) v.services.push_back(live->service);
  }
  std::sort(v.services.begin(), v.services.end(),
            [](const Service& a, const Service& b) { return a.seq < b.seq; });
  return v;
}

std::string Pce::CheckInvariants() const {
  std::shared_lock<std::shared_mutex> lock(state_mutex_);
  std::string err = state_.CheckInvariants();
  if (!err.empty()) return err;
  if (static_cast<int>(services_.size()) != state_.ActiveLightpaths()) {
    return std::to_string(services_.size()) + " services but " +
           std::to_string(state_.ActiveLightpaths()) + " lightpaths lit";
  }
  for (const auto& [uuid, live] : services_) {
    const twin::Lightpath* lp = state_.Find(live->lightpath_id);
    const PathDecision& d = live->service.decision;
    if (lp == nullptr) return "service " + uuid + " has no lit lightpath";
    if (lp->path->fibres != d.fibres || lp->band != d.band || lp->slot != d.slot ||
        lp->width != d.width) {
      return "service " + uuid + " is lit elsewhere than it says";
    }
    for (int f : d.fibres) {
      for (int x = d.slot; x < d.slot + d.width; ++x) {
        if (state_.spectrum().Owner(f, d.band, x) != live->lightpath_id) {
          return "service " + uuid + " does not own slot " + std::to_string(x) + " on fibre " +
                 std::to_string(f);
        }
      }
    }
  }
  return "";
}

TraceSnapshot Pce::Snapshot() const {
  TraceSnapshot snap;
  snap.next_seq = trace_.next_seq();  // first: see TraceSnapshot on why this order is safe
  snap.epoch_us = trace_.epoch_us();
  snap.time_s = trace_.NowS();
  snap.time_ms = tracking::NowMs();
  snap.network = model_->options().ToJson();
  for (const Service& s : ListServices()) {
    TraceEvent e = TraceEvent::Arrival(s.uuid, s.request, s.decision);
    e.time_ms = s.created_ms;
    e.time_s = snap.time_s - (snap.time_ms - s.created_ms) * 1e-3;
    snap.services.push_back(std::move(e));
  }
  return snap;
}

double Pce::PowerW() const {
  std::shared_lock<std::shared_mutex> lock(state_mutex_);
  return state_.PowerW();
}

Metrics::Gauges Pce::CurrentGauges() const {
  Metrics::Gauges g;
  {
    std::shared_lock<std::shared_mutex> lock(state_mutex_);
    g.active_services = static_cast<int64_t>(services_.size());
    const twin::SpectrumState& s = state_.spectrum();
    for (int b = 0; b < s.NumBands(); ++b) {
      const double cap = double(s.NumSlots(b)) * s.NumFibres();
      g.spectrum_utilisation.push_back(
          {model_->plan().band(b).name, cap > 0 ? s.TotalUsedSlots(b) / cap : 0.0});
    }
  }
  {
    std::lock_guard<std::mutex> lock(paths_mutex_);
    g.computed_paths = static_cast<int64_t>(paths_.size());
  }
  if (decision_log_) g.decision_log_pending = static_cast<int64_t>(decision_log_->pending());
  for (twin::UseCase u : kUseCases) {
    auto p = slots_.at(u).Get();
    if (!p) continue;
    g.policies.push_back(
        {twin::ToString(u), p->ref.model, std::to_string(p->ref.version), p->ref.run_id});
  }
  return g;
}

std::vector<PolicyStatus> Pce::Policies() const {
  std::vector<PolicyStatus> out;
  std::lock_guard<std::mutex> lock(policy_mutex_);
  for (const auto& [u, st] : policy_status_) out.push_back(st);
  return out;
}

void Pce::ServePolicyDir(twin::UseCase use_case, const std::string& dir) {
  PolicyRef ref;
  ref.model = "local:" + fs::path(dir).lexically_normal().string();
  ref.run_id = agents::ReadManifest(dir).run_id;
  Pin(use_case, LoadServedPolicy(dir, use_case, ref, dir, *model_, config_));
}

void Pce::ServePolicy(twin::UseCase use_case, std::unique_ptr<agents::Policy> policy,
                      const std::string& label) {
  PolicyRef ref;
  ref.model = label;
  ref.run_id = policy ? policy->manifest().run_id : "";
  Pin(use_case, CheckServedPolicy(std::move(policy), use_case, ref, label, *model_, config_));
}

void Pce::Pin(twin::UseCase use_case, std::shared_ptr<const ServedPolicy> served) {
  const PolicyRef ref = served->ref;
  std::lock_guard<std::mutex> refresh(refresh_mutex_);  // not in the middle of a registry poll
  std::lock_guard<std::mutex> lock(policy_mutex_);
  pinned_.insert(use_case);
  SlotFor(use_case).Publish(served);
  metrics_.PolicySwapped();
  PolicyStatus& st = policy_status_[use_case];
  st.use_case = use_case;
  st.served = served->ref;
  st.note = served->note;
  st.last_error.clear();
  st.loaded_at_ms = served->loaded_at_ms;
  st.load_ms = served->load_ms;
  if (decision_log_)
    decision_log_->SetTag("pce.policy." + std::string(twin::ToString(use_case)), ref.model);
}

void Pce::RefreshPolicies() { PollOnce(); }

std::string Pce::ScratchDir() {
  if (scratch_dir_.empty()) {
    std::string templ = (fs::temp_directory_path() / "eonops-pce-XXXXXX").string();
    if (!mkdtemp(templ.data()))
      throw std::runtime_error("cannot create a scratch directory like " + templ);
    scratch_dir_ = templ;
    owns_scratch_ = true;
  }
  return scratch_dir_;
}

void Pce::PollLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(poll_mutex_);
      poll_wake_.wait_for(lock, std::chrono::milliseconds(config_.pce.registry_poll_ms),
                          [&] { return stop_; });
      if (stop_) return;
    }
    try {
      PollOnce();
    } catch (const std::exception& e) {
      // PollOnce reports its own failures; this keeps the poller alive through anything else.
      std::lock_guard<std::mutex> lock(policy_mutex_);
      for (auto& [u, st] : policy_status_)
        st.last_error = std::string("registry poll: ") + e.what();
    }
  }
}

void Pce::PollOnce() {
  std::lock_guard<std::mutex> refresh(refresh_mutex_);
  if (!setup_.tracking) return;
  auto set_error = [&](twin::UseCase u, const std::string& e) {
    std::lock_guard<std::mutex> lock(policy_mutex_);
    policy_status_[u].last_error = e;
  };
  if (!registry_) {
    try {
      registry_ = setup_.tracking();
    } catch (const std::exception& e) {
      for (const auto& b : config_.pce.policies)
        set_error(b.use_case, std::string("registry: ") + e.what());
      return;
    }
  }
  for (const auto& b : config_.pce.policies) {
    {
      std::lock_guard<std::mutex> lock(policy_mutex_);
      if (pinned_.count(b.use_case)) continue;
    }
    std::optional<tracking::ModelVersion> v;
    try {
      v = ResolveServedVersion(*registry_, b);
    } catch (const std::exception& e) {
      set_error(b.use_case, std::string("registry: ") + e.what());  // keep serving what we have
      continue;
    }
    PolicySlot& slot = SlotFor(b.use_case);
    std::shared_ptr<const ServedPolicy> current = slot.Get();
    const std::string uc = twin::ToString(b.use_case);
    if (!v) {
      if (current) {
        slot.Publish(nullptr);
        metrics_.PolicySwapped();
        if (decision_log_) decision_log_->SetTag("pce.policy." + uc, "none");
      }
      std::lock_guard<std::mutex> lock(policy_mutex_);
      PolicyStatus& st = policy_status_[b.use_case];
      st.served.reset();
      st.last_error = "no version of " + b.model + " has alias '" + b.alias + "'" +
                      (b.production_stage ? " or stage Production" : "");
      continue;
    }
    if (current && current->ref.model == b.model && current->ref.version == v->version) continue;
    const int64_t now = tracking::NowMs();
    {
      std::lock_guard<std::mutex> lock(policy_mutex_);
      auto f = failed_version_.find(b.use_case);
      if (f != failed_version_.end() && f->second.first == v->version && now < f->second.second)
        continue;
    }
    std::string dir, local;
    try {
      const PolicyRef ref{b.model, v->version, v->run_id};
      std::shared_ptr<const ServedPolicy> served;
      if (auto h = HeuristicSource::Parse(v->source)) {
        served = LoadServedHeuristic(*h, b.use_case, ref, *model_, config_.traffic.MaxBitRateGbps());
      } else {
        dir = ScratchDir() + "/" + SanitiseName(b.model) + "-v" + std::to_string(v->version) +
              "-" + std::to_string(fetch_counter_++);
        local = FetchArtifactDir(*registry_, *v, dir);
        served = LoadServedPolicy(local, b.use_case, ref, v->source, *model_, config_);
      }
      slot.Publish(served);
      metrics_.PolicySwapped();
      if (decision_log_) decision_log_->SetTag("pce.policy." + uc, served->ref.Label());
      std::lock_guard<std::mutex> lock(policy_mutex_);
      PolicyStatus& st = policy_status_[b.use_case];
      st.served = served->ref;
      st.note = served->note;
      st.last_error.clear();
      st.loaded_at_ms = served->loaded_at_ms;
      st.load_ms = served->load_ms;
      failed_version_.erase(b.use_case);
    } catch (const std::exception& e) {
      metrics_.PolicyLoadFailed();
      set_error(b.use_case, b.model + "/" + std::to_string(v->version) + ": " + e.what());
      std::lock_guard<std::mutex> lock(policy_mutex_);
      failed_version_[b.use_case] = {v->version, now + 5000};  // retry a broken version every 5 s
    }
    if (!dir.empty() && local == dir) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  }
}

}  // namespace eonops::pce
