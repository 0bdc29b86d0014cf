// Pins lifecycle/gate.h: on a trace the PCE really served, a challenger that is worse, or equal
// within noise, is refused; a better one is promoted; and the figures say why.
#include "lifecycle/gate.h"

#include <gtest/gtest.h>

#include "lifecycle/replay.h"
#include "tests/lifecycle/lifecycle_test_util.h"

namespace eonops::lifecycle {
namespace {

using testing::TrafficDriver;

class GateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pce_ = std::make_unique<pce::Pce>(pce::testing::SmallConfig());
    model_ = std::make_shared<const twin::NetworkModel>(pce_->config().network);
    auto source = InProcessTraceSource(*pce_);
    TraceRecorder rec(100000);
    rec.Reset(source->Snapshot());
    TrafficDriver(*pce_, pce_->config().traffic, 21).Run(1200);
    testing::Drain(*source, rec);
    trace_ = rec.Cut(1000);
    options_ = testing::SmallLifecycleConfig().gate;
    for (const char* h : {"ksp-ff", "sp-ff"})
      heuristics_.push_back(HeuristicContender(h, twin::UseCase::kDeepRmsa, *model_));
  }
  GateVerdict Judge(const std::string& champion, const std::string& challenger) {
    const Contender a = HeuristicContender(champion, twin::UseCase::kDeepRmsa, *model_);
    const Contender b = HeuristicContender(challenger, twin::UseCase::kDeepRmsa, *model_);
    return JudgeChallenger(a, b, heuristics_, trace_, twin::UseCase::kDeepRmsa, model_,
                           pce_->config().traffic, options_);
  }
  std::unique_ptr<pce::Pce> pce_;
  std::shared_ptr<const twin::NetworkModel> model_;
  ReplayTrace trace_;
  GateOptions options_;
  std::vector<Contender> heuristics_;
};

TEST_F(GateTest, BetterChallengerIsPromotedWithItsFigures) {
  const GateVerdict v = Judge("sp-ff", "ksp-ff");
  EXPECT_TRUE(v.promote) << v.reason << "\n" << v.figures.dump(2);
  const auto& d = v.figures["replay"]["difference"];
  EXPECT_LT(d["ci95_high"].get<double>(), 0.0);
  EXPECT_LT(v.figures["twin"]["difference"]["ci95_high"].get<double>(), 0.0);
  EXPECT_EQ(v.figures["twin"]["challenger"].size(), size_t(options_.twin_seeds));
  EXPECT_EQ(v.figures["trace"]["requests"].get<int64_t>(), 1000);
  EXPECT_EQ(v.best_heuristic, "heuristic:ksp-ff");
  EXPECT_TRUE(v.heuristic_beats_champion);
  EXPECT_NE(v.reason.find("95% CI"), std::string::npos) << v.reason;
}

TEST_F(GateTest, WorseChallengerIsRefused) {
  const GateVerdict v = Judge("ksp-ff", "sp-ff");
  EXPECT_FALSE(v.promote);
  EXPECT_GT(v.figures["replay"]["difference"]["ci95_low"].get<double>(), 0.0);
  EXPECT_NE(v.reason.find("not below zero"), std::string::npos) << v.reason;
  EXPECT_FALSE(v.heuristic_beats_champion);  // the best heuristic is the champion itself
}

TEST_F(GateTest, EqualChallengerIsRefused) {
  // The same rule under another name: identical decisions, a zero-width interval at zero.
  const GateVerdict v = Judge("ksp-ff", "heuristic:ksp-ff?k=3");
  EXPECT_FALSE(v.promote) << v.reason;
  EXPECT_EQ(v.figures["replay"]["difference"]["difference"].get<double>(), 0.0);
  // KSP-BF differs in a few decisions only: within the noise, refused too.
  const GateVerdict close = Judge("ksp-ff", "ksp-bf");
  EXPECT_FALSE(close.promote) << close.reason << "\n" << close.figures["replay"].dump(2);
}

TEST_F(GateTest, ATooShortTraceDecidesNothing) {
  options_.min_trace_requests = 5000;
  options_.trace_requests = 5000;
  const GateVerdict v = Judge("sp-ff", "ksp-ff");
  EXPECT_FALSE(v.promote);
  EXPECT_NE(v.reason.find("only 1000 requests"), std::string::npos) << v.reason;
}

TEST_F(GateTest, ADrlPolicyIsJudgedThroughThePcesChecks) {
  pce::testing::TempDir dir;
  tracking::TrackingStore store(pce::testing::StoreIn(dir));
  const std::string policy = pce::testing::TrainTinyPolicy(pce_->config(), dir / "p", 1);
  const int64_t v = pce::testing::RegisterPolicy(store, policy, "rmsa", "");
  auto reg = pce::StoreConnector(&store)();
  const Contender drl = LoadContender(*reg, store.GetModelVersion("rmsa", v),
                                      twin::UseCase::kDeepRmsa, model_, pce_->config(), dir / "scratch");
  EXPECT_FALSE(drl.is_heuristic());
  ASSERT_TRUE(drl.training_traffic);
  EXPECT_EQ(drl.training_traffic->load_erlang, pce_->config().traffic.load_erlang);
  const ReplayResult r = Replay(model_, trace_, twin::UseCase::kDeepRmsa, drl.rule(), 1);
  EXPECT_EQ(r.requests, 1000);
  // A policy trained on another network is refused with the PCE's reason.
  pce::PceConfig other = pce_->config();
  other.network.slots_per_band = 60;
  auto other_model = std::make_shared<const twin::NetworkModel>(other.network);
  try {
    LoadContender(*reg, store.GetModelVersion("rmsa", v), twin::UseCase::kDeepRmsa, other_model,
                  other, dir / "scratch2");
    FAIL() << "a policy of another network was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the PCE would not serve it"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("another network"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace eonops::lifecycle
