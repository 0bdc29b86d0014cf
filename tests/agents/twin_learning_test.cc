// The learners on the twin's real environments (twin/envs.h): a briefly trained policy on a
// small loaded ring (configs/experiments/tiny-test.json) blocks clearly less than uniformly
// random feasible actions. The reward is DeepRMSA's (+1 accepted, -1 blocked): the current
// request is accepted by any feasible action, so the agent must learn the delayed cost of long
// paths and scattered blocks.
#include <gtest/gtest.h>

#include <memory>

#include "agents/evaluation.h"
#include "agents/trainer.h"
#include "tests/agents/test_envs.h"
#include "twin/envs.h"

namespace eonops::agents {
namespace {

TEST(TwinLearning, PpoOnSmallRingBlocksClearlyLessThanRandom) {
  ExperimentConfig c = testing::TinyConfig(Algorithm::kPpo);
  c.train.total_steps = 32768;
  c.train.num_envs = 8;
  c.ppo.entropy_coef = 0.01f;
  twin::EnvConfig env = twin::EnvConfig::FromJson(c.twin, c.source);
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  twin::VecEnv::Factory factory = twin::MakeEnvFactory(model, env);

  Trainer trainer(c, factory);
  EXPECT_EQ(trainer.spec().name, "deeprmsa");
  trainer.Train();
  std::unique_ptr<Policy> policy = trainer.SnapshotPolicy();
  EXPECT_EQ(policy->manifest().env_config_hash, env.config_hash);

  EvaluationOptions opt;
  opt.episodes = 16;
  opt.seed = 1000;  // not seeds seen in training (1..8 and their resets)
  const int actions = trainer.spec().num_actions;
  EvaluationResult trained = Evaluate(factory, *policy, opt);
  EvaluationResult random = Evaluate(factory, RandomMaskedActions(actions, 3), opt);
  // KSP-FF in action space: the first feasible action (shortest path, first block).
  ActionFn first_fit = [actions](const float*, const uint8_t* mask) {
    for (int a = 0; a < actions; ++a) {
      if (mask[a]) return a;
    }
    return -1;
  };
  EvaluationResult kspff = Evaluate(factory, first_fit, opt);
  std::cout << "ring4, 16 slots, 10 Erlang, 16 x 500 requests: blocking trained "
            << trained.blocking.mean << " +- " << trained.blocking.ci95_half_width << ", random "
            << random.blocking.mean << " +- " << random.blocking.ci95_half_width << ", KSP-FF "
            << kspff.blocking.mean << " +- " << kspff.blocking.ci95_half_width << "\n";
  EXPECT_LT(trained.blocking.mean + trained.blocking.ci95_half_width,
            random.blocking.mean - random.blocking.ci95_half_width);
  EXPECT_LT(trained.blocking.mean, 0.75 * random.blocking.mean);
}

}  // namespace
}  // namespace eonops::agents
