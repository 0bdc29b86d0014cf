// Pins agents/policy.h (and the artifact it loads): exported weights give identical outputs,
// the greedy decision respects masks, and a bad artifact is refused with a clear error.
#include "agents/policy.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "agents/model.h"
#include "agents/torch_policy.h"

namespace eonops::agents {
namespace {

namespace fs = std::filesystem;
constexpr int kObs = 7, kActions = 5;

Manifest MakeTestManifest(NetworkKind kind, const ModelOptions& model) {
  Manifest m;
  m.eonops_version = EonopsVersion();
  m.algorithm = kind == NetworkKind::kActorCritic ? "ppo" : "dqn";
  m.network = kind;
  m.architecture = model;
  twin::EnvSpec spec;
  spec.name = "test-env";
  spec.observation_size = kObs;
  spec.num_actions = kActions;
  spec.observation_layout = {{"a", 0, 3, "first"}, {"b", 3, 4, "second"}};
  spec.action_description = "k-th path";
  spec.reward_description = "+1 accepted";
  spec.config_hash = "abc123";
  SetEnvSpec(spec, &m);
  RunningNormalizer norm(kObs, 10.0f);
  std::mt19937 rng(1);
  std::normal_distribution<float> n(2.0f, 3.0f);
  std::vector<float> data(50 * kObs);
  for (float& x : data) x = n(rng);
  norm.Update(data.data(), 50);
  m.normalization = norm;
  m.run_id = "run-1";
  m.experiment = "unit";
  m.train_steps = 123;
  m.seed = 9;
  m.created_at = UtcTimestamp();
  return m;
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::set_num_threads(1);
    torch::manual_seed(42);
    dir_ = ::testing::TempDir() + "/policy-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(PolicyTest, SaveLoadGivesIdenticalOutputsOnRandomInputs) {
  for (bool shared : {false, true}) {
    ModelOptions model;
    model.hidden_sizes = {32, 16};
    model.shared_trunk = shared;
    Manifest m = MakeTestManifest(NetworkKind::kActorCritic, model);
    ActorCritic net(kObs, kActions, model);
    ExportPolicy(m, *net, dir_);
    std::unique_ptr<Policy> loaded = Policy::Load(dir_);
    std::unique_ptr<Policy> in_memory = MakePolicy(m, *net);
    EXPECT_EQ(ToJson(loaded->manifest()), ToJson(m));

    std::mt19937 rng(7);
    std::normal_distribution<float> n(0.0f, 5.0f);
    for (int trial = 0; trial < 200; ++trial) {
      float obs[kObs];
      for (float& x : obs) x = n(rng);
      uint8_t mask[kActions];
      for (uint8_t& b : mask) b = rng() % 3 != 0;
      float s1[kActions], s2[kActions];
      loaded->Scores(obs, mask, s1);
      in_memory->Scores(obs, mask, s2);
      Decision d1 = loaded->Act(obs, mask), d2 = in_memory->Act(obs, mask);
      for (int a = 0; a < kActions; ++a) EXPECT_EQ(s1[a], s2[a]);
      EXPECT_EQ(d1.action, d2.action);
      EXPECT_EQ(d1.probability, d2.probability);
      EXPECT_EQ(d1.value, d2.value);

      // And against the torch network itself, with the manifest's normalisation (the policy's
      // own inference loops sum in another order: equal to float rounding).
      float normed[kObs];
      m.normalization->Normalize(obs, normed);
      torch::NoGradGuard no_grad;
      PolicyOutput out = net->forward(torch::from_blob(normed, {1, kObs}));
      torch::Tensor probs = MaskedCategorical(out.logits, MaskTensor(mask, 1, kActions)).probs()[0];
      bool any = false;
      for (int a = 0; a < kActions; ++a) {
        any |= mask[a] != 0;
        if (mask[a]) {
          EXPECT_NEAR(s1[a], probs[a].item<float>(), 1e-5);
        } else {
          EXPECT_EQ(s1[a], 0.0f);
        }
      }
      if (any) {
        EXPECT_EQ(d1.action,
                  MaskedArgmax(out.logits, MaskTensor(mask, 1, kActions))[0].item<int64_t>());
        EXPECT_TRUE(mask[d1.action]);
        EXPECT_NEAR(d1.probability, probs[d1.action].item<float>(), 1e-5);
        EXPECT_NEAR(d1.value, out.value[0].item<float>(), 1e-5);
      } else {
        EXPECT_FALSE(d1.feasible());
      }
    }
  }
}

TEST_F(PolicyTest, QNetworkPolicyIsMaskedArgmax) {
  ModelOptions model;
  model.hidden_sizes = {16};
  Manifest m = MakeTestManifest(NetworkKind::kQNetwork, model);
  m.normalization.reset();
  QNetwork net(kObs, kActions, model);
  ExportPolicy(m, *net, dir_);
  std::unique_ptr<Policy> p = Policy::Load(dir_);
  EXPECT_FALSE(p->manifest().normalization.has_value());
  float obs[kObs] = {1, 2, 3, 4, 5, 6, 7};
  torch::Tensor q;
  {
    torch::NoGradGuard g;
    q = net->forward(torch::from_blob(obs, {1, kObs}))[0].clone();
  }
  const int best = static_cast<int>(q.argmax().item<int64_t>());
  uint8_t all[kActions] = {1, 1, 1, 1, 1};
  Decision d = p->Act(obs, all);
  EXPECT_EQ(d.action, best);
  EXPECT_NEAR(d.value, q[best].item<float>(), 1e-5);
  EXPECT_EQ(d.probability, 1.0f);
  all[best] = 0;
  EXPECT_NE(p->Act(obs, all).action, best);
  EXPECT_TRUE(all[p->Act(obs, all).action]);
  float scores[kActions];
  p->Scores(obs, all, scores);
  EXPECT_TRUE(std::isinf(scores[best]) && scores[best] < 0);
  uint8_t none[kActions] = {};
  EXPECT_EQ(p->Act(obs, none).action, -1);
}

std::string LoadError(const std::string& dir) {
  try {
    Policy::Load(dir);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

void WriteJson(const std::string& path, const nlohmann::json& j) {
  std::ofstream(path) << j.dump(2);
}

TEST_F(PolicyTest, InvalidArtifactsAreRefusedWithClearErrors) {
  ModelOptions model;
  model.hidden_sizes = {8};
  Manifest m = MakeTestManifest(NetworkKind::kActorCritic, model);
  ActorCritic net(kObs, kActions, model);
  ExportPolicy(m, *net, dir_);
  const std::string manifest_path = dir_ + "/manifest.json";
  const nlohmann::json good = ReadJson(manifest_path);
  ASSERT_EQ(LoadError(dir_), "");

  auto expect_error = [&](nlohmann::json j, const std::string& fragment) {
    WriteJson(manifest_path, j);
    std::string e = LoadError(dir_);
    EXPECT_NE(e.find(manifest_path), std::string::npos) << e;
    EXPECT_NE(e.find(fragment), std::string::npos) << "wanted '" << fragment << "' in: " << e;
  };
  nlohmann::json j = good;
  j["observation"].erase("size");
  expect_error(j, "observation.size: missing");
  j = good;
  j["action"]["count"] = "five";
  expect_error(j, "action.count: must be an integer");
  j = good;
  j.erase("training");
  expect_error(j, "training: missing");
  j = good;
  j["format_version"] = 2;
  expect_error(j, "format_version");
  j = good;
  j["network"] = "q-network";
  expect_error(j, "does not fit algorithm 'ppo'");
  // Observation size disagreeing with the normalisation statistics.
  j = good;
  j["observation"]["size"] = kObs + 1;
  expect_error(j, "normalization.mean: has 7 entries, observation.size is 8");
  j = good;
  j["observation"]["layout"][1]["size"] = 5;
  expect_error(j, "observation.layout[1]: field 'b' ends at 8, past observation.size 7");
}

TEST_F(PolicyTest, WeightsThatDoNotFitTheManifestAreRefused) {
  ModelOptions model;
  model.hidden_sizes = {8};
  Manifest m = MakeTestManifest(NetworkKind::kActorCritic, model);
  m.normalization.reset();
  ActorCritic net(kObs, kActions, model);
  ExportPolicy(m, *net, dir_);
  const std::string manifest_path = dir_ + "/manifest.json";
  nlohmann::json j = ReadJson(manifest_path);

  j["observation"]["size"] = kObs + 1;
  WriteJson(manifest_path, j);
  std::string e = LoadError(dir_);
  EXPECT_NE(e.find("weights.pt: weights: tensor 'actor.fc0.weight' has shape [8, 7], the "
                   "manifest's network needs [8, 8]"),
            std::string::npos)
      << e;

  j["observation"]["size"] = kObs;
  j["architecture"]["shared_trunk"] = true;  // the file has a critic the manifest lacks
  WriteJson(manifest_path, j);
  e = LoadError(dir_);
  EXPECT_NE(e.find("unexpected entry 'critic'"), std::string::npos) << e;

  j["architecture"]["shared_trunk"] = false;
  j["architecture"]["hidden_sizes"] = {8, 8};
  WriteJson(manifest_path, j);
  e = LoadError(dir_);
  EXPECT_NE(e.find("'actor.fc1' is missing"), std::string::npos) << e;

  j["architecture"]["hidden_sizes"] = {8};
  WriteJson(manifest_path, j);
  EXPECT_EQ(LoadError(dir_), "");
  fs::remove(dir_ + "/weights.pt");
  EXPECT_NE(LoadError(dir_).find("weights.pt: cannot open"), std::string::npos);
  EXPECT_NE(LoadError(dir_ + "/nowhere").find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace eonops::agents
