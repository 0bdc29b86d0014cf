#include "agents/rollout_storage.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

namespace eonops::agents {
namespace {

// 3 steps x 2 envs; observation = the sample's flat index t * 2 + i.
RolloutStorage Filled() {
  at::set_num_threads(1);
  RolloutStorage s(3, 2, 1, 2);
  const float rewards[3][2] = {{1, 1}, {0, 1}, {2, 1}};
  const float values[3][2] = {{0.5f, 1}, {1.0f, 2}, {1.5f, 3}};
  const uint8_t dones[3][2] = {{0, 0}, {0, 1}, {0, 0}};
  for (int t = 0; t < 3; ++t) {
    ActOutput act{torch::tensor({0, 1}, torch::kLong), torch::zeros({2}),
                  torch::tensor({values[t][0], values[t][1]})};
    s.Insert(t, torch::tensor({{float(t * 2)}, {float(t * 2 + 1)}}),
             torch::ones({2, 2}, torch::kBool), act, rewards[t], dones[t]);
  }
  return s;
}

TEST(RolloutStorage, GaeMatchesHandComputedExample) {
  RolloutStorage s = Filled();
  s.ComputeReturns(torch::tensor({2.0f, 4.0f}), /*gamma=*/0.9f, /*gae_lambda=*/0.8f);
  // env 0, no episode end: delta_2 = 2 + .9*2 - 1.5 = 2.3; delta_1 = .9*1.5 - 1 = .35;
  // delta_0 = 1 + .9*1 - .5 = 1.4; A_1 = .35 + .72*2.3 = 2.006; A_0 = 1.4 + .72*2.006.
  // env 1, episode ends at t=1: delta_2 = 1 + .9*4 - 3 = 1.6; delta_1 = 1 - 2 = -1 (no
  // bootstrap, no carry); A_0 = (1 + .9*2 - 1) + .72*(-1) = 1.08.
  const float adv[3][2] = {{2.84432f, 1.08f}, {2.006f, -1.0f}, {2.3f, 1.6f}};
  const float ret[3][2] = {{3.34432f, 2.08f}, {3.006f, 1.0f}, {3.8f, 4.6f}};
  for (int t = 0; t < 3; ++t) {
    for (int i = 0; i < 2; ++i) {
      EXPECT_NEAR(s.advantages()[t][i].item<float>(), adv[t][i], 1e-5) << t << "," << i;
      EXPECT_NEAR(s.returns()[t][i].item<float>(), ret[t][i], 1e-5) << t << "," << i;
    }
  }
}

TEST(RolloutStorage, LambdaOneGivesDiscountedReturns) {
  RolloutStorage s = Filled();
  s.ComputeReturns(torch::tensor({2.0f, 4.0f}), 0.5f, 1.0f);
  // env 0: G_2 = 2 + .5*2 = 3; G_1 = 0 + .5*3 = 1.5; G_0 = 1 + .5*1.5 = 1.75.
  EXPECT_NEAR(s.returns()[0][0].item<float>(), 1.75f, 1e-6);
  EXPECT_NEAR(s.returns()[1][0].item<float>(), 1.5f, 1e-6);
  // env 1: G_1 = 1 (episode ends), G_0 = 1 + .5*1 = 1.5.
  EXPECT_NEAR(s.returns()[0][1].item<float>(), 1.5f, 1e-6);
}

std::vector<int> Order(const std::vector<MiniBatch>& batches) {
  std::vector<int> order;
  for (const MiniBatch& mb : batches) {
    for (int64_t k = 0; k < mb.observations.size(0); ++k) {
      order.push_back(static_cast<int>(mb.observations[k][0].item<float>()));
    }
  }
  return order;
}

TEST(RolloutStorage, MiniBatchesPartitionTheRolloutWithSeededShuffle) {
  RolloutStorage s = Filled();
  s.ComputeReturns(torch::tensor({2.0f, 4.0f}), 0.9f, 0.8f);
  Rng a(5), b(5), c(6);
  std::vector<MiniBatch> batches = s.MiniBatches(3, a);
  ASSERT_EQ(batches.size(), 3u);
  std::vector<int> order = Order(batches);
  EXPECT_EQ(std::set<int>(order.begin(), order.end()), (std::set<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(order.size(), 6u);
  EXPECT_EQ(Order(s.MiniBatches(3, b)), order);  // same seed, same order
  bool differs = false;
  for (int k = 0; k < 5 && !differs; ++k) differs = Order(s.MiniBatches(3, c)) != order;
  EXPECT_TRUE(differs);
  // Every field is gathered with the same index: sample 3 is (t=1, env 1).
  for (const MiniBatch& mb : batches) {
    for (int64_t k = 0; k < mb.observations.size(0); ++k) {
      if (mb.observations[k][0].item<float>() != 3.0f) continue;
      EXPECT_NEAR(mb.advantages[k].item<float>(), -1.0f, 1e-6);
      EXPECT_FLOAT_EQ(mb.old_values[k].item<float>(), 2.0f);
      EXPECT_EQ(mb.actions[k].item<int64_t>(), 1);
    }
  }
  EXPECT_THROW(s.MiniBatches(7, a), std::invalid_argument);
}

}  // namespace
}  // namespace eonops::agents
