// Pins agents/policy_heuristic.h: the simulator/PCE adapter asks the policy exactly what the
// environment asked it in training.
#include "agents/policy_heuristic.h"

#include <gtest/gtest.h>

#include "agents/model.h"
#include "agents/torch_policy.h"
#include "agents/trainer.h"
#include "tests/agents/test_envs.h"
#include "twin/simulator.h"

namespace eonops::agents {
namespace {

struct Ring {
  ExperimentConfig config = testing::TinyConfig(Algorithm::kPpo);
  twin::EnvConfig env = twin::EnvConfig::FromJson(config.twin, config.source);
  std::shared_ptr<const twin::NetworkModel> model =
      std::make_shared<const twin::NetworkModel>(env.network);
};

std::unique_ptr<Policy> BrieflyTrained(const Ring& ring) {
  ExperimentConfig c = ring.config;
  c.train.total_steps = 2048;
  Trainer trainer(c, twin::MakeEnvFactory(ring.model, ring.env));
  trainer.Train();
  return trainer.SnapshotPolicy();
}

TEST(PolicyHeuristic, DecidesWhatTheEnvironmentWouldCommit) {
  Ring ring;
  std::unique_ptr<Policy> policy = BrieflyTrained(ring);
  EXPECT_EQ(EnvConfigOf(policy->manifest()).config_hash, ring.env.config_hash);
  PolicyHeuristic drl(*policy, ring.model, ring.env);
  auto env = twin::MakeEnv(ring.model, ring.env);
  std::vector<float> obs(env->Spec().observation_size);
  std::vector<uint8_t> mask(env->Spec().num_actions);
  env->Reset(77, obs.data(), mask.data());
  int accepted = 0, blocked = 0;
  for (int t = 0; t < 400; ++t) {
    twin::Decision d = drl.Decide(env->engine().current(), env->engine().state());
    const int action = policy->Act(obs.data(), mask.data()).action;
    twin::StepResult r = env->Step(action, obs.data(), mask.data());
    ASSERT_EQ(d.accepted, r.accepted) << "step " << t;
    if (r.accepted) {
      ++accepted;
      EXPECT_EQ(d.slot, env->last_choice().slot);
      EXPECT_EQ(d.candidate.path_index, env->last_choice().candidate.path_index);
      EXPECT_EQ(d.candidate.band, env->last_choice().candidate.band);
      EXPECT_EQ(d.candidate.width, env->last_choice().candidate.width);
    } else {
      ++blocked;
      EXPECT_EQ(d.cause, env->last_block_cause());
    }
    if (r.done) env->Reset(78 + t, obs.data(), mask.data());
  }
  EXPECT_GT(accepted, 300);
  EXPECT_GT(blocked, 0);  // both branches were exercised
}

TEST(PolicyHeuristic, RunsInTheSimulatorAndRefusesAnotherNetwork) {
  Ring ring;
  std::unique_ptr<Policy> policy = BrieflyTrained(ring);
  PolicyHeuristic drl(*policy, ring.model, ring.env);
  twin::SimulationOptions opt;
  opt.requests = 2000;
  opt.warmup = 200;
  opt.batch_size = 500;
  opt.check_invariants = true;
  twin::SimulationResult r = twin::Simulate(ring.model, ring.env.traffic, drl, opt);
  EXPECT_EQ(r.requests, 2000);
  EXPECT_LT(r.blocking.mean, 0.2);

  nlohmann::json other = ring.config.twin;
  other["network"]["k_paths"] = 1;  // another action space
  twin::EnvConfig env1 = twin::EnvConfig::FromJson(other, "other");
  auto model1 = std::make_shared<const twin::NetworkModel>(env1.network);
  try {
    PolicyHeuristic wrong(*policy, model1, env1);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit this network"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace eonops::agents

namespace eonops::agents {
namespace {

// The shipped DeepRMSA candidate-scorer experiment, shortened for a test.
ExperimentConfig ScorerConfig() {
  ExperimentConfig c = LoadExperimentConfig(std::string(EONOPS_CONFIG_DIR) +
                                            "/experiments/deeprmsa-nsfnet-scorer.json");
  c.train.num_envs = 2;
  c.train.env_threads = 1;
  c.twin["env"]["warmup"] = 200;
  return c;
}

TEST(CandidateScorer, UntrainedPolicyIsTheMsclKspItsPriorEncodes) {
  // Zero-initialised scorer: every logit is prior_scale x the capacity-loss gap, so the greedy
  // policy takes the least-loss action and, among ties, the lowest action index: the earliest
  // path and slot, as mscl-ksp. Same seed, same traffic: the same decisions to the request.
  ExperimentConfig c = ScorerConfig();
  const twin::EnvConfig env = twin::EnvConfig::FromJson(c.twin, c.source);
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  Trainer trainer(c, twin::MakeEnvFactory(model, env));
  std::unique_ptr<Policy> policy = trainer.SnapshotPolicy();
  EXPECT_EQ(policy->manifest().architecture.policy, PolicyArchitecture::kCandidateScorer);
  PolicyHeuristic drl(*policy, model, env);
  twin::HeuristicOptions ho;
  ho.max_bit_rate_gbps = env.traffic.MaxBitRateGbps();
  twin::SimulationOptions opt;
  opt.requests = 3000;
  opt.warmup = 500;
  opt.batch_size = 1000;
  opt.seed = 4;
  const twin::SimulationResult a = twin::Simulate(model, env.traffic, drl, opt);
  const twin::SimulationResult b = twin::Simulate(model, env.traffic, *twin::MakeHeuristic("mscl-ksp", ho), opt);
  EXPECT_EQ(a.accepted, b.accepted);
  EXPECT_EQ(a.blocked, b.blocked);
  EXPECT_DOUBLE_EQ(a.power_mean_w, b.power_mean_w);  // same lightpaths lit, all along
  EXPECT_GT(a.blocked, 0);
}

// Trains `c` briefly, exports it, and checks the torch-free inference path against torch.
void ExpectExportMatchesTorch(ExperimentConfig c, const std::string& name) {
  c.train.total_steps = 1024;
  c.ppo.rollout_steps = 64;
  const twin::EnvConfig env = twin::EnvConfig::FromJson(c.twin, c.source);
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  Trainer trainer(c, twin::MakeEnvFactory(model, env));
  trainer.Train();
  const std::string dir = ::testing::TempDir() + "/" + name;
  trainer.ExportPolicy(dir);
  std::unique_ptr<Policy> loaded = Policy::Load(dir);
  // The same weights through torch (ActorCriticImpl::forward) as the reference.
  const Manifest manifest = ReadManifest(dir);
  auto network = std::dynamic_pointer_cast<ActorCriticImpl>(MakeNetwork(manifest));
  ASSERT_TRUE(network);
  LoadModule(*network, dir + "/" + manifest.weights_file);
  auto e = twin::MakeEnv(model, env);
  const int n = e->Spec().num_actions;
  std::vector<float> obs(e->Spec().observation_size);
  std::vector<uint8_t> mask(n);
  std::vector<float> scores(n);
  e->Reset(5, obs.data(), mask.data());
  int compared = 0;
  for (int t = 0; t < 50; ++t) {
    loaded->Scores(obs.data(), mask.data(), scores.data());
    torch::NoGradGuard no_grad;
    const PolicyOutput out = network->forward(FloatTensor(obs.data(), 1, static_cast<int64_t>(obs.size())));
    MaskedCategorical dist(out.logits, MaskTensor(mask.data(), 1, n));
    for (int a = 0; a < n; ++a) {
      EXPECT_NEAR(scores[a], dist.probs()[0][a].item<float>(), 1e-5) << "step " << t << " action " << a;
    }
    EXPECT_NEAR(loaded->Act(obs.data(), mask.data()).value, out.value[0].item<float>(), 1e-4);
    compared += 1;
    e->Step(loaded->Act(obs.data(), mask.data()).action, obs.data(), mask.data());
  }
  EXPECT_EQ(compared, 50);
}

TEST(CandidateScorer, ExportedPolicyMatchesTheTorchNetworkAndRefusesNormalisation) {
  ExpectExportMatchesTorch(ScorerConfig(), "scorer-policy");
  ExperimentConfig normalised = ScorerConfig();
  const twin::EnvConfig env = twin::EnvConfig::FromJson(normalised.twin, normalised.source);
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  normalised.train.normalize_observations = true;
  EXPECT_THROW(Trainer(normalised, twin::MakeEnvFactory(model, env)), ConfigError);
}

TEST(CandidateScorer, LinearScorerHasOneWeightPerFeatureAndExportsExactly) {
  // scorer_hidden_sizes [] and no context: the score is w . features + b on top of the prior.
  ExperimentConfig c = ScorerConfig();
  c.model.scorer_hidden_sizes = {};
  c.model.context_hidden_sizes = {};
  const twin::EnvConfig env = twin::EnvConfig::FromJson(c.twin, c.source);
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  Trainer trainer(c, twin::MakeEnvFactory(model, env));
  const Manifest m = trainer.SnapshotPolicy()->manifest();
  auto network = std::dynamic_pointer_cast<ActorCriticImpl>(MakeNetwork(m));
  ASSERT_TRUE(network);
  int64_t actor_side = 0;
  for (const auto& p : network->named_parameters(/*recurse=*/true)) {
    if (p.key().rfind("actor.", 0) == 0 || p.key().rfind("policy_head.", 0) == 0) actor_side += p.value().numel();
  }
  EXPECT_EQ(actor_side, m.architecture.action_features_size + 1);
  ExpectExportMatchesTorch(c, "linear-scorer-policy");
}

}  // namespace
}  // namespace eonops::agents
