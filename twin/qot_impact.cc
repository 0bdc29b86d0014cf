#include "twin/qot_impact.h"

#include <algorithm>
#include <cmath>

#include "twin/network.h"
#include "twin/raman.h"

namespace eonops::twin {

namespace {

constexpr double kProbeHz = 200e9;  // resolution of the profile a new channel would have

// Signed coefficient of d ln P_j / dz per watt of a channel at f_n (as in twin/raman.cc).
double SignedRamanCoefficient(const FibreParams& fibre, double f_j, double f_n) {
  if (!fibre.HasRaman()) return 0.0;
  if (f_n > f_j) return fibre.RamanCoefficient(f_j, f_n);
  if (f_n < f_j) return -fibre.RamanCoefficient(f_n, f_j) * f_j / f_n;
  return 0.0;
}

}  // namespace

LightpathQot::LightpathQot(const NetworkModel& model)
    : model_(&model), fibres_(model.topology().NumFibres()) {
  const QotModel& q = model.qot();
  const int nb = model.NumBands();
  sum_leff2_.assign(q.NumFibres(), std::vector<double>(nb, 0.0));
  mean_leff_.assign(q.NumFibres(), std::vector<double>(nb, 0.0));
  for (int f = 0; f < q.NumFibres(); ++f) {
    const std::vector<double>& spans = q.FibreSpansM(f);
    for (double l : spans) {
      for (int b = 0; b < nb; ++b) {
        const double leff = EffectiveLengthM(q.fibre_params().bands[b].alpha_per_m, l);
        sum_leff2_[f][b] += leff * leff;
        mean_leff_[f][b] += leff / spans.size();
      }
    }
  }
}

void LightpathQot::Clear() {
  for (FibreLoad& load : fibres_) load = FibreLoad{};
  nsr_.clear();
}

void LightpathQot::OnLit(const NetworkState& state, const Lightpath& lp) {
  const ActiveChannel ch = model_->qot().BlockChannel(lp.band, lp.slot, lp.width);
  for (int f : lp.path->fibres) {
    fibres_[f].ids.push_back(lp.id);
    fibres_[f].channels.push_back(ch);
    Recompute(f);
  }
  UpdateTotals(state, lp.path->fibres);
}

void LightpathQot::OnDark(const NetworkState& state, const Lightpath& lp) {
  for (int f : lp.path->fibres) {
    FibreLoad& load = fibres_[f];
    auto it = std::find(load.ids.begin(), load.ids.end(), lp.id);
    if (it == load.ids.end()) continue;
    const size_t i = static_cast<size_t>(it - load.ids.begin());
    load.ids.erase(load.ids.begin() + i);
    load.channels.erase(load.channels.begin() + i);
    Recompute(f);
  }
  if (lp.id >= 0 && static_cast<size_t>(lp.id) < nsr_.size()) {
    nsr_[lp.id] = std::numeric_limits<double>::quiet_NaN();
  }
  UpdateTotals(state, lp.path->fibres);
}

void LightpathQot::Recompute(int fibre) {
  FibreLoad& load = fibres_[fibre];
  load.qot.clear();
  load.nli.clear();
  load.probe.clear();
  load.probe_log_gain.clear();
  if (load.channels.empty()) return;
  const QotModel& q = model_->qot();
  LinePropagation line = q.FibreLine(fibre, load.channels);
  load.qot.resize(load.channels.size());
  line.Run(q.FibreSpansM(fibre), load.qot.data());
  for (int k = 0; k < line.launch().NumChannels(); ++k) load.nli.push_back(line.launch().Nli(k));
  const RamanSolution* raman = line.launch().Raman();
  if (raman == nullptr) return;
  // Probes across every band of the plan, for the profile of a channel not lit yet.
  const BandPlan& plan = q.plan();
  double f_min = plan.band(0).f_min_hz, f_max = plan.band(0).f_max_hz;
  for (const Band& b : plan.bands()) {
    f_min = std::min(f_min, b.f_min_hz);
    f_max = std::max(f_max, b.f_max_hz);
  }
  load.probe_f0_hz = f_min;
  std::vector<double> log_gain(raman->NumSamples());
  const std::vector<double>& spans = q.FibreSpansM(fibre);
  for (double f = f_min; f < f_max + kProbeHz; f += kProbeHz) {
    raman->ProbeLogGain(f, log_gain.data());
    const double alpha = q.fibre_params().bands[q.fibre_params().BandIndex(f)].alpha_per_m;
    load.probe.push_back(raman->FitSamples(log_gain.data(), alpha));
    for (double l : spans) {
      const double x = std::min(l / kRamanStepM, static_cast<double>(raman->NumSamples() - 1));
      const int i = std::min(static_cast<int>(x), raman->NumSamples() - 2);
      load.probe_log_gain.push_back(log_gain[i] + (x - i) * (log_gain[i + 1] - log_gain[i]));
    }
  }
}

IsrsParams LightpathQot::ProbeProfile(const FibreLoad& load, double frequency_hz,
                                      double alpha) const {
  if (load.probe.empty()) return IsrsParams::None(alpha);
  if (load.probe.size() < 2) return load.probe[0];
  const double x = std::clamp((frequency_hz - load.probe_f0_hz) / kProbeHz, 0.0,
                              static_cast<double>(load.probe.size() - 1));
  const size_t i = std::min(static_cast<size_t>(x), load.probe.size() - 2);
  const double t = x - i;
  const IsrsParams& a = load.probe[i];
  const IsrsParams& b = load.probe[i + 1];
  return {a.abar_per_m + t * (b.abar_per_m - a.abar_per_m), a.t + t * (b.t - a.t)};
}

double LightpathQot::ProbeLogGain(const FibreLoad& load, double frequency_hz, int span) const {
  if (load.probe.empty()) return 0.0;
  const size_t n = load.probe.size(), spans = load.probe_log_gain.size() / n;
  if (n < 2) return load.probe_log_gain[span];
  const double x = std::clamp((frequency_hz - load.probe_f0_hz) / kProbeHz, 0.0, static_cast<double>(n - 1));
  const size_t i = std::min(static_cast<size_t>(x), n - 2);
  const double t = x - i;
  const double a = load.probe_log_gain[i * spans + span], b = load.probe_log_gain[(i + 1) * spans + span];
  return a + t * (b - a);
}

void LightpathQot::UpdateTotals(const NetworkState& state, const std::vector<int>& fibres) {
  // Every lightpath on a recomputed fibre: its NSR summed over its own path.
  const double trx = model_->qot().config().transceiver_nsr;
  for (int f : fibres) {
    for (int32_t id : fibres_[f].ids) {
      const Lightpath* lp = state.Find(id);
      if (lp == nullptr) continue;
      double nsr = trx;
      for (int g : lp->path->fibres) {
        const FibreLoad& load = fibres_[g];
        auto it = std::find(load.ids.begin(), load.ids.end(), id);
        if (it != load.ids.end()) nsr += load.qot[static_cast<size_t>(it - load.ids.begin())].Nsr();
      }
      if (static_cast<size_t>(id) >= nsr_.size()) {
        nsr_.resize(static_cast<size_t>(id) + 1, std::numeric_limits<double>::quiet_NaN());
      }
      nsr_[id] = nsr;
    }
  }
}

double LightpathQot::GsnrDb(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= nsr_.size()) return std::numeric_limits<double>::quiet_NaN();
  return -LinearToDb(nsr_[id]);
}

QotImpact LightpathQot::Impact(const NetworkState& state, const Candidate& c, int slot,
                               double margin_db) const {
  QotImpact out;
  if (c.path == nullptr || c.width <= 0) return out;
  const QotModel& q = model_->qot();
  const FibreParams& fp = q.fibre_params();
  const bool isrs = q.config().propagation.nli_model == NliModel::kIsrsGn && fp.HasRaman();
  const ActiveChannel block = q.BlockChannel(c.band, slot, c.width);
  const double p_new = q.LaunchPowerW(block.centre_hz, block.symbol_rate_baud);
  NliChannel n = MakeNliChannel(fp, {block.centre_hz, block.symbol_rate_baud, p_new});
  // The NSR each touched lightpath would gain, accumulated over the fibres it shares.
  thread_local std::vector<double> delta;
  thread_local std::vector<int32_t> touched;
  touched.clear();
  for (int f : c.path->fibres) {
    const FibreLoad& load = fibres_[f];
    if (load.ids.empty()) continue;
    if (isrs) n.isrs = ProbeProfile(load, n.frequency_hz, n.alpha_per_m);
    const double leff2_n = sum_leff2_[f][n.band];
    const double leff_n = mean_leff_[f][n.band];
    for (size_t j = 0; j < load.ids.size(); ++j) {
      const int32_t id = load.ids[j];
      const NliChannel& cut = load.nli[j];
      const ChannelQot& now = load.qot[j];
      double d = p_new * p_new * leff2_n * NliXi(cut, n, /*same_channel=*/false, isrs);
      if (isrs) {
        const double dx = SignedRamanCoefficient(fp, cut.frequency_hz, n.frequency_hz) * p_new * leff_n;
        d += now.nsr_ase * std::expm1(-dx) + now.nsr_nli * std::expm1(2.0 * dx / 3.0);
      }
      if (static_cast<size_t>(id) >= delta.size()) delta.resize(static_cast<size_t>(id) + 1, 0.0);
      if (delta[id] == 0.0) touched.push_back(id);
      delta[id] += d;
      if (delta[id] == 0.0) delta[id] = 1e-300;  // keep it marked as touched
    }
  }
  const ModulationTable& formats = model_->modulations();
  for (int32_t id : touched) {
    const double d = delta[id];
    delta[id] = 0.0;
    const Lightpath* lp = state.Find(id);
    if (lp == nullptr || static_cast<size_t>(id) >= nsr_.size()) continue;
    ++out.touched;
    const double after_db = -LinearToDb(nsr_[id] + d);
    const double margin = after_db - formats.format(lp->modulation).gsnr_threshold_db - margin_db;
    if (margin < out.min_margin_db) {
      out.min_margin_db = margin;
      out.worst_lightpath = id;
      out.worst_gsnr_after_db = after_db;
    }
  }
  return out;
}

double LightpathQot::CandidateGsnrDb(const Candidate& c, int slot) const {
  const QotModel& q = model_->qot();
  const FibreParams& fp = q.fibre_params();
  const PropagationOptions& po = q.config().propagation;
  const bool isrs = po.nli_model == NliModel::kIsrsGn && fp.HasRaman();
  if (c.path == nullptr || c.width <= 0 || (isrs && !fp.raman_spectrum) ||
      po.amplifier_gain != AmplifierGain::kEqualise) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const ActiveChannel block = q.BlockChannel(c.band, slot, c.width);
  const double p_new = q.LaunchPowerW(block.centre_hz, block.symbol_rate_baud);
  NliChannel n = MakeNliChannel(fp, {block.centre_hz, block.symbol_rate_baud, p_new});
  double nsr = q.config().transceiver_nsr;
  for (int f : c.path->fibres) {
    const FibreLoad& load = fibres_[f];
    const std::vector<double>& spans = q.FibreSpansM(f);
    if (isrs) n.isrs = ProbeProfile(load, n.frequency_hz, n.alpha_per_m);
    // ASE: NF h f R G per span against the channel's power at the amplifier's input.
    for (size_t s = 0; s < spans.size(); ++s) {
      const double gain = std::exp(-n.alpha_per_m * spans[s] + (isrs ? ProbeLogGain(load, n.frequency_hz, static_cast<int>(s)) : 0.0));
      nsr += q.NoiseFigureLin(n.band) * kPlanckJs * n.frequency_hz * n.symbol_rate_baud / (p_new * gain);
    }
    double spm = p_new * p_new * sum_leff2_[f][n.band] * NliXi(n, n, true, isrs);
    if (po.coherent_nli && !spans.empty()) {
      double mean = 0.0;
      for (double l : spans) mean += l / spans.size();
      spm *= std::pow(static_cast<double>(spans.size()), CoherenceExponent(n, mean));
    }
    nsr += spm;
    for (size_t j = 0; j < load.ids.size(); ++j) {
      const NliChannel& k = load.nli[j];
      const double p = q.LaunchPowerW(k.frequency_hz, k.symbol_rate_baud);
      nsr += p * p * sum_leff2_[f][k.band] * NliXi(n, k, false, isrs);
    }
  }
  return -LinearToDb(nsr);
}

}  // namespace eonops::twin
