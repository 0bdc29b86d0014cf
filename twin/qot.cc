#include "twin/qot.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "twin/json_util.h"
#include "twin/raman.h"

namespace eonops::twin {

QotConfig QotConfig::Load(const std::string& path) { return FromJson(ReadJsonFile(path), path); }

QotConfig QotConfig::FromJson(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) ConfigError(origin, "expected a JSON object");
  if (j.contains("reference_channel")) {
    ConfigError(origin + ".reference_channel",
                "no longer used: the worst case is a bound over every occupancy (twin/qot.h)");
  }
  RejectUnknownKeys(j,
                    {"launch_power_dbm", "launch_reference_symbol_rate_gbaud",
                     "launch_power_offset_db", "roll_off", "guard_slots", "transceiver_snr_db",
                     "nli_model", "coherent_nli", "amplifier_gain"},
                    origin);
  QotConfig c;
  double launch_dbm = RequireNumber(j, "launch_power_dbm", origin);
  double launch_ref_baud = RequirePositive(j, "launch_reference_symbol_rate_gbaud", origin) * 1e9;
  c.launch_psd_w_per_hz = DbmToW(launch_dbm) / launch_ref_baud;
  if (j.contains("launch_power_offset_db")) {
    const auto& o = j["launch_power_offset_db"];
    const std::string where = origin + ".launch_power_offset_db";
    if (!o.is_object()) ConfigError(where, "expected an object keyed by band name");
    for (auto it = o.begin(); it != o.end(); ++it) {
      c.launch_power_offset_db[it.key()] = RequireNumber(o, it.key(), where);
    }
  }
  c.roll_off = RequireNumber(j, "roll_off", origin);
  if (c.roll_off < 0 || c.roll_off > 1) ConfigError(origin + ".roll_off", "must be in [0, 1]");
  c.guard_slots = j.contains("guard_slots") ? RequireInt(j, "guard_slots", origin) : 0;
  if (c.guard_slots < 0) ConfigError(origin + ".guard_slots", "must not be negative");
  if (j.contains("transceiver_snr_db") && !j["transceiver_snr_db"].is_null()) {
    c.transceiver_nsr = 1.0 / DbToLinear(RequireNumber(j, "transceiver_snr_db", origin));
  }
  try {
    c.propagation.nli_model = ParseNliModel(RequireString(j, "nli_model", origin));
  } catch (const std::invalid_argument& e) {
    ConfigError(origin + ".nli_model", e.what());
  }
  const auto& coherent = Require(j, "coherent_nli", origin);
  if (!coherent.is_boolean()) ConfigError(origin + ".coherent_nli", "expected true or false");
  c.propagation.coherent_nli = coherent.get<bool>();
  try {
    c.propagation.amplifier_gain = ParseAmplifierGain(RequireString(j, "amplifier_gain", origin));
  } catch (const std::invalid_argument& e) {
    ConfigError(origin + ".amplifier_gain", e.what());
  }
  return c;
}

QotModel::QotModel(const Topology& topology, const BandPlan& plan, FibreParams fibre,
                   QotConfig config, BandAmplifiers amplifiers)
    : plan_(plan),
      fibre_(std::move(fibre)),
      config_(std::move(config)),
      amplifiers_(std::move(amplifiers)) {
  const int nb = plan_.NumBands();
  if (static_cast<int>(fibre_.bands.size()) != nb) {
    throw std::invalid_argument("QotModel: fibre parameters have " +
                                std::to_string(fibre_.bands.size()) + " bands, the plan " +
                                std::to_string(nb));
  }
  if (amplifiers_.NumBands() != nb) {
    throw std::invalid_argument("QotModel: " + std::to_string(amplifiers_.NumBands()) +
                                " amplifiers for " + std::to_string(nb) + " bands");
  }
  for (int b = 0; b < nb; ++b) {
    const Band& band = plan_.band(b);
    if (fibre_.bands[b].name != band.name) {
      throw std::invalid_argument("QotModel: fibre band " + std::to_string(b) + " is " +
                                  fibre_.bands[b].name + ", the plan's is " + band.name);
    }
    nf_lin_.push_back(DbToLinear(amplifiers_.band(b).noise_figure_db));
    auto it = config_.launch_power_offset_db.find(band.name);
    band_offset_lin_.push_back(
        DbToLinear(it == config_.launch_power_offset_db.end() ? 0.0 : it->second));
    band_offset_.push_back(row_length_);
    row_length_ += 2 * static_cast<size_t>(band.num_slots) + 1;
  }
  if (config_.propagation.nli_model == NliModel::kIsrsGn && fibre_.HasRaman() &&
      config_.propagation.amplifier_gain == AmplifierGain::kSpanLoss) {
    throw std::invalid_argument(
        "QotModel: ISRS with amplifier_gain \"span-loss\" lets the Raman tilt of a fibre pile up "
        "span after span, so a fibre's QoT would depend on the history of every lightpath on it; "
        "the network model needs \"equalise\" (tilt-controlled amplifiers)");
  }
  num_fibres_ = topology.NumFibres();
  fibre_spans_m_.reserve(num_fibres_);
  for (const Fibre& f : topology.fibres()) {
    std::vector<double> spans;
    for (double km : f.spans_km) {
      spans.push_back(km * 1e3);
      longest_span_m_ = std::max(longest_span_m_, km * 1e3);
    }
    fibre_spans_m_.push_back(std::move(spans));
  }
  CheckAmplifiers();
  BuildWorstCaseTable();
}

QotModel QotModel::Load(const Topology& topology, const BandPlan& plan,
                        const std::string& config_dir) {
  const std::string dir = config_dir.empty() ? ConfigDir() : config_dir;
  QotConfig config = QotConfig::Load(dir + "/qot.json");
  for (const auto& [band, offset_db] : config.launch_power_offset_db) {
    const auto& known = plan.CatalogueNames();
    if (std::find(known.begin(), known.end(), band) == known.end())
      ConfigError(dir + "/qot.json.launch_power_offset_db." + band, "unknown band");
  }
  return QotModel(topology, plan, FibreParams::Load(dir + "/fibre.json", plan), std::move(config),
                  BandAmplifiers::Load(dir + "/amplifiers.json", plan));
}

void QotModel::CheckAmplifiers() const {
  for (int b = 0; b < plan_.NumBands(); ++b) {
    const Band& band = plan_.band(b);
    const Amplifier& amp = amplifiers_.band(b);
    const double loss_db = LinearToDb(std::exp(fibre_.bands[b].alpha_per_m * longest_span_m_));
    if (loss_db > amp.max_gain_db + 1e-9) {
      throw std::invalid_argument(
          "the longest span (" + std::to_string(longest_span_m_ / 1e3) + " km) loses " +
          std::to_string(loss_db) + " dB in band " + band.name + ", more than its " + amp.type +
          "'s max_gain_db " + std::to_string(amp.max_gain_db) + " (amplifiers.json); cut the links " +
          "into shorter spans (max_span_km)");
    }
    // A full band at the densest the slot rule allows: PSD x band width / (1 + roll-off).
    const double full_w = config_.launch_psd_w_per_hz * band_offset_lin_[b] *
                          (band.num_slots * plan_.slot_width_hz()) / (1.0 + config_.roll_off);
    if (WToDbm(full_w) > amp.max_output_power_dbm + 1e-9) {
      throw std::invalid_argument("band " + band.name + " fully loaded needs " +
                                  std::to_string(WToDbm(full_w)) + " dBm out of its " + amp.type +
                                  ", more than its max_output_power_dbm " +
                                  std::to_string(amp.max_output_power_dbm) +
                                  " (amplifiers.json); lower the launch power (qot.json)");
    }
  }
}

double QotModel::SymbolRateForWidthBaud(int width) const {
  int signal_slots = std::max(1, width - config_.guard_slots);
  return signal_slots * plan_.slot_width_hz() / (1.0 + config_.roll_off);
}

ActiveChannel QotModel::BlockChannel(int band, int first_slot, int width) const {
  double centre_hz =
      plan_.band(band).f_min_hz + (2.0 * first_slot + width) * 0.5 * plan_.slot_width_hz();
  return {centre_hz, SymbolRateForWidthBaud(width)};
}

double QotModel::LaunchPowerW(double frequency_hz, double symbol_rate_baud) const {
  return config_.launch_psd_w_per_hz * symbol_rate_baud *
         band_offset_lin_[fibre_.BandIndex(frequency_hz)];
}

std::vector<Channel> QotModel::ToChannels(const std::vector<ActiveChannel>& active) const {
  std::vector<Channel> out;
  out.reserve(active.size());
  for (const ActiveChannel& a : active) {
    out.push_back({a.centre_hz, a.symbol_rate_baud, LaunchPowerW(a.centre_hz, a.symbol_rate_baud)});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The worst-case table (what it bounds: twin/qot.h).

namespace {

constexpr double kSliceHz = 50e9;         // NLI fill resolution (XPM is additive over slices)
constexpr double kRamanSliceHz = 200e9;   // Raman fill resolution of the states
constexpr double kAnchorHz = 200e9;       // states: everything below / above an anchor lit

// One point of the table in one Raman state, length-free.
struct BoundTerms {
  std::vector<double> log_gain;     // the channel's net Raman gain at every Raman sample
  std::vector<double> xpm_by_band;  // near interferers (state profiles)
  double spm = 0.0;
};

// The frequencies cut into slices of at most `width` per band of `plan`.
void CutBands(const BandPlan& plan, double width, std::vector<double>* centre,
              std::vector<double>* slice_width, std::vector<int>* band) {
  for (int b = 0; b < plan.NumBands(); ++b) {
    const Band& bd = plan.band(b);
    for (double lo = bd.f_min_hz; lo < bd.f_max_hz - 1.0; lo += width) {
      const double w = std::min(width, bd.f_max_hz - lo);
      centre->push_back(lo + 0.5 * w);
      slice_width->push_back(w);
      band->push_back(b);
    }
  }
}

}  // namespace

void QotModel::BuildWorstCaseTable() {
  const int nb = plan_.NumBands();
  const double slot_hz = plan_.slot_width_hz();
  const double guard_hz = config_.guard_slots * slot_hz;
  const bool isrs = config_.propagation.nli_model == NliModel::kIsrsGn && fibre_.HasRaman();
  auto psd_of = [&](int b) { return config_.launch_psd_w_per_hz * band_offset_lin_[b]; };

  // The NLI fill: every band in slices at the launch PSD.
  std::vector<double> slice_f, slice_w;
  std::vector<int> slice_band;
  CutBands(plan_, kSliceHz, &slice_f, &slice_w, &slice_band);
  const int ns = static_cast<int>(slice_f.size());
  std::vector<NliChannel> slice_nli(ns);
  for (int k = 0; k < ns; ++k) {
    slice_nli[k] = MakeNliChannel(fibre_, {slice_f[k], slice_w[k], psd_of(slice_band[k]) * slice_w[k]});
  }
  // The Raman fill: the densest the slot rule allows, (1 + roll_off)^-1 of the spectrum.
  std::vector<double> raman_f, raman_w;
  std::vector<int> raman_band;
  CutBands(plan_, kRamanSliceHz, &raman_f, &raman_w, &raman_band);
  auto solve_state = [&](double f_hz, bool below) {
    std::vector<Channel> lit;
    for (size_t k = 0; k < raman_f.size(); ++k) {
      if (below ? raman_f[k] < f_hz : raman_f[k] > f_hz) {
        lit.push_back({raman_f[k], raman_w[k],
                       psd_of(raman_band[k]) * raman_w[k] / (1.0 + config_.roll_off)});
      }
    }
    return SolveRaman(fibre_, lit, longest_span_m_);
  };
  const int samples =
      isrs ? static_cast<int>(std::ceil(longest_span_m_ / kRamanStepM - 1e-9)) + 1 : 1;
  std::vector<double> scratch(samples);
  auto probe_profile = [&](const RamanSolution& st, double f_hz, double alpha) {
    st.ProbeLogGain(f_hz, scratch.data());
    return st.FitSamples(scratch.data(), alpha);
  };

  // Anchors per band; every table point lies in an interval [a_lo, a_hi] of its band's anchors.
  struct Interval {
    int band;
    double lo, hi;
  };
  std::vector<Interval> intervals;
  for (int b = 0; b < nb; ++b) {
    const Band& band = plan_.band(b);
    std::vector<double> a;
    for (double x = band.f_min_hz; x < band.f_max_hz - 1.0; x += kAnchorHz) a.push_back(x);
    a.push_back(band.f_max_hz);
    for (size_t i = 0; i + 1 < a.size(); ++i) intervals.push_back({b, a[i], a[i + 1]});
  }
  // The most-gained state of an interval (everything above it lit) also gives every slice in
  // it its most-gained profile, which far interferers take.
  std::vector<RamanSolution> above(intervals.size());
  std::vector<IsrsParams> max_profile(ns);
  for (int k = 0; k < ns; ++k) max_profile[k] = IsrsParams::None(slice_nli[k].alpha_per_m);
  if (isrs) {
    for (size_t i = 0; i < intervals.size(); ++i) {
      const Interval& iv = intervals[i];
      above[i] = solve_state(iv.lo, /*below=*/false);
      for (int k = 0; k < ns; ++k) {
        if (slice_band[k] == iv.band && slice_f[k] >= iv.lo && slice_f[k] < iv.hi) {
          max_profile[k] = probe_profile(above[i], slice_f[k], slice_nli[k].alpha_per_m);
        }
      }
    }
  }

  // State 2: everything lit. Light above a channel also pumps the channels below it, which then
  // take more from it: with the measured gain spectrum the most depleting load is not always
  // the one-sided one.
  RamanSolution full;
  if (isrs) full = solve_state(0.0, /*below=*/false);
  const int states = isrs ? 3 : 1;
  std::vector<std::vector<BoundTerms>> terms(states, std::vector<BoundTerms>(row_length_));
  std::vector<double> far_xpm(static_cast<size_t>(row_length_) * nb, 0.0);
  std::vector<NliChannel> near(ns);
  std::vector<char> is_near(ns);
  // The channel centred at half slot h of band b: the widest block of up to
  // kBoundMaxWidthSlots there (the NLI of a channel grows with its width; the band's edges have
  // no centred block and take the narrowest).
  auto cut_at = [&](int b, int h, int* width) {
    const int slots = plan_.band(b).num_slots;
    int w = std::min({std::max(1, std::min(h, 2 * slots - h)), kBoundMaxWidthSlots, slots});
    if (w % 2 != h % 2) --w;
    *width = std::max(1, w);
    const double rate = SymbolRateForWidthBaud(*width);
    const double f = plan_.band(b).f_min_hz + 0.5 * h * slot_hz;
    return Channel{f, rate, psd_of(b) * rate};
  };
  for (size_t i = 0; i < intervals.size(); ++i) {
    const Interval& iv = intervals[i];
    const int b = iv.band;
    const Band& band = plan_.band(b);
    for (int k = 0; k < ns; ++k) {
      is_near[k] = slice_f[k] > iv.lo - kBoundNearHz && slice_f[k] < iv.hi + kBoundNearHz;
    }
    const int h_lo = static_cast<int>(std::ceil((iv.lo - band.f_min_hz) / (0.5 * slot_hz) - 1e-9));
    const int h_hi = static_cast<int>(std::floor((iv.hi - band.f_min_hz) / (0.5 * slot_hz) + 1e-9));
    // Far interferers: at the interval's ends, linear in between (their XPM is convex in the
    // distance, so the chord lies above it).
    double far_ends[2][8] = {};
    for (int end = 0; end < 2; ++end) {
      int width = 0;
      const Channel cut_channel = cut_at(b, end == 0 ? h_lo : h_hi, &width);
      const NliChannel cut = MakeNliChannel(fibre_, cut_channel);
      for (int k = 0; k < ns; ++k) {
        if (is_near[k]) continue;
        NliChannel pump = slice_nli[k];
        pump.isrs = max_profile[k];
        const double p = psd_of(slice_band[k]) * slice_w[k];
        far_ends[end][slice_band[k]] += p * p * NliXi(cut, pump, false, isrs);
      }
    }
    for (int h = h_lo; h <= h_hi; ++h) {
      const double t = h_hi > h_lo ? static_cast<double>(h - h_lo) / (h_hi - h_lo) : 0.0;
      for (int c = 0; c < nb; ++c) {
        far_xpm[(band_offset_[b] + h) * nb + c] = (1 - t) * far_ends[0][c] + t * far_ends[1][c];
      }
    }
    for (int st = 0; st < states; ++st) {
      // State 0: everything below the interval lit; 1: everything above; 2: everything.
      RamanSolution below;
      if (isrs && st == 0) below = solve_state(iv.hi, /*below=*/true);
      const RamanSolution& state = st == 0 ? below : st == 1 ? above[i] : full;
      for (int k = 0; k < ns; ++k) {
        if (!is_near[k]) continue;
        near[k] = slice_nli[k];
        if (isrs) near[k].isrs = probe_profile(state, slice_f[k], slice_nli[k].alpha_per_m);
      }
      for (int h = h_lo; h <= h_hi; ++h) {
        int width = 0;
        const Channel cut_channel = cut_at(b, h, &width);
        const double f = cut_channel.frequency_hz;
        NliChannel cut = MakeNliChannel(fibre_, cut_channel);
        BoundTerms& t = terms[st][band_offset_[b] + h];
        t.xpm_by_band.assign(nb, 0.0);
        t.log_gain.assign(samples, 0.0);
        if (isrs) {
          state.ProbeLogGain(f, t.log_gain.data());
          cut.isrs = state.FitSamples(t.log_gain.data(), cut.alpha_per_m);
        }
        t.spm = cut_channel.launch_power_w * cut_channel.launch_power_w *
                NliXi(cut, cut, /*same_channel=*/true, isrs);
        // No other signal comes within (width + guard) / 2 slots of the centre.
        const double clear_lo = f - 0.5 * (width * slot_hz + guard_hz);
        const double clear_hi = f + 0.5 * (width * slot_hz + guard_hz);
        for (int k = 0; k < ns; ++k) {
          if (!is_near[k]) continue;
          const double lo = slice_f[k] - 0.5 * slice_w[k], hi = slice_f[k] + 0.5 * slice_w[k];
          // The slice, less the clear zone (it may split in two).
          const double parts[2][2] = {{lo, std::min(hi, clear_lo)}, {std::max(lo, clear_hi), hi}};
          for (const auto& part : parts) {
            if (!(part[1] - part[0] > 1.0)) continue;
            NliChannel piece = near[k];
            piece.symbol_rate_baud = part[1] - part[0];
            piece.frequency_hz = 0.5 * (part[0] + part[1]);
            const double p = psd_of(slice_band[k]) * piece.symbol_rate_baud;
            t.xpm_by_band[slice_band[k]] += p * p * NliXi(cut, piece, false, isrs);
          }
        }
      }
    }
  }

  // Per distinct span list: the largest NSR of the states.
  table_.assign(static_cast<size_t>(num_fibres_) * row_length_, 0.0);
  std::vector<std::vector<double>> distinct;
  std::vector<size_t> distinct_row;
  for (int fibre = 0; fibre < num_fibres_; ++fibre) {
    double* row = &table_[static_cast<size_t>(fibre) * row_length_];
    const std::vector<double>& spans = fibre_spans_m_[fibre];
    auto it = std::find(distinct.begin(), distinct.end(), spans);
    if (it != distinct.end()) {
      const double* src = &table_[distinct_row[it - distinct.begin()]];
      std::copy(src, src + row_length_, row);
      continue;
    }
    distinct.push_back(spans);
    distinct_row.push_back(static_cast<size_t>(fibre) * row_length_);
    double mean_span_m = 0.0;
    std::vector<double> sum_leff2(nb, 0.0);  // over the spans, per band
    for (double l : spans) {
      mean_span_m += l / spans.size();
      for (int c = 0; c < nb; ++c) {
        const double leff = EffectiveLengthM(fibre_.bands[c].alpha_per_m, l);
        sum_leff2[c] += leff * leff;
      }
    }
    for (int b = 0; b < nb; ++b) {
      const Band& band = plan_.band(b);
      const double alpha = fibre_.bands[b].alpha_per_m;
      for (int h = 0; h <= 2 * band.num_slots; ++h) {
        const size_t at = band_offset_[b] + h;
        const double f = band.f_min_hz + 0.5 * h * slot_hz;
        double far = 0.0;
        for (int c = 0; c < nb; ++c) far += sum_leff2[c] * far_xpm[at * nb + c];
        double coherence = 1.0;
        if (config_.propagation.coherent_nli && !spans.empty()) {
          // The narrowest channel adds up most coherently: a bound for every width.
          const NliChannel narrow = MakeNliChannel(
              fibre_, {f, SymbolRateForWidthBaud(config_.guard_slots + 1), psd_of(b)});
          coherence = std::pow(static_cast<double>(spans.size()), CoherenceExponent(narrow, mean_span_m));
        }
        double worst = 0.0;
        for (int st = 0; st < states; ++st) {
          const BoundTerms& t = terms[st][at];
          double ase = 0.0;
          for (double l : spans) {
            double log_gain = 0.0;
            if (isrs) {
              const double x = std::min(l / kRamanStepM, static_cast<double>(samples - 1));
              const int i0 = std::min(static_cast<int>(x), samples - 2);
              log_gain = t.log_gain[i0] + (x - i0) * (t.log_gain[i0 + 1] - t.log_gain[i0]);
            }
            // P_ASE = NF h f R G per span against P = PSD R at the amplifier's input.
            ase += nf_lin_[b] * kPlanckJs * f / (psd_of(b) * std::exp(-alpha * l + log_gain));
          }
          double near = sum_leff2[b] * t.spm * coherence;
          for (int c = 0; c < nb; ++c) near += sum_leff2[c] * t.xpm_by_band[c];
          // The NLI terms are P^2 Xi: referred to the channel's power already (an NSR).
          worst = std::max(worst, ase + near + far);
        }
        row[at] = worst;
      }
    }
  }
  num_distinct_span_lists_ = static_cast<int>(distinct.size());
}

double QotModel::WorstCaseGsnrDb(const std::vector<int>& fibres, int band, int first_slot,
                                 int width) const {
  assert(band >= 0 && band < plan_.NumBands());
  assert(width > 0 && first_slot >= 0 && first_slot + width <= plan_.band(band).num_slots);
  const size_t column = band_offset_[band] + 2 * static_cast<size_t>(first_slot) + width;
  double nsr = config_.transceiver_nsr;
  for (int f : fibres) {
    assert(f >= 0 && f < num_fibres_);
    nsr += table_[static_cast<size_t>(f) * row_length_ + column];
  }
  return -10.0 * std::log10(nsr);
}

// ---------------------------------------------------------------------------------------------
// Actual occupancy.

LinePropagation QotModel::FibreLine(int fibre, const std::vector<ActiveChannel>& channels) const {
  double longest_m = 0.0;
  for (double l : fibre_spans_m_[fibre]) longest_m = std::max(longest_m, l);
  return LinePropagation(fibre_, nf_lin_, ToChannels(channels), config_.propagation, {}, longest_m);
}

void QotModel::FibreNsr(int fibre, const std::vector<ActiveChannel>& channels,
                        std::vector<ChannelQot>* out) const {
  out->clear();
  if (channels.empty()) return;
  LinePropagation line = FibreLine(fibre, channels);
  out->resize(channels.size());
  line.Run(fibre_spans_m_[fibre], out->data());
}

double QotModel::ActualGsnrDb(const std::vector<int>& fibres, int band, int first_slot, int width,
                              const ChannelsOnFibre& channels_on_fibre,
                              double symbol_rate_baud) const {
  ActiveChannel block = BlockChannel(band, first_slot, width);
  if (symbol_rate_baud > 0) block.symbol_rate_baud = symbol_rate_baud;
  std::vector<ActiveChannel> others, lit;
  double nsr = config_.transceiver_nsr;
  double longest_m = 0.0;
  for (int f : fibres) {
    others.clear();
    channels_on_fibre(f, &others);
    lit.assign(1, block);
    for (const ActiveChannel& a : others) {
      // A reported channel centred within the cut's band is the cut itself (or a caller's
      // double-booking, which the spectrum never allows).
      if (std::abs(a.centre_hz - block.centre_hz) < 0.5 * block.symbol_rate_baud) continue;
      lit.push_back(a);
    }
    longest_m = 0.0;
    for (double l : fibre_spans_m_[f]) longest_m = std::max(longest_m, l);
    LinePropagation line(fibre_, nf_lin_, ToChannels(lit), config_.propagation, {0}, longest_m);
    ChannelQot q;
    line.Run(fibre_spans_m_[f], &q);
    nsr += q.Nsr();
  }
  return -10.0 * std::log10(nsr);
}

PathQot::PathQot(const QotModel& model, const std::vector<int>& fibres)
    : band_offset_(model.band_offset_),
      nsr_(model.row_length_, 0.0),
      transceiver_nsr_(model.config_.transceiver_nsr) {
  for (int f : fibres) {
    const double* row = &model.table_[static_cast<size_t>(f) * model.row_length_];
    for (size_t i = 0; i < nsr_.size(); ++i) nsr_[i] += row[i];
  }
}

double PathQot::WorstCaseGsnrDb(int band, int first_slot, int width) const {
  return -10.0 * std::log10(nsr_[band_offset_[band] + 2 * static_cast<size_t>(first_slot) + width] +
                            transceiver_nsr_);
}

}  // namespace eonops::twin
