// Several tracking servers on one database behave as one: what one replica writes, the
// other serves at once; races between replicas resolve as within one server; artifacts go
// through a shared directory. On PostgreSQL (the deployment this is for) and, for
// comparison, on one SQLite file (replicas on one host).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "tests/tracking/test_util.h"
#include "tracking/http_client.h"

namespace eonops::tracking {
namespace {

using testing::Json;
using testing::Reply;

class ReplicaTest : public testing::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (IsSkipped()) return;
    for (int r = 0; r < 2; ++r) {
      stores_.push_back(std::make_unique<TrackingStore>(db_->Options()));
      ServerOptions so;
      so.port = 0;
      servers_.push_back(std::make_unique<TrackingServer>(*stores_.back(), so));
      const int port = servers_.back()->Start();
      urls_.push_back("http://127.0.0.1:" + std::to_string(port));
      clients_.push_back(std::make_unique<httplib::Client>("127.0.0.1", port));
    }
  }
  void TearDown() override {
    for (auto& s : servers_) s->Stop();
  }
  Reply Post(int replica, const std::string& endpoint, const Json& body) {
    return testing::ToReply(clients_[replica]->Post(("/api/2.0/mlflow/" + endpoint).c_str(),
                                                    body.dump(), "application/json"));
  }
  Reply Get(int replica, const std::string& endpoint, const httplib::Params& params) {
    return testing::ToReply(
        clients_[replica]->Get(("/api/2.0/mlflow/" + endpoint).c_str(), params, {}));
  }

  std::vector<std::unique_ptr<TrackingStore>> stores_;
  std::vector<std::unique_ptr<TrackingServer>> servers_;
  std::vector<std::string> urls_;
  std::vector<std::unique_ptr<httplib::Client>> clients_;
};

TEST_P(ReplicaTest, WhatOneReplicaWritesTheOtherServes) {
  Reply exp = Post(0, "experiments/create", {{"name", "shared"}});
  ASSERT_EQ(exp.status, 200) << exp.text;
  const std::string exp_id = exp.body["experiment_id"];
  Reply run = Post(1, "runs/create", {{"experiment_id", exp_id}, {"start_time", 1}});
  ASSERT_EQ(run.status, 200) << run.text;
  const std::string run_id = run.body["run"]["info"]["run_id"];
  // Log alternately through both replicas.
  for (int step = 0; step < 10; ++step) {
    Reply r = Post(step % 2, "runs/log-metric",
                   {{"run_id", run_id}, {"key", "loss"}, {"value", 1.0 / (step + 1)},
                    {"timestamp", 100 + step}, {"step", step}});
    ASSERT_EQ(r.status, 200) << r.text;
  }
  Reply history = Get(0, "metrics/get-history", {{"run_id", run_id}, {"metric_key", "loss"}});
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.body["metrics"].size(), 10u);
  Reply latest = Get(1, "runs/get", {{"run_id", run_id}});
  EXPECT_DOUBLE_EQ(latest.body["run"]["data"]["metrics"][0]["value"].get<double>(), 0.1);
  // Params are write-once across replicas too.
  EXPECT_EQ(Post(0, "runs/log-parameter", {{"run_id", run_id}, {"key", "lr"}, {"value", "1e-3"}})
                .status,
            200);
  EXPECT_EQ(Post(1, "runs/log-parameter", {{"run_id", run_id}, {"key", "lr"}, {"value", "2e-3"}})
                .body.value("error_code", ""),
            "INVALID_PARAMETER_VALUE");
  // The registry: a version made on one, the alias moved on the other, read back on the first.
  ASSERT_EQ(Post(0, "registered-models/create", {{"name", "rmsa-nsfnet"}}).status, 200);
  Reply v = Post(1, "model-versions/create",
                 {{"name", "rmsa-nsfnet"}, {"source", "runs:/" + run_id + "/policy"},
                  {"run_id", run_id}});
  ASSERT_EQ(v.status, 200) << v.text;
  ASSERT_EQ(Post(1, "registered-models/alias",
                 {{"name", "rmsa-nsfnet"}, {"alias", "champion"}, {"version", "1"}})
                .status,
            200);
  Reply champion = Get(0, "registered-models/alias", {{"name", "rmsa-nsfnet"}, {"alias", "champion"}});
  ASSERT_EQ(champion.status, 200) << champion.text;
  EXPECT_EQ(champion.body["model_version"]["version"], "1");
  // Artifacts: uploaded through one replica, downloaded through the other (shared directory).
  TrackingHttpClient up(urls_[0]), down(urls_[1]);
  const std::string local = dir_ / "policy.pt";
  std::ofstream(local) << "weights";
  up.LogArtifact(run_id, local, "policy");
  EXPECT_EQ(down.ReadArtifact(run_id, "policy/policy.pt"), "weights");
}

TEST_P(ReplicaTest, RacesBetweenReplicasResolveAsInOneServer) {
  // Eight trainers, four per replica, start at once: one experiment, eight runs, all points.
  constexpr int kTrainers = 8, kBatches = 10;
  std::atomic<int> failures{0};
  std::vector<std::string> run_ids(kTrainers);
  std::vector<std::thread> threads;
  for (int t = 0; t < kTrainers; ++t) {
    threads.emplace_back([&, t] {
      try {
        TrackingHttpClient client(urls_[t % 2]);
        CreateRunOptions o;
        o.experiment_id = client.GetOrCreateExperiment("race");
        run_ids[t] = client.CreateRun(o).info.run_id;
        for (int b = 0; b < kBatches; ++b) {
          std::vector<Metric> batch;
          for (int i = 0; i < 100; ++i) batch.push_back({"m", double(i), NowMs(), b * 100 + i});
          client.LogBatch(run_ids[t], batch, {}, {});
        }
        client.EndRun(run_ids[t]);
      } catch (const std::exception& e) {
        fprintf(stderr, "trainer %d: %s\n", t, e.what());
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures, 0);
  SearchExperimentsRequest q;
  q.filter = "name = 'race'";
  auto experiments = stores_[1]->SearchExperiments(q).items;
  ASSERT_EQ(experiments.size(), 1u);
  SearchRunsRequest r;
  r.experiment_ids = {experiments[0].experiment_id};
  EXPECT_EQ(stores_[0]->SearchRuns(r).items.size(), static_cast<size_t>(kTrainers));
  for (const auto& id : run_ids)
    EXPECT_EQ(stores_[1]->GetMetricHistory(id, "m").items.size(),
              static_cast<size_t>(kBatches * 100));
}

INSTANTIATE_TEST_SUITE_P(Backends, ReplicaTest, testing::kBothBackends, testing::BackendName);

}  // namespace
}  // namespace eonops::tracking
