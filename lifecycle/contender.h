// A registered version (or a plain heuristic) made ready to run in the twin: a DRL policy behind
// the twin's Heuristic interface (agents::PolicyHeuristic) or a heuristic version's rule, after
// the compatibility checks the PCE makes before serving it (pce/served_policy.h), so a version
// the PCE would refuse never reaches the gate.
//
//   pce::HeuristicSource h{"ksp-ff"};
//   Contender c = LoadContender(*backend, version, use_case, model, pce_config, scratch_dir);
//   ReplayResult r = Replay(model, trace, use_case, c.rule(), seed);
//   std::optional<twin::TrafficConfig> ref = c.training_traffic;    // the drift reference
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "pce/config.h"
#include "pce/served_policy.h"
#include "pce/tracking_backend.h"
#include "tracking/entities.h"
#include "twin/envs.h"
#include "twin/heuristics.h"
#include "twin/network.h"
#include "twin/traffic.h"

namespace eonops::lifecycle {

// Version tags the lifecycle service writes (lineage) and reads (the drift reference).
inline constexpr const char* kTagAttempt = "eonops.lifecycle.attempt";
inline constexpr const char* kTagParent = "eonops.lineage.parent_version";
inline constexpr const char* kTagTrigger = "eonops.lineage.trigger";
inline constexpr const char* kTagScenario = "eonops.lineage.scenario";  // a TrafficConfig JSON
inline constexpr const char* kTagKind = "eonops.policy.kind";           // "drl" | "heuristic"

struct Contender {
  std::string label;  // "deeprmsa-nsfnet/3" or "ksp-ff"
  std::optional<tracking::ModelVersion> version;
  std::shared_ptr<const pce::ServedPolicy> served;  // what the PCE would serve
  std::unique_ptr<twin::Heuristic> policy_rule;     // a DRL policy's twin rule
  // What the version was trained on (DRL: its manifest's traffic; else its lineage scenario).
  std::optional<twin::TrafficConfig> training_traffic;
  std::string artifact_dir;  // DRL: where its files are

  bool is_heuristic() const { return served && served->heuristic; }
  const twin::Heuristic& rule() const {
    return policy_rule ? *policy_rule : *served->heuristic;
  }
};

// Loads `version` of its model for `use_case`: a heuristic source directly, a DRL policy's
// artifact fetched into `scratch_dir`. Throws std::runtime_error (with the PCE's reason) when
// the PCE would not serve it.
Contender LoadContender(pce::TrackingBackend& backend, const tracking::ModelVersion& version,
                        twin::UseCase use_case, std::shared_ptr<const twin::NetworkModel> model,
                        const pce::PceConfig& pce_config, const std::string& scratch_dir);

// A plain heuristic (not registered), e.g. "ksp-ff" or "heuristic:ksp-ff?k=3"; `base` as the
// traffic sets it (twin::HeuristicOptions::ForTraffic: the capacity-loss rules need it).
Contender HeuristicContender(const std::string& name_or_source, twin::UseCase use_case,
                             const twin::NetworkModel& model, const twin::HeuristicOptions& base = {});

}  // namespace eonops::lifecycle
