// The gate between a challenger and the champion: shadow replay of the recorded trace for
// challenger, champion and the heuristics, from the same starting state with the same draws, and
// paired runs on the calibrated twin with the same seeds. The challenger passes only when the
// paired 95% confidence interval of its blocking minus the champion's lies below zero on both
// (an identical policy gives an interval at zero: refused, as "equal within noise" must be).
//
//   GateVerdict v = JudgeChallenger(champion, challenger, heuristics, trace, use_case, model,
//                                   calibrated_traffic, options);
//   if (v.promote) ...   v.reason says why in one line, v.figures has every number
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lifecycle/config.h"
#include "lifecycle/contender.h"
#include "lifecycle/trace.h"
#include "twin/traffic.h"

namespace eonops::lifecycle {

struct GateVerdict {
  bool promote = false;
  std::string reason;
  nlohmann::json figures;  // trace, replay (per contender + paired difference), twin, best heuristic
  // The best heuristic beat the champion on the replay and on the twin (it may compete next).
  bool heuristic_beats_champion = false;
  std::string best_heuristic;  // its source, "heuristic:<name>"
};

GateVerdict JudgeChallenger(const Contender& champion, const Contender& challenger,
                            const std::vector<Contender>& heuristics, const ReplayTrace& trace,
                            twin::UseCase use_case,
                            std::shared_ptr<const twin::NetworkModel> model,
                            const twin::TrafficConfig& calibrated, const GateOptions& options);

}  // namespace eonops::lifecycle
