// Pins lifecycle/config.h: the shipped configs/lifecycle.json loads and round-trips; every bad
// key or value is refused at load with the file and the field named.
#include "lifecycle/config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/lifecycle/lifecycle_test_util.h"

namespace eonops::lifecycle {
namespace {

const std::string kShipped = std::string(EONOPS_SOURCE_DIR) + "/configs/lifecycle.json";

std::string ErrorOf(const nlohmann::json& j) {
  try {
    LifecycleConfig::FromJson(j, "lc.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(LifecycleConfigTest, ShippedConfigLoadsResolvesItsPathsAndRoundTrips) {
  const LifecycleConfig c = LifecycleConfig::Load(kShipped);
  EXPECT_EQ(c.rollback.relative_threshold, 0.05);
  EXPECT_EQ(c.drift.window_requests, 1000);
  EXPECT_TRUE(std::filesystem::exists(c.PceConfigPath())) << c.PceConfigPath();
  EXPECT_TRUE(std::filesystem::exists(c.ExperimentPath())) << c.ExperimentPath();
  EXPECT_TRUE(std::filesystem::exists(c.EsExperimentPath())) << c.EsExperimentPath();
  const LifecycleConfig back = LifecycleConfig::FromJson(c.ToJson(), "back");
  EXPECT_EQ(back.ToJson(), c.ToJson());
}

TEST(LifecycleConfigTest, BadKeysAndValuesNameTheField) {
  struct Case {
    nlohmann::json j;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"polling_ms", 10}}, "lc.json.polling_ms"},
      {{{"drift", {{"window", 10}}}}, "lc.json.drift.window"},
      {{{"drift", {{"js_pairs", 0}}}}, "lc.json.drift.js_pairs"},
      {{{"drift", {{"js_pairs", 1.5}}}}, "lc.json.drift.js_pairs"},
      {{{"drift", {{"window_requests", "1000"}}}}, "lc.json.drift.window_requests"},
      {{{"drift", {{"window_requests", 10}}}}, "lc.json.drift.window_requests"},
      {{{"drift", {{"false_alarm_probability", 0.9}}}}, "lc.json.drift.false_alarm_probability"},
      {{{"kpi", {{"experiment", ""}}}}, "lc.json.kpi.experiment"},
      {{{"retrain", {{"on_drift", "yes"}}}}, "lc.json.retrain.on_drift"},
      {{{"retrain", {{"steps", 0}}}}, "lc.json.retrain.steps"},
      {{{"retrain", {{"overrides", 3}}}}, "lc.json.retrain.overrides"},
      {{{"gate", {{"heuristics", {"ksp-ff", "best-ever"}}}}}, "lc.json.gate.heuristics[1]"},
      {{{"gate", {{"twin_seeds", 1}}}}, "lc.json.gate.twin_seeds"},
      {{{"gate", {{"trace_requests", 100}, {"min_trace_requests", 500}}}}, "lc.json.gate.min_trace_requests"},
      {{{"rollback", {{"kpi", "power"}}}}, "lc.json.rollback.kpi"},
      {{{"rollback", {{"confidence", 1.0}}}}, "lc.json.rollback.confidence"},
      {{{"rollback", {{"min_requests", 5000}, {"watch_requests", 1000}}}}, "lc.json.rollback.min_requests"},
      {{{"use_cases", {"deeprmsa", "teleport"}}}, "lc.json.use_cases[1]"},
      {nlohmann::json::array(), "lc.json"},
  };
  for (const auto& c : cases) {
    const std::string err = ErrorOf(c.j);
    EXPECT_FALSE(err.empty()) << c.j.dump() << " was accepted";
    EXPECT_EQ(err.rfind(c.field, 0), 0u) << c.j.dump() << " gave: " << err;
  }
  // Comments are allowed; an empty object is the defaults.
  EXPECT_EQ(ErrorOf({{"_comment", "x"}, {"drift", {{"_source", "y"}}}}), "");
  EXPECT_EQ(LifecycleConfig::FromJson(nlohmann::json::object(), "d").ToJson(),
            LifecycleConfig().ToJson());
}

}  // namespace
}  // namespace eonops::lifecycle
