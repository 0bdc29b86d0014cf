#include "agents/normalizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "agents/options.h"

namespace eonops::agents {

RunningNormalizer::RunningNormalizer(int size, float clip)
    : mean_(size, 0.0), m2_(size, 0.0), clip_(clip) {
  if (size <= 0) throw std::invalid_argument("RunningNormalizer: size must be positive");
  if (!(clip > 0)) throw std::invalid_argument("RunningNormalizer: clip must be positive");
  Refresh();
}

std::vector<double> RunningNormalizer::Variance() const {
  std::vector<double> var(mean_.size(), 1.0);
  if (count_ > 0) {
    for (size_t i = 0; i < var.size(); ++i) var[i] = m2_[i] / count_;
  }
  return var;
}

void RunningNormalizer::Update(const float* batch, int rows) {
  if (rows <= 0) return;
  const size_t n = mean_.size();
  // Two-pass statistics of the batch, then one parallel merge: exact and cheap.
  std::vector<double> batch_mean(n, 0.0), batch_m2(n, 0.0);
  for (int r = 0; r < rows; ++r) {
    const float* row = batch + static_cast<size_t>(r) * n;
    for (size_t i = 0; i < n; ++i) batch_mean[i] += row[i];
  }
  for (size_t i = 0; i < n; ++i) batch_mean[i] /= rows;
  for (int r = 0; r < rows; ++r) {
    const float* row = batch + static_cast<size_t>(r) * n;
    for (size_t i = 0; i < n; ++i) {
      double d = row[i] - batch_mean[i];
      batch_m2[i] += d * d;
    }
  }
  const double total = count_ + rows;
  for (size_t i = 0; i < n; ++i) {
    double delta = batch_mean[i] - mean_[i];
    mean_[i] += delta * rows / total;
    m2_[i] += batch_m2[i] + delta * delta * count_ * rows / total;
  }
  count_ = total;
  Refresh();
}

void RunningNormalizer::Merge(const RunningNormalizer& other) {
  if (other.size() != size())
    throw std::invalid_argument("RunningNormalizer::Merge: size mismatch");
  if (other.count_ == 0) return;
  const double total = count_ + other.count_;
  for (size_t i = 0; i < mean_.size(); ++i) {
    double delta = other.mean_[i] - mean_[i];
    mean_[i] += delta * other.count_ / total;
    m2_[i] += other.m2_[i] + delta * delta * count_ * other.count_ / total;
  }
  count_ = total;
  Refresh();
}

void RunningNormalizer::Refresh() {
  std::vector<double> var = Variance();
  shift_.resize(mean_.size());
  scale_.resize(mean_.size());
  for (size_t i = 0; i < mean_.size(); ++i) {
    shift_[i] = static_cast<float>(mean_[i]);
    scale_[i] = static_cast<float>(1.0 / std::sqrt(var[i] + kEpsilon));
  }
}

void RunningNormalizer::Normalize(const float* in, float* out) const {
  const size_t n = shift_.size();
  for (size_t i = 0; i < n; ++i) {
    out[i] = std::clamp((in[i] - shift_[i]) * scale_[i], -clip_, clip_);
  }
}

void RunningNormalizer::Normalize(const float* in, float* out, int rows) const {
  const size_t n = shift_.size();
  for (int r = 0; r < rows; ++r) Normalize(in + r * n, out + r * n);
}

nlohmann::json RunningNormalizer::ToJson() const {
  return {{"count", count_},        {"mean", mean_}, {"m2", m2_},
          {"variance", Variance()}, {"clip", clip_}, {"epsilon", kEpsilon}};
}

RunningNormalizer RunningNormalizer::FromJson(const nlohmann::json& j, const std::string& source) {
  auto fail = [&](const std::string& key, const std::string& why) -> void {
    throw ConfigError(source + ": normalization." + key + ": " + why);
  };
  if (!j.is_object()) fail("", "must be an object");
  for (const char* key : {"count", "mean", "m2", "clip"}) {
    if (!j.contains(key)) fail(key, "missing");
  }
  if (!j["count"].is_number() || j["count"].get<double>() < 0)
    fail("count", "must be a number >= 0");
  if (!j["clip"].is_number() || !(j["clip"].get<double>() > 0))
    fail("clip", "must be a positive number");
  for (const char* key : {"mean", "m2"}) {
    if (!j[key].is_array() || j[key].empty()) fail(key, "must be a non-empty array of numbers");
    for (const auto& v : j[key]) {
      if (!v.is_number()) fail(key, "must be a non-empty array of numbers");
    }
  }
  if (j["mean"].size() != j["m2"].size()) fail("m2", "has a different size than mean");
  RunningNormalizer n(static_cast<int>(j["mean"].size()), j["clip"].get<float>());
  n.count_ = j["count"].get<double>();
  n.mean_ = j["mean"].get<std::vector<double>>();
  n.m2_ = j["m2"].get<std::vector<double>>();
  for (double v : n.m2_) {
    if (v < 0 || !std::isfinite(v)) fail("m2", "must be finite and >= 0");
  }
  n.Refresh();
  return n;
}

}  // namespace eonops::agents
