// The manifest of an exported policy: everything needed to run the policy without the code
// that trained it, and to refuse to run it against the wrong environment.
//
// A policy artifact is a directory:
//   manifest.json   this struct (format_version 1)
//   weights.pt      the network's parameters (torch::serialize::OutputArchive)
//
//   Manifest m = ReadManifest("runs/42/policy");      // validates; throws ConfigError
//   if (m.env_config_hash != spec.config_hash) ...     // trained on another configuration
//
// Torch-free.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agents/normalizer.h"
#include "agents/options.h"
#include "twin/env.h"

namespace eonops::agents {

enum class NetworkKind { kActorCritic, kQNetwork };
std::string ToString(NetworkKind kind);

struct Manifest {
  static constexpr int kFormatVersion = 1;
  static constexpr const char* kFileName = "manifest.json";
  static constexpr const char* kWeightsFileName = "weights.pt";

  int format_version = kFormatVersion;
  std::string eonops_version;
  std::string algorithm;  // "ppo" or "dqn"
  NetworkKind network = NetworkKind::kActorCritic;
  ModelOptions architecture;

  // From the environment's EnvSpec.
  std::string env_name;
  std::string env_config_hash;
  int observation_size = 0;
  std::vector<twin::ObservationField> observation_layout;
  int num_actions = 0;
  std::string action_description;
  std::string reward_description;

  // Observation statistics; absent when the run did not normalise observations.
  std::optional<RunningNormalizer> normalization;

  // Provenance.
  std::string run_id;
  std::string experiment;
  int64_t train_steps = 0;
  uint64_t seed = 0;
  std::string created_at;  // ISO 8601 UTC
  std::string weights_file = kWeightsFileName;
  nlohmann::json env_config = nlohmann::json::object();  // the config the env was built from
  // The learning-rate / epsilon schedules actually run (agents/schedule.h); null if unknown.
  nlohmann::json schedule = nullptr;
};

nlohmann::json ToJson(const Manifest& manifest);
// Validates every field (presence, type, sizes consistent with each other); `source` names the
// document in errors, e.g. "runs/42/policy/manifest.json".
Manifest ManifestFromJson(const nlohmann::json& j, const std::string& source);
Manifest ReadManifest(const std::string& policy_dir);
void WriteManifest(const Manifest& manifest, const std::string& policy_dir);

// Fills the environment fields of a manifest from the spec it was trained on.
void SetEnvSpec(const twin::EnvSpec& spec, Manifest* manifest);
// The version string compiled into the library ("0.1.0").
std::string EonopsVersion();
// Now, as "2026-11-23T12:48:00Z".
std::string UtcTimestamp();

}  // namespace eonops::agents
