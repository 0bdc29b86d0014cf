// Pins the registry's decision trail (TrackingStore::RecordModelDecision, the
// /api/eonops/registered-models/decisions routes and TrackingHttpClient) and the model
// performance trends payload the UI draws.
#include <gtest/gtest.h>

#include "tests/tracking/test_util.h"
#include "tracking/errors.h"
#include "tracking/http_client.h"
#include "tracking/store.h"

namespace eonops::tracking {
namespace {

using testing::Json;
using testing::CodeOf;

// On a SQLite file and on a PostgreSQL database.
class Decisions : public testing::DatabaseTest {};

TEST_P(Decisions, MoveTheAliasAtomicallyOnceAndOnlyFromWhereExpected) {
  TrackingStore store(db_->Options());
  store.CreateRegisteredModel("m");
  store.CreateModelVersion("m", "heuristic:ksp-ff");
  store.CreateModelVersion("m", "heuristic:sp-ff");
  store.SetAlias("m", "champion", 1, "operator");
  RecordDecisionRequest r;
  r.name = "m";
  r.version = 2;
  r.kind = "promote";
  r.reason = "better";
  r.figures_json = R"({"replay": {"difference": -0.02}})";
  r.key = "attempt-1:decision";
  r.alias = "champion";
  r.expect_alias_version = 1;
  const ModelDecision d = store.RecordModelDecision(r, "eonops-lifecycle");
  EXPECT_EQ(d.from_version, 1);
  EXPECT_EQ(d.to_version, 2);
  EXPECT_EQ(store.GetModelVersionByAlias("m", "champion").version, 2);
  EXPECT_EQ(store.GetAliasHistory("m", "champion").back().changed_by, "eonops-lifecycle");
  // A retry with the same key changes nothing and returns the recorded decision.
  const ModelDecision again = store.RecordModelDecision(r, "eonops-lifecycle");
  EXPECT_EQ(again.id, d.id);
  EXPECT_EQ(store.GetModelDecisions("m").size(), 1u);
  EXPECT_EQ(store.GetAliasHistory("m", "champion").size(), 2u);
  // Compare-and-set: a rollback that expects v3 while the alias is at v2 is refused, whole.
  RecordDecisionRequest back = r;
  back.kind = "rollback";
  back.version = 1;
  back.key = "rollback:3";
  back.expect_alias_version = 3;
  EXPECT_EQ(CodeOf([&] { store.RecordModelDecision(back); }), ErrorCode::kResourceConflict);
  EXPECT_EQ(store.GetModelDecisions("m").size(), 1u);
  EXPECT_EQ(store.GetModelVersionByAlias("m", "champion").version, 2);
  back.expect_alias_version = 2;
  store.RecordModelDecision(back, "eonops-lifecycle");
  EXPECT_EQ(store.GetModelVersionByAlias("m", "champion").version, 1);
  // expect 0: the alias must not exist yet.
  RecordDecisionRequest first;
  first.name = "m";
  first.version = 2;
  first.kind = "challenger";
  first.alias = "challenger";
  first.expect_alias_version = 0;
  store.RecordModelDecision(first);
  EXPECT_EQ(CodeOf([&] { store.RecordModelDecision(first); }), ErrorCode::kResourceConflict);
  // A decision about the model as a whole (version 0) moves no alias.
  RecordDecisionRequest drift;
  drift.name = "m";
  drift.kind = "drift";
  drift.figures_json = R"({"js_pairs": 0.3})";
  store.RecordModelDecision(drift);
  const auto all = store.GetModelDecisions("m");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all.front().kind, "promote");  // oldest first
  EXPECT_EQ(all.back().kind, "drift");
  EXPECT_EQ(store.GetModelDecisions("m", 2).front().kind, "challenger");  // the newest two
}

TEST_P(Decisions, BadRequestsAreRefusedWithMlflowCodes) {
  TrackingStore store(db_->Options());
  store.CreateRegisteredModel("m");
  store.CreateModelVersion("m", "heuristic:ksp-ff");
  RecordDecisionRequest r;
  r.name = "m";
  r.version = 1;
  r.kind = "promote";
  auto code = [&](const std::function<void(RecordDecisionRequest&)>& edit) {
    RecordDecisionRequest x = r;
    edit(x);
    return CodeOf([&] { store.RecordModelDecision(x); });
  };
  EXPECT_EQ(code([](auto& x) { x.name = "nope"; }), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(code([](auto& x) { x.version = 9; }), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(code([](auto& x) { x.kind = "Promote!"; }), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code([](auto& x) { x.kind = ""; }), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code([](auto& x) { x.figures_json = "[1]"; }), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code([](auto& x) { x.figures_json = "{"; }), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code([](auto& x) { x.alias = "latest"; }), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code([](auto& x) { x.alias = "champion"; x.version = 0; }), ErrorCode::kInvalidParameterValue);
  EXPECT_TRUE(store.GetModelDecisions("m").empty());
}

class DecisionsServer : public testing::ServerFixture {};

TEST_P(DecisionsServer, RestRoutesHttpClientAndTrends) {
  store_->CreateRegisteredModel("m");
  store_->CreateModelVersion("m", "heuristic:ksp-ff");
  store_->CreateModelVersion("m", "heuristic:sp-ff");
  store_->SetAlias("m", "champion", 1);
  const std::string path = "/api/eonops/registered-models/decisions";
  testing::Reply ok = Post(path, {{"name", "m"},
                                  {"version", "2"},
                                  {"kind", "promote"},
                                  {"reason", "better"},
                                  {"figures", {{"replay", {{"difference", -0.03}}}}},
                                  {"alias", "champion"},
                                  {"expect_alias_version", "1"},
                                  {"key", "a:decision"}},
                           {{"X-Eonops-User", "eonops-lifecycle"}});
  ASSERT_EQ(ok.status, 200) << ok.text;
  EXPECT_EQ(ok.body["decision"]["to_version"], "2");
  EXPECT_EQ(ok.body["decision"]["figures"]["replay"]["difference"], -0.03);
  EXPECT_EQ(ok.body["decision"]["decided_by"], "eonops-lifecycle");
  ExpectError(Post(path, {{"name", "m"}, {"version", "1"}, {"kind", "rollback"}, {"alias", "champion"},
                          {"expect_alias_version", "1"}}),
              409, "RESOURCE_CONFLICT");
  ExpectError(Post(path, {{"name", "m"}, {"kind", "drift"}, {"figures", "high"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(path, {{"name", "m"}}), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post(path, {{"name", "x"}, {"kind", "drift"}}), 404, "RESOURCE_DOES_NOT_EXIST");
  testing::Reply list = Get(path, {{"name", "m"}});
  ASSERT_EQ(list.status, 200) << list.text;
  ASSERT_EQ(list.body["decisions"].size(), 1u);
  // The HTTP client speaks the same routes.
  TrackingHttpClient client("http://127.0.0.1:" + std::to_string(port_));
  RecordDecisionRequest r;
  r.name = "m";
  r.kind = "drift";
  r.figures_json = R"({"js_pairs": 0.4})";
  r.key = "drift:1";
  EXPECT_EQ(client.RecordModelDecision(r).kind, "drift");
  EXPECT_EQ(client.RecordModelDecision(r).id, client.GetModelDecisions("m").back().id);
  EXPECT_EQ(client.GetModelDecisions("m").size(), 2u);
  SearchModelsRequest q;
  q.filter = "name = 'm'";
  EXPECT_EQ(client.SearchModelVersions(q).items.size(), 2u);
  // Trends: the KPI runs of the model's versions with their series, the alias moves, the decisions.
  CreateRunOptions o;
  o.experiment_id = store_->GetOrCreateExperiment("lifecycle");
  o.tags = {{"eonops.lifecycle.model", "m"}, {"eonops.lifecycle.version", "1"},
            {"eonops.lifecycle.use_case", "deeprmsa"}};
  const std::string run = store_->CreateRun(o).info.run_id;
  store_->LogBatch(run, {{"kpi/blocking", 0.05, 1000, 1}, {"kpi/blocking", 0.06, 2000, 2},
                         {"drift/js_pairs", 0.01, 2000, 2}, {"loss", 1.0, 2000, 2}},
                   {}, {});
  o.tags[0].value = "other";
  store_->CreateRun(o);  // another model's run: not in m's trends
  testing::Reply t = Get("/api/eonops/registered-models/trends", {{"name", "m"}});
  ASSERT_EQ(t.status, 200) << t.text;
  ASSERT_EQ(t.body["runs"].size(), 1u);
  EXPECT_EQ(t.body["runs"][0]["version"], "1");
  EXPECT_EQ(t.body["runs"][0]["series"]["kpi/blocking"], Json::parse("[[1000, 0.05], [2000, 0.06]]"));
  EXPECT_TRUE(t.body["runs"][0]["series"].contains("drift/js_pairs"));
  EXPECT_FALSE(t.body["runs"][0]["series"].contains("loss"));
  EXPECT_EQ(t.body["alias_events"].size(), 2u);
  EXPECT_EQ(t.body["decisions"].size(), 2u);
  ExpectError(Get("/api/eonops/registered-models/trends", {{"name", "nope"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
}

INSTANTIATE_TEST_SUITE_P(Backends, Decisions, testing::kBothBackends, testing::BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, DecisionsServer, testing::kBothBackends, testing::BackendName);

}  // namespace
}  // namespace eonops::tracking
