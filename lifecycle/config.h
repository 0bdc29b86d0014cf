// The lifecycle service's configuration (configs/lifecycle.json): which PCE it watches, how it
// measures live KPIs and traffic drift, when and how it retrains, how a challenger is judged, and
// when a promotion is rolled back. Every key is checked: an unknown key, a wrong type or a value
// out of range fails at load with the file and the field named.
//
//   LifecycleConfig c = LifecycleConfig::Load("configs/lifecycle.json");
//   pce::PceConfig pce = pce::PceConfig::Load(c.PceConfigPath());
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace eonops::lifecycle {

// Live KPIs per served version over sliding windows, logged as tracking time series.
struct KpiOptions {
  int64_t window_requests = 500;  // the sliding window, in arrivals of one version
  int log_interval_ms = 1000;     // how often the windows are logged (when something changed)
  std::string experiment = "lifecycle";  // tracking experiment of the per-version KPI runs
};

// Traffic drift against the served version's training scenario, on tumbling windows of arrivals.
struct DriftOptions {
  int64_t window_requests = 1000;
  // Jensen-Shannon divergence thresholds, in bits (0 = identical, 1 = disjoint).
  double js_pairs = 0.05;     // source-destination matrix
  double js_bit_rate = 0.05;  // bit-rate distribution
  double js_holding = 0.05;   // holding-time shape (holding / its mean)
  int64_t min_holding_samples = 200;  // fewer completed services in a window: not judged
  // Offered load outside [ref / (1 + x), ref * (1 + x)] is drift.
  double load_ratio = 0.25;
  // Each threshold is raised to the divergence that identical traffic exceeds with this
  // probability in a window of its size (chi-square approximation), so small windows over many
  // bins do not raise false alarms.
  double false_alarm_probability = 1e-6;
  int confirm_windows = 1;  // consecutive drifted windows before a drift event
};

// Retraining on a calibrated twin.
struct RetrainOptions {
  bool on_drift = true;
  double every_s = 0;                  // scheduled retraining (0: none)
  double cooldown_s = 60;              // at least this long between two attempts
  int64_t calibration_requests = 2000; // the latest arrivals the calibrated scenario is fitted to
  double pair_smoothing = 0.5;         // pseudo-count per node pair in the estimated matrix
  std::string experiment = "experiments/deeprmsa-nsfnet-ppo.json";  // learner sections
  // Learner sections when the champion was trained by evolution strategies (its manifest's
  // algorithm "es"): ES warm-starts from its weights, with as many generations as `steps`
  // simulated requests allow (at least one).
  std::string es_experiment = "experiments/deeprmsa-nsfnet-es-linear-k50-refine.json";
  nlohmann::json overrides = nlohmann::json::object();  // merged into the experiment JSON
  int64_t steps = 200000;              // training budget, environment steps
  int64_t checkpoint_steps = 0;        // checkpoint interval (0: only at the end)
  std::string run_experiment = "lifecycle/retrain";  // tracking experiment of training runs
};

// The gate between challenger and champion.
struct GateOptions {
  int64_t trace_requests = 2000;      // the latest recorded requests replayed
  int64_t min_trace_requests = 500;   // a shorter trace is not enough to decide
  int replay_batches = 10;            // paired batch means over the trace
  std::vector<std::string> heuristics = {"ksp-ff", "ksp-bf", "sp-ff"};
  int twin_seeds = 5;                 // calibrated-twin runs per contender, paired by seed
  int64_t twin_requests = 5000;
  int64_t twin_warmup = 1000;
  uint64_t seed = 1;
  // When the best heuristic beats the champion on the replay and the twin and the trained
  // challenger does not, register it (name + parameters) as the next challenger.
  bool heuristics_compete = true;
};

// Automatic rollback after any promotion.
struct RollbackOptions {
  double relative_threshold = 0.05;  // worse than the baseline by more than 5% relative ...
  double confidence = 0.99;          // ... beyond the window's noise (one-sided, Bonferroni)
  int64_t min_requests = 300;        // requests of the new version before the first look
  int64_t baseline_requests = 2000;  // the previous champion's last requests
  int64_t watch_requests = 5000;     // the watch ends after this many requests
  std::string kpi = "blocking";      // or "bit_rate_blocking"
};

struct LifecycleConfig {
  std::string pce_config = "pce.json";  // under configs/ unless a path
  std::vector<std::string> use_cases;   // empty: every policy binding of the PCE config
  int poll_ms = 200;                    // trace polling
  int registry_poll_ms = 250;           // champion-alias polling (hand moves are seen here)
  KpiOptions kpi;
  DriftOptions drift;
  RetrainOptions retrain;
  GateOptions gate;
  RollbackOptions rollback;
  std::string origin = "defaults";

  static LifecycleConfig Load(const std::string& path);
  // Throws std::runtime_error "<origin>: <field>: <reason>".
  static LifecycleConfig FromJson(const nlohmann::json& j, const std::string& origin);
  nlohmann::json ToJson() const;
  // pce_config, retrain.experiment and retrain.es_experiment resolved against the config directory (twin::ConfigDir()).
  std::string PceConfigPath() const;
  std::string ExperimentPath() const;
  std::string EsExperimentPath() const;
};

}  // namespace eonops::lifecycle
