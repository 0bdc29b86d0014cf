#include "agents/manifest.h"

#include <ctime>
#include <filesystem>
#include <fstream>

#ifndef EONOPS_VERSION
#define EONOPS_VERSION "unknown"
#endif

namespace eonops::agents {

using nlohmann::json;

std::string ToString(NetworkKind kind) {
  return kind == NetworkKind::kActorCritic ? "actor-critic" : "q-network";
}

std::string EonopsVersion() { return EONOPS_VERSION; }

std::string UtcTimestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void SetEnvSpec(const twin::EnvSpec& spec, Manifest* m) {
  m->env_name = spec.name;
  m->env_config_hash = spec.config_hash;
  m->observation_size = spec.observation_size;
  m->observation_layout = spec.observation_layout;
  m->num_actions = spec.num_actions;
  m->action_description = spec.action_description;
  m->reward_description = spec.reward_description;
}

json ToJson(const Manifest& m) {
  json layout = json::array();
  for (const auto& f : m.observation_layout) {
    layout.push_back(
        {{"name", f.name}, {"offset", f.offset}, {"size", f.size}, {"description", f.description}});
  }
  json j;
  j["format_version"] = m.format_version;
  j["eonops_version"] = m.eonops_version;
  j["algorithm"] = m.algorithm;
  j["network"] = ToString(m.network);
  j["architecture"] = ToJson(m.architecture);
  j["environment"] = {{"name", m.env_name},
                      {"config_hash", m.env_config_hash},
                      {"config", m.env_config},
                      {"reward", m.reward_description}};
  j["observation"] = {{"size", m.observation_size}, {"layout", layout}};
  j["action"] = {{"count", m.num_actions}, {"description", m.action_description}};
  j["normalization"] = m.normalization ? m.normalization->ToJson() : json(nullptr);
  j["training"] = {{"run_id", m.run_id},
                   {"experiment", m.experiment},
                   {"steps", m.train_steps},
                   {"seed", m.seed},
                   {"created_at", m.created_at}};
  if (!m.schedule.is_null()) j["training"]["schedule"] = m.schedule;
  j["weights"] = m.weights_file;
  return j;
}

namespace {

class Validator {
 public:
  explicit Validator(std::string source) : source_(std::move(source)) {}
  [[noreturn]] void Fail(const std::string& key, const std::string& why) const {
    throw ConfigError(source_ + ": " + key + ": " + why);
  }
  const json& Get(const json& j, const std::string& key, const std::string& path) const {
    if (!j.is_object()) Fail(path, "must be an object");
    auto it = j.find(key);
    if (it == j.end()) Fail(Join(path, key), "missing");
    return *it;
  }
  std::string String(const json& j, const std::string& key, const std::string& path) const {
    const json& v = Get(j, key, path);
    if (!v.is_string()) Fail(Join(path, key), "must be a string");
    return v.get<std::string>();
  }
  int64_t Int(const json& j, const std::string& key, const std::string& path, int64_t min) const {
    const json& v = Get(j, key, path);
    if (!v.is_number_integer()) Fail(Join(path, key), "must be an integer");
    int64_t x = v.get<int64_t>();
    if (x < min) Fail(Join(path, key), "must be >= " + std::to_string(min));
    return x;
  }
  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

}  // namespace

Manifest ManifestFromJson(const json& j, const std::string& source) {
  Validator v(source);
  if (!j.is_object()) v.Fail("(top level)", "must be an object");
  Manifest m;
  m.format_version = static_cast<int>(v.Int(j, "format_version", "", 1));
  if (m.format_version != Manifest::kFormatVersion) {
    v.Fail("format_version", "is " + std::to_string(m.format_version) + ", this build reads " +
                                 std::to_string(Manifest::kFormatVersion));
  }
  m.eonops_version = v.String(j, "eonops_version", "");
  m.algorithm = v.String(j, "algorithm", "");
  if (m.algorithm != "ppo" && m.algorithm != "dqn") v.Fail("algorithm", "must be ppo or dqn");
  std::string network = v.String(j, "network", "");
  if (network == "actor-critic") {
    m.network = NetworkKind::kActorCritic;
  } else if (network == "q-network") {
    m.network = NetworkKind::kQNetwork;
  } else {
    v.Fail("network", "must be actor-critic or q-network, got '" + network + "'");
  }
  if ((m.algorithm == "ppo") != (m.network == NetworkKind::kActorCritic)) {
    v.Fail("network", "'" + network + "' does not fit algorithm '" + m.algorithm + "'");
  }
  m.architecture = ParseModelOptions(v.Get(j, "architecture", ""), source);

  const json& env = v.Get(j, "environment", "");
  m.env_name = v.String(env, "name", "environment");
  m.env_config_hash = v.String(env, "config_hash", "environment");
  m.reward_description = v.String(env, "reward", "environment");
  if (env.contains("config")) m.env_config = env["config"];

  const json& obs = v.Get(j, "observation", "");
  m.observation_size = static_cast<int>(v.Int(obs, "size", "observation", 1));
  const json& layout = v.Get(obs, "layout", "observation");
  if (!layout.is_array()) v.Fail("observation.layout", "must be an array");
  for (size_t i = 0; i < layout.size(); ++i) {
    std::string path = "observation.layout[" + std::to_string(i) + "]";
    twin::ObservationField f;
    f.name = v.String(layout[i], "name", path);
    f.offset = static_cast<int>(v.Int(layout[i], "offset", path, 0));
    f.size = static_cast<int>(v.Int(layout[i], "size", path, 0));
    f.description = v.String(layout[i], "description", path);
    if (f.offset + f.size > m.observation_size) {
      v.Fail(path, "field '" + f.name + "' ends at " + std::to_string(f.offset + f.size) +
                       ", past observation.size " + std::to_string(m.observation_size));
    }
    m.observation_layout.push_back(f);
  }

  const json& action = v.Get(j, "action", "");
  m.num_actions = static_cast<int>(v.Int(action, "count", "action", 1));
  m.action_description = v.String(action, "description", "action");

  const json& norm = v.Get(j, "normalization", "");
  if (!norm.is_null()) {
    m.normalization = RunningNormalizer::FromJson(norm, source);
    if (m.normalization->size() != m.observation_size) {
      v.Fail("normalization.mean", "has " + std::to_string(m.normalization->size()) +
                                       " entries, observation.size is " +
                                       std::to_string(m.observation_size));
    }
  }

  const json& training = v.Get(j, "training", "");
  m.run_id = v.String(training, "run_id", "training");
  m.experiment = v.String(training, "experiment", "training");
  m.train_steps = v.Int(training, "steps", "training", 0);
  const json& seed = v.Get(training, "seed", "training");
  if (!seed.is_number_integer()) v.Fail("training.seed", "must be an integer");
  m.seed = seed.get<uint64_t>();
  m.created_at = v.String(training, "created_at", "training");
  if (training.contains("schedule")) m.schedule = training["schedule"];
  m.weights_file = v.String(j, "weights", "");
  if (m.weights_file.empty() || m.weights_file.find('/') != std::string::npos) {
    v.Fail("weights", "must be a file name inside the policy directory");
  }
  return m;
}

Manifest ReadManifest(const std::string& policy_dir) {
  std::string path = (std::filesystem::path(policy_dir) / Manifest::kFileName).string();
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open (is '" + policy_dir + "' a policy directory?)");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw ConfigError(path + ": invalid JSON: " + e.what());
  }
  return ManifestFromJson(j, path);
}

void WriteManifest(const Manifest& m, const std::string& policy_dir) {
  std::filesystem::create_directories(policy_dir);
  std::string path = (std::filesystem::path(policy_dir) / Manifest::kFileName).string();
  std::ofstream out(path);
  if (!out) throw std::runtime_error(path + ": cannot write");
  out << ToJson(m).dump(2) << "\n";
  if (!out) throw std::runtime_error(path + ": write failed");
}

}  // namespace eonops::agents
