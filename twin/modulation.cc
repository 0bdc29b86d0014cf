#include "twin/modulation.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "twin/json_util.h"

namespace eonops::twin {

ModulationTable::ModulationTable(std::vector<ModulationFormat> formats, SlotRule rule, double slot_width_hz)
    : formats_(std::move(formats)), rule_(rule), slot_width_hz_(slot_width_hz) {
  std::stable_sort(formats_.begin(), formats_.end(), [](const ModulationFormat& a, const ModulationFormat& b) {
    return a.bits_per_symbol < b.bits_per_symbol;
  });
}

ModulationTable ModulationTable::Load(const std::string& path, double slot_width_hz) {
  return FromJson(ReadJsonFile(path), path, slot_width_hz);
}

ModulationTable ModulationTable::FromJson(const nlohmann::json& j, const std::string& origin, double slot_width_hz) {
  RejectUnknownKeys(j, {"slot_rule", "formats"}, origin);
  SlotRule rule;
  if (j.is_object() && j.contains("slot_rule")) {
    const auto& r = j["slot_rule"];
    const std::string where = origin + ".slot_rule";
    RejectUnknownKeys(r, {"polarisations", "fec_overhead", "roll_off", "guard_slots"}, where);
    rule.polarisations = r.contains("polarisations") ? RequireInt(r, "polarisations", where) : 2;
    if (rule.polarisations != 1 && rule.polarisations != 2) ConfigError(where + ".polarisations", "must be 1 or 2");
    rule.fec_overhead = NumberOr(r, "fec_overhead", 0.0, where);
    rule.roll_off = NumberOr(r, "roll_off", 0.0, where);
    rule.guard_slots = r.contains("guard_slots") ? RequireInt(r, "guard_slots", where) : 0;
    if (rule.fec_overhead < 0) ConfigError(where + ".fec_overhead", "must not be negative");
    if (rule.roll_off < 0 || rule.roll_off > 1) ConfigError(where + ".roll_off", "must be in [0, 1]");
    if (rule.guard_slots < 0) ConfigError(where + ".guard_slots", "must not be negative");
  }
  const auto& arr = Require(j, "formats", origin);
  if (!arr.is_array() || arr.empty()) ConfigError(origin + ".formats", "expected a non-empty array");
  std::vector<ModulationFormat> formats;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string where = origin + ".formats[" + std::to_string(i) + "]";
    RejectUnknownKeys(arr[i], {"name", "bits_per_symbol", "gsnr_threshold_db", "max_reach_km"},
                      where);
    ModulationFormat f;
    f.name = RequireString(arr[i], "name", where);
    f.bits_per_symbol = RequireInt(arr[i], "bits_per_symbol", where);
    if (f.bits_per_symbol <= 0) ConfigError(where + ".bits_per_symbol", "must be positive");
    f.gsnr_threshold_db = RequireNumber(arr[i], "gsnr_threshold_db", where);
    f.max_reach_km = RequirePositive(arr[i], "max_reach_km", where);
    for (const auto& g : formats) {
      if (g.name == f.name) ConfigError(where + ".name", "duplicate format " + f.name);
    }
    formats.push_back(f);
  }
  return ModulationTable(std::move(formats), rule, slot_width_hz);
}

int ModulationTable::IndexOf(const std::string& name) const {
  for (int i = 0; i < NumFormats(); ++i) {
    if (formats_[i].name == name) return i;
  }
  return -1;
}

int ModulationTable::ByReach(double length_km) const {
  for (int i = NumFormats() - 1; i >= 0; --i) {
    if (length_km <= formats_[i].max_reach_km) return i;
  }
  return -1;
}

int ModulationTable::ByGsnr(double gsnr_db, double margin_db) const {
  for (int i = NumFormats() - 1; i >= 0; --i) {
    if (gsnr_db >= formats_[i].gsnr_threshold_db + margin_db) return i;
  }
  return -1;
}

double ModulationTable::SymbolRateBaud(double bit_rate_gbps, int format) const {
  return bit_rate_gbps * 1e9 * (1.0 + rule_.fec_overhead) /
         (formats_.at(format).bits_per_symbol * rule_.polarisations);
}

int ModulationTable::SlotsNeeded(double bit_rate_gbps, int format) const {
  if (!(bit_rate_gbps > 0)) throw std::invalid_argument("bit rate must be positive");
  const double bandwidth_hz = SymbolRateBaud(bit_rate_gbps, format) * (1.0 + rule_.roll_off);
  // The epsilon keeps exact multiples (100 Gb/s / 50 GHz) from rounding up on float noise.
  return static_cast<int>(std::ceil(bandwidth_hz / slot_width_hz_ - 1e-9)) + rule_.guard_slots;
}

double ModulationTable::BlockCapacityGbps(int width, int format) const {
  const int signal_slots = std::max(0, width - rule_.guard_slots);
  const double symbol_rate_baud = signal_slots * slot_width_hz_ / (1.0 + rule_.roll_off);
  return symbol_rate_baud * formats_.at(format).bits_per_symbol * rule_.polarisations /
         (1.0 + rule_.fec_overhead) * 1e-9;
}

}  // namespace eonops::twin
