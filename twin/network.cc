#include "twin/network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "twin/json_util.h"

namespace eonops::twin {

ModulationMode ParseModulationMode(const std::string& s) {
  if (s == "reach") return ModulationMode::kReach;
  if (s == "gsnr") return ModulationMode::kGsnr;
  throw std::invalid_argument("modulation mode must be 'reach' or 'gsnr', got '" + s + "'");
}

const char* ToString(ModulationMode m) { return m == ModulationMode::kReach ? "reach" : "gsnr"; }

const char* ToString(BlockCause c) {
  switch (c) {
    case BlockCause::kNone: return "none";
    case BlockCause::kNoSpectrum: return "no_spectrum";
    case BlockCause::kQot: return "qot";
    case BlockCause::kLatency: return "latency";
    case BlockCause::kNoPath: return "no_path";
    case BlockCause::kQotImpact: return "qot_impact";
  }
  return "?";
}

namespace {
const std::set<std::string> kNetworkKeys = {"topology", "bands", "slots_per_band", "modulations", "modulation_mode",
                                            "gsnr_margin_db", "k_paths", "path_order", "max_span_km",
                                            "_source", "_comment"};

std::string ConfigFile(const std::string& dir, const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  return (dir.empty() ? ConfigDir() : dir) + "/" + name;
}
}  // namespace

NetworkOptions NetworkOptions::FromJson(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) ConfigError(origin, "expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kNetworkKeys.count(it.key())) ConfigError(origin + "." + it.key(), "unknown key");
  }
  NetworkOptions o;
  if (j.contains("topology")) o.topology = RequireString(j, "topology", origin);
  if (j.contains("bands")) {
    const auto& b = j["bands"];
    if (!b.is_array() || b.empty()) ConfigError(origin + ".bands", "expected a non-empty array of band names");
    o.bands.clear();
    for (const auto& x : b) {
      if (!x.is_string()) ConfigError(origin + ".bands", "expected band names (strings)");
      o.bands.push_back(x.get<std::string>());
    }
  }
  if (j.contains("slots_per_band")) o.slots_per_band = RequireInt(j, "slots_per_band", origin);
  if (o.slots_per_band < 0) ConfigError(origin + ".slots_per_band", "must not be negative");
  if (j.contains("modulations")) o.modulations = RequireString(j, "modulations", origin);
  try {
    if (j.contains("modulation_mode")) o.modulation_mode = ParseModulationMode(RequireString(j, "modulation_mode", origin));
    if (j.contains("path_order")) o.path_order = ParsePathOrder(RequireString(j, "path_order", origin));
  } catch (const std::invalid_argument& e) {
    ConfigError(origin, e.what());
  }
  o.gsnr_margin_db = NumberOr(j, "gsnr_margin_db", o.gsnr_margin_db, origin);
  if (j.contains("k_paths")) o.k_paths = RequireInt(j, "k_paths", origin);
  if (o.k_paths < 1 || o.k_paths > 64) ConfigError(origin + ".k_paths", "must be in 1..64");
  o.max_span_km = NumberOr(j, "max_span_km", o.max_span_km, origin);
  if (!(o.max_span_km > 0)) ConfigError(origin + ".max_span_km", "must be positive");
  return o;
}

nlohmann::json NetworkOptions::ToJson() const {
  return {{"topology", topology},         {"bands", bands},
          {"slots_per_band", slots_per_band}, {"modulations", modulations},
          {"modulation_mode", ToString(modulation_mode)}, {"gsnr_margin_db", gsnr_margin_db},
          {"k_paths", k_paths},           {"path_order", ToString(path_order)},
          {"max_span_km", max_span_km}};
}

namespace {
// The spectrum searches (heuristics, environments, PCE) OR a path's occupancy into a fixed
// buffer of 16 words, so a band may hold at most 1024 slots.
constexpr int kMaxSlotsPerBand = 1024;

// Errors name the network option and the bands file, as the config loaders' do: the options
// were checked for shape when read, the band names and sizes only here against bands.json.
BandPlan MakePlan(const NetworkOptions& o) {
  const std::string bands_file = ConfigFile(o.config_dir, "bands.json");
  BandPlan all = BandPlan::Load(bands_file);
  BandPlan selected = [&] {
    try {
      return all.Select(o.bands);
    } catch (const std::runtime_error& e) {
      ConfigError("network.bands", std::string(e.what()) + " in " + bands_file);
    }
  }();
  for (const auto& b : selected.bands()) {
    if (std::min(b.num_slots, o.slots_per_band > 0 ? o.slots_per_band : b.num_slots) > kMaxSlotsPerBand) {
      ConfigError("network.slots_per_band", "band " + b.name + " has " +
                                                std::to_string(b.num_slots) + " slots; at most " +
                                                std::to_string(kMaxSlotsPerBand) +
                                                " per band are supported (set slots_per_band)");
    }
  }
  if (o.slots_per_band <= 0) return selected;
  std::vector<Band> bands = selected.bands();
  for (auto& b : bands) {
    if (o.slots_per_band > b.num_slots) {
      ConfigError("network.slots_per_band", std::to_string(o.slots_per_band) + " exceeds band " +
                                                b.name + "'s " + std::to_string(b.num_slots) +
                                                " slots in " + bands_file);
    }
    b.num_slots = o.slots_per_band;
    b.f_max_hz = b.f_min_hz + b.num_slots * selected.slot_width_hz();
  }
  return BandPlan(std::move(bands), selected.slot_width_hz(), selected.CatalogueNames());
}
}  // namespace

NetworkModel::NetworkModel(const NetworkOptions& options)
    : options_(options),
      topology_(Topology::Load(ResolveTopologyPath(options.topology), options.max_span_km)),
      plan_(MakePlan(options)),
      paths_(topology_, options.k_paths, options.path_order),
      modulations_(ModulationTable::Load(ConfigFile(options.config_dir, options.modulations), plan_.slot_width_hz())),
      qot_(std::make_unique<QotModel>(QotModel::Load(topology_, plan_, options.config_dir))),
      latency_(LatencyModel::Load(ConfigFile(options.config_dir, "latency.json"))),
      energy_(EnergyModel::Load(ConfigFile(options.config_dir, "energy.json"), plan_, qot_->amplifiers())) {
  if (options_.path_order == PathOrder::kHopsSe) {
    // Hops per bit per symbol: a path of 4 hops in 16QAM (4 bits) costs as much spectrum-hops
    // as one of 2 hops in QPSK. The format is the one the path would use in the first band of
    // the plan (the preferred one); a path no format reaches goes last.
    paths_.SortEachBy([this](const Path& p) {
      int f = options_.modulation_mode == ModulationMode::kReach
                  ? modulations_.ByReach(p.length_km)
                  : modulations_.ByGsnr(WorstGsnrDb(p, 0), options_.gsnr_margin_db);
      if (f < 0) return std::numeric_limits<double>::infinity();
      return static_cast<double>(p.hops) / modulations_.format(f).bits_per_symbol;
    });
  }
  const int n = topology_.NumNodes(), k = options_.k_paths;
  cache_.resize(static_cast<size_t>(n) * n * k);
  for (int s = 0; s < n; ++s) {
    for (int d = 0; d < n; ++d) {
      const auto& ps = paths_.Get(s, d);
      for (size_t i = 0; i < ps.size(); ++i) cache_[(static_cast<size_t>(s) * n + d) * k + i] = MakeCache(ps[i]);
    }
  }
}

double NetworkModel::WorstGsnrDb(const Path& path, int band) const {
  PathQot profile(*qot_, path.fibres);
  double worst = std::numeric_limits<double>::infinity();
  for (int s = 0; s < plan_.band(band).num_slots; ++s) worst = std::min(worst, profile.WorstCaseGsnrDb(band, s, 1));
  return worst;
}

NetworkModel::PathCache NetworkModel::MakeCache(const Path& path) const {
  PathCache c;
  c.latency_us = latency_.PathLatencyUs(path);
  c.reach_modulation = modulations_.ByReach(path.length_km);
  // The modulation of a path and band is set by its worst slot: the fully loaded GSNR at the
  // lowest point of the band's profile. Conservative, and independent of where the spectrum
  // search lands, so the slot count is known before searching.
  for (int b = 0; b < plan_.NumBands(); ++b) {
    const double worst = WorstGsnrDb(path, b);
    c.min_gsnr_db.push_back(worst);
    c.gsnr_modulation.push_back(modulations_.ByGsnr(worst, options_.gsnr_margin_db));
  }
  return c;
}

Candidate NetworkModel::Evaluate(const Request& request, int k, int band) const {
  Candidate c;
  const auto& ps = paths_.Get(request.src, request.dst);
  if (k < 0 || k >= static_cast<int>(ps.size()) || band < 0 || band >= plan_.NumBands()) {
    c.cause = BlockCause::kNoPath;
    return c;
  }
  const int n = topology_.NumNodes();
  const PathCache& pc = cache_[(static_cast<size_t>(request.src) * n + request.dst) * options_.k_paths + k];
  c.path_index = k;
  c.path = &ps[k];
  c.band = band;
  c.latency_us = pc.latency_us;
  c.gsnr_db = pc.min_gsnr_db[band];
  c.modulation = options_.modulation_mode == ModulationMode::kReach ? pc.reach_modulation : pc.gsnr_modulation[band];
  if (c.latency_us > request.latency_bound_us) {
    c.cause = BlockCause::kLatency;
  } else if (c.modulation < 0) {
    c.cause = BlockCause::kQot;
  } else {
    c.width = request.media_channel_slots > 0
                  ? request.media_channel_slots
                  : modulations_.SlotsNeeded(request.bit_rate_gbps, c.modulation);
    if (c.width > plan_.band(band).num_slots) c.cause = BlockCause::kNoSpectrum;
  }
  return c;
}

Candidate NetworkModel::EvaluatePath(const Request& request, const Path& path, int band) const {
  Candidate c;
  if (band < 0 || band >= plan_.NumBands() || path.fibres.empty()) {
    c.cause = BlockCause::kNoPath;
    return c;
  }
  PathCache pc = MakeCache(path);
  c.path = &path;
  c.band = band;
  c.latency_us = pc.latency_us;
  c.gsnr_db = pc.min_gsnr_db[band];
  c.modulation = options_.modulation_mode == ModulationMode::kReach ? pc.reach_modulation : pc.gsnr_modulation[band];
  if (c.latency_us > request.latency_bound_us) {
    c.cause = BlockCause::kLatency;
  } else if (c.modulation < 0) {
    c.cause = BlockCause::kQot;
  } else {
    c.width = request.media_channel_slots > 0
                  ? request.media_channel_slots
                  : modulations_.SlotsNeeded(request.bit_rate_gbps, c.modulation);
    if (c.width > plan_.band(band).num_slots) c.cause = BlockCause::kNoSpectrum;
  }
  return c;
}

double NetworkModel::LineCapacityGbps(int width, int modulation) const {
  return modulations_.BlockCapacityGbps(width, modulation);
}

NetworkState::NetworkState(std::shared_ptr<const NetworkModel> model)
    : model_(std::move(model)), spectrum_(model_->topology().NumFibres(), model_->plan()) {
  roadm_base_w_ = model_->energy().RoadmBasePowerW(model_->topology());
}

int32_t NetworkState::Provision(const Request& request, const Candidate& c, int slot, double release_time) {
  if (!c.usable() || c.path == nullptr || c.modulation < 0) return -1;
  int32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
  } else {
    id = static_cast<int32_t>(lightpaths_.size());
  }
  const double new_amplifier_w = model_->energy().NewAmplifierPowerW(model_->topology(), spectrum_, *c.path, c.band);
  if (!spectrum_.Allocate(c.path->fibres, c.band, slot, c.width, id)) return -1;
  if (!free_ids_.empty()) {
    free_ids_.pop_back();
  } else {
    lightpaths_.emplace_back();
  }
  Lightpath& lp = lightpaths_[id];
  lp.id = id;
  lp.request_id = request.id;
  lp.src = request.src;
  lp.dst = request.dst;
  lp.path = c.path;
  lp.path_index = c.path_index;
  lp.band = c.band;
  lp.slot = slot;
  lp.width = c.width;
  lp.modulation = c.modulation;
  lp.bit_rate_gbps = request.bit_rate_gbps;
  lp.gsnr_db = c.gsnr_db;
  lp.latency_us = c.latency_us;
  lp.transponder_w = model_->energy().TransponderPowerW(model_->LineCapacityGbps(c.width, c.modulation));
  lp.release_time = release_time;
  ++active_;
  transponder_w_ += lp.transponder_w;
  ports_w_ += 2 * model_->energy().roadm_per_port_w;
  amplifier_w_ += new_amplifier_w;
  carried_gbps_ += lp.bit_rate_gbps;
  if (qot_tracking_) qot_tracking_->OnLit(*this, lp);
  return id;
}

bool NetworkState::Release(int32_t id) {
  if (id < 0 || id >= static_cast<int32_t>(lightpaths_.size()) || lightpaths_[id].id != id) return false;
  Lightpath& lp = lightpaths_[id];
  if (!spectrum_.Release(lp.path->fibres, lp.band, lp.slot, lp.width, id)) return false;
  // Amplifiers of a band go dark on a fibre when its last lightpath there leaves.
  const auto& amp = model_->energy().amplifier_w_per_span;
  for (int f : lp.path->fibres) {
    if (spectrum_.Lightpaths(f, lp.band) == 0) {
      amplifier_w_ -= amp[lp.band] * static_cast<double>(model_->topology().fibre(f).spans_km.size());
    }
  }
  --active_;
  transponder_w_ -= lp.transponder_w;
  ports_w_ -= 2 * model_->energy().roadm_per_port_w;
  carried_gbps_ -= lp.bit_rate_gbps;
  if (active_ == 0) transponder_w_ = ports_w_ = amplifier_w_ = carried_gbps_ = 0.0;  // no drift
  if (qot_tracking_) qot_tracking_->OnDark(*this, lp);
  lp.id = -1;
  free_ids_.push_back(id);
  return true;
}

void NetworkState::Clear() {
  spectrum_.Clear();
  lightpaths_.clear();
  free_ids_.clear();
  active_ = 0;
  transponder_w_ = ports_w_ = amplifier_w_ = carried_gbps_ = 0.0;
  if (qot_tracking_) qot_tracking_->Clear();
}

void NetworkState::EnableQotTracking() {
  if (qot_tracking_) return;
  qot_tracking_.emplace(*model_);
  for (const Lightpath& lp : lightpaths_) {
    if (lp.id >= 0) qot_tracking_->OnLit(*this, lp);
  }
}

double NetworkState::LightpathGsnrDb(int32_t id) const {
  if (!qot_tracking_ || Find(id) == nullptr) return std::numeric_limits<double>::quiet_NaN();
  return qot_tracking_->GsnrDb(id);
}

double NetworkState::CandidateGsnrDb(const Candidate& candidate, int slot) const {
  if (!qot_tracking_) return std::numeric_limits<double>::quiet_NaN();
  return qot_tracking_->CandidateGsnrDb(candidate, slot);
}

QotImpact NetworkState::QotImpactOf(const Candidate& candidate, int slot, double margin_db) const {
  if (!qot_tracking_) return QotImpact{};
  return qot_tracking_->Impact(*this, candidate, slot, margin_db);
}

const Lightpath* NetworkState::Find(int32_t id) const {
  if (id < 0 || id >= static_cast<int32_t>(lightpaths_.size()) || lightpaths_[id].id != id) return nullptr;
  return &lightpaths_[id];
}

std::vector<const Lightpath*> NetworkState::Lightpaths() const {
  std::vector<const Lightpath*> out;
  for (const auto& lp : lightpaths_) {
    if (lp.id >= 0) out.push_back(&lp);
  }
  return out;
}

double NetworkState::IncrementalPowerW(const Candidate& c) const {
  if (c.path == nullptr || c.modulation < 0) return 0.0;
  return model_->energy().IncrementalPowerW(model_->topology(), spectrum_, *c.path, c.band,
                                            model_->LineCapacityGbps(c.width, c.modulation));
}

std::string NetworkState::CheckInvariants() const {
  std::string s = spectrum_.CheckInvariants();
  if (!s.empty()) return s;
  int active = 0;
  long long slots = 0;
  for (const auto& lp : lightpaths_) {
    if (lp.id < 0) continue;
    ++active;
    for (int f : lp.path->fibres) {
      for (int x = lp.slot; x < lp.slot + lp.width; ++x) {
        if (spectrum_.Owner(f, lp.band, x) != lp.id) {
          return "lightpath " + std::to_string(lp.id) + " does not hold slot " + std::to_string(x) + " on fibre " +
                 std::to_string(f);
        }
      }
      slots += lp.width;
    }
  }
  long long used = 0;
  for (int b = 0; b < spectrum_.NumBands(); ++b) used += spectrum_.TotalUsedSlots(b);
  if (active != active_) return "active counter " + std::to_string(active_) + " but " + std::to_string(active) + " lit";
  if (used != slots) return "spectrum holds " + std::to_string(used) + " slots but lightpaths hold " + std::to_string(slots);
  // Power accounting must match a recomputation from scratch.
  double tw = 0;
  for (const auto& lp : lightpaths_) {
    if (lp.id >= 0) tw += lp.transponder_w;
  }
  const double expected = model_->energy().NetworkPowerW(model_->topology(), spectrum_, tw, 2 * active_);
  if (std::abs(expected - PowerW()) > 1e-6 * std::max(1.0, expected)) {
    return "power " + std::to_string(PowerW()) + " W but recomputed " + std::to_string(expected) + " W";
  }
  return "";
}

}  // namespace eonops::twin
