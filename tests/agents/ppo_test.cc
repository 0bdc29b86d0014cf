#include "agents/ppo.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace eonops::agents {
namespace {

constexpr int kSteps = 16, kEnvs = 4, kObs = 3, kActions = 3;

ModelOptions SmallModel() {
  ModelOptions o;
  o.hidden_sizes = {16};
  return o;
}

// A rollout of the model's own sampled actions on random observations and rewards.
void Fill(ActorCritic& net, RolloutStorage& s, uint64_t seed, float noise = 3.0f,
          float gamma = 0.99f) {
  torch::manual_seed(seed);
  Rng rng(seed);
  torch::NoGradGuard no_grad;
  for (int t = 0; t < kSteps; ++t) {
    torch::Tensor obs = torch::randn({kEnvs, kObs});
    torch::Tensor mask = torch::ones({kEnvs, kActions}, torch::kBool);
    ActOutput act = net->Act(obs, mask, &rng);
    torch::Tensor r = torch::randn({kEnvs}) * noise + act.action.to(torch::kFloat);
    uint8_t dones[kEnvs] = {0, 0, static_cast<uint8_t>(t % 5 == 4), 0};
    s.Insert(t, obs, mask, act, r.data_ptr<float>(), dones);
  }
  s.ComputeReturns(torch::zeros({kEnvs}), gamma, 0.95f);
}

std::vector<torch::Tensor> Snapshot(ActorCritic& net) {
  std::vector<torch::Tensor> p;
  for (const auto& t : net->parameters()) p.push_back(t.detach().clone());
  return p;
}

double Distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]).pow(2).sum().item<double>();
  return std::sqrt(d);
}

// The model every test starts from (torch seed 3) and a rollout of its own actions.
struct SeededRollout {
  ActorCritic net;
  RolloutStorage storage;
};
SeededRollout MakeRollout(uint64_t fill_seed) {
  torch::manual_seed(3);
  SeededRollout r{ActorCritic(kObs, kActions, SmallModel()), RolloutStorage(kSteps, kEnvs, kObs, kActions)};
  Fill(r.net, r.storage, fill_seed);
  return r;
}

// How far one Update moves the weights, with a given max_grad_norm.
double Step(float max_grad_norm, UpdateStats* stats) {
  at::set_num_threads(1);
  auto [net, s] = MakeRollout(11);
  PpoOptions o;
  o.max_grad_norm = max_grad_norm;
  o.anneal_learning_rate = false;
  Ppo ppo(net, o, 10, 1);
  auto before = Snapshot(net);
  *stats = ppo.Update(s);
  return Distance(before, Snapshot(net));
}

TEST(Ppo, GradientNormClippingIsApplied) {
  UpdateStats clipped, free;
  const double moved_clipped = Step(1e-9f, &clipped);
  const double moved_free = Step(1e9f, &free);
  EXPECT_GT(moved_free, 0.0);
  // Adam normalises gradient scale, but a gradient clipped far below adam_epsilon barely moves.
  EXPECT_LT(moved_clipped, 0.01 * moved_free);
  // The reported norm is the one before clipping.
  EXPECT_GT(clipped.grad_norm, 1e-3);
}

// Learner threads split each minibatch's passes over replicas: the same update as one thread,
// up to the order of float additions (losses, statistics and every weight after 4 epochs), and
// with clipping and the KL early stop seeing the same figures.
TEST(Ppo, LearnerThreadsGiveTheSingleThreadUpdate) {
  at::set_num_threads(1);
  auto run = [](int threads, UpdateStats* stats) {
    auto [net, s] = MakeRollout(11);
    PpoOptions o;
    o.anneal_learning_rate = false;
    o.minibatches = 2;
    o.max_grad_norm = 0.5f;
    Ppo ppo(net, o, 10, 1);
    std::vector<ActorCritic> replicas;
    for (int i = 1; i < threads; ++i) replicas.push_back(ActorCritic(kObs, kActions, SmallModel()));
    if (threads > 1) ppo.SetLearnerReplicas(std::move(replicas));
    *stats = ppo.Update(s);
    *stats = ppo.Update(s);  // a second update: the replicas followed the first one's steps
    return Snapshot(net);
  };
  UpdateStats one, two, three;
  const auto w1 = run(1, &one), w2 = run(2, &two), w3 = run(3, &three);
  double scale = 0;
  for (const auto& t : w1) scale += t.pow(2).sum().item<double>();
  EXPECT_LT(Distance(w1, w2), 1e-5 * std::sqrt(scale));
  EXPECT_LT(Distance(w1, w3), 1e-5 * std::sqrt(scale));
  for (const UpdateStats* s : {&two, &three}) {
    EXPECT_NEAR(s->policy_loss, one.policy_loss, 1e-5);
    EXPECT_NEAR(s->value_loss, one.value_loss, 1e-4 * std::abs(one.value_loss));
    EXPECT_NEAR(s->entropy, one.entropy, 1e-5);
    EXPECT_NEAR(s->approx_kl, one.approx_kl, 1e-6);
    EXPECT_NEAR(s->clip_fraction, one.clip_fraction, 1e-9);
    EXPECT_NEAR(s->grad_norm, one.grad_norm, 1e-4 * one.grad_norm);
    EXPECT_EQ(s->minibatch_steps, one.minibatch_steps);
  }
}

TEST(Ppo, LearningRateDecaysLinearly) {
  at::set_num_threads(1);
  ActorCritic net(kObs, kActions, SmallModel());
  RolloutStorage s(kSteps, kEnvs, kObs, kActions);
  Fill(net, s, 1);
  PpoOptions o;
  o.learning_rate = 0.01f;
  o.epochs = 1;
  Ppo ppo(net, o, /*total_updates=*/4, 1);
  for (double expected : {0.01, 0.0075, 0.005, 0.0025}) {
    UpdateStats st = ppo.Update(s);
    EXPECT_NEAR(st.learning_rate, expected, 1e-9);
    EXPECT_NEAR(
        static_cast<torch::optim::AdamOptions&>(ppo.optimizer().param_groups()[0].options()).lr(),
        expected, 1e-9);
  }
  EXPECT_NEAR(ppo.LearningRate(), 0.0, 1e-12);
}

TEST(Ppo, TargetKlStopsEpochsEarly) {
  at::set_num_threads(1);
  for (float target_kl : {0.0f, 1e-6f}) {
    auto [net, s] = MakeRollout(2);
    PpoOptions o;
    o.learning_rate = 0.05f;
    o.epochs = 8;
    o.target_kl = target_kl;
    Ppo ppo(net, o, 10, 1);
    UpdateStats st = ppo.Update(s);
    if (target_kl == 0.0f) {
      EXPECT_FALSE(st.early_stopped);
      EXPECT_EQ(st.epochs, 8);
      EXPECT_EQ(st.minibatch_steps, 8 * o.minibatches);
    } else {
      EXPECT_TRUE(st.early_stopped);
      EXPECT_LT(st.epochs, 8);
      EXPECT_LT(st.minibatch_steps, 8 * o.minibatches);
    }
  }
}

TEST(Ppo, UpdateRaisesTheProbabilityOfAdvantageousActions) {
  at::set_num_threads(1);
  torch::manual_seed(5);
  ActorCritic net(kObs, kActions, SmallModel());
  RolloutStorage s(kSteps, kEnvs, kObs, kActions);
  Fill(net, s, 4);  // reward grows with the action index
  PpoOptions o;
  o.entropy_coef = 0;
  o.learning_rate = 0.003f;
  Ppo ppo(net, o, 10, 1);
  torch::Tensor obs = torch::randn({64, kObs});
  torch::Tensor mask = torch::ones({64, kActions}, torch::kBool);
  auto p2 = [&] {
    torch::NoGradGuard g;
    return MaskedCategorical(net->forward(obs).logits, mask)
        .probs()
        .select(1, 2)
        .mean()
        .item<double>();
  };
  const double before = p2();
  for (int k = 0; k < 5; ++k) {
    Fill(net, s, 100 + k, /*noise=*/0.3f, /*gamma=*/0.0f);  // advantage = reward - value
    ppo.Update(s);
  }
  EXPECT_GT(p2(), before + 0.1);  // from 1/3 to about 0.47
}

}  // namespace
}  // namespace eonops::agents
