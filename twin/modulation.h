// Modulation formats and how many flex-grid slots a lightpath needs.
//
// Slots for a bit rate B (Gb/s) with a format of b bits per symbol, on slots of width W (GHz):
//   symbol rate  R_s = B * (1 + fec_overhead) / (b * polarisations)        [GBd]
//   bandwidth    BW  = R_s * (1 + roll_off)                                 [GHz]
//   slots        n   = ceil(BW / W) + guard_slots
// DeepRMSA's rule (ceil(B / (12.5 b)) + 1) is polarisations = 1, no FEC, no roll-off, 1 guard.
//
//   ModulationTable m = ModulationTable::Load("configs/modulations.json");
//   int f = m.ByReach(path.length_km);            // most efficient format within reach, or -1
//   int g = m.ByGsnr(gsnr_db, /*margin_db=*/1.0); // most efficient format the GSNR allows, or -1
//   int slots = m.SlotsNeeded(100.0, f);
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace eonops::twin {

struct ModulationFormat {
  std::string name;
  int bits_per_symbol = 0;
  double gsnr_threshold_db = 0.0;
  double max_reach_km = 0.0;
};

struct SlotRule {
  int polarisations = 2;
  double fec_overhead = 0.0;
  double roll_off = 0.0;
  int guard_slots = 0;
};

class ModulationTable {
 public:
  static ModulationTable Load(const std::string& path, double slot_width_hz = 12.5e9);
  static ModulationTable FromJson(const nlohmann::json& j, const std::string& origin,
                                  double slot_width_hz = 12.5e9);
  ModulationTable(std::vector<ModulationFormat> formats, SlotRule rule, double slot_width_hz);

  // Formats sorted from least to most bits per symbol.
  const std::vector<ModulationFormat>& formats() const { return formats_; }
  const ModulationFormat& format(int i) const { return formats_.at(i); }
  int NumFormats() const { return static_cast<int>(formats_.size()); }
  int IndexOf(const std::string& name) const;  // -1 when absent
  const SlotRule& slot_rule() const { return rule_; }
  double slot_width_hz() const { return slot_width_hz_; }

  int ByReach(double length_km) const;
  int ByGsnr(double gsnr_db, double margin_db = 0.0) const;
  int SlotsNeeded(double bit_rate_gbps, int format) const;
  // The inverse: the highest bit rate a block of `width` slots carries with this format, i.e.
  // (width - guard) x slot width / (1 + roll_off) baud x bits x polarisations / (1 + FEC).
  // SlotsNeeded(BlockCapacityGbps(w, f), f) == w, and any bit rate that needs w slots is at most
  // it (100G QPSK on 4 slots with configs/modulations.json: 113.4 Gb/s).
  double BlockCapacityGbps(int width, int format) const;
  // Symbol rate in baud of a lightpath of this bit rate and format.
  double SymbolRateBaud(double bit_rate_gbps, int format) const;

 private:
  std::vector<ModulationFormat> formats_;
  SlotRule rule_;
  double slot_width_hz_;
};

}  // namespace eonops::twin
