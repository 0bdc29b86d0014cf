// Pins agents/es.h: the untrained ES policy is MSCL-KSP, a run is reproducible whatever the
// thread count, a resumed run equals a straight one, and --init-policy starts from another
// network's linear scorer (and refuses a scorer of another shape).
#include "agents/es.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agents/model.h"
#include "agents/policy_heuristic.h"
#include "agents/torch_policy.h"
#include "agents/trainer.h"
#include "twin/simulator.h"

namespace eonops::agents {
namespace {

namespace fs = std::filesystem;

// The shipped linear ES experiment on NSFNET, cut to K = 5 and a few short simulations.
ExperimentConfig SmallEs() {
  ExperimentConfig c = LoadExperimentConfig(std::string(EONOPS_CONFIG_DIR) +
                                            "/experiments/deeprmsa-nsfnet-es-linear-k50.json");
  c.twin["network"]["k_paths"] = 5;
  c.twin["env"]["top_candidates"] = 8;
  c.twin["env"]["warmup"] = 200;
  c.es.generations = 2;
  c.es.pairs = 2;
  c.es.requests = 1500;
  c.es.warmup = 200;
  c.es.eval_interval = 100;
  c.train.env_threads = 1;
  return c;
}

struct EsRun {
  ExperimentConfig config;
  twin::EnvConfig env;
  std::shared_ptr<const twin::NetworkModel> model;
  explicit EsRun(ExperimentConfig c)
      : config(std::move(c)),
        env(twin::EnvConfig::FromJson(config.twin, config.source)),
        model(std::make_shared<const twin::NetworkModel>(env.network)) {}
};

std::vector<float> Theta(const EsTrainer& es, const std::string& dir) {
  fs::create_directories(dir);
  const std::string path = dir + "/state.json";
  es.SaveCheckpoint(path);
  std::ifstream in(path);
  return nlohmann::json::parse(in).at("theta").get<std::vector<float>>();
}

std::string Dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/es-test-" + name;
  fs::remove_all(d);
  return d;
}

TEST(Es, ZeroGenerationsExportThePriorWhichDecidesAsMsclKsp) {
  ExperimentConfig c = SmallEs();
  c.es.generations = 0;
  EsRun run(c);
  EsTrainer es(run.config, run.model, run.env);
  es.Train();
  EXPECT_EQ(es.generation(), 0);
  std::unique_ptr<Policy> policy = es.SnapshotPolicy();
  PolicyHeuristic drl(*policy, run.model, run.env);
  twin::HeuristicOptions ho;
  ho.max_bit_rate_gbps = run.env.traffic.MaxBitRateGbps();
  twin::SimulationOptions opt;
  opt.requests = 2000;
  opt.warmup = 300;
  opt.batch_size = 1000;
  opt.seed = 9;
  const twin::SimulationResult a = twin::Simulate(run.model, run.env.traffic, drl, opt);
  const twin::SimulationResult b =
      twin::Simulate(run.model, run.env.traffic, *twin::MakeHeuristic("mscl-ksp", ho), opt);
  EXPECT_EQ(a.blocked, b.blocked);
  EXPECT_DOUBLE_EQ(a.power_mean_w, b.power_mean_w);
}

TEST(Es, ARunIsTheSameWhateverTheThreadCountAndMovesTheScorer) {
  EsRun one(SmallEs());
  ExperimentConfig c2 = SmallEs();
  EsRun two(c2);
  EsSetup s1, s2;
  s1.threads = 1;
  s2.threads = 2;
  EsTrainer a(one.config, one.model, one.env, s1), b(two.config, two.model, two.env, s2);
  const std::vector<float> start = Theta(a, Dir("start"));
  a.Train();
  b.Train();
  const std::vector<float> ta = Theta(a, Dir("a")), tb = Theta(b, Dir("b"));
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, start);  // two generations moved it
  EXPECT_EQ(ta.size(), 21u);  // linear scorer: 20 action features + bias
}

TEST(Es, AResumedRunEqualsAStraightOne) {
  EsRun run(SmallEs());
  EsTrainer straight(run.config, run.model, run.env);
  straight.Train();
  EsTrainer first(run.config, run.model, run.env);
  first.Train(1);
  const std::string dir = Dir("resume");
  fs::create_directories(dir);
  first.SaveCheckpoint(dir + "/state.json");
  EsTrainer second(run.config, run.model, run.env);
  second.LoadCheckpoint(dir + "/state.json");
  EXPECT_EQ(second.generation(), 1);
  second.Train();
  EXPECT_EQ(Theta(second, Dir("second")), Theta(straight, Dir("straight")));
}

TEST(Es, StartsFromAnotherNetworksLinearScorerAndRefusesAnotherShape) {
  EsRun source(SmallEs());
  EsTrainer trained(source.config, source.model, source.env);
  trained.Train();
  const std::string policy_dir = Dir("source-policy");
  trained.ExportPolicy(policy_dir);

  // Another network (60 slots, 3 paths by km): the linear scorer's weights fit it unchanged.
  ExperimentConfig other = SmallEs();
  other.twin["network"]["slots_per_band"] = 60;
  other.twin["network"]["k_paths"] = 3;
  other.twin["network"]["path_order"] = "length";
  other.es.generations = 0;
  EsRun target(other);
  EsSetup setup;
  setup.init_policy_dir = policy_dir;
  EsTrainer moved(target.config, target.model, target.env, setup);
  moved.Train();
  EXPECT_EQ(Theta(moved, Dir("moved")), Theta(trained, Dir("trained")));
  EXPECT_EQ(moved.MakeManifest().schedule["es_init_policy"]["dir"], policy_dir);
  EXPECT_NE(moved.MakeManifest().env_config_hash, ReadManifest(policy_dir).env_config_hash);

  // A scorer with a hidden layer is another shape: refused with the reason.
  ExperimentConfig mlp = other;
  mlp.model.scorer_hidden_sizes = {4};
  EsRun mlp_run(mlp);
  try {
    EsTrainer refused(mlp_run.config, mlp_run.model, mlp_run.env, setup);
    FAIL() << "an MLP scorer started from a linear one";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("scorer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace eonops::agents
