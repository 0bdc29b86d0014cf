#include "agents/evaluation.h"

#include <gtest/gtest.h>

#include "agents/run_logger.h"
#include "tests/agents/test_envs.h"

namespace eonops::agents {
namespace {

TEST(Summarize, MeanStddevAndStudentInterval) {
  Summary s = Summarize({1.0, 2.0, 3.0, 4.0});
  EXPECT_EQ(s.n, 4);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_NEAR(s.stddev, 1.2909944, 1e-7);
  EXPECT_NEAR(s.ci95_half_width, 3.182 * 1.2909944 / 2.0, 1e-6);
  EXPECT_EQ(Summarize({5.0}).ci95_half_width, 0.0);
  EXPECT_EQ(Summarize({}).n, 0);
  EXPECT_DOUBLE_EQ(StudentT975(1000), 1.96);
}

TEST(Evaluate, SameSeedsSameEpisodesAndHonestBlocking) {
  auto factory = [] { return std::make_unique<testing::MaskedContextBandit>(); };
  EvaluationOptions opt;
  opt.episodes = 200;
  opt.seed = 5;
  EvaluationResult a = Evaluate(factory, RandomMaskedActions(4, 1), opt);
  EvaluationResult b = Evaluate(factory, RandomMaskedActions(4, 1), opt);
  ASSERT_EQ(a.episodes.size(), 200u);
  EXPECT_EQ(a.episodes[0].seed, 5u);
  EXPECT_EQ(a.episodes[199].seed, 204u);
  EXPECT_EQ(a.episodes[3].steps, 8);
  EXPECT_EQ(a.blocking.mean, b.blocking.mean);
  // Random feasible answers: accepted with probability E[1 / (1 + Binomial(3, 1/2))] = 15/32.
  EXPECT_NEAR(a.blocking.mean, 1.0 - 15.0 / 32.0, 0.04);
  EXPECT_GT(a.blocking.ci95_half_width, 0.0);
  // An oracle (the context is the one-hot position) never blocks.
  ActionFn oracle = [](const float* obs, const uint8_t*) {
    for (int i = 0; i < 4; ++i) {
      if (obs[i] == 1.0f) return i;
    }
    return -1;
  };
  EvaluationResult best = Evaluate(factory, oracle, opt);
  EXPECT_EQ(best.blocking.mean, 0.0);
  EXPECT_EQ(best.reward.mean, 8.0);
}

TEST(JsonLinesRunLogger, WritesOneObjectPerLine) {
  std::ostringstream out;
  JsonLinesRunLogger log(out, "r1", /*log_episodes=*/true);
  log.LogParams({{"ppo.clip", "0.2"}});
  log.LogMetrics(10, {{"rollout/blocking", 0.25}});
  EpisodeRecord e;
  e.length = 4;
  e.accepted = 3;
  log.LogEpisode(e);
  log.EndRun(RunStatus::kFinished);
  std::istringstream in(out.str());
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["params"]["ppo.clip"], "0.2");
  EXPECT_EQ(lines[1]["step"], 10);
  EXPECT_EQ(lines[1]["metrics"]["rollout/blocking"], 0.25);
  EXPECT_EQ(lines[2]["blocking"], 0.25);
  EXPECT_EQ(lines[3]["status"], "FINISHED");
  EXPECT_EQ(lines[3]["run_id"], "r1");
}

}  // namespace
}  // namespace eonops::agents
