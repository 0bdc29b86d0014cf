// How the PCE decides one request: the steps Pce::Decide runs, in order (pce/pce.h lists them).
// A request is one or two "legs" (A->Z, and Z->A when bidirectional); with symmetric spectrum
// the Z->A leg is not decided on its own but follows A->Z onto the same band and slots, and
// the A->Z candidates carry the return fibres (twin::Path::paired_fibres) so every spectrum
// search finds a block free both ways.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "pce/pce.h"
#include "pce/routing.h"
#include "pce/validation.h"
#include "tracking/entities.h"
#include "twin/envs.h"

namespace eonops::pce {

namespace {

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

// The path the other way round, or nullopt when a fibre has no opposite one.
std::optional<twin::Path> ReverseOf(const twin::Topology& t, const twin::Path& p) {
  std::vector<int> nodes(p.nodes.rbegin(), p.nodes.rend());
  for (size_t i = 0; i + 1 < nodes.size(); ++i) {
    if (t.FibreBetween(nodes[i], nodes[i + 1]) < 0) return std::nullopt;
  }
  return twin::PathFromNodes(t, nodes);
}

// pce/validation.h's checks. A spectrum request chose no format: its channel must carry the
// most robust one (the table's first) under the actual occupancy, whatever denser one the path
// allows in the worst case (which the reply names as the supported format).
Check ValidateLightpath(const twin::NetworkState& state, const twin::Request& r, twin::Candidate c,
                        int slot, const ValidationOptions& o) {
  if (r.media_channel_slots > 0 && c.modulation > 0) c.modulation = 0;
  return Validate(state, r, c, slot, o);
}

}  // namespace

// One direction's lightpath before it is committed; it owns a copy of its path, so it does not
// depend on where the candidate came from (the model's table, a constrained list, a reversal).
struct Pce::Proposal {
  std::unique_ptr<twin::Path> path;
  twin::Candidate candidate;  // candidate.path == path.get()
  int slot = -1;
  Check check;

  Proposal(const twin::Candidate& c, int s, Check k)
      : path(std::make_unique<twin::Path>(*c.path)), candidate(c), slot(s), check(std::move(k)) {
    path->paired_fibres.clear();  // what is lit is this direction's fibres only
    candidate.path = path.get();
  }
};

struct Pce::Leg {
  PathRequest request;  // this direction's (the reversed one for Z->A)
  twin::Request twin;
  // The candidate paths when they are not the model's k shortest (constraints, pairing).
  std::optional<std::vector<twin::Path>> candidates;
  bool policy_expected = false;  // a policy serves this use case and the request is its kind
  std::optional<twin::ActionChoice> choice;  // its answer
  std::string fallback_reason;               // why it did not decide, when expected to
  std::optional<Proposal> accepted;
  std::optional<Proposal> paired;  // symmetric bidirectional: the Z->A lightpath on the same slots
  twin::BlockCause cause = twin::BlockCause::kNoPath;
  std::string reason, decided_by;
  PathDecision decision;

  bool Constrained() const { return candidates.has_value(); }
  const std::vector<twin::Path>& Paths(const twin::NetworkModel& m) const {
    return candidates ? *candidates : m.paths().Get(twin.src, twin.dst);
  }
};

struct Pce::Job {
  PathRequest request;
  std::string invalid;  // Admit's verdict: why the request cannot be decided at all
  Leg forward;
  std::optional<Leg> reverse;  // bidirectional: Z->A
  bool symmetric = false;      // Z->A follows A->Z on the same slots (forward.paired)
  std::shared_ptr<const ServedPolicy> served;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
};

Pce::Outcome Pce::Decide(const PathRequest& request, const ServiceSpec* spec) {
  Outcome out;
  Job job = Admit(request);
  if (job.invalid.empty()) {
    Constrain(job);
    AskPolicy(job);
  }
  // Validation and commit happen on one state: nothing can take the slots in between.
  std::unique_lock<std::shared_mutex> exclusive(state_mutex_, std::defer_lock);
  std::shared_lock<std::shared_mutex> shared(state_mutex_, std::defer_lock);
  if (spec) {
    exclusive.lock();
    if (services_.count(spec->uuid)) {
      out.duplicate = true;
      out.decision.reason = "connectivity service " + spec->uuid + " already exists";
      return out;
    }
  } else {
    shared.lock();
  }
  if (job.invalid.empty()) Place(job);
  Describe(job);
  out.decision = job.forward.decision;
  if (job.reverse && out.decision.feasible) out.reverse = job.reverse->decision;
  if (spec && out.decision.feasible) {
    Service created;
    Commit(job, *spec, &created);
    out.created = std::move(created);
  }
  return out;
}

// 1. The request as the PCE decides it: the default capacity when it names none, checked, in
// the twin's terms; a bidirectional request becomes two legs.
Pce::Job Pce::Admit(const PathRequest& request) {
  const twin::NetworkModel& m = *model_;
  Job job;
  job.request = request;
  PathRequest& r = job.request;
  if (r.bit_rate_gbps == 0 && r.spectrum_width_hz == 0) {
    r.bit_rate_gbps = config_.pce.default_bit_rate_gbps;
    r.capacity_defaulted = true;
  }
  job.invalid = r.Check(m);
  auto leg_of = [&](const PathRequest& x) {
    Leg leg;
    leg.request = x;
    leg.twin = x.ToTwin(next_request_id_++, m.plan().slot_width_hz());
    return leg;
  };
  job.forward = leg_of(r);
  if (job.invalid.empty() && r.bidirectional) {
    // An explicit media channel is the same both ways, whatever the config says.
    job.symmetric =
        r.spectrum || config_.pce.bidirectional_spectrum == BidirectionalSpectrum::kSymmetric;
    job.reverse = leg_of(r.Reversed(m.topology()));
  }
  return job;
}

// 2. Which paths each leg may take: the model's k shortest when nothing restricts them, else an
// explicit list (the constrained ones; for a symmetric pair, those whose reverse exists and is
// allowed too, each carrying its return fibres).
void Pce::Constrain(Job& job) const {
  const twin::NetworkModel& m = *model_;
  Leg& f = job.forward;
  if (f.request.HasTopologyConstraints()) f.candidates = ConstrainedPaths(m, f.request, m.k());
  if (!job.symmetric) return;
  const PathRequest back = job.request.Reversed(m.topology());
  std::vector<twin::Path> paired;
  for (const twin::Path& p : f.Paths(m)) {
    std::optional<twin::Path> rev = ReverseOf(m.topology(), p);
    if (!rev || !PathAllowed(*rev, back)) continue;
    paired.push_back(p);
    paired.back().paired_fibres = rev->fibres;
  }
  f.candidates = std::move(paired);
}

// 3. The served policy's answer for each leg that is its kind of request (bit rate, no media
// channel named), on a snapshot read under the shared lock; no lock while it infers. Actions
// the constraints or the pairing rule out are masked, as the twin masks infeasible ones.
void Pce::AskPolicy(Job& job) const {
  const twin::NetworkModel& m = *model_;
  const twin::UseCase use_case = job.request.use_case.value_or(config_.pce.default_use_case);
  const bool its_kind = !job.request.spectrum && !job.request.IsSpectrumRequest();
  job.served = its_kind ? slots_.at(use_case).Get() : nullptr;
  const PathRequest back = job.request.Reversed(m.topology());
  // Whether an answer respects the leg's constraints, the fibres to avoid and, for a symmetric
  // pair, has its reverse route free on the same slots. The caller holds the shared lock.
  auto fits = [&](const Leg& leg, const twin::ActionChoice& x, const std::vector<int>& avoid_fibres) {
    const std::vector<int>& fibres = x.candidate.path->fibres;
    if (leg.Constrained() && !PathAllowed(*x.candidate.path, leg.request)) return false;
    for (int fibre : avoid_fibres) {
      if (std::find(fibres.begin(), fibres.end(), fibre) != fibres.end()) return false;
    }
    if (!job.symmetric) return true;
    std::optional<twin::Path> rev = ReverseOf(m.topology(), *x.candidate.path);
    return rev && PathAllowed(*rev, back) &&
           state_.spectrum().IsFree(rev->fibres, x.candidate.band, x.slot, x.candidate.width);
  };
  auto ask = [&](Leg& leg, const std::vector<int>& avoid_fibres) {
    if (!its_kind) return;
    leg.policy_expected = true;
    if (!job.served) {
      leg.fallback_reason = "no policy served for " + std::string(twin::ToString(use_case));
      return;
    }
    const ServedPolicy& sp = *job.served;
    if (sp.heuristic) {
      // A served heuristic version decides on the state directly, among this leg's candidates;
      // an answer the pairing rules out goes to the fallback like a policy's would.
      std::shared_lock<std::shared_mutex> lock(state_mutex_);
      const twin::Decision hd = leg.Constrained()
                                    ? sp.heuristic->DecideAmong(leg.twin, state_, *leg.candidates)
                                    : sp.heuristic->Decide(leg.twin, state_);
      if (!hd.accepted) {
        leg.fallback_reason = "the served heuristic " + sp.heuristic->Name() + " found no feasible lightpath";
        return;
      }
      twin::ActionChoice c;
      c.feasible = true;
      c.candidate = hd.candidate;
      c.slot = hd.slot;
      if (!fits(leg, c, avoid_fibres)) {
        leg.fallback_reason = "the served heuristic's answer does not satisfy the constraints";
        return;
      }
      leg.choice = c;
      return;
    }
    const twin::ObservationLayout& l = sp.layout;
    std::vector<float> obs(l.observation_size);
    std::vector<uint8_t> mask(l.num_actions);
    std::vector<twin::ActionChoice> actions;
    const int reject = l.RejectAction();
    bool any = false;
    {
      std::shared_lock<std::shared_mutex> lock(state_mutex_);
      twin::BuildObservation(l, sp.env, state_, leg.twin, obs.data(), mask.data(), &actions);
      for (int a = 0; a < reject; ++a) {
        if (!mask[a]) continue;
        const bool ok = fits(leg, actions[a], avoid_fibres);
        mask[a] = ok ? 1 : 0;
        any = any || ok;
      }
    }
    mask[reject] = any ? 0 : 1;
    if (!any) {
      leg.fallback_reason = leg.Constrained() || job.symmetric || !avoid_fibres.empty()
                                ? "no action of the policy satisfies the constraints"
                                : "the policy has no feasible action (it can only reject)";
      return;
    }
    agents::Decision pd = sp.policy->Act(obs.data(), mask.data());
    if (pd.action < 0 || pd.action >= reject || !actions[pd.action].feasible) {
      leg.fallback_reason = "the policy rejected a request that had feasible actions";
      return;
    }
    leg.choice = actions[pd.action];
  };
  ask(job.forward, {});
  if (job.reverse && !job.symmetric) {
    // Z->A must not ride a fibre A->Z uses; until A->Z is placed, that is the policy's choice.
    std::vector<int> avoid;
    if (job.forward.choice) avoid = job.forward.choice->candidate.path->fibres;
    ask(*job.reverse, avoid);
  }
}

// 4-5. On the current state (the caller holds state_mutex_): each leg's policy answer is
// validated, else the heuristic decides; Z->A of a per-direction pair is decided once A->Z is
// placed, avoiding its fibres.
void Pce::Place(Job& job) const {
  if (job.symmetric) return PlacePair(job);
  PlaceLeg(job, job.forward);
  if (!job.reverse || !job.forward.accepted) return;
  Leg& z = *job.reverse;
  const std::vector<int>& used = job.forward.accepted->candidate.path->fibres;
  z.request.exclude_links.insert(z.request.exclude_links.end(), used.begin(), used.end());
  z.candidates = ConstrainedPaths(*model_, z.request, model_->k());
  PlaceLeg(job, z);
}

void Pce::PlaceLeg(Job&, Leg& leg) const {
  if (leg.request.spectrum) return PlaceExplicitSpectrum(leg);
  if (leg.choice) {
    const twin::ActionChoice& a = *leg.choice;
    Check k;
    if (leg.Constrained() && !PathAllowed(*a.candidate.path, leg.request)) {
      k.cause = twin::BlockCause::kNoPath;
      k.reason = "it uses a fibre of the A->Z lightpath";
    } else {
      k = ValidateLightpath(state_, leg.twin, a.candidate, a.slot, config_.pce.validation);
    }
    if (k.ok) {
      leg.accepted.emplace(a.candidate, a.slot, k);
      leg.decided_by = "policy";
      return;
    }
    leg.fallback_reason = "the policy's answer failed validation: " + k.reason;
  }
  FallBack(leg);
}

// Symmetric bidirectional: A->Z and Z->A (the reverse route) on the same band and slots. The
// candidates carry their return fibres, so the policy's mask and the heuristic's spectrum
// search already look for a block free both ways; each direction is then validated.
void Pce::PlacePair(Job& job) const {
  Leg& leg = job.forward;
  // Both directions validated at (c, slot), or the leg keeps why not.
  auto try_pair = [&](const twin::Candidate& c, int slot) {
    Check k = ValidateLightpath(state_, leg.twin, c, slot, config_.pce.validation);
    std::optional<Proposal> back;
    if (k.ok) back = PairedWith(job, c, slot, &k);
    if (!back) {
      leg.cause = k.cause;
      leg.reason = k.reason;
      return false;
    }
    leg.accepted.emplace(c, slot, k);
    leg.paired = std::move(back);
    return true;
  };
  if (leg.request.spectrum) {
    const PathRequest::MediaChannel& mc = *leg.request.spectrum;
    leg.decided_by = "explicit-spectrum";
    for (const twin::Path& p : leg.Paths(*model_)) {
      twin::Candidate c = model_->EvaluatePath(leg.twin, p, mc.band);
      if (!c.usable() || c.width > mc.width) continue;
      c.width = mc.width;
      if (try_pair(c, mc.slot)) return;
    }
    if (leg.reason.empty()) leg.reason = BlockReason(*model_, leg.request, leg.cause, true);
    leg.reason = "requested spectrum: " + leg.reason;
    return;
  }
  if (leg.choice) {
    if (try_pair(leg.choice->candidate, leg.choice->slot)) {
      leg.decided_by = "policy";
      return;
    }
    leg.fallback_reason = "the policy's answer failed validation: " + leg.reason;
  }
  FallBack(leg);
  if (!leg.accepted) return;
  // The heuristic searched the pair's spectrum (its candidates carry the return fibres); the
  // return direction still has to carry a format and meet the QoT.
  Check failed;
  leg.paired = PairedWith(job, leg.accepted->candidate, leg.accepted->slot, &failed);
  if (!leg.paired) {
    leg.accepted.reset();
    leg.cause = failed.cause;
    leg.reason = leg.decided_by.substr(10) + "'s lightpath pair: " + failed.reason;
  }
}

// The Z->A lightpath of a symmetric pair whose A->Z is `forward` at `slot`: the reverse route,
// the same band, slots and width; nullopt, with why in `failed`, when it is not free or usable.
std::optional<Pce::Proposal> Pce::PairedWith(const Job& job, const twin::Candidate& forward,
                                             int slot, Check* failed) const {
  const twin::NetworkModel& m = *model_;
  failed->cause = twin::BlockCause::kNoPath;
  std::optional<twin::Path> rev = ReverseOf(m.topology(), *forward.path);
  if (!rev) {
    failed->reason = "Z->A: the route has no fibre in that direction";
    return std::nullopt;
  }
  const twin::Request& back = job.reverse->twin;
  twin::Candidate c = m.EvaluatePath(back, *rev, forward.band);
  if (c.usable() && c.width > forward.width) {
    failed->cause = twin::BlockCause::kQot;
    failed->reason = "Z->A: its format needs " + std::to_string(c.width) + " slots, A->Z has " +
                     std::to_string(forward.width);
    return std::nullopt;
  }
  if (c.usable()) c.width = forward.width;
  Check k = ValidateLightpath(state_, back, c, slot, config_.pce.validation);
  if (!k.ok) {
    failed->cause = k.cause;
    failed->reason = "Z->A: " + k.reason;
    return std::nullopt;
  }
  return Proposal(c, slot, k);
}

// The client named the media channel: the first candidate path on which it is free and usable.
void Pce::PlaceExplicitSpectrum(Leg& leg) const {
  const twin::NetworkModel& m = *model_;
  const PathRequest::MediaChannel& mc = *leg.request.spectrum;
  leg.decided_by = "explicit-spectrum";
  bool any_candidate = false, any_usable = false, any_latency_ok = false;
  std::string last_reason;
  for (const twin::Path& p : leg.Paths(m)) {
    twin::Candidate c = m.EvaluatePath(leg.twin, p, mc.band);
    any_candidate = true;
    if (c.cause != twin::BlockCause::kLatency) any_latency_ok = true;
    if (!c.usable()) continue;
    any_usable = true;
    if (c.width > mc.width) {
      last_reason = "the requested media channel of " + std::to_string(mc.width) +
                    " slots is narrower than the " + std::to_string(c.width) + " slots " +
                    m.modulations().format(c.modulation).name + " needs";
      continue;
    }
    c.width = mc.width;
    Check k = ValidateLightpath(state_, leg.twin, c, mc.slot, config_.pce.validation);
    if (k.ok) {
      leg.accepted.emplace(c, mc.slot, k);
      return;
    }
    last_reason = k.reason;
  }
  leg.cause = twin::AggregateCause(any_usable, any_latency_ok, any_candidate);
  leg.reason = "requested spectrum: " +
               (last_reason.empty()
                    ? BlockReason(m, leg.request, leg.cause, leg.request.HasTopologyConstraints())
                    : last_reason);
}

// The configured heuristic, over the leg's candidates (the twin's, unless constrained), and the
// validation of its answer.
void Pce::FallBack(Leg& leg) const {
  const twin::NetworkModel& m = *model_;
  const twin::Heuristic& h =
      FallbackFor(leg.request.use_case.value_or(config_.pce.default_use_case));
  twin::Decision hd = leg.Constrained() ? h.DecideAmong(leg.twin, state_, *leg.candidates)
                                        : h.Decide(leg.twin, state_);
  leg.decided_by = "heuristic:" + h.Name();
  if (!hd.accepted) {
    leg.cause = hd.cause;
    leg.reason = BlockReason(m, leg.request, hd.cause, leg.Constrained());
    return;
  }
  Check k = ValidateLightpath(state_, leg.twin, hd.candidate, hd.slot, config_.pce.validation);
  if (!k.ok) {
    leg.cause = k.cause;
    leg.reason = h.Name() + "'s lightpath failed validation: " + k.reason;
    return;
  }
  leg.accepted.emplace(hd.candidate, hd.slot, k);
}

// The decisions in the client's terms: the lightpath of each direction, or the refusal (of the
// whole request when either direction is refused).
void Pce::Describe(Job& job) const {
  const twin::NetworkModel& m = *model_;
  const double compute_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - job.t0).count();
  auto base = [&](const Leg& leg) {
    PathDecision d;
    d.use_case = job.request.use_case.value_or(config_.pce.default_use_case);
    d.bit_rate_gbps = job.request.bit_rate_gbps;
    d.spectrum_width_hz = job.request.spectrum_width_hz;
    d.capacity_defaulted = job.request.capacity_defaulted;
    d.required_margin_db = config_.pce.validation.gsnr_margin_db;
    d.decided_by = leg.decided_by;
    if (job.served && leg.policy_expected) d.policy = job.served->ref;
    d.fell_back = leg.policy_expected && leg.decided_by != "policy" && !leg.decided_by.empty();
    if (d.fell_back) d.fallback_reason = leg.fallback_reason;
    d.compute_us = compute_us;
    return d;
  };
  auto lit = [&](const Leg& leg, const Proposal& p) {
    PathDecision d = base(leg);
    const twin::Candidate& c = p.candidate;
    d.feasible = true;
    d.cause = twin::BlockCause::kNone;
    d.nodes = c.path->nodes;
    d.fibres = c.path->fibres;
    d.length_km = c.path->length_km;
    d.band = c.band;
    d.band_name = m.plan().band(c.band).name;
    d.slot = p.slot;
    d.width = c.width;
    d.modulation = c.modulation;
    d.modulation_name = m.modulations().format(c.modulation).name;
    d.channel = m.plan().SlotsToGrid(c.band, p.slot, c.width);
    d.gsnr_db = std::isnan(p.check.gsnr_db)
                    ? ActualGsnrDb(state_, c.path->fibres, c.band, p.slot, c.width)
                    : p.check.gsnr_db;
    d.worst_case_gsnr_db = c.gsnr_db;
    d.threshold_db = p.check.threshold_db;  // of the format validated (see ValidateLightpath)
    d.latency_us = c.latency_us;
    d.incremental_power_w = state_.IncrementalPowerW(c);
    return d;
  };
  auto refused = [&](const Leg& leg, const std::string& prefix) {
    PathDecision d = base(leg);
    d.feasible = false;
    d.cause = leg.cause == twin::BlockCause::kNone ? twin::BlockCause::kNoPath : leg.cause;
    d.reason = prefix + (leg.reason.empty() ? "blocked" : leg.reason);
    return d;
  };
  Leg& f = job.forward;
  if (!job.invalid.empty()) {
    f.decision = base(f);
    f.decision.cause = twin::BlockCause::kNoPath;
    f.decision.reason = job.invalid;
    return;
  }
  const bool two_way = job.request.bidirectional;
  if (!f.accepted) {
    f.decision = refused(f, two_way ? "A->Z: " : "");
    return;
  }
  f.decision = lit(f, *f.accepted);
  if (job.symmetric) {
    Leg& z = *job.reverse;
    z.decided_by = f.decided_by;
    z.policy_expected = f.policy_expected;
    z.fallback_reason = f.fallback_reason;
    z.decision = lit(z, *f.paired);
    return;
  }
  if (!job.reverse) return;
  Leg& z = *job.reverse;
  if (!z.accepted) {
    // Both or neither: the refusal of Z->A refuses the request.
    f.decision = refused(z, "Z->A: ");
    z.decision = f.decision;
    return;
  }
  z.decision = lit(z, *z.accepted);
}

// 6. Provisions the decided lightpaths as service `spec` (the caller holds the exclusive lock):
// one SQLite transaction for the service and every direction first (write ahead), then both
// lightpaths lit; a failure to light undoes everything.
void Pce::Commit(Job& job, const ServiceSpec& spec, Service* created) {
  Service s;
  s.uuid = spec.uuid;
  s.name = spec.name.is_array() ? spec.name : nlohmann::json::array();
  s.request = job.request;
  s.decision = job.forward.decision;
  if (job.reverse) s.reverse = job.reverse->decision;
  s.created_ms = tracking::NowMs();
  s.seq = next_seq_++;
  std::vector<std::pair<Leg*, Proposal*>> parts = {{&job.forward, &*job.forward.accepted}};
  if (job.reverse) {
    parts.push_back(
        {&*job.reverse, job.symmetric ? &*job.forward.paired : &*job.reverse->accepted});
  }
  if (store_) store_->PutService(s);  // throws before anything changes
  auto live = std::make_unique<LiveService>();
  for (auto& [leg, proposal] : parts) {
    const int32_t id = state_.Provision(leg->twin, proposal->candidate, proposal->slot,
                                        std::numeric_limits<double>::infinity());
    if (id < 0) {
      for (const auto& l : live->lit) state_.Release(l.lightpath_id);
      if (store_) store_->DeleteService(s.uuid);
      throw std::logic_error("validated block " + std::to_string(proposal->slot) +
                             " could not be lit");
    }
    live->lit.push_back({std::move(proposal->path), id});
  }
  live->service = s;
  *created = std::move(s);
  services_.emplace(spec.uuid, std::move(live));
}

}  // namespace eonops::pce
