// The network-level QoT model the simulator uses: GSNR of a lightpath (a block of slots of one
// band on a path of fibres), as a bound over every occupancy the slot rule allows (the
// worst-case table) or under the actual occupancy.
//
//   BandPlan plan = BandPlan::Load(ConfigDir() + "/bands.json");
//   Topology topo = Topology::Load(ResolveTopologyPath("nsfnet"));
//   QotModel qot = QotModel::Load(topo, plan);   // configs/{fibre,raman,qot,amplifiers}.json
//   double gsnr_db = qot.WorstCaseGsnrDb(path.fibres, /*band=*/0, /*first_slot=*/100, /*width=*/4);
//   double now_db = qot.ActualGsnrDb(path.fibres, 0, 100, 4,
//       [&](int fibre, std::vector<ActiveChannel>* out) { /* the lightpaths lit on fibre */ });
//
// Assumptions (each a common one in network-level QoT studies; see configs/qot.json):
// - Every channel is launched at the same power spectral density G (launch_power_dbm per
//   launch_reference_symbol_rate_gbaud, plus a per-band offset), on every fibre: the ROADMs
//   equalise the power per channel. A channel's power is G times its symbol rate, so the ASE
//   noise-to-signal ratio (NSR) at a frequency does not depend on the channel's width.
// - A block of w slots carries a channel of symbol rate (w - guard_slots) * slot_width /
//   (1 + roll_off) centred on the block (the slot rule of configs/modulations.json).
// - Each fibre is a chain of its spans (Topology's spans_km), an amplifier after each (its band's,
//   configs/amplifiers.json); NSRs of the fibres of a path add up (noise is referred to the
//   signal; NLI adds incoherently across fibres), plus 1/SNR_TRX when the transceiver limit is set.
// - ISRS couples all bands of a fibre: with nli_model "isrs-gn" the Raman power transfer of the
//   channels lit on the fibre changes their powers along each span and their NLI; with
//   amplifier_gain "equalise" each amplifier restores the launch profile, so every span of a
//   fibre sees the same powers.
//
// What the worst-case table bounds. For any set of non-overlapping channels the slot rule
// allows on a fibre (any widths up to kBoundMaxWidthSlots, any positions, any bands), the NSR of
// each of them is at most the table's entry at its block centre. The entry is built from
//   - NLI: the channel (the widest block of up to kBoundMaxWidthSlots with that centre: the NLI of
//     a channel among others grows with its width) with every other frequency of every band
//     filled at the launch PSD, from the edge of its block plus half a guard slot on (no other
//     channel's signal can come closer). The GN integrand is non-negative, so a PSD that is at
//     least the actual one everywhere gives at least its NLI.
//   - ISRS: the Raman gain of a channel ranges between the load with everything below it lit
//     (least gain) and everything above it lit (most), the bands filled at the densest the slot
//     rule allows (1 / (1 + roll_off) of the spectrum). The entry is the larger NSR of these two
//     states, each with its own powers and NLI; interferers more than kBoundNearHz away take
//     their own most-gained profile. NSR is convex in a channel's Raman gain (ASE falls as e^-x,
//     NLI grows as e^{kx}), so its largest value lies at one end.
// The first part is exact within the model; the second is checked, not proved: qot_test lights
// many random, dense and one-sided occupancies and finds every channel at or above its entry.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "twin/amplifiers.h"
#include "twin/bands.h"
#include "twin/gsnr.h"
#include "twin/topology.h"

namespace eonops::twin {

// The widest block the worst-case table is built for (800 GHz of 12.5 GHz slots); a wider one
// gains less than 0.02 dB more NLI (the NLI of a channel among a full spectrum saturates with
// its width).
inline constexpr int kBoundMaxWidthSlots = 64;
// Interferers closer than this share the Raman state of the channel in the bound.
inline constexpr double kBoundNearHz = 1.0e12;

// configs/qot.json.
struct QotConfig {
  double launch_psd_w_per_hz = 1e-3 / 32e9;              // 0 dBm per 32 GBd
  std::map<std::string, double> launch_power_offset_db;  // per band name; absent = 0 dB
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
  // Throws std::invalid_argument when the line cannot be built as configured (a span longer
  // than an amplifier can bridge, a full band beyond its amplifier's output power).
  QotModel(const Topology& topology, const BandPlan& plan, FibreParams fibre, QotConfig config,
           BandAmplifiers amplifiers);
  // <configs>/fibre.json, qot.json and amplifiers.json (ConfigDir() when `config_dir` is empty).
  static QotModel Load(const Topology& topology, const BandPlan& plan,
                       const std::string& config_dir = "");

  // Worst-case NSR of one fibre for the block [first_slot, first_slot + width).
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
  // NSR (ASE and NLI) over `fibre` of every one of `channels` when exactly these are lit there,
  // launched at the model's PSD; out[i] for channels[i]. One Raman solution, O(n^2) NLI terms.
  void FibreNsr(int fibre, const std::vector<ActiveChannel>& channels,
                std::vector<ChannelQot>* out) const;
  // The propagation behind FibreNsr, for callers that also want its Raman solution.
  LinePropagation FibreLine(int fibre, const std::vector<ActiveChannel>& channels) const;

  // Centre frequency and symbol rate of the channel a block carries.
  ActiveChannel BlockChannel(int band, int first_slot, int width) const;
  double SymbolRateForWidthBaud(int width) const;
  // Launch power of a channel at `frequency_hz` (constant PSD, per-band offset).
  double LaunchPowerW(double frequency_hz, double symbol_rate_baud) const;
  // The fibre's spans (m) and the mean of their lengths.
  const std::vector<double>& FibreSpansM(int fibre) const { return fibre_spans_m_[fibre]; }
  double NoiseFigureLin(int band) const { return nf_lin_[band]; }

  const BandPlan& plan() const { return plan_; }
  const FibreParams& fibre_params() const { return fibre_; }
  const QotConfig& config() const { return config_; }
  const BandAmplifiers& amplifiers() const { return amplifiers_; }
  int NumFibres() const { return num_fibres_; }
  // How many distinct span lists the worst-case table was computed for.
  int NumDistinctSpanLists() const { return num_distinct_span_lists_; }

 private:
  friend class PathQot;
  size_t RowIndex(int fibre, int band) const {
    return static_cast<size_t>(fibre) * row_length_ + band_offset_[band];
  }
  void CheckAmplifiers() const;
  void BuildWorstCaseTable();
  std::vector<Channel> ToChannels(const std::vector<ActiveChannel>& active) const;

  BandPlan plan_;
  FibreParams fibre_;
  QotConfig config_;
  BandAmplifiers amplifiers_;
  std::vector<double> nf_lin_;                      // per band of the plan
  std::vector<double> band_offset_lin_;             // launch power offset per band
  std::vector<std::vector<double>> fibre_spans_m_;  // per fibre
  double longest_span_m_ = 0.0;
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
