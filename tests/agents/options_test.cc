// Pins agents/options.h; also checks that the public agents headers stay torch-free.
#include "agents/options.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

// The headers tools/ and pce/ include must not pull torch in.
#include "agents/evaluation.h"
#include "agents/manifest.h"
#include "agents/normalizer.h"
#include "agents/policy.h"
#include "agents/replay_buffer.h"
#include "agents/run_logger.h"
#include "agents/trainer.h"
#include "twin/envs.h"
#include "twin/scenario.h"
#if defined(C10_MACROS_MACROS_H_) || defined(TORCH_API)
#error "a public agents header includes torch"
#endif

namespace eonops::agents {
namespace {

using nlohmann::json;

std::string ErrorOf(const json& j) {
  try {
    ParseExperimentConfig(j, "exp.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Options, EmptyDocumentGivesDefaults) {
  ExperimentConfig c = ParseExperimentConfig(json::object(), "exp.json");
  EXPECT_EQ(c.train.algorithm, Algorithm::kPpo);
  EXPECT_FLOAT_EQ(c.ppo.clip, 0.2f);
  EXPECT_EQ(c.model.hidden_sizes, (std::vector<int>{128, 128}));
  EXPECT_TRUE(c.dqn.double_q);
}

TEST(Options, ReadsEverySection) {
  json j = {{"name", "x"},
            {"_source", "a note"},
            {"network", {{"topology", "nsfnet"}}},
            {"traffic", {{"load_erlang", 250}}},
            {"env", {{"use_case", "deeprmsa"}}},
            {"train", {{"algorithm", "dqn"}, {"total_steps", 1e6}, {"seed", 7}}},
            {"model", {{"hidden_sizes", {64, 32}}, {"activation", "relu"}, {"shared_trunk", true}}},
            {"ppo", {{"clip", 0.1}, {"target_kl", 0.02}}},
            {"dqn", {{"tau", 0.005}, {"double_q", false}}}};
  ExperimentConfig c = ParseExperimentConfig(j, "exp.json");
  EXPECT_EQ(c.name, "x");
  EXPECT_EQ(c.twin["traffic"]["load_erlang"], 250);  // twin sections pass through verbatim
  EXPECT_EQ(c.twin["env"]["use_case"], "deeprmsa");
  EXPECT_EQ(c.twin.size(), 3u);
  EXPECT_EQ(c.source, "exp.json");
  EXPECT_EQ(c.train.algorithm, Algorithm::kDqn);
  EXPECT_EQ(c.train.total_steps, 1000000);
  EXPECT_EQ(c.train.seed, 7u);
  EXPECT_EQ(c.model.hidden_sizes, (std::vector<int>{64, 32}));
  EXPECT_EQ(c.model.activation, Activation::kRelu);
  EXPECT_TRUE(c.model.shared_trunk);
  EXPECT_FLOAT_EQ(c.ppo.clip, 0.1f);
  EXPECT_FLOAT_EQ(c.ppo.target_kl, 0.02f);
  EXPECT_FLOAT_EQ(c.dqn.tau, 0.005f);
  EXPECT_FALSE(c.dqn.double_q);
}

TEST(Options, ToJsonRoundTrips) {
  json j = {
      {"train", {{"num_envs", 3}}}, {"ppo", {{"clip", 0.3}}}, {"model", {{"dueling", false}}}};
  ExperimentConfig a = ParseExperimentConfig(j, "a");
  json dumped = ToJson(a);
  EXPECT_EQ(dumped["ppo"]["clip"], 0.3);  // written as it was, not 0.30000001192092896
  ExperimentConfig b = ParseExperimentConfig(dumped, "b");
  EXPECT_EQ(ToJson(b), dumped);
  // ppo.fused: on by default and then not written (existing configs keep their form); off
  // round-trips.
  EXPECT_TRUE(a.ppo.fused);
  EXPECT_FALSE(dumped["ppo"].contains("fused"));
  j["ppo"]["fused"] = false;
  ExperimentConfig c = ParseExperimentConfig(j, "c");
  EXPECT_FALSE(c.ppo.fused);
  EXPECT_EQ(ToJson(c)["ppo"]["fused"], false);
  EXPECT_FALSE(ParseExperimentConfig(ToJson(c), "d").ppo.fused);
  j["ppo"]["fused"] = "yes";
  EXPECT_THROW(ParseExperimentConfig(j, "e"), std::exception);
}

TEST(Options, UnknownKeyNamesFileAndKeyAndSuggests) {
  std::string e = ErrorOf({{"ppo", {{"clipp", 0.1}}}});
  EXPECT_NE(e.find("exp.json"), std::string::npos) << e;
  EXPECT_NE(e.find("ppo.clipp"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'ppo.clip'"), std::string::npos) << e;

  e = ErrorOf({{"trian", {{"seed", 1}}}});
  EXPECT_NE(e.find("trian: unknown key (did you mean 'train'?)"), std::string::npos) << e;
  e = ErrorOf({{"dqn", {{"zzz_unrelated", 1}}}});
  EXPECT_NE(e.find("dqn.zzz_unrelated: unknown key"), std::string::npos) << e;
  EXPECT_EQ(e.find("did you mean"), std::string::npos) << e;
}

TEST(Options, WrongTypesAreNamed) {
  std::string e = ErrorOf({{"ppo", {{"clip", "0.2"}}}});
  EXPECT_NE(e.find("exp.json: ppo.clip: must be a number, got string"), std::string::npos) << e;
  e = ErrorOf({{"train", {{"num_envs", 2.5}}}});
  EXPECT_NE(e.find("train.num_envs: must be an integer"), std::string::npos) << e;
  e = ErrorOf({{"dqn", {{"double_q", 1}}}});
  EXPECT_NE(e.find("dqn.double_q: must be true or false"), std::string::npos) << e;
  e = ErrorOf({{"model", {{"hidden_sizes", 64}}}});
  EXPECT_NE(e.find("model.hidden_sizes: must be an array"), std::string::npos) << e;
  e = ErrorOf({{"model", {{"hidden_sizes", {64, 0}}}}});
  EXPECT_NE(e.find("model.hidden_sizes: must be in [1,"), std::string::npos) << e;
  e = ErrorOf({{"ppo", 3}});
  EXPECT_NE(e.find("ppo: must be an object"), std::string::npos) << e;
  e = ErrorOf({{"train", {{"algorithm", "a2c"}}}});
  EXPECT_NE(e.find("train.algorithm: unknown algorithm 'a2c'"), std::string::npos) << e;
  e = ErrorOf({{"model", {{"activation", "swish"}}}});
  EXPECT_NE(e.find("model.activation: unknown activation 'swish'"), std::string::npos) << e;
}

TEST(Options, OutOfRangeValuesAreNamed) {
  EXPECT_NE(ErrorOf({{"ppo", {{"gamma", 1.5}}}}).find("ppo.gamma: must be in [0, 1]"),
            std::string::npos);
  EXPECT_NE(ErrorOf({{"ppo", {{"epochs", 0}}}}).find("ppo.epochs: must be positive"),
            std::string::npos);
  EXPECT_NE(ErrorOf({{"dqn", {{"tau", 0}}}}).find("dqn.tau: must be in (0, 1]"), std::string::npos);
  EXPECT_NE(ErrorOf({{"train", {{"seed", -1}}}}).find("train.seed: must be in [0,"),
            std::string::npos);
  for (int threads : {0, 65}) {
    EXPECT_NE(ErrorOf({{"train", {{"learner_threads", threads}}}}).find("train.learner_threads: must be within 1..64"),
              std::string::npos)
        << threads;
  }
}

TEST(Options, FileErrorsNameTheFile) {
  const std::string dir = ::testing::TempDir();
  const std::string bad = dir + "/bad-exp.json";
  std::ofstream(bad) << "{\"ppo\": {\"clip\": }";
  try {
    LoadExperimentConfig(bad);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ": invalid JSON"), std::string::npos) << e.what();
  }
  const std::string typo = dir + "/typo-exp.json";
  std::ofstream(typo) << "{\"train\": {\"num_env\": 4}}";
  try {
    LoadExperimentConfig(typo);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(typo + ": train.num_env: unknown key"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(LoadExperimentConfig(dir + "/does-not-exist.json"), ConfigError);
}

TEST(Options, NameDefaultsToFileStem) {
  const std::string path = ::testing::TempDir() + "/my-experiment.json";
  std::ofstream(path) << "{}";
  EXPECT_EQ(LoadExperimentConfig(path).name, "my-experiment");
}

TEST(Options, ShippedExperimentConfigsParse) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(EONOPS_SOURCE_DIR) +
                                                               "/configs/experiments")) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    ExperimentConfig c;
    ASSERT_NO_THROW(c = LoadExperimentConfig(entry.path().string()));
    // The twin sections must satisfy the twin's own parsers.
    EXPECT_NO_THROW(twin::EnvConfig::FromJson(c.twin, c.source));
    EXPECT_NO_THROW(twin::Scenario::FromJson(c.twin, c.source));
    ++n;
  }
  EXPECT_GE(n, 5);
}

TEST(Options, FlattenParamsListsOnlyTheAlgorithmInUse) {
  ExperimentConfig c = ParseExperimentConfig(
      {{"ppo", {{"clip", 0.25}}}, {"traffic", {{"load_erlang", 300}, {"_source", "x"}}}}, "x");
  auto p = FlattenParams(c);
  EXPECT_EQ(p.at("traffic.load_erlang"), "300");
  EXPECT_EQ(p.count("traffic._source"), 0u);
  EXPECT_EQ(p.at("ppo.clip"), "0.25");
  EXPECT_EQ(p.at("train.algorithm"), "ppo");
  EXPECT_EQ(p.count("dqn.tau"), 0u);
}

TEST(Options, LinearSchedule) {
  EXPECT_DOUBLE_EQ(LinearSchedule(1.0, 0.1, 0.5, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(LinearSchedule(1.0, 0.1, 0.5, 0.25), 0.55);
  EXPECT_DOUBLE_EQ(LinearSchedule(1.0, 0.1, 0.5, 0.9), 0.1);
  EXPECT_DOUBLE_EQ(LinearSchedule(1.0, 0.1, 0.0, 0.0), 0.1);
}

}  // namespace
}  // namespace eonops::agents
