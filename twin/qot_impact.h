// The actual GSNR of every lit lightpath of a network state, kept up to date fibre by fibre, and
// what lighting one more would do to them: a new channel adds XPM to every lightpath sharing a
// fibre with it and moves power by ISRS (Raman tilt), which changes their ASE and NLI.
//
//   NetworkState state(model);
//   state.EnableQotTracking();                      // before lighting anything
//   ... state.Provision(...) ...
//   QotImpact i = state.QotImpactOf(candidate, slot, /*margin_db=*/1.0);
//   if (i.min_margin_db < 0) { /* lightpath i.worst_lightpath would drop below its format */ }
//
// On each Provision / Release the fibres of the lightpath are recomputed with the actual-
// occupancy model (QotModel::FibreLine: the fibre's Raman solution and the ISRS GN NLI of every
// channel lit there), so GsnrDb(id) is the actual GSNR QotModel::ActualGsnrDb would give; that
// costs O(channels^2) per fibre and is why tracking is opt-in. The impact of a candidate is its
// first-order effect on each channel j it shares a fibre with, O(1) per (j, fibre):
//   XPM   P_n^2 Xi(j, n) sum_spans L_eff,n^2, n's ISRS profile read off the fibre's Raman solution
//   ISRS  dx_j = C_R(f_j, f_n) P_n L_eff,n (the change of j's net Raman gain at each span's end):
//         ASE_j (e^{-dx_j} - 1) + NLI_j (e^{2 dx_j / 3} - 1), the NLI following the profile of
//         j's neighbours, which the new channel pumps as it pumps j (2/3: the weight of the
//         span's first third, where the NLI is made, in a power profile)
// qot_impact_test checks it against recomputing after lighting the candidate.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "twin/gsnr.h"
#include "twin/qot.h"

namespace eonops::twin {

class NetworkModel;
class NetworkState;
struct Candidate;
struct Lightpath;

// What lighting a candidate would do to the lit lightpaths it shares a fibre with.
struct QotImpact {
  // Lowest (GSNR after - format threshold - margin) among them; +inf when none is touched.
  double min_margin_db = std::numeric_limits<double>::infinity();
  int32_t worst_lightpath = -1;  // the lightpath with that margin, -1 when none
  double worst_gsnr_after_db = std::numeric_limits<double>::quiet_NaN();
  int touched = 0;  // lit lightpaths sharing at least one fibre with the candidate
};

class LightpathQot {
 public:
  explicit LightpathQot(const NetworkModel& model);

  // Called by NetworkState after its spectrum and lightpath table changed.
  void OnLit(const NetworkState& state, const Lightpath& lp);
  void OnDark(const NetworkState& state, const Lightpath& lp);
  void Clear();

  // Actual GSNR (dB) of a lit lightpath now; NaN when `id` is not lit.
  double GsnrDb(int32_t id) const;
  QotImpact Impact(const NetworkState& state, const Candidate& candidate, int slot,
                   double margin_db) const;
  // The candidate's own GSNR (dB) if it were lit, from the tracked fibres: O(lightpaths on its
  // fibres) instead of a Raman solution per fibre. Its own pumping of the others' profiles is
  // left out (qot_impact_test: within 0.05 dB of QotModel::ActualGsnrDb). NaN when the fibre
  // model has a linear Raman slope only (no tracked profiles to read): use ActualGsnrDb.
  double CandidateGsnrDb(const Candidate& candidate, int slot) const;

 private:
  // What is lit on one fibre and its NSRs under that occupancy.
  struct FibreLoad {
    std::vector<int32_t> ids;
    std::vector<ActiveChannel> channels;
    std::vector<ChannelQot> qot;   // over all the fibre's spans
    std::vector<NliChannel> nli;   // as the cut of an XPM term
    // ISRS profile a new channel would have: probes every kProbeHz from probe_f0_hz.
    std::vector<IsrsParams> probe;
    std::vector<double> probe_log_gain;  // [probe * spans + span]: net Raman gain at each span's end
    double probe_f0_hz = 0.0;
  };
  void Recompute(int fibre);
  void UpdateTotals(const NetworkState& state, const std::vector<int>& fibres);
  IsrsParams ProbeProfile(const FibreLoad& load, double frequency_hz, double alpha) const;
  double ProbeLogGain(const FibreLoad& load, double frequency_hz, int span) const;

  const NetworkModel* model_;
  std::vector<FibreLoad> fibres_;
  std::vector<double> nsr_;  // per lightpath id: over its path, transceiver included; NaN if dark
  // Per fibre: sum over spans of L_eff^2 per band, and the mean span's L_eff per band.
  std::vector<std::vector<double>> sum_leff2_, mean_leff_;
};

}  // namespace eonops::twin
