#include "twin/heuristics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "twin/capacity_loss.h"

namespace eonops::twin {

BlockCause AggregateCause(bool any_usable, bool any_latency_ok, bool any_candidate) {
  if (!any_candidate) return BlockCause::kNoPath;
  if (any_usable) return BlockCause::kNoSpectrum;
  if (any_latency_ok) return BlockCause::kQot;
  return BlockCause::kLatency;
}

CandidatePaths::CandidatePaths(const NetworkModel& model, const Request& request, int k)
    : model_(model), request_(request) {
  const int have = static_cast<int>(model.paths().Get(request.src, request.dst).size());
  size_ = k > 0 ? std::min(k, have) : have;
}

CandidatePaths::CandidatePaths(const NetworkModel& model, const Request& request, const std::vector<Path>& paths)
    : model_(model), request_(request), explicit_(&paths), size_(static_cast<int>(paths.size())) {}

Candidate CandidatePaths::Evaluate(int index, int band) const {
  if (explicit_ == nullptr) return model_.Evaluate(request_, index, band);
  Candidate c = model_.EvaluatePath(request_, (*explicit_)[index], band);
  c.path_index = index;
  return c;
}

Decision Heuristic::DecideAmong(const Request&, const NetworkState&, const std::vector<Path>&) const {
  return Decision{};  // not accepted, kNoPath
}

namespace {

constexpr int kMaxWords = 16;  // up to 1024 slots per band

// Walks every (path, band) candidate in order and hands each usable one, with the OR-ed
// occupancy of its path in its band, to `visit`; stops when `visit` returns true. Returns the
// block cause to report when nothing was chosen.
template <typename Visit>
BlockCause ForEachUsable(const CandidatePaths& paths, const NetworkState& state, Visit&& visit) {
  const NetworkModel& m = state.model();
  uint64_t occ[kMaxWords];
  bool any_usable = false, any_latency_ok = false, any_candidate = false;
  for (int p = 0; p < paths.size(); ++p) {
    for (int b = 0; b < m.NumBands(); ++b) {
      Candidate c = paths.Evaluate(p, b);
      any_candidate = true;
      if (c.cause != BlockCause::kLatency) any_latency_ok = true;
      // A block wider than the whole band is refused for spectrum, not for QoT.
      if (c.cause == BlockCause::kNoSpectrum) any_usable = true;
      if (!c.usable()) continue;
      any_usable = true;
      state.PathOccupancy(c, occ);
      if (visit(c, occ)) return BlockCause::kNone;
    }
  }
  return AggregateCause(any_usable, any_latency_ok, any_candidate);
}

// A rule over a CandidatePaths; Decide and DecideAmong differ only in where paths come from.
class Rule : public Heuristic {
 public:
  Rule(std::string name, int k) : name_(std::move(name)), k_(k) {}
  std::string Name() const override { return name_; }
  Decision Decide(const Request& r, const NetworkState& state) const override {
    return Choose(r, state, CandidatePaths(state.model(), r, k_));
  }
  Decision DecideAmong(const Request& r, const NetworkState& state, const std::vector<Path>& paths) const override {
    return Choose(r, state, CandidatePaths(state.model(), r, paths));
  }

 protected:
  virtual Decision Choose(const Request& r, const NetworkState& state, const CandidatePaths& paths) const = 0;

 private:
  std::string name_;
  int k_;
};

Decision Accept(const Candidate& c, int slot) {
  Decision d;
  d.accepted = true;
  d.cause = BlockCause::kNone;
  d.candidate = c;
  d.slot = slot;
  return d;
}

// KSP-xF: the first (path, band) with a free block, spectrum by the fit policy.
class KspFit : public Rule {
 public:
  KspFit(std::string name, int k, FitPolicy fit) : Rule(std::move(name), k), fit_(fit) {}

 protected:
  Decision Choose(const Request&, const NetworkState& state, const CandidatePaths& paths) const override {
    Decision d;
    const BlockCause cause = ForEachUsable(paths, state, [&](const Candidate& c, const uint64_t* occ) {
      const int slot = Fit(fit_, occ, state.model().plan().band(c.band).num_slots, c.width);
      if (slot < 0) return false;
      d = Accept(c, slot);
      return true;
    });
    if (!d.accepted) d.cause = cause;
    return d;
  }

 private:
  FitPolicy fit_;
};

// FF-KSP: the lowest first-fit slot over every (path, band); bands in preference order come
// first (the spectrum read as C, then L, then S), ties go to the earlier path.
class FfKsp : public Rule {
 public:
  FfKsp(std::string name, int k) : Rule(std::move(name), k) {}

 protected:
  Decision Choose(const Request&, const NetworkState& state, const CandidatePaths& paths) const override {
    Decision d;
    const BlockCause cause = ForEachUsable(paths, state, [&](const Candidate& c, const uint64_t* occ) {
      const int slot = FirstFit(occ, state.model().plan().band(c.band).num_slots, c.width);
      if (slot < 0) return false;
      if (!d.accepted || c.band < d.candidate.band || (c.band == d.candidate.band && slot < d.slot)) {
        d = Accept(c, slot);
      }
      return false;
    });
    if (!d.accepted) d.cause = cause;
    return d;
  }
};

// The capacity-loss rules share the lazily built CapacityLoss of the model they are used on.
class CapacityLossRule : public Rule {
 public:
  CapacityLossRule(std::string name, int k, const HeuristicOptions& o, bool over_all_paths, bool size_aware,
                   bool bounded_references = false)
      : Rule(std::move(name), k),
        max_bit_rate_gbps_(o.max_bit_rate_gbps),
        reference_bound_us_(bounded_references ? o.latency_bound_us : std::numeric_limits<double>::infinity()),
        bit_rates_(o.bit_rates.empty() ? std::vector<std::pair<double, double>>{{o.max_bit_rate_gbps, 1.0}}
                                       : o.bit_rates),
        over_all_paths_(over_all_paths),
        size_aware_(size_aware) {}

 protected:
  Decision Choose(const Request&, const NetworkState& state, const CandidatePaths& paths) const override {
    std::shared_ptr<const CapacityLoss> cl = For(state);
    const CapacityLoss::Scope scope(*cl, state);
    Decision d;
    int64_t best = std::numeric_limits<int64_t>::max();
    int64_t loss[kMaxWords * 64];
    uint64_t starts[kMaxWords];
    double best_expected = std::numeric_limits<double>::infinity();
    const BlockCause cause = ForEachUsable(paths, state, [&](const Candidate& c, const uint64_t* occ) {
      const int slots = state.model().plan().band(c.band).num_slots;
      if (FeasibleStarts(occ, slots, c.width, starts) == 0) return false;
      cl->LossAll(state, *c.path, c.band, c.width, loss);
      for (int w = 0; w < (slots + 63) / 64; ++w) {
        for (uint64_t x = starts[w]; x; x &= x - 1) {
          const int s = w * 64 + __builtin_ctzll(x);
          if (size_aware_) {
            // Expected placements lost; MSCL's loss breaks ties.
            double expected;
            int critical;
            cl->SizeAwareLoss(state, *c.path, c.band, s, c.width, &expected, &critical);
            if (expected < best_expected - 1e-9 || (expected < best_expected + 1e-9 && loss[s] < best)) {
              best_expected = expected;
              best = loss[s];
              d = Accept(c, s);
            }
          } else if (loss[s] < best) {
            best = loss[s];
            d = Accept(c, s);
          }
        }
      }
      return !over_all_paths_;  // KSP-MSCL stops at the first (path, band) that fits
    });
    if (!d.accepted) d.cause = cause;
    return d;
  }

 private:
  std::shared_ptr<const CapacityLoss> For(const NetworkState& state) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (model_ != state.model_ptr()) {
      // Holding the model keeps the route pointers of the loss tables valid.
      model_ = state.model_ptr();
      loss_ = std::make_shared<const CapacityLoss>(
          *model_, CapacityLoss::MaxRequestWidth(*model_, max_bit_rate_gbps_),
          size_aware_ ? bit_rates_ : std::vector<std::pair<double, double>>{}, reference_bound_us_);
    }
    return loss_;
  }

  double max_bit_rate_gbps_;
  double reference_bound_us_;
  std::vector<std::pair<double, double>> bit_rates_;
  bool over_all_paths_;
  bool size_aware_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const NetworkModel> model_;
  mutable std::shared_ptr<const CapacityLoss> loss_;
};

// Picks among all feasible candidates the one minimising `score` (ties: earlier path, band).
template <typename Score>
class BestOf : public Rule {
 public:
  BestOf(std::string name, int k, FitPolicy fit, Score score) : Rule(std::move(name), k), fit_(fit), score_(score) {}

 protected:
  Decision Choose(const Request&, const NetworkState& state, const CandidatePaths& paths) const override {
    Decision d;
    double best = std::numeric_limits<double>::infinity();
    const BlockCause cause = ForEachUsable(paths, state, [&](const Candidate& c, const uint64_t* occ) {
      const int slot = Fit(fit_, occ, state.model().plan().band(c.band).num_slots, c.width);
      if (slot < 0) return false;
      const double s = score_(c, state);
      if (s < best) {
        best = s;
        d = Accept(c, slot);
      }
      return false;  // look at every candidate
    });
    if (!d.accepted) d.cause = cause;
    return d;
  }

 private:
  FitPolicy fit_;
  Score score_;
};

template <typename Score>
std::unique_ptr<Heuristic> MakeBestOf(std::string name, int k, FitPolicy fit, Score score) {
  return std::make_unique<BestOf<Score>>(std::move(name), k, fit, score);
}

}  // namespace

HeuristicOptions HeuristicOptions::ForTraffic(const TrafficConfig& traffic) {
  HeuristicOptions o;
  o.max_bit_rate_gbps = traffic.MaxBitRateGbps();
  o.bit_rates = traffic.BitRateDistribution();
  o.latency_bound_us = traffic.LoosestLatencyBoundUs();
  return o;
}

std::vector<std::string> HeuristicNames() {
  return {"sp-ff",    "ksp-ff",   "ksp-bf",    "ksp-lf",        "ksp-ef",      "ff-ksp",
          "ksp-mscl", "mscl-ksp", "wmscl-ksp", "lmscl-ksp", "qot-aware", "latency-aware", "energy-aware"};
}

bool IsHeuristicName(const std::string& name) {
  for (const auto& n : HeuristicNames()) {
    if (n == name) return true;
  }
  return false;
}

std::unique_ptr<Heuristic> MakeHeuristic(const std::string& name, const HeuristicOptions& o) {
  if (name == "sp-ff") return std::make_unique<KspFit>(name, 1, FitPolicy::kFirstFit);
  if (name == "ksp-ff") return std::make_unique<KspFit>(name, o.k, FitPolicy::kFirstFit);
  if (name == "ksp-bf") return std::make_unique<KspFit>(name, o.k, FitPolicy::kBestFit);
  if (name == "ksp-lf") return std::make_unique<KspFit>(name, o.k, FitPolicy::kLastFit);
  if (name == "ksp-ef") return std::make_unique<KspFit>(name, o.k, FitPolicy::kExactFit);
  if (name == "ff-ksp") return std::make_unique<FfKsp>(name, o.k);
  if (name == "ksp-mscl") return std::make_unique<CapacityLossRule>(name, o.k, o, false, false);
  if (name == "mscl-ksp") return std::make_unique<CapacityLossRule>(name, o.k, o, true, false);
  if (name == "wmscl-ksp") return std::make_unique<CapacityLossRule>(name, o.k, o, true, true);
  if (name == "lmscl-ksp") {
    if (std::isnan(o.latency_bound_us) || o.latency_bound_us <= 0) {
      throw std::invalid_argument("lmscl-ksp: the latency bound must be positive");
    }
    return std::make_unique<CapacityLossRule>(name, o.k, o, true, false, true);
  }
  if (name == "qot-aware") {
    // The most spectrally efficient modulation the GSNR allows: fewest slots, then highest
    // GSNR margin above the format's threshold.
    return MakeBestOf(name, o.k, o.fit, [](const Candidate& c, const NetworkState& s) {
      const double margin = c.gsnr_db - s.model().modulations().format(c.modulation).gsnr_threshold_db;
      return c.width * 1000.0 - std::min(margin, 999.0);
    });
  }
  if (name == "latency-aware") {
    return MakeBestOf(name, o.k, o.fit, [](const Candidate& c, const NetworkState&) { return c.latency_us; });
  }
  if (name == "energy-aware") {
    // Least incremental power: lightpaths that light no new amplifier win; slots break ties.
    return MakeBestOf(name, o.k, o.fit, [](const Candidate& c, const NetworkState& s) {
      return s.IncrementalPowerW(c) + 1e-3 * c.width;
    });
  }
  std::string known;
  for (const auto& n : HeuristicNames()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown policy '" + name + "' (known: " + known + ")");
}

}  // namespace eonops::twin
