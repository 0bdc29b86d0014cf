#include "pce/served_policy.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "tracking/entities.h"

namespace eonops::pce {

namespace {

std::string DiffKeys(const nlohmann::json& a, const nlohmann::json& b) {
  std::string out;
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!b.contains(it.key()) || b[it.key()] != it.value()) {
      out += (out.empty() ? "" : ", ") + it.key() + " " + it.value().dump() + " vs " +
             (b.contains(it.key()) ? b[it.key()].dump() : "absent");
    }
  }
  return out;
}

}  // namespace

std::string HeuristicSource::ToSource() const {
  return kScheme + name + (k > 0 ? "?k=" + std::to_string(k) : "");
}

twin::HeuristicOptions HeuristicSource::Options(twin::HeuristicOptions base) const {
  base.k = k;
  return base;
}

std::optional<HeuristicSource> HeuristicSource::Parse(const std::string& source) {
  const std::string scheme = kScheme;
  if (source.compare(0, scheme.size(), scheme) != 0) return std::nullopt;
  HeuristicSource h;
  const std::string rest = source.substr(scheme.size());
  const size_t q = rest.find('?');
  h.name = rest.substr(0, q);
  if (q != std::string::npos) {
    const std::string query = rest.substr(q + 1);
    size_t i = 0;
    while (i < query.size()) {
      size_t j = query.find('&', i);
      if (j == std::string::npos) j = query.size();
      const std::string kv = query.substr(i, j - i);
      const size_t eq = kv.find('=');
      const std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
      if (key != "k")
        throw std::invalid_argument("heuristic source '" + source + "': unknown parameter '" + key +
                                    "' (known: k)");
      size_t used = 0;
      int k = -1;
      try {
        k = std::stoi(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value.size() || value.empty() || k < 1 || k > 50)
        throw std::invalid_argument("heuristic source '" + source +
                                    "': k must be an integer in 1..50");
      h.k = k;
      i = j + 1;
    }
  }
  if (!twin::IsHeuristicName(h.name)) twin::MakeHeuristic(h.name);  // throws, listing the names
  return h;
}

std::shared_ptr<const ServedPolicy> LoadServedHeuristic(const HeuristicSource& source,
                                                        twin::UseCase use_case,
                                                        const PolicyRef& ref,
                                                        const twin::NetworkModel& model,
                                                        const twin::HeuristicOptions& base) {
  const auto start = std::chrono::steady_clock::now();
  const std::string who = ref.model.empty() ? source.ToSource() : ref.Label();
  if (source.k > model.k()) {
    throw std::invalid_argument(who + ": " + source.ToSource() + " asks for " +
                                std::to_string(source.k) + " candidate paths, this network has " +
                                std::to_string(model.k()));
  }
  auto served = std::make_shared<ServedPolicy>();
  served->heuristic = twin::MakeHeuristic(source.name, source.Options(base));
  served->use_case = use_case;
  served->ref = ref;
  served->source = source.ToSource();
  served->note = "heuristic " + source.name + " (no weights)";
  served->loaded_at_ms = tracking::NowMs();
  served->load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return served;
}

std::shared_ptr<const ServedPolicy> LoadServedPolicy(const std::string& dir, twin::UseCase use_case,
                                                     const PolicyRef& ref,
                                                     const std::string& source,
                                                     const twin::NetworkModel& model,
                                                     const PceConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  return CheckServedPolicy(agents::Policy::Load(dir), use_case, ref, source.empty() ? dir : source,
                           model, config, start);
}

std::shared_ptr<const ServedPolicy> CheckServedPolicy(std::unique_ptr<agents::Policy> policy,
                                                      twin::UseCase use_case, const PolicyRef& ref,
                                                      const std::string& source,
                                                      const twin::NetworkModel& model,
                                                      const PceConfig& config,
                                                      std::chrono::steady_clock::time_point start) {
  if (!policy) throw std::invalid_argument("no policy to serve");
  auto served = std::make_shared<ServedPolicy>();
  served->policy = std::move(policy);
  served->use_case = use_case;
  served->ref = ref;
  served->source = source;
  const agents::Manifest& m = served->policy->manifest();
  const std::string who = ref.model.empty() ? source : ref.Label();
  if (m.env_name != twin::ToString(use_case)) {
    throw std::runtime_error(who + ": trained on environment '" + m.env_name +
                             "', this binding serves '" + twin::ToString(use_case) + "'");
  }
  // The environment the policy was trained on: sections of its env_config, else the PCE's.
  const nlohmann::json& ec = m.env_config;
  twin::EnvOptions env = config.env;
  twin::TrafficConfig traffic = config.traffic;
  if (ec.is_object() && ec.contains("network")) {
    twin::NetworkOptions trained =
        twin::NetworkOptions::FromJson(ec["network"], who + " manifest env_config.network");
    const nlohmann::json mine = model.options().ToJson(), theirs = trained.ToJson();
    if (mine != theirs) {
      throw std::runtime_error(who + ": trained on another network (" + DiffKeys(theirs, mine) +
                               ")");
    }
  } else {
    served->note = "manifest env_config has no network section; checked sizes only";
  }
  if (ec.is_object() && ec.contains("env"))
    env = twin::EnvOptions::FromJson(ec["env"], who + " manifest env_config.env");
  if (ec.is_object() && ec.contains("traffic")) {
    traffic = twin::TrafficConfig::FromJson(ec["traffic"], who + " manifest env_config.traffic");
  }
  env.use_case = use_case;
  double max_rate = traffic.bit_rate_max_gbps;
  if (!traffic.classes.empty()) {
    max_rate = 0;
    for (const auto& c : traffic.classes) max_rate = std::max(max_rate, c.bit_rate_gbps);
  }
  served->env = env;
  served->layout = twin::ObservationLayout::Make(model, env, max_rate);
  if (served->layout.observation_size != m.observation_size ||
      served->layout.num_actions != m.num_actions) {
    throw std::runtime_error(who + ": expects " + std::to_string(m.observation_size) +
                             " observations and " + std::to_string(m.num_actions) +
                             " actions, this network gives " +
                             std::to_string(served->layout.observation_size) + " and " +
                             std::to_string(served->layout.num_actions));
  }
  served->loaded_at_ms = tracking::NowMs();
  served->load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return served;
}

}  // namespace eonops::pce
