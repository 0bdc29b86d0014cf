#include "pce/validation.h"

#include <cmath>
#include <sstream>

namespace eonops::pce {

namespace {

std::string Db(double x) {
  std::ostringstream s;
  s.precision(2);
  s << std::fixed << x << " dB";
  return s.str();
}

}  // namespace

double ActualGsnrDb(const twin::NetworkState& state, const std::vector<int>& fibres, int band,
                    int slot, int width) {
  const twin::NetworkModel& m = state.model();
  const twin::SpectrumState& spec = state.spectrum();
  auto channels = [&](int fibre, std::vector<twin::ActiveChannel>* out) {
    for (int b = 0; b < spec.NumBands(); ++b) {
      const int slots = spec.NumSlots(b);
      const uint64_t* words = spec.Words(fibre, b);
      for (int s = 0; s < slots;) {
        // Skip free words quickly: most of a band is usually either free or packed.
        if ((s & 63) == 0 && words[s >> 6] == 0) {
          s += 64;
          continue;
        }
        const int32_t owner = spec.Owner(fibre, b, s);
        if (owner == twin::SpectrumState::kFree) {
          ++s;
          continue;
        }
        const twin::Lightpath* lp = state.Find(owner);
        if (lp == nullptr) {  // cannot happen while invariants hold; never loop forever
          ++s;
          continue;
        }
        out->push_back(m.qot().BlockChannel(lp->band, lp->slot, lp->width));
        s = lp->slot + lp->width;
      }
    }
  };
  return m.qot().ActualGsnrDb(fibres, band, slot, width, channels);
}

Check Validate(const twin::NetworkState& state, const twin::Request& r, const twin::Candidate& c,
               int slot, const ValidationOptions& o) {
  const twin::NetworkModel& m = state.model();
  Check k;
  if (c.path == nullptr || c.path->fibres.empty()) {
    k.cause = twin::BlockCause::kNoPath;
    k.reason = "no path";
    return k;
  }
  if (!c.usable() || c.modulation < 0 || c.width <= 0) {
    k.cause = c.cause == twin::BlockCause::kNone ? twin::BlockCause::kQot : c.cause;
    k.reason = c.cause == twin::BlockCause::kLatency
                   ? "path latency exceeds the bound"
                   : "no modulation format reaches over this path";
    return k;
  }
  if (c.band < 0 || c.band >= m.NumBands() || slot < 0 ||
      slot + c.width > m.plan().band(c.band).num_slots) {
    k.cause = twin::BlockCause::kNoSpectrum;
    k.reason = "block outside the band";
    return k;
  }
  if (!state.spectrum().IsFree(c.path->fibres, c.band, slot, c.width)) {
    k.cause = twin::BlockCause::kNoSpectrum;
    for (int f : c.path->fibres) {
      for (int s = slot; s < slot + c.width; ++s) {
        if (state.spectrum().IsOccupied(f, c.band, s)) {
          const auto& fb = m.topology().fibre(f);
          k.reason = "slot " + std::to_string(s) + " of band " + m.plan().band(c.band).name +
                     " is taken on " + m.topology().node(fb.src).name + "->" +
                     m.topology().node(fb.dst).name;
          return k;
        }
      }
    }
    k.reason = "block not free";
    return k;
  }
  if (c.latency_us > r.latency_bound_us) {
    k.cause = twin::BlockCause::kLatency;
    k.reason = "latency " + std::to_string(c.latency_us) + " us exceeds the bound " +
               std::to_string(r.latency_bound_us) + " us";
    return k;
  }
  k.threshold_db = m.modulations().format(c.modulation).gsnr_threshold_db;
  if (o.qot) {
    // From the tracked fibres when the state keeps them (O(lightpaths on the path)), else a
    // Raman solution per fibre.
    k.gsnr_db = state.CandidateGsnrDb(c, slot);
    if (std::isnan(k.gsnr_db)) k.gsnr_db = ActualGsnrDb(state, c.path->fibres, c.band, slot, c.width);
    const double required = k.threshold_db + o.gsnr_margin_db;
    if (!(k.gsnr_db >= required)) {
      k.cause = twin::BlockCause::kQot;
      k.reason = "GSNR " + Db(k.gsnr_db) + " under the actual occupancy is below " +
                 m.modulations().format(c.modulation).name + "'s threshold " + Db(k.threshold_db) +
                 " + margin " + Db(o.gsnr_margin_db);
      return k;
    }
    const twin::QotImpact impact = state.QotImpactOf(c, slot, o.gsnr_margin_db);
    k.impact_margin_db = impact.min_margin_db;
    if (impact.min_margin_db < 0) {
      const twin::Lightpath* lit = state.Find(impact.worst_lightpath);
      k.cause = twin::BlockCause::kQotImpact;
      k.reason = "it would push lit lightpath " + std::to_string(impact.worst_lightpath) +
                 " to GSNR " + Db(impact.worst_gsnr_after_db) + ", below " +
                 (lit ? m.modulations().format(lit->modulation).name : std::string("its format")) +
                 "'s threshold " +
                 Db(lit ? m.modulations().format(lit->modulation).gsnr_threshold_db : 0.0) +
                 " + margin " + Db(o.gsnr_margin_db);
      return k;
    }
  }
  k.ok = true;
  return k;
}

}  // namespace eonops::pce
