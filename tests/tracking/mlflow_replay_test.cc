// Replays, request for request, what the stock MLflow Python client (2.x, fluent API) sends
// for this script, and checks every answer is what that client parses:
//
//   mlflow.set_tracking_uri("http://127.0.0.1:<port>")
//   mlflow.set_experiment("eonops-replay")
//   mlflow.start_run(run_name="ppo-replay")
//   mlflow.log_param("lr", 0.0003)
//   mlflow.log_metric("loss", 0.5)
//   mlflow.log_metrics({"reward": 12.5, "blocking": 0.02}, step=1)
//   mlflow.set_tags({"topology": "nsfnet", "use_case": "rmsa"})
//   mlflow.end_run()
//   mlflow.search_runs()
//
// Sources (mlflow/mlflow): tracking/fluent.py (set_experiment: get-by-name, then create and get
// when the name is unknown; start_run: create_run with the context tags; log_metrics and
// set_tags: log_batch; end_run: set_terminated = runs/update; search_runs: pages of
// NUM_RUNS_PER_PAGE_PANDAS = 10000 with filter "" and ACTIVE_ONLY), store/tracking/rest_store.py
// (which message goes where; run_id and run_uuid both set), utils/rest_utils.py (call_endpoint:
// GET sends the message as query parameters, anything else as a JSON body; a non-200 answer is
// raised as MlflowException with the body's error_code, and get_experiment_by_name turns
// RESOURCE_DOES_NOT_EXIST into None), utils/proto_json_utils.py (message_to_json keeps int64
// fields as JSON numbers, leaves unset fields and empty lists out).
#include <gtest/gtest.h>

#include <regex>

#include "tests/tracking/test_util.h"

namespace eonops::tracking {
namespace {

using testing::Json;
using testing::Reply;

class MlflowReplayTest : public testing::ServerFixture {
 protected:
  // The headers the Python client sends (requests adds Content-Type for json=).
  httplib::Headers ClientHeaders() const {
    return {{"User-Agent", "mlflow-python-client/2.9.2"}, {"Accept", "*/*"}};
  }
  Reply PostJson(const std::string& endpoint, const std::string& body) {
    return testing::ToReply(client_->Post(("/api/2.0/mlflow/" + endpoint).c_str(), ClientHeaders(),
                                          body, "application/json"));
  }
  Reply GetQuery(const std::string& endpoint, const httplib::Params& params) {
    return testing::ToReply(
        client_->Get(("/api/2.0/mlflow/" + endpoint).c_str(), params, ClientHeaders()));
  }
};

TEST_P(MlflowReplayTest, FluentClientSessionRoundTrips) {
  // --- mlflow.set_experiment("eonops-replay") ----------------------------------------------
  // 1. GetExperimentByName: GET with the message as query parameters; 404 means "create it".
  Reply by_name = GetQuery("experiments/get-by-name", {{"experiment_name", "eonops-replay"}});
  EXPECT_EQ(by_name.status, 404);
  // The client compares error_code to RESOURCE_DOES_NOT_EXIST to return None; anything else
  // would be raised to the user.
  EXPECT_EQ(by_name.body["error_code"], "RESOURCE_DOES_NOT_EXIST");
  EXPECT_TRUE(by_name.body["message"].is_string());

  // 2. CreateExperiment: tags and artifact_location are unset, so left out of the body.
  Reply created = PostJson("experiments/create", R"({"name": "eonops-replay"})");
  ASSERT_EQ(created.status, 200) << created.text;
  ASSERT_TRUE(created.body["experiment_id"].is_string());  // proto string field
  const std::string experiment_id = created.body["experiment_id"];

  // 3. GetExperiment, then set_experiment checks lifecycle_stage == "active".
  Reply exp = GetQuery("experiments/get", {{"experiment_id", experiment_id}});
  ASSERT_EQ(exp.status, 200) << exp.text;
  EXPECT_EQ(exp.body["experiment"]["experiment_id"], experiment_id);
  EXPECT_EQ(exp.body["experiment"]["name"], "eonops-replay");
  EXPECT_EQ(exp.body["experiment"]["lifecycle_stage"], "active");
  EXPECT_TRUE(exp.body["experiment"]["artifact_location"].is_string());

  // --- mlflow.start_run(run_name="ppo-replay") ---------------------------------------------
  // 4. CreateRun with the tags of the context providers (user, source name and type, run name).
  const int64_t start_time = 1700000000123;
  Reply run =
      PostJson("runs/create", R"({"experiment_id": ")" + experiment_id +
                                  R"(", "user_id": "alice", "start_time": 1700000000123, "tags": [)"
                                  R"({"key": "mlflow.user", "value": "alice"}, )"
                                  R"({"key": "mlflow.source.name", "value": "train.py"}, )"
                                  R"({"key": "mlflow.source.type", "value": "LOCAL"}, )"
                                  R"({"key": "mlflow.runName", "value": "ppo-replay"}], )"
                                  R"("run_name": "ppo-replay"})");
  ASSERT_EQ(run.status, 200) << run.text;
  const Json& info = run.body["run"]["info"];
  const std::string run_id = info["run_id"];
  EXPECT_TRUE(std::regex_match(run_id, std::regex("[0-9a-f]{32}")));
  EXPECT_EQ(info["run_uuid"], run_id);
  EXPECT_EQ(info["experiment_id"], experiment_id);
  EXPECT_EQ(info["run_name"], "ppo-replay");
  EXPECT_EQ(info["user_id"], "alice");
  EXPECT_EQ(info["status"], "RUNNING");  // enum by name
  EXPECT_EQ(info["start_time"], start_time);
  EXPECT_EQ(info["lifecycle_stage"], "active");
  EXPECT_TRUE(info["artifact_uri"].is_string());
  EXPECT_TRUE(run.body["run"]["data"]["tags"].is_array());

  // --- mlflow.log_param("lr", 0.0003): the value is str()-ed by the client ------------------
  Reply param =
      PostJson("runs/log-parameter", R"({"run_uuid": ")" + run_id + R"(", "run_id": ")" + run_id +
                                         R"(", "key": "lr", "value": "0.0003"})");
  ASSERT_EQ(param.status, 200) << param.text;
  EXPECT_EQ(param.body, Json::object());

  // --- mlflow.log_metric("loss", 0.5): timestamp now, step 0 ---------------------------------
  Reply metric =
      PostJson("runs/log-metric",
               R"({"run_uuid": ")" + run_id + R"(", "run_id": ")" + run_id +
                   R"(", "key": "loss", "value": 0.5, "timestamp": 1700000000200, "step": 0})");
  ASSERT_EQ(metric.status, 200) << metric.text;
  EXPECT_EQ(metric.body, Json::object());

  // --- mlflow.log_metrics({...}, step=1): one LogBatch, empty params/tags left out -----------
  Reply metrics = PostJson(
      "runs/log-batch",
      R"({"run_id": ")" + run_id +
          R"(", "metrics": [)"
          R"({"key": "reward", "value": 12.5, "timestamp": 1700000000300, "step": 1}, )"
          R"({"key": "blocking", "value": 0.02, "timestamp": 1700000000300, "step": 1}]})");
  ASSERT_EQ(metrics.status, 200) << metrics.text;
  EXPECT_EQ(metrics.body, Json::object());

  // --- mlflow.set_tags({...}): LogBatch with tags only ---------------------------------------
  Reply tags = PostJson("runs/log-batch", R"({"run_id": ")" + run_id +
                                              R"(", "tags": [)"
                                              R"({"key": "topology", "value": "nsfnet"}, )"
                                              R"({"key": "use_case", "value": "rmsa"}]})");
  ASSERT_EQ(tags.status, 200) << tags.text;
  EXPECT_EQ(tags.body, Json::object());

  // --- mlflow.end_run(): set_terminated -> UpdateRun (run_name unset, so absent) -------------
  Reply ended =
      PostJson("runs/update", R"({"run_uuid": ")" + run_id + R"(", "run_id": ")" + run_id +
                                  R"(", "status": "FINISHED", "end_time": 1700000000400})");
  ASSERT_EQ(ended.status, 200) << ended.text;
  EXPECT_EQ(ended.body["run_info"]["run_id"], run_id);
  EXPECT_EQ(ended.body["run_info"]["status"], "FINISHED");
  EXPECT_EQ(ended.body["run_info"]["end_time"], 1700000000400);

  // --- mlflow.search_runs(): active experiment, filter "", ACTIVE_ONLY, 10,000 per page ------
  Reply search = PostJson("runs/search", R"({"experiment_ids": [")" + experiment_id +
                                             R"("], "filter": "", "run_view_type": "ACTIVE_ONLY", )"
                                             R"("max_results": 10000})");
  ASSERT_EQ(search.status, 200) << search.text;
  // A missing or empty next_page_token ends the client's pagination loop.
  EXPECT_TRUE(!search.body.contains("next_page_token") ||
              search.body["next_page_token"].get<std::string>().empty());
  ASSERT_EQ(search.body["runs"].size(), 1u);
  const Json& found = search.body["runs"][0];
  EXPECT_EQ(found["info"]["run_id"], run_id);
  EXPECT_EQ(found["info"]["status"], "FINISHED");
  EXPECT_EQ(found["info"]["end_time"], 1700000000400);
  // The pandas frame's columns: metrics.*, params.*, tags.* from run.data.
  std::map<std::string, Json> m, p, t;
  for (const Json& x : found["data"]["metrics"]) m[x["key"]] = x;
  for (const Json& x : found["data"]["params"]) p[x["key"]] = x["value"];
  for (const Json& x : found["data"]["tags"]) t[x["key"]] = x["value"];
  EXPECT_EQ(m["loss"]["value"], 0.5);
  EXPECT_EQ(m["loss"]["step"], 0);
  EXPECT_EQ(m["reward"]["value"], 12.5);
  EXPECT_EQ(m["reward"]["step"], 1);
  EXPECT_EQ(m["reward"]["timestamp"], 1700000000300);
  EXPECT_EQ(m["blocking"]["value"], 0.02);
  EXPECT_EQ(p["lr"], "0.0003");
  EXPECT_EQ(t["topology"], "nsfnet");
  EXPECT_EQ(t["use_case"], "rmsa");
  EXPECT_EQ(t["mlflow.runName"], "ppo-replay");
  EXPECT_EQ(t["mlflow.source.type"], "LOCAL");
  EXPECT_EQ(t["mlflow.user"], "alice");

  // A second set_experiment("eonops-replay") in a new process finds it by name.
  Reply again = GetQuery("experiments/get-by-name", {{"experiment_name", "eonops-replay"}});
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body["experiment"]["experiment_id"], experiment_id);
}

TEST_P(MlflowReplayTest, ClientWithoutAnExperimentUsesTheDefaultOne) {
  // start_run() with no experiment set: the client sends experiment_id "0".
  Reply run = PostJson("runs/create",
                       R"({"experiment_id": "0", "user_id": "bob", "start_time": 1, "tags": []})");
  ASSERT_EQ(run.status, 200) << run.text;
  EXPECT_EQ(run.body["run"]["info"]["experiment_id"], "0");
  EXPECT_FALSE(run.body["run"]["info"]["run_name"].get<std::string>().empty());  // generated
}

TEST_P(MlflowReplayTest, OlderClientsSendingInt64AsStringsAreUnderstood) {
  // MLflow < 1.29 sent int64 fields as proto JSON strings.
  Reply run = PostJson("runs/create",
                       R"({"experiment_id": "0", "start_time": "1700000000000", "tags": []})");
  ASSERT_EQ(run.status, 200) << run.text;
  EXPECT_EQ(run.body["run"]["info"]["start_time"], 1700000000000);
  const std::string run_id = run.body["run"]["info"]["run_id"];
  Reply metric = PostJson("runs/log-metric",
                          R"({"run_id": ")" + run_id +
                              R"(", "key": "m", "value": 1.5, "timestamp": "5", "step": "3"})");
  EXPECT_EQ(metric.status, 200) << metric.text;
}

INSTANTIATE_TEST_SUITE_P(Backends, MlflowReplayTest, testing::kBothBackends, testing::BackendName);

}  // namespace
}  // namespace eonops::tracking
