#include "agents/normalizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "agents/options.h"

namespace eonops::agents {
namespace {

// Two-pass reference statistics, in long double.
void TwoPass(const std::vector<float>& data, int cols, std::vector<double>* mean,
             std::vector<double>* var) {
  const size_t rows = data.size() / cols;
  mean->assign(cols, 0);
  var->assign(cols, 0);
  for (int c = 0; c < cols; ++c) {
    long double s = 0;
    for (size_t r = 0; r < rows; ++r) s += data[r * cols + c];
    const long double m = s / rows;
    long double ss = 0;
    for (size_t r = 0; r < rows; ++r) ss += (data[r * cols + c] - m) * (data[r * cols + c] - m);
    (*mean)[c] = static_cast<double>(m);
    (*var)[c] = static_cast<double>(ss / rows);
  }
}

std::vector<float> RandomData(int rows, int cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> d(static_cast<size_t>(rows) * cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c)
      d[r * cols + c] = 1e4f + 3.0f * c + (c + 1) * n(rng);  // large offset
  }
  return d;
}

TEST(RunningNormalizer, MatchesTwoPassStatisticsOverUnevenBatches) {
  const int cols = 3, rows = 1000;
  std::vector<float> data = RandomData(rows, cols, 1);
  RunningNormalizer norm(cols);
  int done = 0;
  for (int batch : {1, 7, 100, 1, 391, 500}) {
    norm.Update(&data[done * cols], batch);
    done += batch;
  }
  ASSERT_EQ(done, rows);
  std::vector<double> mean, var;
  TwoPass(data, cols, &mean, &var);
  EXPECT_EQ(norm.count(), rows);
  std::vector<double> got = norm.Variance();
  for (int c = 0; c < cols; ++c) {
    EXPECT_NEAR(norm.mean()[c], mean[c], 1e-9 * std::abs(mean[c]));
    EXPECT_NEAR(got[c], var[c], 1e-6 * var[c]);
  }
}

TEST(RunningNormalizer, MergeEqualsUpdatingWithEverything) {
  const int cols = 2;
  std::vector<float> a = RandomData(300, cols, 2), b = RandomData(50, cols, 3);
  RunningNormalizer left(cols), right(cols), all(cols);
  left.Update(a.data(), 300);
  right.Update(b.data(), 50);
  all.Update(a.data(), 300);
  all.Update(b.data(), 50);
  left.Merge(right);
  EXPECT_EQ(left.count(), all.count());
  for (int c = 0; c < cols; ++c) {
    EXPECT_NEAR(left.mean()[c], all.mean()[c], 1e-9);
    EXPECT_NEAR(left.Variance()[c], all.Variance()[c], 1e-9);
  }
}

TEST(RunningNormalizer, NormalizesAndClips) {
  RunningNormalizer norm(2, /*clip=*/5.0f);
  float in[2] = {3.0f, -2.0f}, out[2];
  norm.Normalize(in, out);  // no data yet: identity
  EXPECT_FLOAT_EQ(out[0], 3.0f);
  EXPECT_FLOAT_EQ(out[1], -2.0f);
  const float data[8] = {0, 10, 2, 10, 0, 10, 2, 10};  // col 0: mean 1, var 1; col 1 constant
  norm.Update(data, 4);
  float x[2] = {3.0f, 10.0f};
  norm.Normalize(x, out);
  EXPECT_NEAR(out[0], 2.0f, 1e-6);
  EXPECT_FLOAT_EQ(out[1], 0.0f);  // constant feature: no division by zero
  float far[2] = {100.0f, 10.0f};
  norm.Normalize(far, out);
  EXPECT_FLOAT_EQ(out[0], 5.0f);
}

TEST(RunningNormalizer, JsonRoundTripIsExact) {
  std::vector<float> data = RandomData(77, 4, 4);
  RunningNormalizer norm(4, 7.5f);
  norm.Update(data.data(), 77);
  RunningNormalizer back =
      RunningNormalizer::FromJson(nlohmann::json::parse(norm.ToJson().dump()), "m.json");
  EXPECT_TRUE(back == norm);
  float a[4], b[4];
  norm.Normalize(data.data(), a);
  back.Normalize(data.data(), b);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a[i], b[i]);
}

TEST(RunningNormalizer, MalformedJsonIsNamed) {
  nlohmann::json j = RunningNormalizer(2).ToJson();
  j["m2"] = {1.0};
  try {
    RunningNormalizer::FromJson(j, "m.json");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("m.json: normalization.m2"), std::string::npos)
        << e.what();
  }
  j.erase("mean");
  EXPECT_THROW(RunningNormalizer::FromJson(j, "m.json"), ConfigError);
}

}  // namespace
}  // namespace eonops::agents
