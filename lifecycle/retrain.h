// Retraining on a calibrated twin: the traffic the PCE saw, fitted into a twin::TrafficConfig, and
// a training run that starts from the served policy's weights.
//
//   twin::TrafficConfig t = CalibrateTraffic(reference, recorder.Latest(2000, uc), load, drift,
//                                            options, num_nodes);
//   agents::ExperimentConfig cfg = RetrainExperiment(config, pce_config, parent_manifest, t, seed);
//   RetrainOutcome r = Retrain(cfg, parent_dir, checkpoint_dir, out_dir, on_progress);
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agents/manifest.h"
#include "agents/options.h"
#include "agents/trainer.h"
#include "lifecycle/config.h"
#include "lifecycle/drift.h"
#include "pce/config.h"
#include "pce/service_trace.h"
#include "twin/traffic.h"

namespace eonops::lifecycle {

// The calibrated traffic: the reference with the measured offered load (Erlang, when finite;
// load_erlang is set so that the twin produces that offered load), node-pair
// weights estimated from `arrivals` (counts plus `pair_smoothing` per pair, so a pair not seen in
// the window is rare, not impossible), and, when the bit-rate distribution drifted, the observed
// rates as weighted classes (keeping each class's latency bound). Holding times keep the
// reference's mean and truncation: the twin's time unit is its own.
twin::TrafficConfig CalibrateTraffic(const twin::TrafficConfig& reference,
                                     const std::vector<pce::TraceEvent>& arrivals,
                                     double measured_load_erlang, bool bit_rates_drifted,
                                     const RetrainOptions& options, int num_nodes);

// The challenger's experiment: the learner sections of the configured experiment file, the
// parent's twin sections (its manifest's env_config, else the PCE config's), `overrides` merged
// on top, the calibrated traffic, and the parent's algorithm, architecture and normalisation so
// that it can warm-start; train.total_steps = retrain.steps. A parent trained by evolution
// strategies takes retrain.es_experiment's learner sections instead, and es.generations = as
// many generations as retrain.steps simulated requests allow (at least one).
agents::ExperimentConfig RetrainExperiment(const LifecycleConfig& config,
                                           const pce::PceConfig& pce_config,
                                           const std::optional<agents::Manifest>& parent,
                                           const twin::TrafficConfig& traffic, uint64_t seed,
                                           const std::string& name);

struct RetrainOutcome {
  int64_t env_steps = 0;
  double seconds = 0;
  double blocking = 0;  // during the last Train() call
  bool resumed = false, warm_started = false;
};

// Trains `config` (PPO/DQN by agents::Trainer, ES by agents::EsTrainer): resumes from
// `checkpoint_dir` when it holds a checkpoint (a restart after a crash), else warm-starts from
// `parent_dir` when given; exports the policy to `out_dir`
// (written beside it and renamed, so `out_dir` is complete or absent).
RetrainOutcome Retrain(const agents::ExperimentConfig& config, const std::string& parent_dir,
                       const std::string& checkpoint_dir, const std::string& out_dir,
                       std::function<void(const agents::Progress&)> on_progress = {});

}  // namespace eonops::lifecycle
