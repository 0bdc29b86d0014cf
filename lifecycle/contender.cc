#include "lifecycle/contender.h"

#include <filesystem>
#include <stdexcept>

#include "agents/manifest.h"
#include "agents/policy_heuristic.h"

namespace eonops::lifecycle {

namespace fs = std::filesystem;

namespace {

std::optional<twin::TrafficConfig> LineageScenario(const tracking::ModelVersion& v) {
  for (const auto& t : v.tags) {
    if (t.key != kTagScenario) continue;
    const nlohmann::json j = nlohmann::json::parse(t.value, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    try {
      return twin::TrafficConfig::FromJson(j, v.name + "/" + std::to_string(v.version) + " tag " +
                                                  kTagScenario);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

Contender LoadContender(pce::TrackingBackend& backend, const tracking::ModelVersion& v,
                        twin::UseCase use_case, std::shared_ptr<const twin::NetworkModel> model,
                        const pce::PceConfig& pce_config, const std::string& scratch_dir) {
  Contender c;
  c.version = v;
  c.label = v.name + "/" + std::to_string(v.version);
  const pce::PolicyRef ref{v.name, v.version, v.run_id};
  try {
    if (auto h = pce::HeuristicSource::Parse(v.source)) {
      c.served = pce::LoadServedHeuristic(*h, use_case, ref, *model,
                                          twin::HeuristicOptions::ForTraffic(pce_config.traffic));
    } else {
      const std::string dir =
          (fs::path(scratch_dir) / (v.name + "-v" + std::to_string(v.version))).string();
      c.artifact_dir = pce::FetchArtifactDir(backend, v, dir);
      c.served = pce::LoadServedPolicy(c.artifact_dir, use_case, ref, v.source, *model, pce_config);
      const agents::Manifest& m = c.served->policy->manifest();
      const twin::EnvConfig env = agents::EnvConfigOf(m);
      c.policy_rule = std::make_unique<agents::PolicyHeuristic>(*c.served->policy, model, env,
                                                                c.label);
      if (m.env_config.is_object() && m.env_config.contains("traffic")) c.training_traffic = env.traffic;
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(c.label + ": the PCE would not serve it: " + e.what());
  }
  if (auto s = LineageScenario(v)) c.training_traffic = s;
  return c;
}

Contender HeuristicContender(const std::string& name_or_source, twin::UseCase use_case,
                             const twin::NetworkModel& model, const twin::HeuristicOptions& base) {
  std::optional<pce::HeuristicSource> h = pce::HeuristicSource::Parse(name_or_source);
  if (!h) h = pce::HeuristicSource::Parse(pce::HeuristicSource::kScheme + name_or_source);
  Contender c;
  c.label = h->k > 0 ? h->ToSource().substr(std::string(pce::HeuristicSource::kScheme).size())
                     : h->name;
  c.served = pce::LoadServedHeuristic(*h, use_case, pce::PolicyRef{}, model, base);
  return c;
}

}  // namespace eonops::lifecycle
