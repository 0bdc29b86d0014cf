#include "agents/model.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "agents/dqn.h"

namespace eonops::agents {
namespace {

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::set_num_threads(1);
    torch::manual_seed(0);
  }
};

torch::Tensor Mask(std::vector<std::vector<int>> rows) {
  const int64_t b = rows.size(), a = rows[0].size();
  torch::Tensor m = torch::zeros({b, a}, torch::kBool);
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < a; ++j) m[i][j] = rows[i][j] != 0;
  }
  return m;
}

TEST_F(ModelTest, MaskedActionIsNeverSampledAndHasProbabilityZero) {
  // The masked actions carry the largest logits: a broken mask would pick them nearly always.
  torch::Tensor logits = torch::tensor({{5.0f, 0.0f, 8.0f, 0.1f}, {9.0f, 9.0f, -1.0f, 0.0f}});
  torch::Tensor mask = Mask({{0, 1, 0, 1}, {0, 0, 1, 1}});
  MaskedCategorical dist(logits, mask);
  EXPECT_EQ(dist.probs()[0][0].item<float>(), 0.0f);
  EXPECT_EQ(dist.probs()[0][2].item<float>(), 0.0f);
  EXPECT_EQ(dist.probs()[1][0].item<float>(), 0.0f);
  EXPECT_EQ(dist.probs()[1][1].item<float>(), 0.0f);
  EXPECT_NEAR(dist.probs().sum(1)[0].item<float>(), 1.0f, 1e-6);

  Rng rng(1);
  std::vector<std::vector<int>> counts(2, std::vector<int>(4, 0));
  const int draws = 20000;
  for (int k = 0; k < draws; ++k) {
    torch::Tensor a = dist.Sample(rng);
    for (int b = 0; b < 2; ++b) ++counts[b][a[b].item<int64_t>()];
  }
  EXPECT_EQ(counts[0][0] + counts[0][2], 0);
  EXPECT_EQ(counts[1][0] + counts[1][1], 0);
  // The feasible actions are drawn with their probabilities (row 0: logits 0 and 0.1).
  const double p1 = 1.0 / (1.0 + std::exp(0.1));
  EXPECT_NEAR(counts[0][1] / double(draws), p1, 0.015);
  const double p2 = std::exp(-1.0) / (std::exp(-1.0) + 1.0);
  EXPECT_NEAR(counts[1][2] / double(draws), p2, 0.015);
}

TEST_F(ModelTest, MaskedEntropyAndGradientsAreFinite) {
  torch::Tensor logits = torch::randn({3, 5}).requires_grad_(true);
  torch::Tensor mask = Mask({{1, 0, 0, 0, 0}, {1, 1, 0, 1, 0}, {0, 0, 0, 0, 0}});
  MaskedCategorical dist(logits, mask);
  torch::Tensor entropy = dist.Entropy();
  EXPECT_NEAR(entropy[0].item<float>(), 0.0f, 1e-6);  // one feasible action: certain
  EXPECT_GT(entropy[1].item<float>(), 0.0f);
  EXPECT_LE(entropy[1].item<float>(), std::log(3.0f) + 1e-5);
  EXPECT_NEAR(entropy[2].item<float>(), std::log(5.0f), 1e-5);  // nothing feasible: uniform
  torch::Tensor actions = torch::tensor({0, 3, 2}, torch::kLong);
  (dist.LogProb(actions).sum() + entropy.sum()).backward();
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
  // No gradient flows into masked logits.
  EXPECT_EQ(logits.grad()[1][2].item<float>(), 0.0f);
  EXPECT_EQ(logits.grad()[0][1].item<float>(), 0.0f);
}

TEST_F(ModelTest, MaskedArgmaxIgnoresLargerMaskedValues) {
  torch::Tensor values = torch::tensor({{9.0f, 1.0f, 2.0f}, {-5.0f, -7.0f, 100.0f}});
  torch::Tensor best = MaskedArgmax(values, Mask({{0, 1, 1}, {1, 1, 0}}));
  EXPECT_EQ(best[0].item<int64_t>(), 2);
  EXPECT_EQ(best[1].item<int64_t>(), 0);
  MaskedCategorical dist(values, Mask({{0, 1, 1}, {1, 1, 0}}));
  EXPECT_TRUE(torch::equal(dist.Mode(), best));
}

TEST_F(ModelTest, ActorCriticShapesAndGreedyAct) {
  for (bool shared : {false, true}) {
    ModelOptions o;
    o.hidden_sizes = {16, 8};
    o.shared_trunk = shared;
    ActorCritic net(6, 4, o);
    torch::Tensor obs = torch::randn({5, 6});
    torch::Tensor mask = torch::ones({5, 4}, torch::kBool);
    mask.index_put_({torch::indexing::Slice(), 0}, false);
    PolicyOutput out = net->forward(obs);
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{5, 4}));
    EXPECT_EQ(out.value.sizes(), (std::vector<int64_t>{5}));
    ActOutput greedy = net->Act(obs, mask, nullptr);
    EXPECT_TRUE(torch::equal(greedy.action, MaskedArgmax(out.logits, mask)));
    EvaluateOutput ev = net->Evaluate(obs, mask, greedy.action);
    EXPECT_TRUE(torch::allclose(ev.log_prob, greedy.log_prob));
    EXPECT_TRUE(torch::allclose(ev.value, net->Value(obs)));
    // A shared trunk has one MLP, separate trunks two.
    EXPECT_EQ(net->named_children().size(), shared ? 3u : 4u);
  }
}

TEST_F(ModelTest, DuelingQNetworkAndTargetSync) {
  ModelOptions o;
  o.hidden_sizes = {8};
  QNetwork a(3, 4, o), b(3, 4, o);
  torch::Tensor obs = torch::randn({2, 3});
  EXPECT_EQ(a->forward(obs).sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_FALSE(torch::equal(a->forward(obs), b->forward(obs)));
  PolyakUpdate(*a, *b, 0.5);
  EXPECT_FALSE(torch::equal(a->forward(obs), b->forward(obs)));
  CopyParameters(*a, *b);
  EXPECT_TRUE(torch::equal(a->forward(obs), b->forward(obs)));
}

TEST_F(ModelTest, DqnTargetsUseMaskedArgmax) {
  // Next state: action 0 has the largest Q everywhere but is infeasible.
  torch::Tensor online = torch::tensor({{10.0f, 1.0f, 3.0f}});
  torch::Tensor target = torch::tensor({{20.0f, 5.0f, 2.0f}});
  torch::Tensor mask = Mask({{0, 1, 1}});
  torch::Tensor r = torch::tensor({1.0f}), not_done = torch::tensor({0.0f});
  // Double Q: online picks action 2 among feasible, evaluated by the target net: 1 + 0.5 * 2.
  EXPECT_FLOAT_EQ(DqnTargets(online, target, mask, r, not_done, 0.5f, true).item<float>(), 2.0f);
  // Plain: max of the target over feasible actions: 1 + 0.5 * 5.
  EXPECT_FLOAT_EQ(DqnTargets(online, target, mask, r, not_done, 0.5f, false).item<float>(), 3.5f);
  // Terminal: no bootstrap, and no NaN even when nothing is feasible.
  torch::Tensor none = Mask({{0, 0, 0}});
  EXPECT_FLOAT_EQ(
      DqnTargets(online, target, none, r, torch::tensor({1.0f}), 0.5f, true).item<float>(), 1.0f);
}

}  // namespace
}  // namespace eonops::agents
