#include "tracking/http_client.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "tests/tracking/test_util.h"
#include "tracking/errors.h"
#include "tracking/sha256.h"

namespace eonops::tracking {
namespace {

using testing::CodeOf;

class HttpClientTest : public testing::ServerFixture {
 protected:
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }
};

TEST_P(HttpClientTest, TrainerWorkflowOverHttpLandsInTheStore) {
  TrackingHttpClient client(Url());
  std::string exp = client.GetOrCreateExperiment("rmsa/nsfnet");
  EXPECT_EQ(client.GetOrCreateExperiment("rmsa/nsfnet"), exp);
  CreateRunOptions o;
  o.experiment_id = exp;
  o.run_name = "ppo-http";
  o.user_id = "trainer";
  const std::string run_id = client.CreateRun(o).info.run_id;
  client.LogParam(run_id, "lr", "3e-4");
  client.LogMetric(run_id, "loss", 0.5, 1);
  client.LogBatch(run_id, {{"reward", 10.5, 1, 1}, {"nan", std::nan(""), 1, 0}},
                  {{"gamma", "0.99"}}, {{"phase", "train"}});
  client.SetTag(run_id, "note", "x");
  client.DeleteTag(run_id, "note");
  std::vector<Episode> eps(3);
  for (int i = 0; i < 3; ++i) {
    eps[i].episode = i;
    eps[i].reward = i * 2.0;
    eps[i].blocking = 0.1;
    eps[i].extra_json = R"({"k":1})";
  }
  client.LogEpisodes(run_id, eps);
  const std::string local = dir_ / "policy.pt";
  {
    std::ofstream f(local, std::ios::binary);
    f << std::string(100000, 'w');
  }
  ArtifactFile art = client.LogArtifact(run_id, local, "model dir");  // a space: URL-encoded
  EXPECT_EQ(art.path, "model dir/policy.pt");
  EXPECT_EQ(art.sha256, Sha256Hex(std::string(100000, 'w')));
  client.EndRun(run_id);

  // What the server stored is what was sent.
  tracking::Run run = store_->GetRun(run_id);
  EXPECT_EQ(run.info.run_name, "ppo-http");
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_EQ(run.data.params.size(), 2u);
  EXPECT_EQ(store_->CountEpisodes(run_id), 3);
  EXPECT_EQ(store_->GetEpisodes(run_id).at(2).reward, 4.0);
  EXPECT_EQ(store_->ReadArtifact(run_id, "model dir/policy.pt"), std::string(100000, 'w'));

  // And reads through the client agree.
  tracking::Run via_http = client.GetRun(run_id);
  EXPECT_EQ(via_http.data.metrics.size(), 3u);
  for (const auto& m : via_http.data.metrics) {
    if (m.key == "nan") {
      EXPECT_TRUE(std::isnan(m.value));
    }
  }
  EXPECT_EQ(client.GetMetricHistory(run_id, "loss").items.at(0).value, 0.5);
  EXPECT_EQ(client.GetEpisodes(run_id).size(), 3u);
  EXPECT_EQ(client.GetEpisodes(run_id).at(1).extra_json, R"({"k":1})");
  EXPECT_EQ(client.ReadArtifact(run_id, "model dir/policy.pt").size(), 100000u);
  auto listed = client.ListArtifacts(run_id);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].is_dir);
  SearchRunsRequest q;
  q.experiment_ids = {exp};
  q.filter = "metrics.reward > 10";
  EXPECT_EQ(client.SearchRuns(q).items.size(), 1u);
}

TEST_P(HttpClientTest, RegistryOverHttp) {
  TrackingHttpClient client(Url(), HttpClientOptions{"", "ops-bot", 10, 2});
  const std::string run_id = client.CreateRun({}).info.run_id;
  client.CreateRegisteredModel("energy-cost239", "energy-aware RMSA");
  ModelVersion v1 = client.CreateModelVersion("energy-cost239", "runs:/" + run_id + "/p", run_id);
  ModelVersion v2 = client.CreateModelVersion("energy-cost239", "runs:/" + run_id + "/q", run_id);
  EXPECT_EQ(v2.version, 2);
  client.SetAlias("energy-cost239", "champion", v1.version);
  client.SetAlias("energy-cost239", "champion", v2.version);
  EXPECT_EQ(client.GetModelVersionByAlias("energy-cost239", "champion").source,
            "runs:/" + run_id + "/q");
  EXPECT_EQ(client.TransitionStage("energy-cost239", 2, Stage::kStaging, false).current_stage,
            Stage::kStaging);
  auto history = client.GetAliasHistory("energy-cost239");
  ASSERT_EQ(history.size(), 2u) << store_->GetAliasHistory("energy-cost239").size();
  EXPECT_EQ(history[1].from_version, 1);
  EXPECT_EQ(history[1].to_version, 2);
  EXPECT_EQ(history[1].changed_by, "ops-bot");  // X-Eonops-User
  client.DeleteAlias("energy-cost239", "champion");
  EXPECT_EQ(CodeOf([&] { client.GetModelVersionByAlias("energy-cost239", "champion"); }),
            ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(client.GetRegisteredModel("energy-cost239").latest_versions.size(), 2u);
}

TEST_P(HttpClientTest, ServerErrorsComeBackWithTheirCodes) {
  TrackingHttpClient client(Url());
  EXPECT_EQ(CodeOf([&] { client.GetRun("ffffffffffffffffffffffffffffffff"); }),
            ErrorCode::kResourceDoesNotExist);
  EXPECT_FALSE(client.GetExperimentByName("missing").has_value());
  client.CreateExperiment("dup");
  EXPECT_EQ(CodeOf([&] { client.CreateExperiment("dup"); }), ErrorCode::kResourceAlreadyExists);
  std::string run = client.CreateRun({}).info.run_id;
  std::vector<Metric> too_many(1001, Metric{"m", 1, 1, 0});
  EXPECT_EQ(CodeOf([&] { client.LogBatch(run, too_many, {}, {}); }),
            ErrorCode::kInvalidParameterValue);
}

// The trainer's calls, written once against either tracker: TrackingStore (in-process) and
// TrackingHttpClient (--tracking URL) take the same calls, so an adapter is a template.
template <typename Tracker>
std::string TrainAndRegister(Tracker& tracker, const std::string& model) {
  CreateRunOptions o;
  o.experiment_id = tracker.GetOrCreateExperiment("parity");
  o.run_name = model + "-run";
  const std::string run = tracker.CreateRun(o).info.run_id;
  tracker.LogParam(run, "lr", "3e-4");
  tracker.LogMetric(run, "loss", 0.25, 7);
  tracker.LogBatch(run, {{"reward", 1.5, 1, 7}}, {{"gamma", "0.99"}}, {{"phase", "done"}});
  Episode e;
  e.episode = 0;
  e.reward = 2.0;
  tracker.LogEpisodes(run, {e});
  tracker.SetTag(run, "topology", "nsfnet");
  tracker.LogArtifactBytes(run, "policy.bin", "weights");
  tracker.EndRun(run);
  tracker.CreateRegisteredModel(model);
  ModelVersion v = tracker.CreateModelVersion(model, "runs:/" + run + "/policy.bin", run);
  tracker.SetAlias(model, "champion", v.version);
  return tracker.GetModelVersionByAlias(model, "champion").run_id;
}

TEST_P(HttpClientTest, StoreAndHttpClientTakeTheSameCalls) {
  TrackingHttpClient client(Url());
  const std::string via_http = TrainAndRegister(client, "over-http");
  const std::string in_process = TrainAndRegister(*store_, "in-process");
  for (const std::string& run : {via_http, in_process}) {
    tracking::Run r = store_->GetRun(run);
    EXPECT_EQ(r.info.status, RunStatus::kFinished);
    EXPECT_EQ(r.data.params.size(), 2u);
    EXPECT_EQ(r.data.metrics.size(), 2u);
    EXPECT_EQ(store_->CountEpisodes(run), 1);
    EXPECT_EQ(store_->ReadArtifact(run, "policy.bin"), "weights");
  }
}

TEST(HttpClientOfflineTest, UnreachableServerIsTemporarilyUnavailable) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  TrackingHttpClient client("http://127.0.0.1:1", HttpClientOptions{"", "", 2, 1});
  EXPECT_EQ(CodeOf([&] { client.GetExperiment("0"); }), ErrorCode::kTemporarilyUnavailable);
}

class HttpClientAuthTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (IsSkipped()) return;
    std::ofstream(dir_ / "tokens") << "trainer 0123456789abcdef0123456789abcdef\n";
    StartServer(dir_ / "tokens");
  }
};

TEST_P(HttpClientAuthTest, TokenIsSentAndRequired) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port_);
  TrackingHttpClient anonymous(url);
  EXPECT_EQ(CodeOf([&] { anonymous.CreateExperiment("x"); }), ErrorCode::kUnauthenticated);
  EXPECT_EQ(anonymous.GetExperiment("0").name, "Default");  // reads are open
  HttpClientOptions o;
  o.token = "0123456789abcdef0123456789abcdef";
  TrackingHttpClient trainer(url, o);
  EXPECT_EQ(trainer.CreateExperiment("x"), "1");
  std::string run = trainer.CreateRun({}).info.run_id;
  EXPECT_EQ(CodeOf([&] { anonymous.LogArtifactBytes(run, "a.txt", "x"); }),
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(trainer.LogArtifactBytes(run, "a.txt", "x").sha256, Sha256Hex("x"));
}

INSTANTIATE_TEST_SUITE_P(Backends, HttpClientTest, testing::kBothBackends, testing::BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, HttpClientAuthTest, testing::kBothBackends, testing::BackendName);

}  // namespace
}  // namespace eonops::tracking
