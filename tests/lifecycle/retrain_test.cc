// Pins lifecycle/retrain.h for a champion trained by evolution strategies (the default PCE
// config's shipped policy): the challenger's experiment takes retrain.es_experiment's learner
// sections and the parent's architecture, the budget becomes whole generations, training starts
// from the parent's weights, and a crash mid-attempt resumes from the ES checkpoint.
#include "lifecycle/retrain.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "agents/manifest.h"
#include "tests/lifecycle/lifecycle_test_util.h"

namespace eonops::lifecycle {
namespace {

const std::string kShippedPolicy =
    std::string(EONOPS_SOURCE_DIR) + "/configs/policies/deeprmsa-nsfnet-es-linear-k50";

TEST(Retrain, AnEsChampionIsRetrainedByEsFromItsWeightsAndResumesAfterACrash) {
  LifecycleConfig config = LifecycleConfig::Load(std::string(EONOPS_SOURCE_DIR) + "/configs/lifecycle.json");
  // Tiny simulations: 2 pairs x (400 + 100) requests per perturbed policy.
  config.retrain.overrides = {{"es", {{"pairs", 2}, {"requests", 400}, {"warmup", 100}}},
                              {"train", {{"env_threads", 1}}}};
  const int64_t per_generation = 2 * 2 * 500;
  config.retrain.steps = 2 * per_generation + per_generation / 2;  // two whole generations fit
  const pce::PceConfig pce_config = pce::testing::ShippedConfig();
  const agents::Manifest parent = agents::ReadManifest(kShippedPolicy);
  ASSERT_EQ(parent.algorithm, "es");

  agents::ExperimentConfig cfg =
      RetrainExperiment(config, pce_config, parent, pce_config.traffic, 7, "es-retrain-test");
  EXPECT_EQ(cfg.train.algorithm, agents::Algorithm::kEs);
  EXPECT_EQ(cfg.es.generations, 2);
  EXPECT_EQ(cfg.es.pairs, 2);
  EXPECT_FLOAT_EQ(cfg.es.sigma, 0.3f);  // deeprmsa-nsfnet-es-linear-k50-refine.json's
  EXPECT_TRUE(cfg.model.scorer_hidden_sizes.empty());  // the parent's linear scorer
  EXPECT_EQ(cfg.twin["network"]["k_paths"], 50);

  // A budget smaller than one generation still runs one.
  LifecycleConfig small = config;
  small.retrain.steps = 10;
  EXPECT_EQ(RetrainExperiment(small, pce_config, parent, pce_config.traffic, 7, "x").es.generations, 1);

  pce::testing::TempDir dir;
  int reports = 0;
  const RetrainOutcome first =
      Retrain(cfg, kShippedPolicy, dir / "checkpoint", dir / "policy", [&](const agents::Progress& p) {
        ++reports;
        EXPECT_EQ(p.total_steps, 2 * per_generation);
      });
  EXPECT_TRUE(first.warm_started);
  EXPECT_FALSE(first.resumed);
  EXPECT_EQ(first.env_steps, 2 * per_generation);
  EXPECT_EQ(reports, 2);
  const agents::Manifest trained = agents::ReadManifest(dir / "policy");
  EXPECT_EQ(trained.algorithm, "es");
  EXPECT_EQ(trained.schedule.value("es_generations", 0), 2);
  ASSERT_TRUE(trained.schedule.contains("es_init_policy"));
  EXPECT_FALSE(std::filesystem::exists(dir / "policy.tmp"));

  // The attempt restarted with a larger budget (as after a crash): it resumes at generation 2.
  cfg.es.generations = 3;
  const RetrainOutcome resumed = Retrain(cfg, kShippedPolicy, dir / "checkpoint", dir / "policy");
  EXPECT_TRUE(resumed.resumed);
  EXPECT_FALSE(resumed.warm_started);
  EXPECT_EQ(resumed.env_steps, 3 * per_generation);
  EXPECT_EQ(agents::ReadManifest(dir / "policy").schedule.value("es_generations", 0), 3);
}

}  // namespace
}  // namespace eonops::lifecycle
