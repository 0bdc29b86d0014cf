// The twin's network: an immutable model (topology, bands, candidate paths, modulation, QoT,
// latency and energy, with per-path caches) and the mutable state of what is lit now.
//
//   NetworkOptions opt = NetworkOptions::FromJson(j, "exp.json");   // or defaults
//   auto model = std::make_shared<const NetworkModel>(opt);
//   NetworkState state(model);
//   Candidate c = model->Evaluate(request, /*k=*/0, /*band=*/0);     // modulation, width, ...
//   int32_t id = state.Provision(request, c, slot);                   // -1 when refused
//   state.Release(id);
//
// One NetworkModel is shared read-only by any number of states (environments, the PCE).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "twin/bands.h"
#include "twin/energy.h"
#include "twin/latency.h"
#include "twin/modulation.h"
#include "twin/paths.h"
#include "twin/qot.h"
#include "twin/qot_impact.h"
#include "twin/spectrum.h"
#include "twin/topology.h"
#include "twin/traffic.h"

namespace eonops::twin {

// How a lightpath's modulation is chosen: by the classic maximum reach of each format
// (DeepRMSA-style benchmarks), or by the path's worst-case GSNR against each format's threshold.
enum class ModulationMode { kReach, kGsnr };
ModulationMode ParseModulationMode(const std::string& s);  // "reach" | "gsnr"
const char* ToString(ModulationMode m);

// Why a request was not served. kNone means served. kQotImpact: the lightpath itself would meet
// its GSNR threshold but would push a lit one below its own (NetworkState::QotImpactOf).
enum class BlockCause { kNone, kNoSpectrum, kQot, kLatency, kNoPath, kQotImpact };
const char* ToString(BlockCause c);

struct NetworkOptions {
  std::string topology = "nsfnet";                // name under configs/topologies or a file
  std::vector<std::string> bands = {"C"};         // from configs/bands.json, in preference order
  int slots_per_band = 0;                         // > 0: cut each band to its first N slots
  std::string modulations = "modulations.json";   // under configs/ or a file
  ModulationMode modulation_mode = ModulationMode::kReach;
  double gsnr_margin_db = 0.0;                    // required above a format's threshold
  int k_paths = 5;
  PathOrder path_order = PathOrder::kLength;
  double max_span_km = Topology::kDefaultMaxSpanKm;
  std::string config_dir;                         // empty: ConfigDir()

  static NetworkOptions FromJson(const nlohmann::json& j, const std::string& origin);
  nlohmann::json ToJson() const;
};

// One (path, band) option for a request, before the spectrum search.
struct Candidate {
  int path_index = -1;
  const Path* path = nullptr;
  int band = -1;
  int modulation = -1;  // -1 when no format reaches / meets the GSNR threshold
  int width = 0;        // slots including guard slots
  double latency_us = 0.0;
  double gsnr_db = 0.0;  // worst-case GSNR of the path in this band (minimum over the band)
  BlockCause cause = BlockCause::kNone;  // kQot or kLatency when this option is ruled out
  bool usable() const { return cause == BlockCause::kNone; }
};

class NetworkModel {
 public:
  explicit NetworkModel(const NetworkOptions& options);

  const NetworkOptions& options() const { return options_; }
  const Topology& topology() const { return topology_; }
  const BandPlan& plan() const { return plan_; }
  const PathTable& paths() const { return paths_; }
  const ModulationTable& modulations() const { return modulations_; }
  const QotModel& qot() const { return *qot_; }
  const LatencyModel& latency() const { return latency_; }
  const EnergyModel& energy() const { return energy_; }
  int NumBands() const { return plan_.NumBands(); }
  int k() const { return options_.k_paths; }

  // The k-th candidate path of (src, dst) in `band` for this request: modulation, width,
  // latency, and whether QoT or the latency bound rules it out. O(1): everything but the slot
  // count comes from per-path caches.
  Candidate Evaluate(const Request& request, int k, int band) const;
  // Same for an explicit path (PCE constraints); computes what the caches hold.
  Candidate EvaluatePath(const Request& request, const Path& path, int band) const;
  // Line capacity (Gb/s) of a block, for the transponder power model: the bit rate the slot
  // rule puts in it (ModulationTable::BlockCapacityGbps: polarisations, FEC overhead, roll-off).
  double LineCapacityGbps(int width, int modulation) const;

 private:
  struct PathCache {
    double latency_us = 0.0;
    int reach_modulation = -1;
    std::vector<double> min_gsnr_db;  // per band
    std::vector<int> gsnr_modulation;  // per band
  };
  PathCache MakeCache(const Path& path) const;
  // The worst-case GSNR (a bound over every occupancy) of `path` at the worst slot of `band`.
  double WorstGsnrDb(const Path& path, int band) const;

  NetworkOptions options_;
  Topology topology_;
  BandPlan plan_;
  PathTable paths_;
  ModulationTable modulations_;
  std::unique_ptr<QotModel> qot_;
  LatencyModel latency_;
  EnergyModel energy_;
  std::vector<PathCache> cache_;  // (src * N + dst) * k + index
};

struct Lightpath {
  int32_t id = -1;
  int64_t request_id = 0;
  int src = 0, dst = 0;
  const Path* path = nullptr;  // points into the model's PathTable or a caller-owned path
  int path_index = -1;
  int band = 0, slot = 0, width = 0, modulation = 0;
  double bit_rate_gbps = 0.0;
  double gsnr_db = 0.0;
  double latency_us = 0.0;
  double transponder_w = 0.0;
  double release_time = 0.0;
};

class NetworkState {
 public:
  explicit NetworkState(std::shared_ptr<const NetworkModel> model);

  const NetworkModel& model() const { return *model_; }
  const std::shared_ptr<const NetworkModel>& model_ptr() const { return model_; }
  const SpectrumState& spectrum() const { return spectrum_; }

  // Lights `candidate` at `slot` for `request`; returns the lightpath id, or -1 (nothing
  // changed) when the block is not free on every fibre.
  int32_t Provision(const Request& request, const Candidate& candidate, int slot, double release_time);
  // Frees a lightpath; false when no such lightpath is lit.
  bool Release(int32_t id);
  void Clear();

  const Lightpath* Find(int32_t id) const;
  int ActiveLightpaths() const { return active_; }
  // Every lit lightpath, in id order (the ids are slots that get reused).
  std::vector<const Lightpath*> Lightpaths() const;
  // Network power now: ROADMs, transponders, add/drop ports, lit amplifiers.
  double PowerW() const { return roadm_base_w_ + transponder_w_ + ports_w_ + amplifier_w_; }
  double CarriedGbps() const { return carried_gbps_; }
  // Incremental power of lighting `candidate` now.
  double IncrementalPowerW(const Candidate& candidate) const;
  // A free-slot search of `candidate`'s path and band: `occupied` gets the OR of its fibres.
  void PathOccupancy(const Candidate& candidate, uint64_t* occupied) const {
    spectrum_.PathOccupancy(candidate.path->fibres, candidate.band, occupied);
    if (!candidate.path->paired_fibres.empty())
      spectrum_.AddOccupancy(candidate.path->paired_fibres, candidate.band, occupied);
  }
  // "" when the spectrum and the lightpath table agree, else what is wrong.
  std::string CheckInvariants() const;

  // Keeps the actual GSNR of every lit lightpath (twin/qot_impact.h). Off by default: it
  // recomputes the QoT of a lightpath's fibres, O(channels^2) each, on every Provision and Release.
  void EnableQotTracking();
  bool QotTracking() const { return qot_tracking_.has_value(); }
  // Actual GSNR (dB) of a lit lightpath; NaN when tracking is off or `id` is not lit.
  double LightpathGsnrDb(int32_t id) const;
  // What lighting `candidate` at `slot` would do to the lit lightpaths sharing a fibre with it:
  // the lowest of their (GSNR - format threshold - margin_db). Tracking off: no lightpath is
  // touched (min_margin_db +inf). O(lightpaths on its fibres).
  QotImpact QotImpactOf(const Candidate& candidate, int slot, double margin_db) const;
  // The candidate's own GSNR under the actual occupancy, from the tracked fibres (tracking on and
  // a Raman spectrum; LightpathQot::CandidateGsnrDb), else NaN.
  double CandidateGsnrDb(const Candidate& candidate, int slot) const;

 private:
  std::shared_ptr<const NetworkModel> model_;
  SpectrumState spectrum_;
  std::vector<Lightpath> lightpaths_;  // indexed by id; id < 0 marks a free slot
  std::vector<int32_t> free_ids_;
  int active_ = 0;
  double roadm_base_w_ = 0.0, transponder_w_ = 0.0, ports_w_ = 0.0, amplifier_w_ = 0.0;
  double carried_gbps_ = 0.0;
  std::optional<LightpathQot> qot_tracking_;
};

}  // namespace eonops::twin
