// A DRL policy ready to serve one use case on this PCE's network, and the slot that publishes
// it to request threads.
//
// A registered version may also be a heuristic: its source "heuristic:<name>[?k=<paths>]" names
// one of the twin's heuristics (twin/heuristics.h) and its parameters, and there are no weights.
// It is served like a DRL policy (same slot, same provenance in decisions), so the best heuristic
// can be champion and a trained policy has to beat it to serve.
//
// Loading checks that the policy was trained for this network: the manifest's environment must
// be the use case, its env_config "network" section (when present) must equal the PCE's, and
// the observation layout rebuilt from the PCE's model with the policy's env options must have
// the manifest's observation and action sizes. Anything else is refused with the reason.
//
// Publishing is an atomic exchange of a shared_ptr<const ServedPolicy>: a request takes a
// reference at its start and keeps using that policy even if the registry moves the alias while
// it runs; the old policy is freed when its last request finishes. No lock is held while a
// policy decides.
//
//   auto served = LoadServedPolicy(dir, binding, version, *model, config);   // throws on mismatch
//   auto h = LoadServedHeuristic(*HeuristicSource::Parse("heuristic:ksp-ff?k=3"), ...);
//   slot.Publish(served);
//   std::shared_ptr<const ServedPolicy> p = slot.Get();   // null: none served
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "agents/policy.h"
#include "pce/config.h"
#include "pce/request.h"
#include "twin/envs.h"
#include "twin/heuristics.h"
#include "twin/network.h"

namespace eonops::pce {

// The source of a registered heuristic version: "heuristic:ksp-ff" or "heuristic:ksp-ff?k=3".
struct HeuristicSource {
  static constexpr const char* kScheme = "heuristic:";
  std::string name;
  int k = 0;  // candidate paths considered; 0: all the network's
  std::string ToSource() const;
  // `base` with this source's k: what the traffic sets (HeuristicOptions::ForTraffic: the widest
  // request and the bit-rate mix the capacity-loss rules plan for, the latency bound lmscl-ksp
  // counts routes within).
  twin::HeuristicOptions Options(twin::HeuristicOptions base = {}) const;
  // nullopt when `source` is not a heuristic source; std::invalid_argument when it is one but
  // names an unknown heuristic or a bad parameter.
  static std::optional<HeuristicSource> Parse(const std::string& source);
};

struct ServedPolicy {
  std::unique_ptr<agents::Policy> policy;        // a DRL policy, or
  std::unique_ptr<twin::Heuristic> heuristic;    // a registered heuristic version
  twin::UseCase use_case = twin::UseCase::kDeepRmsa;
  twin::ObservationLayout layout;
  twin::EnvOptions env;  // the options the observation is built with
  PolicyRef ref;         // registered model and version ("" / 0 for a directory)
  std::string source;
  std::string note;  // compatibility caveats, e.g. "manifest has no network section"
  int64_t loaded_at_ms = 0;
  double load_ms = 0.0;
};

// Loads the artifact in `dir` for `use_case` and checks it against the PCE's model and config.
// Throws std::runtime_error (or agents::ConfigError) with the reason it cannot be served.
std::shared_ptr<const ServedPolicy> LoadServedPolicy(const std::string& dir, twin::UseCase use_case,
                                                     const PolicyRef& ref,
                                                     const std::string& source,
                                                     const twin::NetworkModel& model,
                                                     const PceConfig& config);

// The same checks for a policy that is already loaded (a remote policy service, say); `start`
// is when loading began, for ServedPolicy::load_ms.
std::shared_ptr<const ServedPolicy> CheckServedPolicy(
    std::unique_ptr<agents::Policy> policy, twin::UseCase use_case, const PolicyRef& ref,
    const std::string& source, const twin::NetworkModel& model, const PceConfig& config,
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now());

// A heuristic version for `use_case`. Throws std::invalid_argument when it cannot serve on this
// network (unknown name, more paths than the network has).
std::shared_ptr<const ServedPolicy> LoadServedHeuristic(const HeuristicSource& source,
                                                        twin::UseCase use_case,
                                                        const PolicyRef& ref,
                                                        const twin::NetworkModel& model,
                                                        const twin::HeuristicOptions& base = {});

class PolicySlot {
 public:
  std::shared_ptr<const ServedPolicy> Get() const { return std::atomic_load(&current_); }
  // Returns the policy it replaces.
  std::shared_ptr<const ServedPolicy> Publish(std::shared_ptr<const ServedPolicy> p) {
    return std::atomic_exchange(&current_, std::move(p));
  }

 private:
  std::shared_ptr<const ServedPolicy> current_;
};

}  // namespace eonops::pce
