#include "twin/heuristics.h"

#include <limits>
#include <stdexcept>

namespace eonops::twin {

BlockCause AggregateCause(bool any_usable, bool any_latency_ok, bool any_candidate) {
  if (!any_candidate) return BlockCause::kNoPath;
  if (any_usable) return BlockCause::kNoSpectrum;
  if (any_latency_ok) return BlockCause::kQot;
  return BlockCause::kLatency;
}

namespace {

// Walks every (path, band) candidate in order, searching spectrum with `fit`, and hands each
// feasible (candidate, slot) to `visit`; stops when `visit` returns true. Returns the block
// cause for when nothing was feasible.
template <typename Visit>
BlockCause ForEachFeasible(const Request& r, const NetworkState& state, int k, FitPolicy fit, Visit&& visit) {
  const NetworkModel& m = state.model();
  const int paths = static_cast<int>(m.paths().Get(r.src, r.dst).size());
  const int kk = k > 0 ? std::min(k, paths) : paths;
  uint64_t occ[16];  // up to 1024 slots per band
  bool any_usable = false, any_latency_ok = false, any_candidate = false;
  for (int p = 0; p < kk; ++p) {
    for (int b = 0; b < m.NumBands(); ++b) {
      Candidate c = m.Evaluate(r, p, b);
      any_candidate = true;
      if (c.cause != BlockCause::kLatency) any_latency_ok = true;
      // A block wider than the whole band is refused for spectrum, not for QoT.
      if (c.cause == BlockCause::kNoSpectrum) any_usable = true;
      if (!c.usable()) continue;
      any_usable = true;
      state.PathOccupancy(c, occ);
      int slot = Fit(fit, occ, m.plan().band(b).num_slots, c.width);
      if (slot >= 0 && visit(c, slot)) return BlockCause::kNone;
    }
  }
  return AggregateCause(any_usable, any_latency_ok, any_candidate);
}

// K shortest paths, bands in order, spectrum by the fit policy: the first feasible wins.
class KspFit : public Heuristic {
 public:
  KspFit(std::string name, int k, FitPolicy fit) : name_(std::move(name)), k_(k), fit_(fit) {}
  std::string Name() const override { return name_; }
  Decision Decide(const Request& r, const NetworkState& state) const override {
    Decision d;
    d.cause = ForEachFeasible(r, state, k_, fit_, [&](const Candidate& c, int slot) {
      d.accepted = true;
      d.candidate = c;
      d.slot = slot;
      return true;
    });
    return d;
  }

 private:
  std::string name_;
  int k_;
  FitPolicy fit_;
};

// Picks among all feasible candidates the one minimising `score` (ties: earlier path, band).
template <typename Score>
class BestOf : public Heuristic {
 public:
  BestOf(std::string name, int k, FitPolicy fit, Score score) : name_(std::move(name)), k_(k), fit_(fit), score_(score) {}
  std::string Name() const override { return name_; }
  Decision Decide(const Request& r, const NetworkState& state) const override {
    Decision d;
    double best = std::numeric_limits<double>::infinity();
    BlockCause cause = ForEachFeasible(r, state, k_, fit_, [&](const Candidate& c, int slot) {
      const double s = score_(c, state);
      if (s < best) {
        best = s;
        d.accepted = true;
        d.candidate = c;
        d.slot = slot;
      }
      return false;  // look at every candidate
    });
    d.cause = d.accepted ? BlockCause::kNone : cause;
    return d;
  }

 private:
  std::string name_;
  int k_;
  FitPolicy fit_;
  Score score_;
};

template <typename Score>
std::unique_ptr<Heuristic> MakeBestOf(std::string name, int k, FitPolicy fit, Score score) {
  return std::make_unique<BestOf<Score>>(std::move(name), k, fit, score);
}

}  // namespace

std::vector<std::string> HeuristicNames() {
  return {"sp-ff", "ksp-ff", "ksp-bf", "ksp-lf", "qot-aware", "latency-aware", "energy-aware"};
}

std::unique_ptr<Heuristic> MakeHeuristic(const std::string& name, const HeuristicOptions& o) {
  if (name == "sp-ff") return std::make_unique<KspFit>(name, 1, FitPolicy::kFirstFit);
  if (name == "ksp-ff") return std::make_unique<KspFit>(name, o.k, FitPolicy::kFirstFit);
  if (name == "ksp-bf") return std::make_unique<KspFit>(name, o.k, FitPolicy::kBestFit);
  if (name == "ksp-lf") return std::make_unique<KspFit>(name, o.k, FitPolicy::kLastFit);
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
