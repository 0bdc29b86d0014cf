#include "agents/policy_heuristic.h"

#include <algorithm>

#include "agents/options.h"

namespace eonops::agents {

twin::EnvConfig EnvConfigOf(const Manifest& manifest) {
  const std::string where = "policy manifest (run '" + manifest.run_id + "') environment.config";
  try {
    return twin::EnvConfig::FromJson(manifest.env_config, where);
  } catch (const std::exception& e) {
    throw ConfigError(e.what());
  }
}

namespace {
double MaxBitRate(const twin::TrafficConfig& traffic) {
  if (traffic.classes.empty()) return traffic.bit_rate_max_gbps;
  double max = 0;
  for (const auto& c : traffic.classes) max = std::max(max, c.bit_rate_gbps);
  return max;
}
}  // namespace

PolicyHeuristic::PolicyHeuristic(const Policy& policy,
                                 std::shared_ptr<const twin::NetworkModel> model,
                                 const twin::EnvConfig& env, std::string name)
    : policy_(policy),
      model_(std::move(model)),
      options_(env.env),
      layout_(twin::ObservationLayout::Make(*model_, env.env, MaxBitRate(env.traffic))),
      name_(std::move(name)),
      first_fit_(twin::MakeHeuristic(env.env.warmup_policy)) {
  const Manifest& m = policy.manifest();
  auto fail = [&](const std::string& what) {
    throw ConfigError("policy '" + m.experiment + "' (run '" + m.run_id +
                      "') does not fit this network: " + what);
  };
  if (m.env_name != twin::ToString(options_.use_case)) {
    fail("trained on '" + m.env_name + "', asked for '" + twin::ToString(options_.use_case) + "'");
  }
  if (m.observation_size != layout_.observation_size) {
    fail("observation size " + std::to_string(m.observation_size) + ", the network gives " +
         std::to_string(layout_.observation_size));
  }
  if (m.num_actions != layout_.num_actions) {
    fail(std::to_string(m.num_actions) + " actions, the network gives " +
         std::to_string(layout_.num_actions));
  }
  observation_.resize(layout_.observation_size);
  mask_.resize(layout_.num_actions);
}

twin::Decision PolicyHeuristic::Decide(const twin::Request& request,
                                       const twin::NetworkState& state) const {
  std::lock_guard<std::mutex> lock(mutex_);
  twin::BuildObservation(layout_, options_, state, request, observation_.data(), mask_.data(),
                         &actions_);
  const Decision d = policy_.Act(observation_.data(), mask_.data());
  twin::Decision out;
  if (d.feasible() && d.action != layout_.RejectAction() && actions_[d.action].feasible) {
    out.accepted = true;
    out.cause = twin::BlockCause::kNone;
    out.candidate = actions_[d.action].candidate;
    out.slot = actions_[d.action].slot;
    return out;
  }
  // Only "reject" was feasible: report why, as the environments do.
  out.cause = first_fit_->Decide(request, state).cause;
  return out;
}

}  // namespace eonops::agents
