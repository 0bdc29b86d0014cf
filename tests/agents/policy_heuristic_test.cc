// Pins agents/policy_heuristic.h: the simulator/PCE adapter asks the policy exactly what the
// environment asked it in training.
#include "agents/policy_heuristic.h"

#include <gtest/gtest.h>

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
