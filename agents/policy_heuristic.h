// A trained policy behind the twin's Heuristic interface, so the simulator (`eonops evaluate`)
// and the PCE ask it exactly as they ask KSP-FF: same requests, same network state, same
// measurement. Observations come from twin::BuildObservation, the builder the environments
// used in training, so the policy sees in service what it saw in training.
//
//   std::unique_ptr<Policy> policy = Policy::Load(dir);
//   twin::EnvConfig env = EnvConfigOf(policy->manifest());        // what it was trained on
//   auto model = std::make_shared<const twin::NetworkModel>(env.network);
//   PolicyHeuristic drl(*policy, model, env);                     // throws if it does not fit
//   twin::SimulationResult r = twin::Simulate(model, env.traffic, drl, options);
//
// Torch-free.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agents/policy.h"
#include "twin/envs.h"
#include "twin/heuristics.h"

namespace eonops::agents {

// The environment configuration recorded in a policy's manifest (ConfigError when it is not
// one the twin can build).
twin::EnvConfig EnvConfigOf(const Manifest& manifest);

class PolicyHeuristic final : public twin::Heuristic {
 public:
  // `env` gives the observation layout (use case, J, bit-rate scale) and must be the one the
  // policy was trained with, up to the traffic load; `model` must be built from env.network.
  // Throws ConfigError when the policy's use case, observation size or action count differ.
  PolicyHeuristic(const Policy& policy, std::shared_ptr<const twin::NetworkModel> model,
                  const twin::EnvConfig& env, std::string name = "drl");

  std::string Name() const override { return name_; }
  // The policy's greedy feasible action; blocked (with the first-fit search's cause) when
  // nothing is feasible.
  twin::Decision Decide(const twin::Request& request,
                        const twin::NetworkState& state) const override;

  const twin::ObservationLayout& layout() const { return layout_; }

 private:
  const Policy& policy_;
  std::shared_ptr<const twin::NetworkModel> model_;
  twin::EnvOptions options_;
  twin::ObservationLayout layout_;
  std::string name_;
  std::unique_ptr<twin::Heuristic> first_fit_;  // names the cause of a block
  mutable std::mutex mutex_;
  mutable std::vector<float> observation_;
  mutable std::vector<uint8_t> mask_;
  mutable std::vector<twin::ActionChoice> actions_;
};

}  // namespace eonops::agents
