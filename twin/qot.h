// The network-level QoT model the simulator uses: GSNR of a lightpath (a block of slots of one
// band on a path of fibres), worst case (fully loaded) or under the actual occupancy.
//
//   BandPlan plan = BandPlan::Load(ConfigDir() + "/bands.json");
//   Topology topo = Topology::Load(ResolveTopologyPath("nsfnet"));
//   QotModel qot = QotModel::Load(topo, plan);   // configs/fibre.json and configs/qot.json
//   double gsnr_db = qot.WorstCaseGsnrDb(path.fibres, /*band=*/0, /*first_slot=*/100, /*width=*/4);
//   double now_db = qot.ActualGsnrDb(path.fibres, 0, 100, 4,
//       [&](int fibre, std::vector<ActiveChannel>* out) { /* the lightpaths lit on fibre */ });
//
// Assumptions (each a common one in network-level QoT studies; see configs/qot.json):
// - Every channel is launched at the same power spectral density (launch_power_dbm per
//   launch_reference_symbol_rate_gbaud, plus a per-band offset), on every fibre: the ROADMs
//   equalise the power per channel. A channel's power is PSD * its symbol rate, so the ASE
//   noise-to-signal ratio (NSR) at a frequency does not depend on the channel's width.
// - Worst case: every band of the plan is filled with reference channels (symbol rate and
//   spacing from qot.json) at that PSD, and the NSR of a block is the fully loaded NSR at the
//   block's centre frequency (interpolated between reference channels). The NLI of a fully
//   loaded comb is locally white, so to first order it too does not depend on the block's width.
// - A block of w slots carries a channel of symbol rate (w - guard_slots) * slot_width /
//   (1 + roll_off) centred on the block (the slot rule of configs/modulations.json).
// - Each fibre is a chain of its spans (Topology's spans_km), an amplifier after each; NSRs of the
//   fibres of a path add up (noise is referred to the signal; NLI adds incoherently across
//   fibres), plus 1/SNR_TRX when the transceiver limit is set.
// - ISRS couples all bands of a fibre: with nli_model "isrs-gn" the whole comb's Raman tilt
//   changes powers and NLI; with amplifier_gain "equalise" each amplifier restores the launch
//   profile (so every span of a fibre sees the same powers).
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "twin/bands.h"
#include "twin/gsnr.h"
#include "twin/topology.h"

namespace eonops::twin {

// configs/qot.json.
struct QotConfig {
  double launch_psd_w_per_hz = 1e-3 / 32e9;              // 0 dBm per 32 GBd
  std::map<std::string, double> launch_power_offset_db;  // per band name; absent = 0 dB
  double reference_symbol_rate_baud = 32e9;
  double reference_spacing_hz = 50e9;
  double roll_off = 0.15;
  int guard_slots = 1;
  double transceiver_nsr = 0.0;  // 1 / SNR_TRX (linear); 0 when no transceiver limit is set
  PropagationOptions propagation{NliModel::kIsrsGn, false, AmplifierGain::kEqualise};

  // Throws std::runtime_error("<file>: <field>: <reason>").
  static QotConfig Load(const std::string& path);
  static QotConfig FromJson(const nlohmann::json& j, const std::string& origin);
};

// A channel lit on a fibre, as the occupancy callback reports it.
struct ActiveChannel {
  double centre_hz = 0.0;
  double symbol_rate_baud = 0.0;
};

// Fills `out` (empty on entry) with the channels lit on `fibre`, every band.
using ChannelsOnFibre = std::function<void(int fibre, std::vector<ActiveChannel>* out)>;

class QotModel {
 public:
  // Precomputes the worst-case NSR table; fibres with identical span lists share one computation.
  QotModel(const Topology& topology, const BandPlan& plan, FibreParams fibre, QotConfig config);
  // <configs>/fibre.json and <configs>/qot.json (ConfigDir() when `config_dir` is empty).
  static QotModel Load(const Topology& topology, const BandPlan& plan,
                       const std::string& config_dir = "");

  // Worst-case (fully loaded) NSR of one fibre for the block [first_slot, first_slot + width).
  double WorstCaseNsr(int fibre, int band, int first_slot, int width) const {
    return table_[RowIndex(fibre, band) + 2 * first_slot + width];
  }
  // Worst-case GSNR (dB) of a block over a path: sum of the fibres' NSRs at the block's centre,
  // plus 1/SNR_TRX. O(hops), no allocation. Arguments must be in range (checked in debug builds).
  double WorstCaseGsnrDb(const std::vector<int>& fibres, int band, int first_slot, int width) const;
  // The table row of (fibre, band): 2 * num_slots + 1 NSRs at slot edges (even index 2s) and slot
  // centres (odd index 2s + 1); the centre of block (s, w) is entry 2s + w.
  const double* WorstCaseNsrRow(int fibre, int band) const {
    return &table_[RowIndex(fibre, band)];
  }

  // GSNR (dB) of the block under the actual occupancy: on each fibre, the GN / ISRS GN model over
  // the fibre's spans with only the channels that `channels_on_fibre` reports (plus this one; a
  // reported channel whose centre lies within this one's band is taken to be this one). The
  // symbol rate is the block's (see BlockChannel) unless `symbol_rate_baud` > 0.
  double ActualGsnrDb(const std::vector<int>& fibres, int band, int first_slot, int width,
                      const ChannelsOnFibre& channels_on_fibre,
                      double symbol_rate_baud = 0.0) const;

  // Centre frequency and symbol rate of the channel a block carries.
  ActiveChannel BlockChannel(int band, int first_slot, int width) const;
  double SymbolRateForWidthBaud(int width) const;
  // Launch power of a channel at `frequency_hz` (constant PSD, per-band offset).
  double LaunchPowerW(double frequency_hz, double symbol_rate_baud) const;

  const BandPlan& plan() const { return plan_; }
  const FibreParams& fibre_params() const { return fibre_; }
  const QotConfig& config() const { return config_; }
  int NumFibres() const { return num_fibres_; }
  // How many distinct span lists the worst-case table was computed for.
  int NumDistinctSpanLists() const { return num_distinct_span_lists_; }

 private:
  friend class PathQot;
  size_t RowIndex(int fibre, int band) const {
    return static_cast<size_t>(fibre) * row_length_ + band_offset_[band];
  }
  void BuildWorstCaseTable(const std::vector<std::vector<double>>& spans_m);
  double FibreActualNsr(int fibre, const Channel& cut,
                        const std::vector<ActiveChannel>& others) const;

  BandPlan plan_;
  FibreParams fibre_;
  QotConfig config_;
  std::vector<double> nf_lin_;                      // per band of the plan
  std::vector<double> band_offset_lin_;             // launch power offset per band
  std::vector<std::vector<double>> fibre_spans_m_;  // per fibre
  int num_fibres_ = 0;
  std::vector<size_t> band_offset_;  // into a fibre's row
  size_t row_length_ = 0;
  std::vector<double> table_;
  int num_distinct_span_lists_ = 0;
};

// The worst-case NSR profile of one path (sum over its fibres), per band and half slot: every
// candidate block of a spectrum search then costs O(1).
class PathQot {
 public:
  PathQot(const QotModel& model, const std::vector<int>& fibres);
  double WorstCaseGsnrDb(int band, int first_slot, int width) const;

 private:
  std::vector<size_t> band_offset_;
  std::vector<double> nsr_;
  double transceiver_nsr_ = 0.0;
};

}  // namespace eonops::twin
