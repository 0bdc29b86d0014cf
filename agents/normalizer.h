// Running mean and variance of observations, used to normalise them for the networks.
//
// Statistics are accumulated per feature with Chan et al.'s parallel merge of (count, mean, M2),
// which is Welford's update when a batch has one row and stays accurate for large counts. They
// travel with the policy (the manifest stores them), so a deployed policy sees its inputs scaled
// exactly as in training.
//
//   RunningNormalizer norm(obs_size, /*clip=*/10.0f);
//   norm.Update(batch.data(), /*rows=*/num_envs);   // during training
//   norm.Normalize(obs, normalised);                  // (x - mean) / sqrt(var + eps), clipped
//
// Torch-free.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace eonops::agents {

class RunningNormalizer {
 public:
  static constexpr double kEpsilon = 1e-8;

  RunningNormalizer() = default;
  explicit RunningNormalizer(int size, float clip = 10.0f);

  int size() const { return static_cast<int>(mean_.size()); }
  double count() const { return count_; }
  float clip() const { return clip_; }
  const std::vector<double>& mean() const { return mean_; }
  // Population variance (M2 / count); 1 before any data so that Normalize is the identity.
  std::vector<double> Variance() const;

  // Adds `rows` observations of size() floats each, stored row after row.
  void Update(const float* batch, int rows);
  // Merges statistics gathered elsewhere (another worker, another run).
  void Merge(const RunningNormalizer& other);
  // out[i] = clip((in[i] - mean[i]) / sqrt(var[i] + eps)); `in` and `out` may alias.
  void Normalize(const float* in, float* out) const;
  void Normalize(const float* in, float* out, int rows) const;

  nlohmann::json ToJson() const;
  // Throws ConfigError("<source>: normalization...: ...") on malformed statistics.
  static RunningNormalizer FromJson(const nlohmann::json& j, const std::string& source);

  bool operator==(const RunningNormalizer& o) const {
    return count_ == o.count_ && mean_ == o.mean_ && m2_ == o.m2_ && clip_ == o.clip_;
  }

 private:
  void Refresh();  // recomputes the float scale/shift used by Normalize

  double count_ = 0;
  std::vector<double> mean_, m2_;
  float clip_ = 10.0f;
  std::vector<float> shift_, scale_;  // derived: mean and 1/sqrt(var + eps)
};

}  // namespace eonops::agents
