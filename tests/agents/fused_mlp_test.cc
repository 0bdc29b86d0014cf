// The fused PPO loops against torch: the same logits, samples, losses, gradients and Adam
// steps, to float rounding.
#include "agents/fused_mlp.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "agents/ppo.h"
#include "agents/rollout_storage.h"

namespace eonops::agents {
namespace {

constexpr int kSteps = 24, kEnvs = 4, kObs = 7, kActions = 5;

ModelOptions TwoLayers(Activation activation = Activation::kTanh) {
  ModelOptions o;
  o.hidden_sizes = {16, 12};
  o.activation = activation;
  return o;
}

// Masks with some infeasible actions, one all-infeasible row every 7 samples.
torch::Tensor RandomMasks(int rows, int step) {
  torch::Tensor m = torch::rand({rows, kActions}) > 0.35;
  for (int i = 0; i < rows; ++i) {
    if ((step * rows + i) % 7 == 3) {
      m[i].fill_(false);
    } else if (!m[i].any().item<bool>()) {
      m[i][i % kActions] = true;
    }
  }
  return m;
}

// A rollout whose stored log-probabilities and values are those of a slightly different
// policy, so that ratios and value changes fall on both sides of the clip ranges.
RolloutStorage MakeRollout(ActorCritic& net, uint64_t seed) {
  torch::manual_seed(seed);
  Rng rng(seed);
  RolloutStorage s(kSteps, kEnvs, kObs, kActions);
  torch::NoGradGuard no_grad;
  for (int t = 0; t < kSteps; ++t) {
    torch::Tensor obs = torch::randn({kEnvs, kObs}) * 2;
    torch::Tensor mask = RandomMasks(kEnvs, t);
    ActOutput act = net->Act(obs, mask, &rng);
    act.log_prob = act.log_prob + torch::randn({kEnvs}) * 0.3;
    act.value = act.value + torch::randn({kEnvs}) * 0.5;
    torch::Tensor r = torch::randn({kEnvs}) * 2;
    uint8_t dones[kEnvs] = {0, static_cast<uint8_t>(t % 5 == 4), 0, 0};
    s.Insert(t, obs, mask, act, r.data_ptr<float>(), dones);
  }
  s.ComputeReturns(torch::zeros({kEnvs}), 0.9f, 0.95f);
  return s;
}

ActorCritic CloneOf(ActorCritic& net) {
  ActorCritic copy(kObs, kActions, net->options());
  CopyParameters(*net, *copy);
  return copy;
}

double MaxAbs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

TEST(FusedMlp, TanhMatchesStdTanhEverywhere) {
  std::vector<float> x;
  for (int i = -40000; i <= 40000; ++i) x.push_back(i * 5e-4f);  // [-20, 20]
  for (float v : {0.0f, -0.0f, 1e-30f, 0.6249999f, 0.625f, 8.99f, 9.01f, 1e30f, -1e30f}) x.push_back(v);
  x.push_back(3.0f);  // an odd count: the last chunk is partial
  std::vector<float> y = x;
  TanhInPlace(y.data(), static_cast<int64_t>(y.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(y[i], std::tanh(x[i]), 2e-7) << "x = " << x[i];
  }
  // A partial chunk leaves what follows it untouched.
  float guard[4] = {0.5f, 0.5f, 0.5f, 7.0f};
  TanhInPlace(guard, 3);
  EXPECT_EQ(guard[3], 7.0f);
}

TEST(FusedMlp, SamplesTheActionTorchSamplesWithItsLogProbAndValue) {
  at::set_num_threads(1);
  for (Activation activation : {Activation::kTanh, Activation::kRelu, Activation::kElu, Activation::kLeakyRelu}) {
    torch::manual_seed(5);
    ActorCritic net(kObs, kActions, TwoLayers(activation));
    FusedActorCritic fused(net);
    const int rows = 64;
    torch::Tensor obs = torch::randn({rows, kObs}) * 2;
    torch::Tensor mask = RandomMasks(rows, 0);
    Rng torch_rng(9), fused_rng(9);
    ActOutput expected;
    {
      torch::NoGradGuard no_grad;
      expected = net->Act(obs, mask, &torch_rng);
    }
    std::vector<int64_t> actions(rows);
    std::vector<float> log_probs(rows), values(rows);
    FusedActorCritic::Workspace ws;
    fused.Act(obs.data_ptr<float>(), mask.data_ptr<bool>(), rows, fused_rng, actions.data(), log_probs.data(),
              values.data(), ws);
    for (int i = 0; i < rows; ++i) {
      EXPECT_EQ(actions[i], expected.action[i].item<int64_t>()) << "row " << i;
      EXPECT_NEAR(log_probs[i], expected.log_prob[i].item<float>(), 1e-5) << "row " << i;
      EXPECT_NEAR(values[i], expected.value[i].item<float>(), 1e-5) << "row " << i;
      if (mask[i].any().item<bool>()) {
        EXPECT_TRUE(mask[i][actions[i]].item<bool>()) << "row " << i;
      }
    }
  }
}

// One minibatch holding the whole rollout, learning rate 0 and no clipping: after Ppo's torch
// update the parameters' .grad tensors hold autograd's gradient of the PPO loss, which the
// fused backward pass must reproduce term by term (clipped surrogate, clipped value loss,
// entropy, masked and all-infeasible rows).
TEST(FusedMlp, GradientIsAutogradsOnThePpoLoss) {
  at::set_num_threads(1);
  for (bool clip_value : {true, false}) {
    torch::manual_seed(3);
    ActorCritic net(kObs, kActions, TwoLayers());
    ActorCritic copy = CloneOf(net);
    RolloutStorage storage = MakeRollout(net, 17);
    PpoOptions o;
    o.epochs = 1;
    o.minibatches = 1;
    o.learning_rate = 0.0f;
    o.anneal_learning_rate = false;
    o.max_grad_norm = 0.0f;
    o.clip = 0.1f;
    o.value_clip = 0.2f;
    o.clip_value = clip_value;
    o.entropy_coef = 0.05f;
    Ppo ppo(net, o, 10, 1);
    ppo.set_fused(false);
    const UpdateStats torch_stats = ppo.Update(storage);
    ASSERT_GT(torch_stats.clip_fraction, 0.05);  // both branches of the surrogate are exercised
    ASSERT_LT(torch_stats.clip_fraction, 0.95);

    Rng rng(1);
    MiniBatch mb = storage.MiniBatches(1, rng)[0];
    torch::Tensor adv = (mb.advantages - mb.advantages.mean()) / (mb.advantages.std() + 1e-8);
    FusedActorCritic fused(copy);
    FusedActorCritic::Batch batch{mb.observations.data_ptr<float>(), mb.masks.data_ptr<bool>(),
                                  mb.actions.data_ptr<int64_t>(),    mb.old_log_probs.data_ptr<float>(),
                                  mb.old_values.data_ptr<float>(),   mb.returns.data_ptr<float>(),
                                  adv.data_ptr<float>()};
    const int64_t n = mb.actions.size(0);
    std::vector<float> grads(fused.num_parameters());
    FusedActorCritic::Workspace ws;
    // In two parts, as two learner threads split it: their sums are the minibatch's.
    std::vector<float> second(grads.size());
    FusedActorCritic::PartLoss a = fused.ForwardBackward(batch, 0, n / 3, n, o, grads.data(), ws);
    FusedActorCritic::PartLoss b = fused.ForwardBackward(batch, n / 3, n, n, o, second.data(), ws);
    for (size_t k = 0; k < grads.size(); ++k) grads[k] += second[k];
    fused.CopyGradientsTo(grads.data());

    EXPECT_NEAR(a.policy_loss + b.policy_loss, torch_stats.policy_loss, 1e-5);
    EXPECT_NEAR(a.value_loss + b.value_loss, torch_stats.value_loss, 1e-5 * (1 + torch_stats.value_loss));
    EXPECT_NEAR(a.entropy + b.entropy, torch_stats.entropy, 1e-5);
    EXPECT_NEAR(a.kl + b.kl, torch_stats.approx_kl, 1e-6);
    EXPECT_NEAR((a.clipped + b.clipped) / n, torch_stats.clip_fraction, 1e-9);
    const auto expected = net->named_parameters();
    const auto actual = copy->named_parameters();
    double norm = 0;
    for (const auto& item : expected) {
      const torch::Tensor& g = item.value().grad();
      ASSERT_TRUE(g.defined()) << item.key();
      const torch::Tensor& h = actual[item.key()].grad();
      ASSERT_TRUE(h.defined()) << item.key();
      EXPECT_LT(MaxAbs(g - h), 1e-5 * (1 + MaxAbs(g))) << item.key() << (clip_value ? " (value clipped)" : "");
      norm += g.pow(2).sum().item<double>();
    }
    EXPECT_NEAR(ClipGradientNorm(grads.data(), fused.num_parameters(), 0.0), std::sqrt(norm), 1e-5 * std::sqrt(norm));
  }
}

TEST(FusedMlp, ClippingAndAdamStepsAreTorchs) {
  at::set_num_threads(1);
  torch::manual_seed(4);
  ActorCritic net(kObs, kActions, TwoLayers());
  ActorCritic copy = CloneOf(net);
  FusedActorCritic fused(copy);
  torch::optim::Adam torch_adam(net->parameters(), torch::optim::AdamOptions(1e-2).eps(1e-5));
  torch::optim::Adam fused_adam(copy->parameters(), torch::optim::AdamOptions(1e-2).eps(1e-5));
  for (int step = 0; step < 3; ++step) {
    std::vector<float> grads(fused.num_parameters());
    for (size_t k = 0; k < grads.size(); ++k) grads[k] = std::sin(0.37f * k + step) * (step + 1);
    fused.CopyGradientsTo(grads.data());
    // torch clips the copies it was given; the fused path clips its buffer.
    for (const auto& p : copy->named_parameters()) net->named_parameters()[p.key()].mutable_grad() = p.value().grad().clone();
    const double torch_norm = torch::nn::utils::clip_grad_norm_(net->parameters(), 0.5);
    const double fused_norm = ClipGradientNorm(grads.data(), fused.num_parameters(), 0.5);
    EXPECT_NEAR(fused_norm, torch_norm, 1e-5 * torch_norm);
    torch_adam.step();
    fused.AdamStep(fused_adam, grads.data());
  }
  // Three steps on the optimiser's own state (a wrong state key would restart the moments).
  EXPECT_EQ(fused_adam.state().size(), net->parameters().size());
  for (const auto& p : net->named_parameters()) {
    EXPECT_LT(MaxAbs(p.value() - copy->named_parameters()[p.key()]), 1e-6) << p.key();
  }
  // Torch's own step continues from the fused steps' state as from its own.
  for (auto* model : {&net, &copy}) {
    for (auto& p : (*model)->parameters()) p.mutable_grad() = torch::ones_like(p);
  }
  torch_adam.step();
  fused_adam.step();
  for (const auto& p : net->named_parameters()) {
    EXPECT_LT(MaxAbs(p.value() - copy->named_parameters()[p.key()]), 1e-6) << p.key();
  }
}

// Whole updates (4 epochs, 4 minibatches, clipping, two learner threads) on the fused path and
// on torch's end where one another's would: the same weights up to float rounding.
TEST(FusedMlp, AnUpdateIsTorchsUpdate) {
  at::set_num_threads(1);
  auto run = [](bool fused, int threads, UpdateStats* stats) {
    torch::manual_seed(3);
    ActorCritic net(kObs, kActions, TwoLayers());
    RolloutStorage storage = MakeRollout(net, 21);
    PpoOptions o;
    o.anneal_learning_rate = false;
    o.learning_rate = 1e-3f;
    o.max_grad_norm = 0.5f;
    Ppo ppo(net, o, 10, 1);
    ppo.set_fused(fused);
    std::vector<ActorCritic> replicas;
    for (int i = 1; i < threads; ++i) replicas.push_back(ActorCritic(kObs, kActions, TwoLayers()));
    if (threads > 1) ppo.SetLearnerReplicas(std::move(replicas));
    *stats = ppo.Update(storage);
    *stats = ppo.Update(storage);
    std::vector<torch::Tensor> weights;
    for (const auto& t : net->parameters()) weights.push_back(t.detach().clone());
    return weights;
  };
  UpdateStats torch_stats, fused_stats, threaded_stats;
  const auto expected = run(false, 1, &torch_stats);
  const auto fused = run(true, 1, &fused_stats);
  const auto threaded = run(true, 2, &threaded_stats);
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_LT(MaxAbs(expected[k] - fused[k]), 2e-5 * (1 + MaxAbs(expected[k]))) << "parameter " << k;
    EXPECT_LT(MaxAbs(expected[k] - threaded[k]), 2e-5 * (1 + MaxAbs(expected[k]))) << "parameter " << k;
  }
  for (const UpdateStats* s : {&fused_stats, &threaded_stats}) {
    EXPECT_NEAR(s->policy_loss, torch_stats.policy_loss, 1e-5);
    EXPECT_NEAR(s->entropy, torch_stats.entropy, 1e-5);
    EXPECT_NEAR(s->approx_kl, torch_stats.approx_kl, 1e-6);
    EXPECT_NEAR(s->grad_norm, torch_stats.grad_norm, 1e-4 * torch_stats.grad_norm);
    EXPECT_EQ(s->minibatch_steps, torch_stats.minibatch_steps);
  }
}

TEST(FusedMlp, OnlyThePlainActorCriticIsFused) {
  ModelOptions o = TwoLayers();
  EXPECT_TRUE(FusedActorCritic::Supports(o));
  o.shared_trunk = true;
  EXPECT_FALSE(FusedActorCritic::Supports(o));
  ActorCritic shared(kObs, kActions, o);
  EXPECT_THROW(FusedActorCritic{shared}, std::invalid_argument);
  Ppo ppo(shared, PpoOptions{}, 1, 1);
  EXPECT_EQ(ppo.fused(), nullptr);  // the shared trunk stays on torch
  // The experiment file's ppo.fused chooses for the plain actor-critic.
  ActorCritic plain(kObs, kActions, TwoLayers());
  EXPECT_NE(Ppo(plain, PpoOptions{}, 1, 1).fused(), nullptr);
  PpoOptions off;
  off.fused = false;
  EXPECT_EQ(Ppo(plain, off, 1, 1).fused(), nullptr);
}

}  // namespace
}  // namespace eonops::agents
