// Shadow replay and paired comparisons: how a contender (a DRL policy through the twin's
// Heuristic interface, or a heuristic) would have done on the requests the PCE really served,
// from the same starting network state, before any live request sees it.
//
//   ReplayResult champ = Replay(model, trace, twin::UseCase::kDeepRmsa, *champion_rule, seed);
//   ReplayResult chall = Replay(model, trace, twin::UseCase::kDeepRmsa, *challenger_rule, seed);
//   PairedComparison d = CompareBatches(chall.blocked_flags, champ.blocked_flags, 10);
//   if (d.ci95_high < 0) ...   // the challenger blocks less, beyond the noise
//
// The replay lights the trace's initial lightpaths exactly as they were, then takes the requests
// in arrival order, releasing every lightpath whose time has come first. Requests of the judged
// use case are decided by the contender; requests of other use cases are lit as they were live
// (when their spectrum is free, else dropped), so they load the network the same way for every
// contender. A request the PCE blocked has no recorded holding time: when a contender accepts
// it, it holds for a time drawn from the trace's completed services with `seed`, the same draw
// for every contender. Nothing else is random: contenders are compared on identical inputs.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lifecycle/trace.h"
#include "twin/heuristics.h"
#include "twin/network.h"
#include "twin/traffic.h"

namespace eonops::lifecycle {

struct ReplayResult {
  std::string contender;
  int64_t requests = 0, accepted = 0, blocked = 0;  // the judged use case's
  double blocking = 0, bit_rate_blocking = 0;
  double mean_power_w = 0;       // network power seen by the judged arrivals
  int64_t initial = 0;           // lightpaths lit at the start
  int64_t background = 0, background_dropped = 0;  // other use cases' requests
  std::vector<uint8_t> blocked_flags;  // per judged request, in order
  nlohmann::json ToJson() const;       // without the flags
};

ReplayResult Replay(std::shared_ptr<const twin::NetworkModel> model, const ReplayTrace& trace,
                    twin::UseCase use_case, const twin::Heuristic& contender, uint64_t seed);

// A paired difference a - b with a 95% Student-t interval.
struct PairedComparison {
  int n = 0;  // batches or seeds
  double a = 0, b = 0, difference = 0, ci95_low = 0, ci95_high = 0;
  double relative = 0;  // difference / b (NaN when b = 0)
  bool Lower() const { return n >= 2 && ci95_high < 0; }  // a is below b beyond the noise
  nlohmann::json ToJson() const;
};

// Per-request 0/1 outcomes of two contenders on the same requests, in `batches` consecutive
// batches (batch means absorb the correlation between neighbouring requests).
PairedComparison CompareBatches(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                                int batches);
// Per-seed results of two contenders on the same seeds.
PairedComparison ComparePaired(const std::vector<double>& a, const std::vector<double>& b);

// The blocking of `contender` on `traffic` in the twin, one value per seed (seed0, seed0 + 1, ...).
std::vector<double> TwinBlocking(std::shared_ptr<const twin::NetworkModel> model,
                                 const twin::TrafficConfig& traffic,
                                 const twin::Heuristic& contender, int seeds, uint64_t seed0,
                                 int64_t requests, int64_t warmup);

}  // namespace eonops::lifecycle
