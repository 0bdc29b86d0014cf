// Pins agents/trainer.h: the learners learn, masks hold during training, runs reproduce, and a
// resumed run continues exactly where the checkpoint left it.
#include "agents/trainer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "agents/evaluation.h"
#include "tests/agents/test_envs.h"

namespace eonops::agents {
namespace {

using testing::MaskedContextBandit;
using testing::TinyConfig;
using testing::TwoArmedBandit;

twin::VecEnv::Factory Bandit() {
  return [] { return std::make_unique<TwoArmedBandit>(); };
}

// Probability the greedy policy's distribution gives arm 1.
double ArmOneProbability(const Policy& policy) {
  const float obs[1] = {1.0f};
  const uint8_t mask[2] = {1, 1};
  float scores[2];
  policy.Scores(obs, mask, scores);
  return policy.manifest().algorithm == "ppo" ? scores[1] : (scores[1] > scores[0] ? 1.0 : 0.0);
}

TEST(Trainer, PpoLearnsTwoArmedBandit) {
  ExperimentConfig c = TinyConfig(Algorithm::kPpo);
  c.train.total_steps = 2048;
  Trainer trainer(c, Bandit());
  std::unique_ptr<Policy> before = trainer.SnapshotPolicy();
  EXPECT_NEAR(ArmOneProbability(*before), 0.5, 0.05);  // starts near uniform
  TrainResult r = trainer.Train();
  EXPECT_GE(r.env_steps, 2048);
  std::unique_ptr<Policy> after = trainer.SnapshotPolicy();
  EXPECT_GT(ArmOneProbability(*after), 0.9);
  const float obs[1] = {1.0f};
  const uint8_t mask[2] = {1, 1};
  Decision d = after->Act(obs, mask);
  EXPECT_EQ(d.action, 1);
  EXPECT_GT(d.probability, 0.9f);
  EXPECT_NEAR(d.value, 1.0f, 0.2f);  // the critic learnt the arm's payoff
  EXPECT_GT(r.mean_episode_reward, 0.7);
}

TEST(Trainer, DqnLearnsTwoArmedBandit) {
  ExperimentConfig c = TinyConfig(Algorithm::kDqn);
  c.train.total_steps = 2048;
  Trainer trainer(c, Bandit());
  trainer.Train();
  std::unique_ptr<Policy> policy = trainer.SnapshotPolicy();
  const float obs[1] = {1.0f};
  float q[2];
  const uint8_t mask[2] = {1, 1};
  policy->Scores(obs, mask, q);
  EXPECT_NEAR(q[1], 1.0f, 0.15f);  // one-step episodes: Q = immediate reward
  EXPECT_NEAR(q[0], 0.0f, 0.15f);
  EXPECT_EQ(policy->Act(obs, mask).action, 1);
  // Masking the better arm leaves the other.
  const uint8_t only_zero[2] = {1, 0};
  EXPECT_EQ(policy->Act(obs, only_zero).action, 0);
}

// A VecEnv factory that keeps pointers to its environments, to read their counters.
struct Tracked {
  std::vector<MaskedContextBandit*> envs;
  twin::VecEnv::Factory Factory() {
    return [this] {
      auto env = std::make_unique<MaskedContextBandit>();
      envs.push_back(env.get());
      return env;
    };
  }
  int64_t MaskedChoices() const {
    int64_t n = 0;
    for (auto* e : envs) n += e->masked_choices();
    return n;
  }
};

TEST(Trainer, PpoWithMasksBlocksFarLessThanRandomAndNeverPicksMaskedActions) {
  for (Algorithm algorithm : {Algorithm::kPpo, Algorithm::kDqn}) {
    SCOPED_TRACE(ToString(algorithm));
    ExperimentConfig c = TinyConfig(algorithm);
    c.train.total_steps = algorithm == Algorithm::kPpo ? 12288 : 6144;
    c.train.num_envs = 8;
    c.ppo.entropy_coef = 0.01f;
    Tracked tracked;
    Trainer trainer(c, tracked.Factory());
    trainer.Train();
    EXPECT_EQ(tracked.MaskedChoices(), 0);  // sampling and epsilon-exploration respect masks

    auto eval_factory = [] { return std::make_unique<MaskedContextBandit>(); };
    EvaluationOptions opt;
    opt.episodes = 50;
    std::unique_ptr<Policy> policy = trainer.SnapshotPolicy();
    EvaluationResult trained = Evaluate(eval_factory, *policy, opt);
    EvaluationResult random = Evaluate(eval_factory, RandomMaskedActions(4, 7), opt);
    // Random feasible answers are right 15/32 of the time (evaluation_test.cc).
    EXPECT_GT(random.blocking.mean, 0.45);
    EXPECT_LT(trained.blocking.mean, 0.1);
    EXPECT_LT(trained.blocking.mean + trained.blocking.ci95_half_width,
              random.blocking.mean - random.blocking.ci95_half_width);
  }
}

struct Trace {
  std::vector<std::map<std::string, double>> metrics;
  std::vector<double> rewards;
};

Trace TrainAndTrace(Algorithm algorithm, uint64_t seed, int learner_threads = 1) {
  ExperimentConfig c = TinyConfig(algorithm);
  c.train.learner_threads = learner_threads;
  c.train.total_steps = 1024;
  c.train.num_envs = 4;
  c.train.env_threads = 2;
  c.train.seed = seed;
  c.train.log_interval = 128;
  Trace trace;
  TrainerSetup setup;
  setup.hooks.on_progress = [&](const Progress& p) {
    std::map<std::string, double> m = p.metrics;
    for (auto it = m.begin(); it != m.end();)  // wall-clock timings are not reproducible
      it = it->first.rfind("time/", 0) == 0 ? m.erase(it) : std::next(it);
    trace.metrics.push_back(m);
    trace.rewards.push_back(p.mean_episode_reward);
  };
  Trainer trainer(
      c, [] { return std::make_unique<MaskedContextBandit>(); }, setup);
  trainer.Train();
  // The final weights, through a few probes.
  std::unique_ptr<Policy> policy = trainer.SnapshotPolicy();
  std::map<std::string, double> probe;
  for (int k = 0; k < 4; ++k) {
    float obs[MaskedContextBandit::kObservation] = {};
    obs[k] = 1.0f;
    obs[4] = 0.7f * k;
    const uint8_t mask[4] = {1, 1, 1, 1};
    float s[4];
    policy->Scores(obs, mask, s);
    for (int a = 0; a < 4; ++a) probe["probe/" + std::to_string(k * 4 + a)] = s[a];
    probe["value/" + std::to_string(k)] = policy->Act(obs, mask).value;
  }
  trace.metrics.push_back(probe);
  return trace;
}

TEST(Trainer, FixedSeedRunIsBitReproducible) {
  for (Algorithm algorithm : {Algorithm::kPpo, Algorithm::kDqn}) {
    SCOPED_TRACE(ToString(algorithm));
    Trace a = TrainAndTrace(algorithm, 3), b = TrainAndTrace(algorithm, 3),
          other = TrainAndTrace(algorithm, 4);
    ASSERT_GE(a.metrics.size(), 5u);
    ASSERT_FALSE(a.metrics.front().empty());
    EXPECT_EQ(a.metrics, b.metrics);  // losses, KL, entropy... equal to the last bit
    EXPECT_EQ(a.rewards.size(), b.rewards.size());
    for (size_t i = 0; i < a.rewards.size(); ++i) {
      if (std::isnan(a.rewards[i])) {
        EXPECT_TRUE(std::isnan(b.rewards[i]));
      } else {
        EXPECT_EQ(a.rewards[i], b.rewards[i]);
      }
    }
    EXPECT_NE(a.metrics, other.metrics);
  }
  // Two learner threads: reproducible too (each thread's share of a minibatch is fixed), and
  // the same run as one thread up to float rounding.
  Trace a = TrainAndTrace(Algorithm::kPpo, 3, 2), b = TrainAndTrace(Algorithm::kPpo, 3, 2),
        single = TrainAndTrace(Algorithm::kPpo, 3);
  EXPECT_EQ(a.metrics, b.metrics);
  ASSERT_EQ(a.metrics.size(), single.metrics.size());
  for (const auto& [key, value] : a.metrics.front())
    EXPECT_NEAR(value, single.metrics.front().at(key), 1e-4 * (1 + std::abs(value))) << key;
}

TEST(Trainer, TruncatedEpisodesBootstrapTheValueOfTheFinalObservation) {
  // Reward 1 forever, episodes cut after every step: with gamma = 0.5 the value is
  // 1 + 0.5 + 0.25 + ... = 2. Treating the cut as an end would teach 1.
  for (Algorithm algorithm : {Algorithm::kPpo, Algorithm::kDqn}) {
    SCOPED_TRACE(ToString(algorithm));
    ExperimentConfig c = TinyConfig(algorithm);
    c.train.total_steps = algorithm == Algorithm::kPpo ? 40000 : 20000;
    c.train.normalize_observations = false;
    c.ppo.gamma = 0.5f;
    c.ppo.gae_lambda = 0.9f;
    c.ppo.learning_rate = 3e-3f;
    c.ppo.clip_value = false;
    c.dqn.gamma = 0.5f;
    c.dqn.learning_rate = 1e-3f;
    Trainer t(c, [] { return std::make_unique<testing::EndlessTruncated>(); });
    t.Train();
    std::unique_ptr<Policy> p = t.SnapshotPolicy();
    const float obs[1] = {1.0f};
    const uint8_t mask[2] = {1, 1};
    EXPECT_NEAR(p->Act(obs, mask).value, 2.0, 0.15);
  }
}

TEST(Trainer, LegsWithTheFinalHorizonMatchAStraightRun) {
  // First leg: stop at 512 steps of a schedule planned for 1024; second leg: resume to 1024.
  // Same learning-rate schedule, same weights, bit for bit, as one straight 1024-step run.
  ExperimentConfig c = TinyConfig(Algorithm::kPpo);
  c.train.total_steps = 1024;
  const std::string dir = ::testing::TempDir() + "/ckpt-legs";
  std::filesystem::remove_all(dir);
  Trainer straight(c, Bandit());
  straight.Train();
  {
    ExperimentConfig leg = c;
    leg.train.total_steps = 512;
    leg.train.schedule_steps = 1024;
    Trainer first(leg, Bandit());
    first.Train();
    first.SaveCheckpoint(dir);
  }
  Trainer resumed(c, Bandit());
  resumed.LoadCheckpoint(dir);
  EXPECT_TRUE(resumed.ExtendSchedules(1024).empty());  // within the horizon: nothing to say
  resumed.Train();
  EXPECT_EQ(resumed.ScheduleJson().at("learning_rate_scale"), straight.ScheduleJson().at("learning_rate_scale"));
  std::unique_ptr<Policy> a = straight.SnapshotPolicy(), b = resumed.SnapshotPolicy();
  const float obs[1] = {1.0f};
  const uint8_t mask[2] = {1, 1};
  float sa[2], sb[2];
  a->Scores(obs, mask, sa);
  b->Scores(obs, mask, sb);
  EXPECT_EQ(sa[0], sb[0]);
  EXPECT_EQ(a->Act(obs, mask).value, b->Act(obs, mask).value);
}

TEST(Trainer, ResumingPastTheHorizonSaysWhatItDoesToTheSchedule) {
  ExperimentConfig c = TinyConfig(Algorithm::kPpo);
  c.train.total_steps = 512;
  const std::string dir = ::testing::TempDir() + "/ckpt-past";
  std::filesystem::remove_all(dir);
  {
    Trainer first(c, Bandit());
    first.Train();
    first.SaveCheckpoint(dir);
  }
  c.train.total_steps = 1024;
  Trainer resumed(c, Bandit());
  resumed.LoadCheckpoint(dir);
  const std::vector<std::string> notes = resumed.ExtendSchedules(1024);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("restarted"), std::string::npos) << notes[0];
  resumed.Train();
  // The manifest records the schedule as run: the first leg's decay, then the restart.
  const nlohmann::json sched = resumed.MakeManifest().schedule;
  ASSERT_EQ(sched.at("learning_rate_scale").at("segments").size(), 2u);
  EXPECT_EQ(sched.at("learning_rate_scale").at("segments")[1].at("from_step"), 512);
  EXPECT_EQ(sched.at("notes").size(), 1u);
}

TEST(Trainer, ResumedRunMatchesUninterruptedRun) {
  // The bandit ignores episode seeds, so restarting its episodes on resume changes nothing and
  // the learner state alone decides the outcome: it must be restored completely.
  for (Algorithm algorithm : {Algorithm::kPpo, Algorithm::kDqn}) {
    SCOPED_TRACE(ToString(algorithm));
    ExperimentConfig c = TinyConfig(algorithm);
    c.train.total_steps = 1024;
    c.dqn.target_update_interval = 7;
    const std::string dir = ::testing::TempDir() + "/ckpt-" + ToString(algorithm);
    std::filesystem::remove_all(dir);

    Trainer straight(c, Bandit());
    straight.Train(1024);

    {
      Trainer first(c, Bandit());
      first.Train(512);
      first.SaveCheckpoint(dir);
    }
    Trainer resumed(c, Bandit());
    resumed.LoadCheckpoint(dir);
    EXPECT_EQ(resumed.env_steps(), 512);
    resumed.Train(1024);
    EXPECT_EQ(resumed.env_steps(), straight.env_steps());
    EXPECT_EQ(resumed.updates(), straight.updates());

    std::unique_ptr<Policy> a = straight.SnapshotPolicy(), b = resumed.SnapshotPolicy();
    for (float x : {1.0f, -3.0f, 0.25f, 7.0f}) {
      const float obs[1] = {x};
      const uint8_t mask[2] = {1, 1};
      float sa[2], sb[2];
      a->Scores(obs, mask, sa);
      b->Scores(obs, mask, sb);
      EXPECT_EQ(sa[0], sb[0]);
      EXPECT_EQ(sa[1], sb[1]);
      EXPECT_EQ(a->Act(obs, mask).value, b->Act(obs, mask).value);
    }
    EXPECT_EQ(ToJson(a->manifest()).at("normalization"), ToJson(b->manifest()).at("normalization"));
  }
}

TEST(Trainer, CheckpointOfAnotherSetupIsRejected) {
  const std::string dir = ::testing::TempDir() + "/ckpt-mismatch";
  std::filesystem::remove_all(dir);
  ExperimentConfig c = TinyConfig(Algorithm::kPpo);
  {
    Trainer t(c, Bandit());
    t.Train(256);
    t.SaveCheckpoint(dir);
  }
  ExperimentConfig dqn = TinyConfig(Algorithm::kDqn);
  Trainer other(dqn, Bandit());
  try {
    other.LoadCheckpoint(dir);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("algorithm: checkpoint is ppo"), std::string::npos)
        << e.what();
  }
  Trainer env_mismatch(c, [] { return std::make_unique<MaskedContextBandit>(); });
  EXPECT_THROW(env_mismatch.LoadCheckpoint(dir), ConfigError);
  ExperimentConfig wider = c;
  wider.model.hidden_sizes = {64, 32};
  Trainer arch_mismatch(wider, Bandit());
  try {
    arch_mismatch.LoadCheckpoint(dir);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("has shape"), std::string::npos) << e.what();
  }
}

TEST(Trainer, WarmStartContinuesFromAnExportedPolicy) {
  const std::string dir = ::testing::TempDir() + "/warm-start-policy";
  std::filesystem::remove_all(dir);
  ExperimentConfig c = TinyConfig(Algorithm::kPpo);
  c.train.total_steps = 2048;
  {
    Trainer t(c, Bandit());
    t.Train();
    t.ExportPolicy(dir);
  }
  std::unique_ptr<Policy> exported = Policy::Load(dir);
  ASSERT_GT(ArmOneProbability(*exported), 0.9);
  // A fresh run with another seed starts where the exported policy is, not at uniform.
  ExperimentConfig fresh = c;
  fresh.train.seed = 99;
  Trainer warm(fresh, Bandit());
  warm.WarmStart(dir);
  std::unique_ptr<Policy> start = warm.SnapshotPolicy();
  EXPECT_NEAR(ArmOneProbability(*start), ArmOneProbability(*exported), 1e-6);
  EXPECT_EQ(ToJson(start->manifest()).at("normalization"),
            ToJson(exported->manifest()).at("normalization"));
  warm.Train(256);
  EXPECT_GT(ArmOneProbability(*warm.SnapshotPolicy()), 0.9);
  // Not after training has begun, and not across algorithms, environments or architectures.
  try {
    warm.WarmStart(dir);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("already trained"), std::string::npos) << e.what();
  }
  Trainer dqn(TinyConfig(Algorithm::kDqn), Bandit());
  EXPECT_THROW(dqn.WarmStart(dir), ConfigError);
  Trainer other_env(c, [] { return std::make_unique<MaskedContextBandit>(); });
  EXPECT_THROW(other_env.WarmStart(dir), ConfigError);
  ExperimentConfig wider = c;
  wider.model.hidden_sizes = {64, 32};
  Trainer arch(wider, Bandit());
  try {
    arch.WarmStart(dir);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("architecture"), std::string::npos) << e.what();
  }
}

// Records what the trainer logs.
class RecordingLogger : public RunLogger {
 public:
  std::string RunId() const override { return "run-7"; }
  void LogParams(const std::map<std::string, std::string>& p) override { params = p; }
  void LogMetrics(int64_t step, const std::map<std::string, double>& m) override {
    steps.push_back(step);
    for (const auto& [k, v] : m) metrics[k] = v;
  }
  void LogEpisode(const EpisodeRecord& e) override { episodes.push_back(e); }
  void SetTag(const std::string&, const std::string&) override {}
  void LogArtifact(const std::string&, const std::string&) override {}
  void EndRun(RunStatus) override {}
  std::map<std::string, std::string> params;
  std::map<std::string, double> metrics;
  std::vector<int64_t> steps;
  std::vector<EpisodeRecord> episodes;
};

TEST(Trainer, ReportsProgressEvaluatesChecksPointsAndLogs) {
  ExperimentConfig c = TinyConfig(Algorithm::kPpo);
  c.train.total_steps = 1024;
  c.train.log_interval = 256;
  c.train.eval_interval = 512;
  c.train.checkpoint_interval = 512;
  RecordingLogger logger;
  TrainerSetup setup;
  setup.logger = &logger;
  setup.checkpoint_dir = ::testing::TempDir() + "/ckpt-periodic";
  std::vector<Progress> reports;
  std::vector<int64_t> evals, checkpoints;
  setup.hooks.on_progress = [&](const Progress& p) { reports.push_back(p); };
  setup.hooks.evaluate = [&](const Policy& policy, int64_t step) {
    evals.push_back(step);
    EXPECT_EQ(policy.num_actions(), 2);
    return std::map<std::string, double>{{"blocking", 0.5}};
  };
  setup.hooks.on_checkpoint = [&](const std::string& dir) {
    checkpoints.push_back(0);
    EXPECT_TRUE(std::filesystem::exists(dir + "/state.json"));
  };
  Trainer trainer(c, Bandit(), setup);
  trainer.Train();
  ASSERT_EQ(reports.size(), 4u);
  EXPECT_EQ(reports[0].env_steps, 256);
  EXPECT_EQ(reports[3].env_steps, 1024);
  EXPECT_GT(reports[3].steps_per_second, 0);
  EXPECT_GE(reports[3].blocking, 0.0);
  EXPECT_LT(reports[3].blocking, reports[0].blocking);  // it learns to pick the accepted arm
  EXPECT_EQ(reports[3].metrics.count("loss/policy"), 1u);
  EXPECT_EQ(evals, (std::vector<int64_t>{512, 1024}));  // the last one is also the final one
  EXPECT_EQ(checkpoints.size(), 2u);
  EXPECT_EQ(logger.params.at("ppo.clip"), "0.2");
  EXPECT_EQ(logger.metrics.count("rollout/blocking"), 1u);
  EXPECT_EQ(logger.metrics.at("eval/blocking"), 0.5);
  EXPECT_EQ(logger.episodes.size(), 1024u);  // one-step episodes
  EXPECT_EQ(trainer.MakeManifest().run_id, "run-7");
}

}  // namespace
}  // namespace eonops::agents
