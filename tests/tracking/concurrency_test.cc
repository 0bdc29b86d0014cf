// Several trainers at once (threads, processes, HTTP clients) never see "database is locked"
// (or, on PostgreSQL, a serialization failure), and a process killed with SIGKILL mid-logging
// leaves a sound database with whole batches. Each test runs on SQLite and on PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/tracking/test_util.h"
#include "tracking/errors.h"
#include "tracking/http_client.h"
#include "tracking/db.h"

namespace eonops::tracking {
namespace {

using testing::TempDir;

constexpr int kBatch = 100;

std::vector<Metric> Batch(int round) {
  std::vector<Metric> b;
  for (int i = 0; i < kBatch; ++i)
    b.push_back(
        {"m" + std::to_string(i % 5), double(round * kBatch + i), NowMs(), round * kBatch + i});
  return b;
}

int64_t CountPoints(TrackingStore& store, const std::string& run_id) {
  int64_t n = 0;
  for (int k = 0; k < 5; ++k)
    n += store.GetMetricHistory(run_id, "m" + std::to_string(k)).items.size();
  return n;
}

class ConcurrencyTest : public testing::DatabaseTest {};

TEST_P(ConcurrencyTest, ThreadsSharingOneStoreNeverSeeLockErrors) {
  TrackingStore store(db_->Options());
  constexpr int kThreads = 8, kRounds = 40;
  std::vector<std::string> run_ids(kThreads);
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex error_mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        std::string exp = store.GetOrCreateExperiment("shared");
        CreateRunOptions o;
        o.experiment_id = exp;
        o.run_name = "thread-" + std::to_string(t);
        run_ids[t] = store.CreateRun(o).info.run_id;
        for (int r = 0; r < kRounds; ++r) {
          store.LogBatch(run_ids[t], Batch(r), {{"p" + std::to_string(r), "v"}},
                         {{"round", std::to_string(r)}});
          Episode e;
          e.episode = r;
          e.reward = r;
          store.LogEpisode(run_ids[t], e);
          // Readers interleave with the writers (WAL: they never block them).
          store.GetRun(run_ids[t]);
        }
        store.EndRun(run_ids[t]);
      } catch (const std::exception& e) {
        ++failures;
        std::lock_guard<std::mutex> lock(error_mutex);
        first_error = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures, 0) << first_error;
  EXPECT_EQ(store.GetExperimentByName("shared")->experiment_id, "1");  // created once
  for (const auto& id : run_ids) {
    EXPECT_EQ(CountPoints(store, id), kRounds * kBatch);
    EXPECT_EQ(store.GetRun(id).data.params.size(), static_cast<size_t>(kRounds));
    EXPECT_EQ(store.CountEpisodes(id), kRounds);
  }
  EXPECT_EQ(store.IntegrityCheck(), "ok");
}

TEST_P(ConcurrencyTest, ProcessesWritingTheSameDatabaseNeverSeeLockErrors) {
  const StoreOptions options = db_->Options();
  constexpr int kProcesses = 6, kRounds = 30;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: its own store (connections must not cross a fork), the same file. Every process
      // races to create the same experiment and to apply the migrations of a fresh file.
      int code = 0;
      try {
        TrackingStore store(options);
        CreateRunOptions o;
        o.experiment_id = store.GetOrCreateExperiment("trainers");
        o.run_name = "proc-" + std::to_string(p);
        std::string id = store.CreateRun(o).info.run_id;
        for (int r = 0; r < kRounds; ++r) store.LogBatch(id, Batch(r), {}, {});
        store.EndRun(id);
      } catch (const TrackingError& e) {
        fprintf(stderr, "child %d: %s: %s\n", p, ErrorCodeName(e.code()), e.what());
        code = 1;
      } catch (const std::exception& e) {
        fprintf(stderr, "child %d: %s\n", p, e.what());
        code = 1;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer process failed";
  }
  TrackingStore store(options);
  auto exp = store.GetExperimentByName("trainers");
  ASSERT_TRUE(exp);
  SearchRunsRequest r;
  r.experiment_ids = {exp->experiment_id};
  auto runs = store.SearchRuns(r).items;
  ASSERT_EQ(runs.size(), static_cast<size_t>(kProcesses));
  for (const auto& run : runs) {
    EXPECT_EQ(run.info.status, RunStatus::kFinished);
    EXPECT_EQ(CountPoints(store, run.info.run_id), kRounds * kBatch);
  }
  EXPECT_EQ(store.IntegrityCheck(), "ok");
}

TEST_P(ConcurrencyTest, HttpClientsLoggingAtOnceAllSucceed) {
  TrackingStore store(db_->Options());
  ServerOptions so;
  so.port = 0;
  TrackingServer server(store, so);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.Start());
  constexpr int kClients = 8, kRounds = 25;
  std::atomic<int> failures{0};
  std::vector<std::string> run_ids(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      try {
        TrackingHttpClient client(url);
        CreateRunOptions o;
        o.experiment_id = client.GetOrCreateExperiment("http-trainers");
        run_ids[c] = client.CreateRun(o).info.run_id;
        for (int r = 0; r < kRounds; ++r) client.LogBatch(run_ids[c], Batch(r), {}, {});
        client.EndRun(run_ids[c]);
      } catch (const std::exception& e) {
        fprintf(stderr, "client %d: %s\n", c, e.what());
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  server.Stop();
  ASSERT_EQ(failures, 0);
  for (const auto& id : run_ids) EXPECT_EQ(CountPoints(store, id), kRounds * kBatch);
  SearchExperimentsRequest q;
  q.filter = "name = 'http-trainers'";
  EXPECT_EQ(store.SearchExperiments(q).items.size(), 1u);  // the get-or-create race resolved
}

TEST_P(ConcurrencyTest, SigkillMidLoggingLeavesASoundDatabaseWithWholeBatches) {
  const StoreOptions options = db_->Options();
  std::string run_id;
  {
    TrackingStore store(options);
    run_id = store.CreateRun({}).info.run_id;
  }
  // Kill the writer at a few different moments, reopening in between.
  for (int delay_ms : {150, 400, 900}) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      TrackingStore store(options);
      for (int r = 0;; ++r) {
        store.LogBatch(run_id, Batch(r), {}, {{"last_round", std::to_string(r)}});
        Episode e;
        e.episode = 1000000LL * delay_ms + r;
        store.LogEpisode(run_id, e);
        if (r % 20 == 0) store.LogArtifactBytes(run_id, "ckpt/" + std::to_string(r), "weights");
      }
    }
    // Wait until the child is logging (under a loaded CI machine its start can take a while),
    // then let it run for `delay_ms` and kill it mid-stream.
    {
      TrackingStore watcher(options);
      const int64_t before = CountPoints(watcher, run_id);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (CountPoints(watcher, run_id) == before && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    // Straight to the database first: SQLite's file opens and passes integrity_check;
    // PostgreSQL rolled the killed client's open transaction back.
    {
      auto raw = OpenDatabase(options.db_path, {});
      EXPECT_EQ(raw->IntegrityCheck(), "ok") << "after SIGKILL at " << delay_ms << " ms";
    }
    TrackingStore store(options);
    EXPECT_EQ(store.IntegrityCheck(), "ok");
    // One transaction per batch: the points are whole batches, never a torn one.
    const int64_t points = CountPoints(store, run_id);
    EXPECT_GT(points, 0) << "the child logged nothing in " << delay_ms << " ms";
    EXPECT_EQ(points % kBatch, 0) << points << " points is not a whole number of batches";
    // And the store is still writable.
    store.LogMetric(run_id, "after_kill", 1.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ConcurrencyTest, testing::kBothBackends,
                         testing::BackendName);

}  // namespace
}  // namespace eonops::tracking
