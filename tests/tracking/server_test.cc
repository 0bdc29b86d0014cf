// Every REST endpoint's success and error shapes, MLflow's log-batch limits, auth, and the
// eonops extras, against a real server on a loopback port.
#include "tracking/server.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/tracking/test_util.h"
#include "tracking/errors.h"
#include "tracking/server_internal.h"
#include "tracking/sha256.h"

namespace eonops::tracking {
namespace {

using testing::Json;
using testing::Reply;

class ServerTest : public testing::ServerFixture {
 protected:
  std::string CreateRun(const std::string& experiment_id = "0") {
    Reply r = Post(Api("runs/create"), {{"experiment_id", experiment_id}, {"start_time", 1}});
    EXPECT_EQ(r.status, 200) << r.text;
    return r.body["run"]["info"]["run_id"].get<std::string>();
  }
};

TEST_P(ServerTest, ExperimentsCreateGetByNameSearch) {
  Reply created = Post(Api("experiments/create"),
                       {{"name", "rmsa/nsfnet"}, {"tags", {{{"key", "k"}, {"value", "v"}}}}});
  ASSERT_EQ(created.status, 200) << created.text;
  const std::string id = created.body["experiment_id"];
  EXPECT_EQ(id, "1");

  Reply got = Get(Api("experiments/get"), {{"experiment_id", id}});
  ASSERT_EQ(got.status, 200);
  const Json& e = got.body["experiment"];
  EXPECT_EQ(e["name"], "rmsa/nsfnet");
  EXPECT_EQ(e["experiment_id"], id);
  EXPECT_EQ(e["lifecycle_stage"], "active");
  EXPECT_TRUE(e["creation_time"].is_number_integer());
  EXPECT_TRUE(e["last_update_time"].is_number_integer());
  EXPECT_EQ(e["tags"], Json::parse(R"([{"key":"k","value":"v"}])"));

  Reply by_name = Get(Api("experiments/get-by-name"), {{"experiment_name", "rmsa/nsfnet"}});
  EXPECT_EQ(by_name.body["experiment"]["experiment_id"], id);
  Reply dflt = Get(Api("experiments/get"), {{"experiment_id", "0"}});
  EXPECT_EQ(dflt.body["experiment"]["name"], "Default");

  // Search: POST with JSON and GET with a query string.
  Reply search =
      Post(Api("experiments/search"), {{"max_results", 10}, {"filter", "name LIKE 'rmsa%'"}});
  ASSERT_EQ(search.status, 200) << search.text;
  ASSERT_EQ(search.body["experiments"].size(), 1u);
  Reply search_get = Get(Api("experiments/search"), {{"max_results", "1"}});
  EXPECT_EQ(search_get.body["experiments"].size(), 1u);
  EXPECT_TRUE(search_get.body["next_page_token"].is_string());

  ExpectError(Post(Api("experiments/create"), {{"name", "rmsa/nsfnet"}}), 400,
              "RESOURCE_ALREADY_EXISTS");
  ExpectError(Post(Api("experiments/create"), Json::object()), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("experiments/create"), {{"name", 42}}), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Get(Api("experiments/get"), {{"experiment_id", "999"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Get(Api("experiments/get-by-name"), {{"experiment_name", "nope"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post(Api("experiments/search"), {{"filter", "name ~ 'x'"}}), 400,
              "INVALID_PARAMETER_VALUE");
}

TEST_P(ServerTest, ExperimentLifecycleEndpoints) {
  std::string id = Post(Api("experiments/create"), {{"name", "tmp"}}).body["experiment_id"];
  EXPECT_EQ(Post(Api("experiments/update"), {{"experiment_id", id}, {"new_name", "tmp2"}}).status,
            200);
  EXPECT_EQ(Post(Api("experiments/set-experiment-tag"),
                 {{"experiment_id", id}, {"key", "a"}, {"value", "b"}})
                .status,
            200);
  Reply del = Post(Api("experiments/delete"), {{"experiment_id", id}});
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.body, Json::object());
  EXPECT_EQ(
      Get(Api("experiments/get"), {{"experiment_id", id}}).body["experiment"]["lifecycle_stage"],
      "deleted");
  EXPECT_EQ(Post(Api("experiments/restore"), {{"experiment_id", id}}).status, 200);
}

TEST_P(ServerTest, RunsCreateGetUpdateLogAndSearch) {
  Reply created =
      Post(Api("runs/create"), {{"experiment_id", "0"},
                                {"user_id", "alice"},
                                {"run_name", "ppo-1"},
                                {"start_time", 1700000000000},
                                {"tags", {{{"key", "mlflow.source.name"}, {"value", "train"}}}}});
  ASSERT_EQ(created.status, 200) << created.text;
  const Json& info = created.body["run"]["info"];
  const std::string run_id = info["run_id"];
  EXPECT_EQ(info["run_uuid"], run_id);
  EXPECT_EQ(info["run_name"], "ppo-1");
  EXPECT_EQ(info["status"], "RUNNING");
  EXPECT_EQ(info["start_time"], 1700000000000);
  EXPECT_EQ(info["lifecycle_stage"], "active");
  EXPECT_FALSE(info.contains("end_time"));
  EXPECT_TRUE(created.body["run"]["data"]["metrics"].is_array());
  EXPECT_TRUE(created.body["run"]["inputs"].is_object());

  auto post_ok = [&](const std::string& ep, const Json& body) {
    Reply r = Post(Api(ep), body);
    EXPECT_EQ(r.status, 200) << ep << ": " << r.text;
    EXPECT_EQ(r.body, Json::object()) << ep;  // {} on success, never 204
  };
  post_ok("runs/log-parameter", {{"run_id", run_id}, {"key", "lr"}, {"value", "0.001"}});
  post_ok("runs/log-metric",
          {{"run_id", run_id}, {"key", "loss"}, {"value", 0.5}, {"timestamp", 10}, {"step", 1}});
  // Proto JSON lets int64 come as strings and doubles as "NaN".
  post_ok("runs/log-metric", {{"run_uuid", run_id},
                              {"key", "loss"},
                              {"value", "0.25"},
                              {"timestamp", "11"},
                              {"step", "2"}});
  post_ok("runs/log-metric",
          {{"run_id", run_id}, {"key", "nan_metric"}, {"value", "NaN"}, {"timestamp", 1}});
  post_ok("runs/set-tag", {{"run_id", run_id}, {"key", "phase"}, {"value", "eval"}});
  post_ok("runs/delete-tag", {{"run_id", run_id}, {"key", "phase"}});
  post_ok("runs/log-batch",
          {{"run_id", run_id},
           {"metrics", {{{"key", "reward"}, {"value", 3.5}, {"timestamp", 12}, {"step", 0}}}},
           {"params", {{{"key", "gamma"}, {"value", "0.99"}}}},
           {"tags", {{{"key", "t"}, {"value", "v"}}}}});

  Reply got = Get(Api("runs/get"), {{"run_id", run_id}});
  ASSERT_EQ(got.status, 200);
  std::map<std::string, Json> metrics;
  for (const Json& m : got.body["run"]["data"]["metrics"]) metrics[m["key"]] = m;
  EXPECT_EQ(metrics["loss"]["value"], 0.25);
  EXPECT_EQ(metrics["loss"]["step"], 2);
  EXPECT_EQ(metrics["nan_metric"]["value"], "NaN");
  EXPECT_EQ(metrics["reward"]["value"], 3.5);
  EXPECT_EQ(got.body["run"]["data"]["params"].size(), 2u);

  Reply history = Get(Api("metrics/get-history"), {{"run_id", run_id}, {"metric_key", "loss"}});
  ASSERT_EQ(history.status, 200) << history.text;
  ASSERT_EQ(history.body["metrics"].size(), 2u);
  EXPECT_EQ(history.body["metrics"][0],
            Json::parse(R"({"key":"loss","value":0.5,"timestamp":10,"step":1})"));
  EXPECT_FALSE(history.body.contains("next_page_token"));
  Reply paged = Get(Api("metrics/get-history"),
                    {{"run_id", run_id}, {"metric_key", "loss"}, {"max_results", "1"}});
  ASSERT_EQ(paged.body["metrics"].size(), 1u);
  Reply page2 = Get(Api("metrics/get-history"),
                    {{"run_id", run_id},
                     {"metric_key", "loss"},
                     {"max_results", "1"},
                     {"page_token", paged.body["next_page_token"].get<std::string>()}});
  EXPECT_EQ(page2.body["metrics"][0]["value"], 0.25);

  Reply updated =
      Post(Api("runs/update"), {{"run_id", run_id}, {"status", "FINISHED"}, {"end_time", 99}});
  ASSERT_EQ(updated.status, 200) << updated.text;
  EXPECT_EQ(updated.body["run_info"]["status"], "FINISHED");
  EXPECT_EQ(updated.body["run_info"]["end_time"], 99);

  Reply search = Post(Api("runs/search"), {{"experiment_ids", {"0"}},
                                           {"filter", "metrics.loss < 0.3 AND params.lr = '0.001'"},
                                           {"order_by", {"metrics.loss DESC"}},
                                           {"max_results", 10}});
  ASSERT_EQ(search.status, 200) << search.text;
  ASSERT_EQ(search.body["runs"].size(), 1u);
  EXPECT_EQ(search.body["runs"][0]["info"]["run_id"], run_id);
  Reply none = Post(Api("runs/search"),
                    {{"experiment_ids", {"0"}}, {"filter", "attributes.status = 'RUNNING'"}});
  EXPECT_TRUE(none.body["runs"].empty());

  EXPECT_EQ(Post(Api("runs/delete"), {{"run_id", run_id}}).status, 200);
  EXPECT_EQ(Post(Api("runs/restore"), {{"run_id", run_id}}).status, 200);
}

TEST_P(ServerTest, RunErrorsUseMlflowCodes) {
  const std::string run_id = CreateRun();
  const std::string unknown = "0123456789abcdef0123456789abcdef";
  ExpectError(Get(Api("runs/get"), {{"run_id", unknown}}), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Get(Api("runs/get")), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/create"), {{"experiment_id", "77"}}), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post(Api("runs/create"), {{"experiment_id", "0"}, {"start_time", "soon"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/log-metric"), {{"run_id", unknown}, {"key", "m"}, {"value", 1}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post(Api("runs/log-metric"), {{"run_id", run_id}, {"key", "m"}}), 400,
              "INVALID_PARAMETER_VALUE");  // no value
  ExpectError(Post(Api("runs/log-metric"), {{"run_id", run_id}, {"key", "m"}, {"value", "big"}}),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(
      Post(Api("runs/log-metric"), {{"run_id", run_id}, {"key", "m"}, {"value", 1}, {"step", 1.5}}),
      400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/log-metric"), {{"run_id", run_id}, {"key", {1}}, {"value", 1}}), 400,
              "INVALID_PARAMETER_VALUE");
  Post(Api("runs/log-parameter"), {{"run_id", run_id}, {"key", "p"}, {"value", "1"}});
  ExpectError(Post(Api("runs/log-parameter"), {{"run_id", run_id}, {"key", "p"}, {"value", "2"}}),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/update"), {{"run_id", run_id}, {"status", "DONE"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/delete-tag"), {{"run_id", run_id}, {"key", "absent"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post(Api("runs/search"), {{"experiment_ids", {"0"}}, {"max_results", 100000}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/search"), {{"experiment_ids", {"0"}}, {"page_token", "@@@"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/search"), {{"experiment_ids", "0"}, {"run_view_type", "SOME"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Get(Api("metrics/get-history"), {{"run_id", run_id}}), 400,
              "INVALID_PARAMETER_VALUE");
}

TEST_P(ServerTest, MalformedRequestsAreClientErrorsNeverServerErrors) {
  ExpectError(PostRaw(Api("runs/create"), "{not json"), 400, "BAD_REQUEST");
  ExpectError(PostRaw(Api("runs/create"), "[1, 2]"), 400, "BAD_REQUEST");
  ExpectError(PostRaw(Api("runs/create"), "\"a string\""), 400, "BAD_REQUEST");
  ExpectError(PostRaw(Api("runs/log-batch"), std::string("{\"run_id\": \"\xff\xfe\"}")), 400,
              "BAD_REQUEST");  // invalid UTF-8 inside a JSON string
  ExpectError(Post(Api("runs/log-batch"), {{"run_id", CreateRun()}, {"metrics", "many"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/log-batch"), {{"run_id", CreateRun()}, {"metrics", {1, 2}}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/log-batch"),
                   {{"run_id", CreateRun()}, {"metrics", {{{"key", "m"}, {"value", nullptr}}}}}),
              400, "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("no/such-endpoint"), Json::object()), 404, "ENDPOINT_NOT_FOUND");
  ExpectError(Get(Api("runs/create")), 404, "ENDPOINT_NOT_FOUND");  // wrong method
  ExpectError(Get("/api/eonops/nothing"), 404, "ENDPOINT_NOT_FOUND");
  // Deeply nested JSON is refused by the parser, not a stack overflow.
  std::string deep(100000, '[');
  Reply r = PostRaw(Api("runs/create"), deep);
  EXPECT_EQ(r.status, 400) << r.text.substr(0, 200);
  // A query-string value repeated for a scalar parameter.
  Reply twice = testing::ToReply(client_->Get((Api("runs/get") + "?run_id=a&run_id=b").c_str()));
  ExpectError(twice, 400, "INVALID_PARAMETER_VALUE");
  // A query value that is not UTF-8 once URL-decoded is named in the error, like any bad value
  // (it used to surface as the JSON library's "invalid UTF-8 byte" error; fuzz_mlflow_json).
  Reply bytes =
      testing::ToReply(client_->Get((Api("experiments/search") + "?max_results=%87%FF").c_str()));
  ExpectError(bytes, 400, "INVALID_PARAMETER_VALUE");
  EXPECT_NE(bytes.text.find("'max_results'"), std::string::npos) << bytes.text;
  // The server is still fine afterwards.
  EXPECT_EQ(Get(Api("experiments/get"), {{"experiment_id", "0"}}).status, 200);
}

TEST_P(ServerTest, LogBatchLimitsAreMlflows) {
  const std::string run_id = CreateRun();
  auto metrics = [](int n) {
    Json a = Json::array();
    for (int i = 0; i < n; ++i)
      a.push_back(
          {{"key", "m" + std::to_string(i % 7)}, {"value", i}, {"timestamp", 1}, {"step", i}});
    return a;
  };
  auto params = [](int n) {
    Json a = Json::array();
    for (int i = 0; i < n; ++i) a.push_back({{"key", "p" + std::to_string(i)}, {"value", "v"}});
    return a;
  };
  auto tags = [](int n) {
    Json a = Json::array();
    for (int i = 0; i < n; ++i) a.push_back({{"key", "t" + std::to_string(i)}, {"value", "v"}});
    return a;
  };
  EXPECT_EQ(Post(Api("runs/log-batch"), {{"run_id", run_id}, {"metrics", metrics(1000)}}).status,
            200);
  ExpectError(Post(Api("runs/log-batch"), {{"run_id", run_id}, {"metrics", metrics(1001)}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/log-batch"), {{"run_id", run_id}, {"params", params(101)}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("runs/log-batch"), {{"run_id", run_id}, {"tags", tags(101)}}), 400,
              "INVALID_PARAMETER_VALUE");
  Reply total = Post(Api("runs/log-batch"),
                     {{"run_id", run_id}, {"metrics", metrics(901)}, {"params", params(100)}});
  ExpectError(total, 400, "INVALID_PARAMETER_VALUE");
  EXPECT_NE(total.body["message"].get<std::string>().find("1000"), std::string::npos);
  // Nothing of the refused batches was written: still exactly 1000 points.
  size_t points = 0;
  for (int k = 0; k < 7; ++k)
    points += Get(Api("metrics/get-history"),
                  {{"run_id", run_id}, {"metric_key", "m" + std::to_string(k)}})
                  .body["metrics"]
                  .size();
  EXPECT_EQ(points, 1000u);
  EXPECT_TRUE(Get(Api("runs/get"), {{"run_id", run_id}}).body["run"]["data"]["params"].empty());
}

TEST_P(ServerTest, ArtifactsUploadListDownload) {
  const std::string run_id = CreateRun();
  const std::string bytes = "policy-bytes\n";
  auto put = client_->Put(
      ("/api/2.0/mlflow-artifacts/artifacts/0/" + run_id + "/artifacts/model/policy.pt").c_str(),
      bytes, "application/octet-stream");
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(Json::parse(put->body)["sha256"], Sha256Hex(bytes));

  Reply list = Get(Api("artifacts/list"), {{"run_id", run_id}});
  ASSERT_EQ(list.status, 200) << list.text;
  EXPECT_EQ(list.body["root_uri"], "mlflow-artifacts:/0/" + run_id + "/artifacts");
  ASSERT_EQ(list.body["files"].size(), 1u);
  EXPECT_EQ(list.body["files"][0]["path"], "model");
  EXPECT_EQ(list.body["files"][0]["is_dir"], true);
  Reply sub = Get(Api("artifacts/list"), {{"run_id", run_id}, {"path", "model"}});
  ASSERT_EQ(sub.body["files"].size(), 1u);
  EXPECT_EQ(sub.body["files"][0]["path"], "model/policy.pt");
  EXPECT_EQ(sub.body["files"][0]["file_size"], static_cast<int64_t>(bytes.size()));

  auto down = client_->Get("/get-artifact", {{"run_id", run_id}, {"path", "model/policy.pt"}},
                           httplib::Headers{});
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 200);
  EXPECT_EQ(down->body, bytes);
  EXPECT_EQ(down->get_header_value("X-Content-SHA256"), Sha256Hex(bytes));
  auto proxied = client_->Get(
      ("/api/2.0/mlflow-artifacts/artifacts/0/" + run_id + "/artifacts/model/policy.pt").c_str());
  ASSERT_TRUE(proxied);
  EXPECT_EQ(proxied->body, bytes);
  auto mlflow_list =
      client_->Get("/api/2.0/mlflow-artifacts/artifacts",
                   {{"path", "0/" + run_id + "/artifacts/model"}}, httplib::Headers{});
  ASSERT_TRUE(mlflow_list);
  EXPECT_EQ(Json::parse(mlflow_list->body)["files"][0]["path"], "policy.pt");

  ExpectError(Get("/get-artifact", {{"run_id", run_id}, {"path", "missing"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Get("/get-artifact", {{"run_id", run_id}, {"path", "../../etc/passwd"}}), 400,
              "INVALID_PARAMETER_VALUE");
  auto wrong_exp =
      client_->Put(("/api/2.0/mlflow-artifacts/artifacts/5/" + run_id + "/artifacts/x").c_str(),
                   "x", "application/octet-stream");
  EXPECT_EQ(wrong_exp->status, 404);
}

TEST_P(ServerTest, ModelRegistryEndpoints) {
  const std::string run_id = CreateRun();
  Reply m = Post(Api("registered-models/create"), {{"name", "rmsa-nsfnet"}, {"description", "d"}});
  ASSERT_EQ(m.status, 200) << m.text;
  EXPECT_EQ(m.body["registered_model"]["name"], "rmsa-nsfnet");
  EXPECT_TRUE(m.body["registered_model"]["latest_versions"].is_array());
  ExpectError(Post(Api("registered-models/create"), {{"name", "rmsa-nsfnet"}}), 400,
              "RESOURCE_ALREADY_EXISTS");

  Reply v1 = Post(
      Api("model-versions/create"),
      {{"name", "rmsa-nsfnet"}, {"source", "runs:/" + run_id + "/policy"}, {"run_id", run_id}});
  ASSERT_EQ(v1.status, 200) << v1.text;
  const Json& mv = v1.body["model_version"];
  EXPECT_EQ(mv["version"], "1");  // a string, as in MLflow
  EXPECT_EQ(mv["current_stage"], "None");
  EXPECT_EQ(mv["status"], "READY");
  EXPECT_EQ(mv["run_id"], run_id);
  EXPECT_TRUE(mv["aliases"].is_array());
  Post(Api("model-versions/create"), {{"name", "rmsa-nsfnet"}, {"source", "s2"}});

  EXPECT_EQ(Get(Api("model-versions/get"), {{"name", "rmsa-nsfnet"}, {"version", "2"}})
                .body["model_version"]["source"],
            "s2");
  Reply stage =
      Post(Api("model-versions/transition-stage"), {{"name", "rmsa-nsfnet"},
                                                    {"version", "1"},
                                                    {"stage", "production"},
                                                    {"archive_existing_versions", false}});
  ASSERT_EQ(stage.status, 200) << stage.text;
  EXPECT_EQ(stage.body["model_version"]["current_stage"], "Production");
  ExpectError(Post(Api("model-versions/transition-stage"),
                   {{"name", "rmsa-nsfnet"}, {"version", "1"}, {"stage", "Live"}}),
              400, "INVALID_PARAMETER_VALUE");

  EXPECT_EQ(Post(Api("registered-models/alias"),
                 {{"name", "rmsa-nsfnet"}, {"alias", "champion"}, {"version", "1"}})
                .body,
            Json::object());
  Post(Api("registered-models/alias"),
       {{"name", "rmsa-nsfnet"}, {"alias", "champion"}, {"version", "2"}});
  Reply by_alias =
      Get(Api("registered-models/alias"), {{"name", "rmsa-nsfnet"}, {"alias", "champion"}});
  ASSERT_EQ(by_alias.status, 200) << by_alias.text;
  EXPECT_EQ(by_alias.body["model_version"]["version"], "2");
  EXPECT_EQ(by_alias.body["model_version"]["aliases"], Json::array({"champion"}));

  Reply got = Get(Api("registered-models/get"), {{"name", "rmsa-nsfnet"}});
  EXPECT_EQ(got.body["registered_model"]["aliases"],
            Json::parse(R"([{"alias":"champion","version":"2"}])"));
  Reply search = Get(Api("registered-models/search"), {{"filter", "name LIKE 'rmsa%'"}});
  EXPECT_EQ(search.body["registered_models"].size(), 1u);
  Reply versions = Get(Api("model-versions/search"), {{"filter", "name = 'rmsa-nsfnet'"}});
  EXPECT_EQ(versions.body["model_versions"].size(), 2u);
  Reply latest = Post(Api("registered-models/get-latest-versions"),
                      {{"name", "rmsa-nsfnet"}, {"stages", {"Production"}}});
  ASSERT_EQ(latest.body["model_versions"].size(), 1u);
  EXPECT_EQ(latest.body["model_versions"][0]["version"], "1");
  EXPECT_EQ(Get(Api("model-versions/get-download-uri"), {{"name", "rmsa-nsfnet"}, {"version", "2"}})
                .body["artifact_uri"],
            "s2");

  Reply history = Get("/api/eonops/registered-models/alias-history", {{"name", "rmsa-nsfnet"}});
  ASSERT_EQ(history.body["events"].size(), 2u);
  EXPECT_EQ(history.body["events"][1]["from_version"], "1");
  EXPECT_EQ(history.body["events"][1]["to_version"], "2");
  EXPECT_EQ(Delete(Api("registered-models/alias"), {{"name", "rmsa-nsfnet"}, {"alias", "champion"}})
                .status,
            200);
  ExpectError(Get(Api("registered-models/alias"), {{"name", "rmsa-nsfnet"}, {"alias", "champion"}}),
              404, "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(Get("/api/eonops/registered-models/stage-history", {{"name", "rmsa-nsfnet"}})
                .body["events"]
                .size(),
            1u);

  ExpectError(Get(Api("registered-models/get"), {{"name", "nope"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Get(Api("model-versions/get"), {{"name", "rmsa-nsfnet"}, {"version", "9"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Get(Api("model-versions/get"), {{"name", "rmsa-nsfnet"}, {"version", "one"}}), 400,
              "INVALID_PARAMETER_VALUE");
  ExpectError(Post(Api("model-versions/create"), {{"name", "nope"}, {"source", "s"}}), 404,
              "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Post(Api("registered-models/alias"),
                   {{"name", "rmsa-nsfnet"}, {"alias", "bad alias"}, {"version", "1"}}),
              400, "INVALID_PARAMETER_VALUE");
}

TEST_P(ServerTest, AjaxAndPreviewPrefixesServeTheSameApi) {
  for (const char* prefix : {"/ajax-api/2.0/mlflow/", "/api/2.0/preview/mlflow/"}) {
    Reply r = Get(std::string(prefix) + "experiments/get", {{"experiment_id", "0"}});
    EXPECT_EQ(r.status, 200) << prefix;
    EXPECT_EQ(r.body["experiment"]["name"], "Default");
  }
}

TEST_P(ServerTest, EpisodesCompareAndDownsampledHistories) {
  const std::string run_id = CreateRun();
  Json episodes = Json::array();
  for (int i = 0; i < 2000; ++i)
    episodes.push_back({{"episode", i},
                        {"reward", i % 10},
                        {"length", 100},
                        {"blocking", 0.01},
                        {"energy", 5.0},
                        {"extra", {{"hops", 3}}}});
  Reply logged =
      Post("/api/eonops/runs/log-episodes", {{"run_id", run_id}, {"episodes", episodes}});
  ASSERT_EQ(logged.status, 200) << logged.text;
  ExpectError(
      Post("/api/eonops/runs/log-episodes", {{"run_id", run_id}, {"episodes", {{{"reward", 1}}}}}),
      400, "INVALID_PARAMETER_VALUE");  // no episode number

  Reply got = Get("/api/eonops/runs/episodes",
                  {{"run_id", run_id}, {"from_episode", "1990"}, {"max_results", "100"}});
  ASSERT_EQ(got.body["episodes"].size(), 10u);
  EXPECT_EQ(got.body["total"], 2000);
  EXPECT_EQ(got.body["episodes"][0]["extra"]["hops"], 3);

  Json batch = Json::array();
  for (int i = 0; i < 1000; ++i)
    batch.push_back({{"key", "reward"}, {"value", i}, {"timestamp", 1}, {"step", i}});
  Post(Api("runs/log-batch"), {{"run_id", run_id}, {"metrics", batch}});
  Post(Api("runs/log-batch"),
       {{"run_id", run_id},
        {"metrics",
         {{{"key", "blocking@load=200"}, {"value", 0.01}, {"timestamp", 1}},
          {{"key", "blocking@load=100"}, {"value", 0.001}, {"timestamp", 1}},
          {{"key", "blocking@load=200/ksp-ff"}, {"value", 0.03}, {"timestamp", 1}},
          {{"key", "blocking_vs_load/100/ksp-ff"}, {"value", 0.004}, {"timestamp", 1}}}},
        {"params", {{{"key", "algo"}, {"value", "ppo"}}}}});

  Reply ds = Get("/api/eonops/metrics/get-history-downsampled",
                 {{"run_id", run_id}, {"metric_key", "reward"}, {"max_points", "50"}});
  ASSERT_EQ(ds.status, 200) << ds.text;
  EXPECT_EQ(ds.body["metrics"].size(), 50u);

  Reply cmp = Get("/api/eonops/compare",
                  {{"run_ids", run_id}, {"metrics", "reward"}, {"max_points", "100"}});
  ASSERT_EQ(cmp.status, 200) << cmp.text;
  const Json& r = cmp.body["runs"][0];
  EXPECT_EQ(r["params"]["algo"], "ppo");
  EXPECT_EQ(r["episodes"]["total"], 2000);
  EXPECT_EQ(r["episodes"]["reward"].size(), 100u);
  EXPECT_DOUBLE_EQ(r["episodes"]["reward"][0].get<double>(), 4.5);  // mean of 0..9 repeated
  EXPECT_EQ(r["series"]["reward"].size(), 100u);
  EXPECT_EQ(r["blocking_vs_load"]["policy"], Json::parse("[[100.0,0.001],[200.0,0.01]]"));
  EXPECT_EQ(r["blocking_vs_load"]["heuristics"]["ksp-ff"],
            Json::parse("[[100.0,0.004],[200.0,0.03]]"));
  // fallback_metrics: histories only for runs without episodes.
  const std::string bare = CreateRun();
  Post(Api("runs/log-metric"), {{"run_id", bare}, {"key", "reward"}, {"value", 1}, {"step", 3}});
  Reply fb = Get("/api/eonops/compare",
                 {{"run_ids", run_id + "," + bare}, {"fallback_metrics", "reward,blocking"}});
  ASSERT_EQ(fb.status, 200) << fb.text;
  EXPECT_TRUE(fb.body["runs"][0]["series"].empty());  // has episodes: no histories sent
  EXPECT_EQ(fb.body["runs"][1]["series"]["reward"], Json::parse("[[3, 1.0]]"));
  EXPECT_EQ(fb.body["runs"][1]["series"]["blocking"], Json::array());
  EXPECT_EQ(fb.body["runs"][1]["episodes"]["total"], 0);
  ExpectError(Get("/api/eonops/compare"), 400, "INVALID_PARAMETER_VALUE");
  ExpectError(Get("/api/eonops/compare", {{"run_ids", "nope"}}), 404, "RESOURCE_DOES_NOT_EXIST");
  ExpectError(Get("/api/eonops/compare", {{"run_ids", run_id}, {"max_points", "1"}}), 400,
              "INVALID_PARAMETER_VALUE");
}

TEST(BlockingAtLoadTest, ParsesTheDocumentedConventions) {
  using server_internal::ParseBlockingAtLoad;
  auto a = ParseBlockingAtLoad("blocking@load=250");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(a->load, 250);
  EXPECT_TRUE(a->heuristic.empty());
  auto b = ParseBlockingAtLoad("blocking@load=12.5/first-fit");
  ASSERT_TRUE(b);
  EXPECT_DOUBLE_EQ(b->load, 12.5);
  EXPECT_EQ(b->heuristic, "first-fit");
  EXPECT_TRUE(ParseBlockingAtLoad("blocking_vs_load/300/ksp"));
  EXPECT_FALSE(ParseBlockingAtLoad("blocking"));
  EXPECT_FALSE(ParseBlockingAtLoad("blocking@load=abc"));
  EXPECT_FALSE(ParseBlockingAtLoad("blocking@load="));
}

TEST_P(ServerTest, WebUiIsServedFromTheBinary) {
  auto index = client_->Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(index->body.find("<html"), std::string::npos);
  auto js = client_->Get("/static/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_NE(js->get_header_value("Content-Type").find("javascript"), std::string::npos);
  EXPECT_EQ(client_->Get("/static/nope.js")->status, 404);
  Reply health = Get("/api/eonops/health");
  EXPECT_EQ(health.body["status"], "ok");
}

class AuthTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (IsSkipped()) return;
    std::ofstream f(dir_ / "tokens");
    f << "# trainers\n"
      << "alice 0123456789abcdef0123\n"
      << "fedcba9876543210fedc   # unnamed\n";
    f.close();
    StartServer(dir_ / "tokens");
  }
  static httplib::Headers Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
};

TEST_P(AuthTest, WritesNeedATokenReadsStayOpen) {
  Reply anonymous = Post(Api("experiments/create"), {{"name", "x"}});
  ExpectError(anonymous, 401, "UNAUTHENTICATED");
  ExpectError(Post(Api("experiments/create"), {{"name", "x"}}, Bearer("wrong-token-wrong-token")),
              401, "UNAUTHENTICATED");
  ExpectError(Post(Api("experiments/create"), {{"name", "x"}},
                   {{"Authorization", "Basic YWxpY2U6cGFzcw=="}}),
              401, "UNAUTHENTICATED");
  Reply ok = Post(Api("experiments/create"), {{"name", "x"}}, Bearer("0123456789abcdef0123"));
  EXPECT_EQ(ok.status, 200) << ok.text;
  EXPECT_EQ(Post(Api("experiments/create"), {{"name", "y"}}, Bearer("fedcba9876543210fedc")).status,
            200);
  // Reads, including the POST-shaped searches, need nothing.
  EXPECT_EQ(Get(Api("experiments/get-by-name"), {{"experiment_name", "x"}}).status, 200);
  EXPECT_EQ(Post(Api("runs/search"), {{"experiment_ids", {"0"}}}).status, 200);
  EXPECT_EQ(Post(Api("experiments/search"), Json::object()).status, 200);
  EXPECT_EQ(client_->Get("/")->status, 200);
  // Artifact uploads are writes too.
  std::string run_id =
      Post(Api("runs/create"), {{"experiment_id", "0"}}, Bearer("0123456789abcdef0123"))
          .body["run"]["info"]["run_id"];
  auto put =
      client_->Put(("/api/2.0/mlflow-artifacts/artifacts/0/" + run_id + "/artifacts/f").c_str(),
                   "x", "text/plain");
  EXPECT_EQ(put->status, 401);
  ExpectError(
      Post("/api/eonops/runs/log-episodes", {{"run_id", run_id}, {"episodes", Json::array()}}), 401,
      "UNAUTHENTICATED");
}

TEST_P(AuthTest, AliasMovesRecordTheTokenHolder) {
  auto alice = Bearer("0123456789abcdef0123");
  Post(Api("registered-models/create"), {{"name", "m"}}, alice);
  Post(Api("model-versions/create"), {{"name", "m"}, {"source", "s"}}, alice);
  Post(Api("registered-models/alias"), {{"name", "m"}, {"alias", "champion"}, {"version", "1"}},
       alice);
  Reply history = Get("/api/eonops/registered-models/alias-history", {{"name", "m"}});
  ASSERT_EQ(history.body["events"].size(), 1u);
  EXPECT_EQ(history.body["events"][0]["changed_by"], "alice");
}

TEST(TokenFileTest, RejectsEmptyShortAndMalformedFiles) {
  testing::TempDir dir;
  auto write = [&](const std::string& text) {
    std::ofstream f(dir / "t");
    f << text;
  };
  write("# nothing\n\n");
  EXPECT_THROW(LoadTokenFile(dir / "t"), TrackingError);
  write("short\n");
  EXPECT_THROW(LoadTokenFile(dir / "t"), TrackingError);
  write("a b 0123456789abcdef\n");
  EXPECT_THROW(LoadTokenFile(dir / "t"), TrackingError);
  EXPECT_THROW(LoadTokenFile(dir / "missing"), TrackingError);
  write("bob 0123456789abcdef\n");
  auto tokens = LoadTokenFile(dir / "t");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].user, "bob");
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerTest, testing::kBothBackends, testing::BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, AuthTest, testing::kBothBackends, testing::BackendName);

}  // namespace
}  // namespace eonops::tracking
