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

std::string SanitiseName(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out.substr(0, 64);
}

// The status of a use case whose slot now holds `served`.
void RecordServed(PolicyStatus& st, const ServedPolicy& served, std::string note) {
  st.served = served.ref;
  st.note = std::move(note);
  st.last_error.clear();
  st.loaded_at_ms = served.loaded_at_ms;
  st.load_ms = served.load_ms;
}

}  // namespace

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
    twin::HeuristicOptions ho;  // the widest request the capacity-loss rules plan for
    ho.max_bit_rate_gbps =
        std::max(config_.traffic.MaxBitRateGbps(), config_.pce.default_bit_rate_gbps);
    ho.latency_bound_us = config_.traffic.LoosestLatencyBoundUs();
    fallbacks_[u] = twin::MakeHeuristic(config_.pce.FallbackFor(u), ho);
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
      IndexPathLocked(p);
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
  // The policies the config ships with: checked now (a default that does not fit this network
  // is a config error, not something to find at the first request), served until the registry
  // has a version of the binding's model.
  for (size_t i = 0; i < config_.pce.policies.size(); ++i) {
    const PolicyBinding& b = config_.pce.policies[i];
    if (b.default_policy.empty()) continue;
    try {
      PolicyRef ref;
      ref.model = "default:" + fs::path(b.default_policy).filename().string();
      ref.run_id = agents::ReadManifest(b.default_policy).run_id;
      default_policies_[b.use_case] =
          LoadServedPolicy(b.default_policy, b.use_case, ref, b.default_policy, *model_, config_);
    } catch (const std::exception& e) {
      throw std::runtime_error(config_.origin + ": pce.policies[" + std::to_string(i) +
                               "].default_policy: " + e.what());
    }
    // Served from the start, also when a configured registry cannot be reached yet; the first
    // poll that finds a version replaces it.
    PublishDefault(b, setup_.tracking ? "served until the registry names a version"
                                      : "served: no tracking store configured");
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
  const PathRequest back = s.request.Reversed(t);
  for (const PathDecision* d : s.Directions()) {
    if (!d->feasible || d->nodes.size() < 2)
      throw std::runtime_error("state database: service " + s.uuid + " has no lightpath");
    LiveService::Lit lit;
    lit.path = std::make_unique<twin::Path>(twin::PathFromNodes(t, d->nodes));
    twin::Request r = (d == &s.decision ? s.request : back)
                          .ToTwin(next_request_id_++, model_->plan().slot_width_hz());
    twin::Candidate c = model_->EvaluatePath(r, *lit.path, d->band);
    // The stored decision is what was lit; the rules of the day may have been different.
    c.cause = twin::BlockCause::kNone;
    c.width = d->width;
    c.modulation = d->modulation;
    if (d->band < 0 || d->band >= model_->NumBands() || c.modulation < 0 ||
        c.modulation >= model_->modulations().NumFormats()) {
      throw std::runtime_error("state database: service " + s.uuid +
                               " names a band or format this network lacks");
    }
    lit.lightpath_id = state_.Provision(r, c, d->slot, std::numeric_limits<double>::infinity());
    if (lit.lightpath_id < 0) {
      throw std::runtime_error("state database: service " + s.uuid +
                               " cannot be re-lit: its slots are taken or out of range");
    }
    live->lit.push_back(std::move(lit));
  }
  live->service = std::move(s);
  std::string uuid = live->service.uuid;
  services_.emplace(std::move(uuid), std::move(live));
}

void Pce::Log(const std::string& operation, const std::string& uuid, const PathRequest& r,
              const Outcome& o) {
  auto one = [&](const PathRequest& request, const PathDecision& d) {
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
    if (decision_log_) decision_log_->Record({operation, uuid, request, d});
  };
  one(r, o.decision);
  if (o.reverse) one(r.Reversed(model_->topology()), *o.reverse);
}

PathRequest Pce::WithDefaults(PathRequest r) const {
  if (r.bit_rate_gbps == 0 && r.spectrum_width_hz == 0) {
    r.bit_rate_gbps = config_.pce.default_bit_rate_gbps;
    r.capacity_defaulted = true;
  }
  return r;
}

PathDecision Pce::ComputePath(const PathRequest& request) {
  Outcome o = Decide(request, nullptr);
  Log("compute", "", WithDefaults(request), o);
  return o.decision;
}

void Pce::EvictComputedPathsLocked() {
  while (paths_.size() > config_.pce.max_computed_paths && !path_by_seq_.empty()) {
    const std::string uuid = path_by_seq_.begin()->second;
    path_by_seq_.erase(path_by_seq_.begin());
    auto it = paths_.find(uuid);
    if (it == paths_.end()) continue;
    if (store_) store_->DeletePath(uuid);
    UnindexPathLocked(it->second);
    paths_.erase(it);
  }
}

Result<ComputedPath> Pce::ComputeAndStorePath(const PathRequest& given,
                                              const nlohmann::json& name) {
  Result<ComputedPath> res;
  const PathRequest request = WithDefaults(given);
  if (std::string err = request.Check(*model_); !err.empty()) {
    res.error = ErrorKind::kInvalid;
    res.message = err;
    return res;
  }
  Outcome o = Decide(request, nullptr);
  ComputedPath p;
  if (o.decision.feasible) {
    p.uuid = RandomUuid();
    p.service_uuid = RandomUuid();
    p.name = name.is_array() ? name : nlohmann::json::array();
    p.request = request;
    p.decision = o.decision;
    p.reverse = o.reverse;
    if (p.reverse) p.reverse_uuid = RandomUuid();
    p.created_ms = tracking::NowMs();
    p.seq = next_seq_++;
    std::lock_guard<std::mutex> lock(paths_mutex_);
    if (store_) store_->PutPath(p);
    IndexPathLocked(p);
    paths_[p.uuid] = p;
    EvictComputedPathsLocked();
  }
  Log("compute", p.uuid, request, o);
  if (!o.decision.feasible) {
    res.error = ErrorKind::kBlocked;
    res.message = o.decision.reason;
    res.decision = o.decision;
    return res;
  }
  res.value = std::move(p);
  res.decision = o.decision;
  return res;
}

Result<ComputedPath> Pce::OptimizePath(const std::string& uuid,
                                       const std::optional<PathRequest>& given) {
  Result<ComputedPath> res;
  std::optional<ComputedPath> current = GetComputedPath(uuid);
  if (!current) {
    res.error = ErrorKind::kNotFound;
    res.message = "no computed path " + uuid;
    return res;
  }
  const PathRequest r = WithDefaults(given.value_or(current->request));
  if (std::string err = r.Check(*model_); !err.empty()) {
    res.error = ErrorKind::kInvalid;
    res.message = err;
    return res;
  }
  Outcome o = Decide(r, nullptr);
  Log("optimize", current->uuid, r, o);
  if (!o.decision.feasible) {
    res.error = ErrorKind::kBlocked;
    res.message = o.decision.reason;
    res.decision = o.decision;
    return res;
  }
  std::lock_guard<std::mutex> lock(paths_mutex_);
  auto it = paths_.find(current->uuid);
  if (it == paths_.end()) {
    res.error = ErrorKind::kNotFound;
    res.message = "computed path " + uuid + " was deleted meanwhile";
    return res;
  }
  ComputedPath& p = it->second;
  UnindexPathLocked(p);
  p.request = r;
  p.decision = o.decision;
  p.reverse = o.reverse;
  if (p.reverse && p.reverse_uuid.empty()) p.reverse_uuid = RandomUuid();
  if (!p.reverse) p.reverse_uuid.clear();
  IndexPathLocked(p);
  if (store_) store_->PutPath(p);
  res.value = p;
  res.decision = o.decision;
  return res;
}

// Paths are found by their own uuid, their path-comp-service's, and their Z->A path's.
void Pce::IndexPathLocked(const ComputedPath& p) {
  path_by_service_[p.service_uuid] = p.uuid;
  if (!p.reverse_uuid.empty()) path_by_service_[p.reverse_uuid] = p.uuid;
  path_by_seq_[p.seq] = p.uuid;
}

void Pce::UnindexPathLocked(const ComputedPath& p) {
  path_by_service_.erase(p.service_uuid);
  if (!p.reverse_uuid.empty()) path_by_service_.erase(p.reverse_uuid);
  path_by_seq_.erase(p.seq);
}

std::unordered_map<std::string, ComputedPath>::iterator Pce::FindPathLocked(
    const std::string& uuid) {
  auto it = paths_.find(uuid);
  if (it != paths_.end()) return it;
  auto s = path_by_service_.find(uuid);
  return s == path_by_service_.end() ? paths_.end() : paths_.find(s->second);
}

std::optional<ComputedPath> Pce::GetComputedPath(const std::string& uuid) const {
  std::lock_guard<std::mutex> lock(paths_mutex_);
  auto it = const_cast<Pce*>(this)->FindPathLocked(uuid);
  if (it == paths_.end()) return std::nullopt;
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
  auto it = FindPathLocked(uuid);
  if (it == paths_.end()) return std::nullopt;
  if (store_) store_->DeletePath(it->first);
  ComputedPath p = std::move(it->second);
  UnindexPathLocked(p);
  paths_.erase(it);
  return p;
}

Result<Service> Pce::CreateService(const ServiceSpec& given) {
  Result<Service> res;
  ServiceSpec spec = given;
  spec.request = WithDefaults(given.request);
  if (std::string err = spec.request.Check(*model_); !err.empty()) {
    res.error = ErrorKind::kInvalid;
    res.message = err;
    return res;
  }
  if (spec.uuid.empty()) spec.uuid = RandomUuid();
  if (GetService(spec.uuid)) {
    res.error = ErrorKind::kExists;
    res.message = "connectivity service " + spec.uuid + " already exists";
    return res;
  }
  Outcome o = Decide(spec.request, &spec);
  if (o.duplicate) {
    res.error = ErrorKind::kExists;
    res.message = o.decision.reason;
    return res;
  }
  Log("create", o.decision.feasible ? spec.uuid : "", spec.request, o);
  trace_.RecordArrival(spec.uuid, spec.request, o.decision, PowerW());
  if (!o.decision.feasible) {
    res.error = ErrorKind::kBlocked;
    res.message = o.decision.reason;
    res.decision = o.decision;
    return res;
  }
  res.value = std::move(o.created);
  res.decision = o.decision;
  return res;
}

// Both directions or neither: the row goes in one transaction, then every lightpath is freed.
std::optional<Service> Pce::DeleteService(const std::string& uuid) {
  std::unique_lock<std::shared_mutex> lock(state_mutex_);
  auto it = services_.find(uuid);
  if (it == services_.end()) return std::nullopt;
  if (store_) store_->DeleteService(uuid);
  for (const auto& lit : it->second->lit) {
    if (!state_.Release(lit.lightpath_id))
      throw std::logic_error("service " + uuid + ": its lightpath was not lit");
  }
  Service s = std::move(it->second->service);
  services_.erase(it);
  lock.unlock();
  trace_.RecordRelease(uuid);
  return s;
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
  size_t lit = 0;
  for (const auto& [uuid, live] : services_) {
    const std::vector<const PathDecision*> directions = live->service.Directions();
    if (directions.size() != live->lit.size())
      return "service " + uuid + " has " + std::to_string(live->lit.size()) +
             " lightpaths lit for " + std::to_string(directions.size()) + " directions";
    lit += live->lit.size();
    for (size_t i = 0; i < directions.size(); ++i) {
      const PathDecision& d = *directions[i];
      const int32_t id = live->lit[i].lightpath_id;
      const twin::Lightpath* lp = state_.Find(id);
      if (lp == nullptr) return "service " + uuid + " has no lit lightpath";
      if (lp->path->fibres != d.fibres || lp->band != d.band || lp->slot != d.slot ||
          lp->width != d.width) {
        return "service " + uuid + " is lit elsewhere than it says";
      }
      for (int f : d.fibres) {
        for (int x = d.slot; x < d.slot + d.width; ++x) {
          if (state_.spectrum().Owner(f, d.band, x) != id) {
            return "service " + uuid + " does not own slot " + std::to_string(x) + " on fibre " +
                   std::to_string(f);
          }
        }
      }
    }
  }
  if (static_cast<int>(lit) != state_.ActiveLightpaths()) {
    return std::to_string(lit) + " lightpaths of services but " +
           std::to_string(state_.ActiveLightpaths()) + " lit";
  }
  return "";
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
  RecordServed(st, *served, served->note);
  if (decision_log_)
    decision_log_->SetTag("pce.policy." + std::string(twin::ToString(use_case)), ref.model);
}

void Pce::PublishDefault(const PolicyBinding& b, const std::string& why) {
  const std::shared_ptr<const ServedPolicy>& served = default_policies_.at(b.use_case);
  PolicySlot& slot = SlotFor(b.use_case);
  if (slot.Get() != served) {
    slot.Publish(served);
    metrics_.PolicySwapped();
    if (decision_log_)
      decision_log_->SetTag("pce.policy." + std::string(twin::ToString(b.use_case)), served->ref.Label());
  }
  std::lock_guard<std::mutex> lock(policy_mutex_);
  RecordServed(policy_status_[b.use_case], *served,
               "the config's default policy " + b.default_policy + " (" + why + ")" +
                   (served->note.empty() ? "" : "; " + served->note));
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
      const std::string none = "no version of " + b.model + " has alias '" + b.alias + "'" +
                               (b.production_stage ? " or stage Production" : "");
      if (default_policies_.count(b.use_case)) {
        PublishDefault(b, "served: " + none);
        continue;
      }
      if (current) {
        slot.Publish(nullptr);
        metrics_.PolicySwapped();
        if (decision_log_) decision_log_->SetTag("pce.policy." + uc, "none");
      }
      std::lock_guard<std::mutex> lock(policy_mutex_);
      PolicyStatus& st = policy_status_[b.use_case];
      st.served.reset();
      st.last_error = none;
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
        served = LoadServedHeuristic(*h, b.use_case, ref, *model_, twin::HeuristicOptions::ForTraffic(config_.traffic));
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
      RecordServed(policy_status_[b.use_case], *served, served->note);
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
