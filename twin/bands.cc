#include "twin/bands.h"

#include <cmath>

#include "twin/json_util.h"

namespace eonops::twin {

namespace {
// Snap tiny floating-point noise so that e.g. (191.3 THz - 193.1 THz) / 6.25 GHz is exactly -288.
long long RoundToLong(double x) { return std::llround(x); }
bool IsInteger(double x) { return std::abs(x - std::round(x)) < 1e-6; }
}  // namespace

BandPlan::BandPlan(std::vector<Band> bands, double slot_width_hz,
                   std::vector<std::string> catalogue)
    : bands_(std::move(bands)), slot_width_hz_(slot_width_hz), catalogue_(std::move(catalogue)) {
  const bool own_names = catalogue_.empty();
  for (const auto& b : bands_) {
    total_slots_ += b.num_slots;
    max_slots_ = std::max(max_slots_, b.num_slots);
    if (own_names) catalogue_.push_back(b.name);
  }
}

BandPlan BandPlan::Load(const std::string& path) { return FromJson(ReadJsonFile(path), path); }

BandPlan BandPlan::FromJson(const nlohmann::json& j, const std::string& origin) {
  RejectUnknownKeys(j, {"grid_anchor_thz", "slot_width_ghz", "bands"}, origin);
  // The grid anchor is ITU-T G.694.1's; the file states it, this checks it is that one.
  if (j.contains("grid_anchor_thz") &&
      std::abs(RequireNumber(j, "grid_anchor_thz", origin) * 1e12 - kGridAnchorHz) > 1.0) {
    ConfigError(origin + ".grid_anchor_thz", "must be 193.1 (the ITU-T G.694.1 anchor)");
  }
  double slot_width_hz = NumberOr(j, "slot_width_ghz", 12.5, origin) * 1e9;
  if (!(slot_width_hz > 0) || !IsInteger(slot_width_hz / kCentreGranularityHz)) {
    ConfigError(origin + ".slot_width_ghz", "must be a positive multiple of 6.25 GHz");
  }
  const auto& arr = Require(j, "bands", origin);
  if (!arr.is_array() || arr.empty()) ConfigError(origin + ".bands", "expected a non-empty array");
  std::vector<Band> bands;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string where = origin + ".bands[" + std::to_string(i) + "]";
    RejectUnknownKeys(arr[i],
                      {"name", "f_min_thz", "f_max_thz", "num_slots", "amplifier", "noise_figure_db"},
                      where);
    Band b;
    b.name = RequireString(arr[i], "name", where);
    b.f_min_hz = RequirePositive(arr[i], "f_min_thz", where) * 1e12;
    b.f_max_hz = RequirePositive(arr[i], "f_max_thz", where) * 1e12;
    if (b.f_max_hz <= b.f_min_hz) ConfigError(where + ".f_max_thz", "must exceed f_min_thz");
    if (!IsInteger((b.f_min_hz - kGridAnchorHz) / kCentreGranularityHz)) {
      ConfigError(where + ".f_min_thz", "band edge must lie on the 6.25 GHz grid anchored at 193.1 THz");
    }
    double slots = (b.f_max_hz - b.f_min_hz) / slot_width_hz;
    if (arr[i].contains("num_slots")) {
      b.num_slots = RequireInt(arr[i], "num_slots", where);
      if (b.num_slots <= 0 || b.num_slots > slots + 1e-6) {
        ConfigError(where + ".num_slots", "must be in 1.." + std::to_string(static_cast<int>(slots)));
      }
    } else {
      b.num_slots = static_cast<int>(std::floor(slots + 1e-6));
    }
    for (const char* moved : {"amplifier", "noise_figure_db"}) {
      if (arr[i].contains(moved)) {
        ConfigError(where + "." + moved, "the band's amplifier is described in amplifiers.json");
      }
    }
    for (const auto& other : bands) {
      if (other.name == b.name) ConfigError(where + ".name", "duplicate band " + b.name);
      if (b.f_min_hz < other.f_max_hz && other.f_min_hz < b.f_max_hz) {
        ConfigError(where, "band " + b.name + " overlaps band " + other.name);
      }
    }
    bands.push_back(b);
  }
  return BandPlan(std::move(bands), slot_width_hz);
}

BandPlan BandPlan::Select(const std::vector<std::string>& names) const {
  std::vector<Band> out;
  for (const auto& n : names) {
    int i = IndexOf(n);
    if (i < 0) throw std::runtime_error("unknown band '" + n + "'");
    for (const auto& b : out) {
      if (b.name == n) throw std::runtime_error("band '" + n + "' listed twice");
    }
    out.push_back(bands_[i]);
  }
  if (out.empty()) throw std::runtime_error("no band selected");
  return BandPlan(std::move(out), slot_width_hz_, catalogue_);
}

BandPlan BandPlan::SingleBand(const std::string& name, double f_min_hz, int num_slots,
                              double slot_width_hz) {
  Band b;
  b.name = name;
  b.f_min_hz = f_min_hz;
  b.num_slots = num_slots;
  b.f_max_hz = f_min_hz + num_slots * slot_width_hz;
  return BandPlan({b}, slot_width_hz);
}

int BandPlan::IndexOf(const std::string& name) const {
  for (int i = 0; i < NumBands(); ++i) {
    if (bands_[i].name == name) return i;
  }
  return -1;
}

double BandPlan::SlotLowerHz(int band, int slot) const {
  return bands_.at(band).f_min_hz + slot * slot_width_hz_;
}

double BandPlan::SlotCentreHz(int band, int slot) const {
  return SlotLowerHz(band, slot) + 0.5 * slot_width_hz_;
}

double BandPlan::BlockCentreHz(int band, int slot, int width) const {
  return SlotLowerHz(band, slot) + 0.5 * width * slot_width_hz_;
}

FlexGridChannel BandPlan::SlotsToGrid(int band, int slot, int width) const {
  FlexGridChannel ch;
  ch.lower_hz = SlotLowerHz(band, slot);
  ch.upper_hz = ch.lower_hz + width * slot_width_hz_;
  ch.centre_hz = 0.5 * (ch.lower_hz + ch.upper_hz);
  ch.n = static_cast<int>(RoundToLong((ch.centre_hz - kGridAnchorHz) / kCentreGranularityHz));
  ch.m = static_cast<int>(RoundToLong((ch.upper_hz - ch.lower_hz) / kWidthGranularityHz));
  return ch;
}

bool BandPlan::GridToSlots(int n, int m, int* band, int* slot, int* width) const {
  if (m <= 0) return false;
  const double centre = kGridAnchorHz + n * kCentreGranularityHz;
  const double lower = centre - m * kWidthGranularityHz / 2;
  const double w = m * kWidthGranularityHz / slot_width_hz_;
  if (!IsInteger(w)) return false;
  for (int b = 0; b < NumBands(); ++b) {
    double s = (lower - bands_[b].f_min_hz) / slot_width_hz_;
    if (!IsInteger(s)) continue;
    long long first = RoundToLong(s), count = RoundToLong(w);
    if (first < 0 || first + count > bands_[b].num_slots) continue;
    *band = b;
    *slot = static_cast<int>(first);
    *width = static_cast<int>(count);
    return true;
  }
  return false;
}

}  // namespace eonops::twin
