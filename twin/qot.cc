#include "twin/qot.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "twin/json_util.h"

namespace eonops::twin {

QotConfig QotConfig::Load(const std::string& path) { return FromJson(ReadJsonFile(path), path); }

QotConfig QotConfig::FromJson(const nlohmann::json& j, const std::string& origin) {
  RejectUnknownKeys(j,
                    {"launch_power_dbm", "launch_reference_symbol_rate_gbaud",
                     "launch_power_offset_db", "roll_off", "reference_channel", "guard_slots",
                     "transceiver_snr_db", "nli_model", "coherent_nli", "amplifier_gain"},
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
  const auto& ref = Require(j, "reference_channel", origin);
  const std::string ref_where = origin + ".reference_channel";
  RejectUnknownKeys(ref, {"symbol_rate_gbaud", "spacing_ghz"}, ref_where);
  c.reference_symbol_rate_baud = RequirePositive(ref, "symbol_rate_gbaud", ref_where) * 1e9;
  c.reference_spacing_hz = RequirePositive(ref, "spacing_ghz", ref_where) * 1e9;
  if (c.reference_spacing_hz < c.reference_symbol_rate_baud * (1 + c.roll_off) * (1 - 1e-12)) {
    ConfigError(
        ref_where + ".spacing_ghz",
        "reference channels would overlap: spacing is less than symbol rate x (1 + roll_off)");
  }
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
                   QotConfig config)
    : plan_(plan), fibre_(std::move(fibre)), config_(std::move(config)) {
  const int nb = plan_.NumBands();
  if (static_cast<int>(fibre_.bands.size()) != nb) {
    throw std::invalid_argument("QotModel: fibre parameters have " +
                                std::to_string(fibre_.bands.size()) + " bands, the plan " +
                                std::to_string(nb));
  }
  for (int b = 0; b < nb; ++b) {
    const Band& band = plan_.band(b);
    if (fibre_.bands[b].name != band.name) {
      throw std::invalid_argument("QotModel: fibre band " + std::to_string(b) + " is " +
                                  fibre_.bands[b].name + ", the plan's is " + band.name);
    }
    nf_lin_.push_back(DbToLinear(band.noise_figure_db));
    auto it = config_.launch_power_offset_db.find(band.name);
    band_offset_lin_.push_back(
        DbToLinear(it == config_.launch_power_offset_db.end() ? 0.0 : it->second));
    band_offset_.push_back(row_length_);
    row_length_ += 2 * static_cast<size_t>(band.num_slots) + 1;
  }
  num_fibres_ = topology.NumFibres();
  fibre_spans_m_.reserve(num_fibres_);
  for (const Fibre& f : topology.fibres()) {
    std::vector<double> spans;
    for (double km : f.spans_km) spans.push_back(km * 1e3);
    fibre_spans_m_.push_back(std::move(spans));
  }
  BuildWorstCaseTable(fibre_spans_m_);
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
  return QotModel(topology, plan, FibreParams::Load(dir + "/fibre.json", plan), std::move(config));
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

void QotModel::BuildWorstCaseTable(const std::vector<std::vector<double>>& spans_m) {
  const int nb = plan_.NumBands();
  const double slot_hz = plan_.slot_width_hz();
  // The fully loaded comb: each band filled with reference channels, centred in the band.
  std::vector<Channel> comb;
  std::vector<int> band_first(nb + 1, 0);
  for (int b = 0; b < nb; ++b) {
    const Band& band = plan_.band(b);
    band_first[b] = static_cast<int>(comb.size());
    double width_hz = band.num_slots * slot_hz;
    int n = static_cast<int>(std::floor(width_hz / config_.reference_spacing_hz + 1e-9));
    double rate = config_.reference_symbol_rate_baud;
    if (n == 0) {  // a band narrower than one reference channel: one channel filling it
      n = 1;
      rate = std::min(rate, width_hz / (1.0 + config_.roll_off));
    }
    double spacing = n == 1 ? width_hz : config_.reference_spacing_hz;
    double first = band.f_min_hz + 0.5 * (width_hz - n * spacing) + 0.5 * spacing;
    for (int i = 0; i < n; ++i) {
      double f = first + i * spacing;
      comb.push_back({f, rate, config_.launch_psd_w_per_hz * rate * band_offset_lin_[b]});
    }
  }
  band_first[nb] = static_cast<int>(comb.size());

  LinePropagation line(fibre_, nf_lin_, comb, config_.propagation);
  table_.assign(static_cast<size_t>(num_fibres_) * row_length_, 0.0);
  std::vector<std::vector<double>> distinct;  // span lists computed so far
  std::vector<size_t> distinct_row;           // the first fibre row holding each
  std::vector<ChannelQot> qot(comb.size());
  for (int fibre = 0; fibre < num_fibres_; ++fibre) {
    double* row = &table_[static_cast<size_t>(fibre) * row_length_];
    auto it = std::find(distinct.begin(), distinct.end(), spans_m[fibre]);
    if (it != distinct.end()) {
      const double* src = &table_[distinct_row[it - distinct.begin()]];
      std::copy(src, src + row_length_, row);
      continue;
    }
    distinct.push_back(spans_m[fibre]);
    distinct_row.push_back(static_cast<size_t>(fibre) * row_length_);
    line.Run(spans_m[fibre], qot.data());
    // NSR at slot edges and centres, linear in frequency between reference channel centres
    // (flat beyond the outermost ones).
    for (int b = 0; b < nb; ++b) {
      const Band& band = plan_.band(b);
      const int lo = band_first[b], hi = band_first[b + 1];
      double* out = row + band_offset_[b];
      int k = lo;
      for (int h = 0; h <= 2 * band.num_slots; ++h) {
        double f = band.f_min_hz + 0.5 * h * slot_hz;
        while (k + 1 < hi && comb[k + 1].frequency_hz <= f) ++k;
        if (f <= comb[lo].frequency_hz) {
          out[h] = qot[lo].Nsr();
        } else if (k + 1 >= hi) {
          out[h] = qot[hi - 1].Nsr();
        } else {
          double t = (f - comb[k].frequency_hz) / (comb[k + 1].frequency_hz - comb[k].frequency_hz);
          out[h] = (1 - t) * qot[k].Nsr() + t * qot[k + 1].Nsr();
        }
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

double QotModel::FibreActualNsr(int fibre, const Channel& cut,
                                const std::vector<ActiveChannel>& others) const {
  std::vector<Channel> channels;
  channels.reserve(others.size() + 1);
  channels.push_back(cut);
  for (const ActiveChannel& a : others) {
    // A reported channel centred within the cut's band is the cut itself (or a caller's
    // double-booking, which the spectrum never allows).
    if (std::abs(a.centre_hz - cut.frequency_hz) < 0.5 * cut.symbol_rate_baud) continue;
    channels.push_back(
        {a.centre_hz, a.symbol_rate_baud, LaunchPowerW(a.centre_hz, a.symbol_rate_baud)});
  }
  LinePropagation line(fibre_, nf_lin_, std::move(channels), config_.propagation, {0});
  ChannelQot q;
  line.Run(fibre_spans_m_[fibre], &q);
  return q.Nsr();
}

double QotModel::ActualGsnrDb(const std::vector<int>& fibres, int band, int first_slot, int width,
                              const ChannelsOnFibre& channels_on_fibre,
                              double symbol_rate_baud) const {
  ActiveChannel block = BlockChannel(band, first_slot, width);
  if (symbol_rate_baud > 0) block.symbol_rate_baud = symbol_rate_baud;
  const Channel cut{block.centre_hz, block.symbol_rate_baud,
                    LaunchPowerW(block.centre_hz, block.symbol_rate_baud)};
  std::vector<ActiveChannel> others;
  double nsr = config_.transceiver_nsr;
  for (int f : fibres) {
    others.clear();
    channels_on_fibre(f, &others);
    nsr += FibreActualNsr(f, cut, others);
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
