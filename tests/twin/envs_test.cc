#include "twin/envs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "tests/twin/test_util.h"
#include "twin/json_util.h"
#include "twin/rng.h"
#include "twin/vec_env.h"

namespace eonops::twin {
namespace {

EnvConfig Config(const std::string& use_case, std::vector<std::string> bands, const std::string& mode, int j = 2) {
  nlohmann::json cfg = ReadJsonFile(testing::ConfigPath("benchmarks/deeprmsa-nsfnet.json"));
  nlohmann::json e = {{"network", cfg["network"]}, {"traffic", cfg["traffic"]}};
  e["network"]["bands"] = bands;
  e["network"]["modulation_mode"] = mode;
  if (mode == "gsnr") {
    e["network"]["modulations"] = "modulations.json";
    e["network"].erase("slots_per_band");
  }
  e["env"] = {{"use_case", use_case}, {"j_blocks", j}, {"episode_length", 300}, {"warmup", 500}};
  return EnvConfig::FromJson(e, "test");
}

// Plays `steps` random masked actions; checks every mask bit against the spectrum.
void CheckMasks(const EnvConfig& cfg, int steps) {
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto env = MakeEnv(model, cfg);
  const EnvSpec& spec = env->Spec();
  std::vector<float> obs(spec.observation_size);
  std::vector<uint8_t> mask(spec.num_actions);
  env->Reset(3, obs.data(), mask.data());
  Rng rng(5);
  int accepted = 0;
  for (int t = 0; t < steps; ++t) {
    const Request& r = env->engine().current();
    const auto& layout = env->layout();
    int feasible = 0;
    for (int a = 0; a < spec.num_actions - 1; ++a) {
      const int k = a / (layout.bands * layout.j), b = (a / layout.j) % layout.bands;
      Candidate c = model->Evaluate(r, k, b);
      if (mask[a]) {
        ++feasible;
        ASSERT_TRUE(c.usable()) << "unmasked action " << a << " has an unusable candidate";
      }
    }
    // Every unmasked action must be committable: try each on a copy of the state.
    for (int a = 0; a < spec.num_actions - 1; ++a) {
      if (!mask[a]) continue;
      const int k = a / (layout.bands * layout.j), b = (a / layout.j) % layout.bands;
      Candidate c = model->Evaluate(r, k, b);
      std::vector<uint64_t> occ(16);
      env->engine().state().spectrum().PathOccupancy(c.path->fibres, b, occ.data());
      int starts[64];
      int n = FreeBlocks(occ.data(), model->plan().band(b).num_slots, c.width, layout.j, starts);
      ASSERT_LT(a % layout.j, n);
      ASSERT_TRUE(env->engine().state().spectrum().IsFree(c.path->fibres, b, starts[a % layout.j], c.width));
    }
    // Masked groups: when a candidate is usable, only its missing blocks are masked.
    EXPECT_EQ(mask[spec.num_actions - 1] == 1, feasible == 0);
    std::vector<int> valid;
    for (int a = 0; a < spec.num_actions; ++a) {
      if (mask[a]) valid.push_back(a);
    }
    ASSERT_FALSE(valid.empty());
    int a = valid[rng.UniformInt(0, valid.size() - 1)];
    StepResult res = env->Step(a, obs.data(), mask.data());
    EXPECT_EQ(res.accepted, a != spec.num_actions - 1);
    accepted += res.accepted;
    ASSERT_EQ(env->engine().state().CheckInvariants(), "");
  }
  EXPECT_GT(accepted, steps / 2);
}

TEST(EnvsTest, MasksAreExactForDeepRmsa) { CheckMasks(Config("deeprmsa", {"C"}, "reach"), 400); }
TEST(EnvsTest, MasksAreExactForQotRmbsaOnThreeBands) { CheckMasks(Config("qot-rmbsa", {"C", "L", "S"}, "gsnr"), 200); }
TEST(EnvsTest, MasksAreExactForEnergyRmsa) { CheckMasks(Config("energy-rmsa", {"C", "L"}, "reach"), 200); }

EnvConfig RulesConfig(const std::string& use_case, std::vector<std::string> bands, const std::string& mode) {
  EnvConfig cfg = Config(use_case, std::move(bands), mode);
  nlohmann::json j = cfg.ToJson();
  j["env"].erase("j_blocks");
  j["env"]["block_rules"] = {"first-fit", "mscl", "exact-fit", "last-fit"};
  j["env"]["action_features"] = true;
  j["env"]["link_features"] = true;
  return EnvConfig::FromJson(j, "test");
}

TEST(EnvsTest, RuleBlocksAreTheRulesChoicesDistinctAndCommittable) {
  for (const EnvConfig& cfg : {RulesConfig("deeprmsa", {"C"}, "reach"), RulesConfig("qot-rmbsa", {"C", "L"}, "gsnr")}) {
    auto model = std::make_shared<const NetworkModel>(cfg.network);
    auto env = MakeEnv(model, cfg);
    const EnvSpec& spec = env->Spec();
    const ObservationLayout& l = env->layout();
    ASSERT_EQ(l.j, 4);
    ASSERT_GT(l.action_features_size, 0);
    ASSERT_EQ(spec.observation_size,
              l.base_size + l.link_features_size + (spec.num_actions - 1) * l.action_features_size);
    std::vector<float> obs(spec.observation_size);
    std::vector<uint8_t> mask(spec.num_actions);
    env->Reset(3, obs.data(), mask.data());
    HeuristicOptions ho;
    ho.max_bit_rate_gbps = cfg.traffic.MaxBitRateGbps();
    const auto ff = MakeHeuristic("ksp-ff", ho), mscl = MakeHeuristic("mscl-ksp", ho);
    Rng rng(9);
    int expert_found = 0, steps = 150;
    for (int t = 0; t < steps; ++t) {
      const Request& r = env->engine().current();
      const NetworkState& st = env->engine().state();
      std::set<std::tuple<int, int, int>> seen;
      float least_gap = -100;
      for (int a = 0; a + 1 < spec.num_actions; ++a) {
        const float* f = &obs[l.ActionFeaturesOffset() + static_cast<size_t>(a) * l.action_features_size];
        if (!mask[a]) {
          EXPECT_EQ(f[ObservationLayout::kActionFeasible], 0.0f);
          continue;
        }
        const int k = a / (l.bands * l.j), b = (a / l.j) % l.bands, rule = a % l.j;
        const Candidate c = model->Evaluate(r, k, b);
        ASSERT_TRUE(c.usable());
        const int slot = static_cast<int>(std::lround(f[ObservationLayout::kActionStart] * model->plan().band(b).num_slots));
        ASSERT_TRUE(st.spectrum().IsFree(c.path->fibres, b, slot, c.width)) << a;
        EXPECT_TRUE(seen.insert({k, b, slot}).second) << "action " << a << " repeats a block";
        EXPECT_EQ(f[ObservationLayout::kActionRule + rule], 1.0f);
        EXPECT_LE(f[ObservationLayout::kActionLossGap], 0.0f);
        least_gap = std::max(least_gap, f[ObservationLayout::kActionLossGap]);
        // The first-fit rule's block is first fit on that path and band.
        if (rule == 0) {
          std::vector<uint64_t> occ(16);
          st.spectrum().PathOccupancy(c.path->fibres, b, occ.data());
          EXPECT_EQ(slot, FirstFit(occ.data(), model->plan().band(b).num_slots, c.width));
        }
      }
      if (!seen.empty()) EXPECT_EQ(least_gap, 0.0f);  // the MSCL choice is on offer
      // Both heuristics' decisions are actions of the env.
      const int e1 = env->ExpertAction(*ff), e2 = env->ExpertAction(*mscl);
      if (!seen.empty()) {
        EXPECT_GE(e1, 0);
        EXPECT_GE(e2, 0);
        if (e2 >= 0) {
          EXPECT_EQ(obs[l.ActionFeaturesOffset() + static_cast<size_t>(e2) * l.action_features_size +
                        ObservationLayout::kActionLossGap],
                    0.0f);
        }
        expert_found += e1 >= 0 && e2 >= 0;
      } else {
        EXPECT_EQ(e1, spec.num_actions - 1);
      }
      std::vector<int> valid;
      for (int a = 0; a < spec.num_actions; ++a) {
        if (mask[a]) valid.push_back(a);
      }
      const StepResult res = env->Step(valid[rng.UniformInt(0, valid.size() - 1)], obs.data(), mask.data());
      ASSERT_EQ(st.CheckInvariants(), "");
      (void)res;
    }
    EXPECT_GT(expert_found, steps / 2);
  }
}

TEST(EnvsTest, TopCandidatesAreRankedByLossAndStartWithMsclKsp) {
  nlohmann::json j = RulesConfig("deeprmsa", {"C"}, "reach").ToJson();
  j["network"]["k_paths"] = 20;
  j["network"]["path_order"] = "hops";
  j["env"]["top_candidates"] = 8;
  const EnvConfig cfg = EnvConfig::FromJson(j, "test");
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto env = MakeEnv(model, cfg);
  const ObservationLayout& l = env->layout();
  ASSERT_EQ(env->Spec().num_actions, 9);
  std::vector<float> obs(env->Spec().observation_size);
  std::vector<uint8_t> mask(env->Spec().num_actions);
  env->Reset(3, obs.data(), mask.data());
  HeuristicOptions ho;
  const auto mscl = MakeHeuristic("mscl-ksp", ho);
  int checked = 0;
  for (int t = 0; t < 100; ++t) {
    if (!mask[l.RejectAction()]) {
      EXPECT_EQ(env->ExpertAction(*mscl), 0) << "step " << t;
      float previous = 1.0f;
      for (int a = 0; a + 1 < l.num_actions && mask[a]; ++a) {
        const float gap =
            obs[l.ActionFeaturesOffset() + static_cast<size_t>(a) * l.action_features_size + ObservationLayout::kActionLossGap];
        EXPECT_LE(gap, previous);  // best first
        previous = gap;
      }
      ++checked;
    }
    int a = 0;
    while (!mask[a]) ++a;
    env->Step(a, obs.data(), mask.data());
  }
  EXPECT_GT(checked, 90);
}

// loss_reference_bound_us: the capacity loss behind the features and the ranking counts each
// pair's first route within the bound, so action 0 is lmscl-ksp's choice under that bound.
TEST(EnvsTest, BoundedLossReferencesRankAsLmsclKsp) {
  nlohmann::json j = RulesConfig("latency-rsa", {"C"}, "reach").ToJson();
  j["network"]["k_paths"] = 20;
  j["network"]["path_order"] = "hops";
  j["traffic"]["latency_bound_us"] = 18000.0;
  j["env"]["top_candidates"] = 8;
  j["env"]["loss_reference_bound_us"] = 18000.0;
  const EnvConfig cfg = EnvConfig::FromJson(j, "test");
  EXPECT_EQ(cfg.env.loss_reference_bound_us, 18000.0);
  EXPECT_EQ(cfg.ToJson()["env"]["loss_reference_bound_us"], 18000.0);
  EXPECT_FALSE(RulesConfig("latency-rsa", {"C"}, "reach").ToJson()["env"].contains("loss_reference_bound_us"));
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto env = MakeEnv(model, cfg);
  EXPECT_EQ(env->layout().capacity_loss->reference_latency_bound_us(), 18000.0);
  std::vector<float> obs(env->Spec().observation_size);
  std::vector<uint8_t> mask(env->Spec().num_actions);
  env->Reset(3, obs.data(), mask.data());
  const auto lmscl = MakeHeuristic("lmscl-ksp", HeuristicOptions::ForTraffic(cfg.traffic));
  int checked = 0;
  for (int t = 0; t < 100; ++t) {
    if (!mask[env->layout().RejectAction()]) {
      EXPECT_EQ(env->ExpertAction(*lmscl), 0) << "step " << t;
      ++checked;
    }
    int a = 0;
    while (!mask[a]) ++a;
    env->Step(a, obs.data(), mask.data());
  }
  EXPECT_GT(checked, 80);
  for (const nlohmann::json& bad : {nlohmann::json(0.0), nlohmann::json(-5.0), nlohmann::json("20ms")}) {
    j["env"]["loss_reference_bound_us"] = bad;
    try {
      EnvConfig::FromJson(j, "test");
      ADD_FAILURE() << bad << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("test.env.loss_reference_bound_us"), std::string::npos) << e.what();
    }
  }
}

TEST(EnvsTest, EpisodesEndAsTruncations) {
  EnvConfig cfg = Config("deeprmsa", {"C"}, "reach");
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto env = MakeEnv(model, cfg);
  std::vector<float> obs(env->Spec().observation_size);
  std::vector<uint8_t> mask(env->Spec().num_actions);
  env->Reset(1, obs.data(), mask.data());
  for (int t = 1; t <= cfg.env.episode_length; ++t) {
    int a = 0;
    while (!mask[a]) ++a;
    const StepResult r = env->Step(a, obs.data(), mask.data());
    EXPECT_EQ(r.done, t == cfg.env.episode_length);
    EXPECT_EQ(r.truncated, r.done);
    EXPECT_FALSE(r.terminated());
  }
}

TEST(EnvsTest, InfeasibleActionsBlockAndNeverCommit) {
  EnvConfig cfg = Config("deeprmsa", {"C"}, "reach");
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto env = MakeEnv(model, cfg);
  std::vector<float> obs(env->Spec().observation_size);
  std::vector<uint8_t> mask(env->Spec().num_actions);
  env->Reset(1, obs.data(), mask.data());
  int masked = -1;
  for (int a = 0; a < env->Spec().num_actions; ++a) {
    if (!mask[a]) masked = a;
  }
  ASSERT_GE(masked, 0);
  const int before = env->engine().state().ActiveLightpaths();
  StepResult r = env->Step(masked, obs.data(), mask.data());
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.reward, -1.0f);
  EXPECT_LE(env->engine().state().ActiveLightpaths(), before);  // departures may have left
  r = env->Step(-7, obs.data(), mask.data());
  EXPECT_FALSE(r.accepted);
  r = env->Step(1 << 20, obs.data(), mask.data());
  EXPECT_FALSE(r.accepted);
}

TEST(EnvsTest, SameSeedSameTrajectory) {
  EnvConfig cfg = Config("latency-rsa", {"C"}, "reach");
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto run = [&](uint64_t seed) {
    auto env = MakeEnv(model, cfg);
    std::vector<float> obs(env->Spec().observation_size), all;
    std::vector<uint8_t> mask(env->Spec().num_actions);
    env->Reset(seed, obs.data(), mask.data());
    Rng rng(11);
    for (int t = 0; t < 200; ++t) {
      std::vector<int> valid;
      for (int a = 0; a < env->Spec().num_actions; ++a) {
        if (mask[a]) valid.push_back(a);
      }
      StepResult r = env->Step(valid[rng.UniformInt(0, valid.size() - 1)], obs.data(), mask.data());
      all.push_back(r.reward);
      all.insert(all.end(), obs.begin(), obs.end());
    }
    return all;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(EnvsTest, VecEnvMatchesEnvsSteppedOneByOneWhateverTheThreads) {
  EnvConfig cfg = Config("deeprmsa", {"C"}, "reach");
  cfg.env.episode_length = 50;  // several automatic resets
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto factory = MakeEnvFactory(model, cfg);
  auto trajectory = [&](int threads) {
    VecEnv vec(factory, 6, /*seed=*/100, threads);
    vec.Reset();
    std::vector<float> out;
    std::vector<int32_t> actions(6);
    for (int t = 0; t < 120; ++t) {
      for (int i = 0; i < 6; ++i) {
        // The first feasible action: deterministic and valid.
        const uint8_t* m = vec.Masks() + i * vec.Spec().num_actions;
        actions[i] = static_cast<int32_t>(std::find(m, m + vec.Spec().num_actions, 1) - m);
      }
      vec.Step(actions.data());
      out.insert(out.end(), vec.Observations(), vec.Observations() + 6 * vec.Spec().observation_size);
      out.insert(out.end(), vec.Rewards(), vec.Rewards() + 6);
      for (int i = 0; i < 6; ++i) out.push_back(vec.Dones()[i]);
    }
    return out;
  };
  auto one = trajectory(1);
  EXPECT_EQ(one, trajectory(2));
  EXPECT_EQ(one, trajectory(3));
  // Env i of the batch starts like a lone env seeded 100 + i.
  auto env = MakeEnv(model, cfg);
  std::vector<float> obs(env->Spec().observation_size);
  std::vector<uint8_t> mask(env->Spec().num_actions);
  VecEnv vec(factory, 6, 100, 1);
  vec.Reset();
  env->Reset(100 + 4, obs.data(), mask.data());
  EXPECT_TRUE(std::equal(obs.begin(), obs.end(), vec.Observations() + 4 * vec.Spec().observation_size));
}

TEST(EnvsTest, SpecDocumentsTheLayout) {
  EnvConfig cfg = Config("qot-rmbsa", {"C", "L", "S"}, "gsnr", 3);
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto env = MakeEnv(model, cfg);
  const EnvSpec& s = env->Spec();
  EXPECT_EQ(s.name, "qot-rmbsa");
  EXPECT_EQ(s.num_actions, 5 * 3 * 3 + 1);
  int covered = 0;
  for (const auto& f : s.observation_layout) {
    EXPECT_EQ(f.offset, covered);
    covered += f.size;
  }
  EXPECT_EQ(covered, s.observation_size);
  EXPECT_EQ(s.config_hash, cfg.config_hash);
  EXPECT_FALSE(s.config_hash.empty());
}

TEST(EnvsTest, ConfigErrorsNameTheField) {
  nlohmann::json bad = {{"env", {{"use_case", "teleport"}}}};
  try {
    EnvConfig::FromJson(bad, "x.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("x.json.env"), std::string::npos) << e.what();
  }
  EXPECT_THROW(EnvConfig::FromJson({{"env", {{"j_blocks", 0}}}}, "x.json"), std::runtime_error);
  EXPECT_THROW(EnvConfig::FromJson({{"env", {{"colour", 1}}}}, "x.json"), std::runtime_error);
  // Integers beyond int are refused, not wrapped (4294967336 slots used to be read as 40).
  for (const nlohmann::json& slots : {nlohmann::json(4294967336ull), nlohmann::json(-4294967256ll),
                                      nlohmann::json(18446744073709551615ull)}) {
    try {
      EnvConfig::FromJson({{"network", {{"slots_per_band", slots}}}}, "x.json");
      ADD_FAILURE() << "accepted slots_per_band " << slots;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("x.json.network.slots_per_band: out of range"),
                std::string::npos)
          << e.what();
    }
  }
  // QoT-aware RMBSA needs GSNR-based modulation.
  EnvConfig reach = Config("deeprmsa", {"C"}, "reach");
  reach.env.use_case = UseCase::kQotRmbsa;
  auto model = std::make_shared<const NetworkModel>(reach.network);
  EXPECT_THROW(MakeEnv(model, reach), std::invalid_argument);
}

}  // namespace
}  // namespace eonops::twin

namespace eonops::twin {
namespace {

// An environment that throws on its n-th step, to check errors cross VecEnv's threads.
class ThrowingEnv : public Env {
 public:
  explicit ThrowingEnv(int fail_at) : fail_at_(fail_at) { spec_.observation_size = 1; spec_.num_actions = 2; }
  const EnvSpec& Spec() const override { return spec_; }
  void Reset(uint64_t, float* obs, uint8_t* mask) override { obs[0] = 0, mask[0] = mask[1] = 1; }
  StepResult Step(int, float* obs, uint8_t* mask) override {
    if (++steps_ == fail_at_) throw std::runtime_error("worker lost");
    obs[0] = static_cast<float>(steps_), mask[0] = mask[1] = 1;
    return {1.0f, false, true};
  }

 private:
  EnvSpec spec_;
  int fail_at_, steps_ = 0;
};

TEST(VecEnvTest, AnEnvironmentErrorOnAWorkerThreadReachesTheCaller) {
  for (int threads : {1, 2, 4}) {
    int made = 0;
    // The last environment (stepped by the last worker thread) fails on its third step.
    VecEnv vec([&] { return std::make_unique<ThrowingEnv>(++made == 8 ? 3 : -1); }, 8, 1, threads);
    vec.Reset();
    std::vector<int32_t> actions(8, 0);
    vec.Step(actions.data());
    vec.Step(actions.data());
    EXPECT_THROW(vec.Step(actions.data()), std::runtime_error) << threads << " threads";
    vec.Step(actions.data());  // the pool survives and keeps stepping
  }
}

}  // namespace
}  // namespace eonops::twin

namespace eonops::twin {
namespace {

// The energy-aware reward saturates: accepting scores above blocking (-1) however much power
// the lightpath lights up, and falls as the power rises.
TEST(EnvsTest, EnergyRewardNeverFallsToBlocking) {
  EnvConfig cfg = Config("energy-rmsa", {"C", "L"}, "reach");
  cfg.env.energy_reference_w = 1.0;  // every lightpath costs hundreds of references
  cfg.env.energy_weight = 10.0;
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto env = MakeEnv(model, cfg);
  std::vector<float> obs(env->Spec().observation_size);
  std::vector<uint8_t> mask(env->Spec().num_actions);
  env->Reset(2, obs.data(), mask.data());
  int accepted = 0;
  for (int t = 0; t < 100; ++t) {
    int a = 0;
    while (!mask[a]) ++a;
    const StepResult r = env->Step(a, obs.data(), mask.data());
    if (!r.accepted) continue;
    ++accepted;
    EXPECT_GT(r.reward, -1.0f);
    EXPECT_LT(r.reward, -0.99f);  // p in the thousands: close to, never at, blocking's score
  }
  EXPECT_GT(accepted, 50);
  // Small increments: about 1 - p, as before the bound.
  cfg.env.energy_reference_w = 1e9;
  cfg.env.energy_weight = 1.0;
  auto cheap = MakeEnv(model, cfg);
  cheap->Reset(2, obs.data(), mask.data());
  int a = 0;
  while (!mask[a]) ++a;
  const StepResult r = cheap->Step(a, obs.data(), mask.data());
  ASSERT_TRUE(r.accepted);
  EXPECT_NEAR(r.reward, 1.0 - cheap->last_incremental_power_w() / 1e9, 1e-6);
}

// mask_qot_impact: no unmasked action pushes a lit lightpath below its threshold + margin, and
// the environment still plays.
TEST(EnvsTest, QotImpactMaskKeepsLitLightpathsAboveThreshold) {
  EnvConfig cfg = Config("qot-rmbsa", {"C", "L", "S"}, "gsnr");
  cfg.env.mask_qot_impact = true;
  cfg.env.warmup = 150;
  auto model = std::make_shared<const NetworkModel>(cfg.network);
  auto env = MakeEnv(model, cfg);
  ASSERT_TRUE(env->engine().state().QotTracking());
  std::vector<float> obs(env->Spec().observation_size);
  std::vector<uint8_t> mask(env->Spec().num_actions);
  env->Reset(4, obs.data(), mask.data());
  Rng rng(9);
  const auto& layout = env->layout();
  for (int t = 0; t < 40; ++t) {
    std::vector<int> valid;
    for (int a = 0; a < env->Spec().num_actions; ++a) {
      if (mask[a]) valid.push_back(a);
    }
    for (int a : valid) {
      if (a == layout.RejectAction()) continue;
      const int k = a / (layout.bands * layout.j), b = (a / layout.j) % layout.bands;
      const Candidate c = model->Evaluate(env->engine().current(), k, b);
      std::vector<uint64_t> occ(16);
      env->engine().state().spectrum().PathOccupancy(c.path->fibres, b, occ.data());
      int starts[64];
      FreeBlocks(occ.data(), model->plan().band(b).num_slots, c.width, layout.j, starts);
      EXPECT_GE(env->engine().state().QotImpactOf(c, starts[a % layout.j], 0.0).min_margin_db, 0.0);
    }
    const StepResult r = env->Step(valid[rng.UniformInt(0, valid.size() - 1)], obs.data(), mask.data());
    (void)r;
  }
  EXPECT_GT(env->engine().state().ActiveLightpaths(), 100);
  // The option is part of the config (and its hash) only when on.
  EXPECT_EQ(cfg.ToJson()["env"]["mask_qot_impact"], true);
  EXPECT_FALSE(Config("qot-rmbsa", {"C"}, "gsnr").ToJson()["env"].contains("mask_qot_impact"));
}

}  // namespace
}  // namespace eonops::twin
