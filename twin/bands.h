// Optical bands (C, L, S) and the ITU-T G.694.1 flex grid they are sliced into.
//
// A band is a contiguous frequency range cut into `num_slots` slots of `slot_width_hz`
// (12.5 GHz by default). Slot s of a band spans [f_min + s*w, f_min + (s+1)*w). A block of m
// slots starting at s is a flex-grid media channel of width m*12.5 GHz whose centre is
// 193.1 THz + n*6.25 GHz; SlotsToGrid/GridToSlots convert between the two.
//
//   BandPlan plan = BandPlan::Load("configs/bands.json");           // C, L, S
//   BandPlan c = plan.Select({"C"});                                 // C only
//   double f = plan.SlotCentreHz(/*band=*/0, /*slot=*/100);
//   FlexGridChannel ch = plan.SlotsToGrid(0, 100, 4);                // n, m
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace eonops::twin {

struct Band {
  std::string name;  // "C", "L", "S"
  double f_min_hz = 0.0;
  double f_max_hz = 0.0;
  int num_slots = 0;
};

// A media channel on the G.694.1 flex grid: centre 193.1 THz + n * 6.25 GHz, width m * 12.5 GHz.
struct FlexGridChannel {
  int n = 0;
  int m = 0;
  double centre_hz = 0.0;
  double lower_hz = 0.0;
  double upper_hz = 0.0;
};

class BandPlan {
 public:
  static constexpr double kGridAnchorHz = 193.1e12;
  static constexpr double kCentreGranularityHz = 6.25e9;
  static constexpr double kWidthGranularityHz = 12.5e9;

  BandPlan() = default;
  // `catalogue`: the band names of the file the bands come from (empty: these bands' names).
  BandPlan(std::vector<Band> bands, double slot_width_hz, std::vector<std::string> catalogue = {});

  // Reads configs/bands.json; throws std::runtime_error naming the file and field.
  static BandPlan Load(const std::string& path);
  static BandPlan FromJson(const nlohmann::json& j, const std::string& origin);

  // The bands whose names are listed, in that order (also the order heuristics try them).
  BandPlan Select(const std::vector<std::string>& names) const;
  // A single band of `num_slots` slots, for reach-based benchmarks (DeepRMSA: 100 slots of C).
  static BandPlan SingleBand(const std::string& name, double f_min_hz, int num_slots,
                             double slot_width_hz = 12.5e9);

  int NumBands() const { return static_cast<int>(bands_.size()); }
  const Band& band(int b) const { return bands_.at(b); }
  const std::vector<Band>& bands() const { return bands_; }
  int IndexOf(const std::string& name) const;  // -1 when absent
  // The names of every band of the file (bands.json) this plan was selected from: what a
  // per-band table in another config (fibre.json, energy.json, qot.json) may be keyed by.
  const std::vector<std::string>& CatalogueNames() const { return catalogue_; }
  double slot_width_hz() const { return slot_width_hz_; }
  int TotalSlots() const { return total_slots_; }
  int MaxSlotsPerBand() const { return max_slots_; }

  double SlotLowerHz(int band, int slot) const;
  double SlotCentreHz(int band, int slot) const;
  // Centre frequency of a block of `width` slots starting at `slot`.
  double BlockCentreHz(int band, int slot, int width) const;
  // The G.694.1 (n, m) of a block; the block must be grid-aligned (it is when the band edge
  // is on the 6.25 GHz grid and slots are 12.5 GHz wide).
  FlexGridChannel SlotsToGrid(int band, int slot, int width) const;
  // Inverse: the band and first slot of the media channel (n, m); false when it does not fall
  // exactly on slots of one band.
  bool GridToSlots(int n, int m, int* band, int* slot, int* width) const;

 private:
  std::vector<Band> bands_;
  double slot_width_hz_ = 12.5e9;
  int total_slots_ = 0;
  int max_slots_ = 0;
  std::vector<std::string> catalogue_;  // band names of the file this plan was selected from
};

}  // namespace eonops::twin
