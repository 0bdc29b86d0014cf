// `CopyDatabase` (tracking migrate): a store with every kind of record goes from SQLite to
// PostgreSQL and back row for row, the counts are verified, and the copy is a working store.
#include "tracking/copy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "tests/tracking/test_util.h"
#include "tracking/errors.h"
#include "tracking/schema.h"
#include "tracking/store.h"

namespace eonops::tracking {
namespace {

using testing::Backend;
using testing::TempDir;
using testing::TestDatabase;

// Every row of every table, each value spelled with its kind (doubles by their bits), sorted:
// two databases hold the same data exactly when their dumps are equal.
std::map<std::string, std::vector<std::string>> Dump(const std::string& location) {
  auto db = OpenDatabase(location, {});
  std::map<std::string, std::vector<std::string>> out;
  RunTransaction(*db, TxMode::kRead, [&] {
    for (const std::string& table : SchemaTables()) {
      auto st = db->Prepare("SELECT * FROM " + table, false);
      std::vector<std::string>& rows = out[table];
      while (st.Step()) {
        std::string row;
        for (int c = 0; c < st.ColumnCount(); ++c) {
          row += st.ColumnName(c) + "=";
          switch (st.Kind(c)) {
            case ColumnKind::kNull:
              row += "null";
              break;
            case ColumnKind::kInteger:
              row += "i" + std::to_string(st.Int64(c));
              break;
            case ColumnKind::kReal: {
              const double d = st.Double(c);
              uint64_t bits;
              std::memcpy(&bits, &d, sizeof bits);
              row += "r" + std::to_string(bits);
              break;
            }
            case ColumnKind::kText:
              row += "t" + st.Text(c);
              break;
          }
          row += ";";
        }
        rows.push_back(row);
      }
      std::sort(rows.begin(), rows.end());
    }
  });
  return out;
}

// A store with something in every table.
void Fill(TrackingStore& store, const std::string& scratch_dir) {
  const std::string exp = store.CreateExperiment("rmsa/nsfnet", "", {{"team", "optical"}});
  std::vector<std::string> runs;
  for (int i = 0; i < 3; ++i) {
    CreateRunOptions o;
    o.experiment_id = exp;
    o.run_name = "ppo-seed" + std::to_string(i);
    o.user_id = "alice";
    o.tags = {{"topology", "nsfnet"}};
    const std::string id = store.CreateRun(o).info.run_id;
    runs.push_back(id);
    std::vector<Metric> metrics;
    for (int s = 0; s < 250; ++s)
      metrics.push_back({"reward", 0.1 * s - i, 1700000000000 + s, s});
    metrics.push_back({"blocking@load=250", 0.0397, 5, 0});
    metrics.push_back({"odd", std::nan(""), 6, 1});
    metrics.push_back({"odd", std::numeric_limits<double>::infinity(), 7, 2});
    metrics.push_back({"tiny", 4.9e-324, 8, 0});
    store.LogBatch(id, metrics, {{"lr", "3e-4"}, {"algo", "ppo"}}, {{"note", "ünïcode ✓"}});
    std::vector<Episode> eps;
    for (int e = 0; e < 120; ++e) {
      Episode ep;
      ep.episode = e;
      ep.reward = e % 7 == 0 ? std::nan("") : -1.5 * e;
      ep.length = 100 + e;
      ep.blocking = 0.01 * (e % 10);
      ep.extra_json = R"({"power_w":)" + std::to_string(300 + e) + "}";
      eps.push_back(ep);
    }
    store.LogEpisodes(id, eps);
    store.LogArtifactBytes(id, "policy/model.pt", "weights-" + std::to_string(i));
    if (i < 2) store.EndRun(id);
  }
  store.DeleteRun(runs[2]);
  store.CreateRegisteredModel("rmsa-nsfnet", "RMSA policy", {{"owner", "noc"}});
  for (int i = 0; i < 2; ++i)
    store.CreateModelVersion("rmsa-nsfnet", "runs:/" + runs[i] + "/policy", runs[i], "",
                             {{"seed", std::to_string(i)}});
  store.SetAlias("rmsa-nsfnet", "champion", 1, "alice");
  store.SetAlias("rmsa-nsfnet", "champion", 2, "bob");
  store.SetAlias("rmsa-nsfnet", "challenger", 1, "bob");
  store.TransitionStage("rmsa-nsfnet", 2, Stage::kProduction, true, "bob");
  (void)scratch_dir;
}

class CopyTest : public ::testing::Test {
 protected:
  void SetUp() override { EONOPS_SKIP_UNLESS_BACKEND(Backend::kPostgres); }
  TempDir dir_;
};

TEST_F(CopyTest, SqliteToPostgresAndBackIsRowForRowAndVerified) {
  TempDir a, b;
  TestDatabase sqlite(Backend::kSqlite, a.path());
  TestDatabase postgres(Backend::kPostgres, dir_.path());
  TestDatabase back(Backend::kSqlite, b.path());
  {
    TrackingStore store(sqlite.Options());
    Fill(store, a.path());
  }
  std::vector<std::string> progress;
  {
    auto from = OpenDatabase(sqlite.location(), {});
    auto to = OpenDatabase(postgres.location(), {});
    CopyReport report = CopyDatabase(*from, *to, [&](const std::string& t, int64_t) {
      progress.push_back(t);
    });
    EXPECT_TRUE(report.verified);
    ASSERT_EQ(report.tables.size(), SchemaTables().size());
    for (const TableCopy& t : report.tables) EXPECT_EQ(t.source_rows, t.destination_rows) << t.table;
    auto rows = [&](const std::string& table) {
      for (const TableCopy& t : report.tables)
        if (t.table == table) return t.source_rows;
      return int64_t{-1};
    };
    EXPECT_EQ(rows("metrics"), 3 * 254);
    EXPECT_EQ(rows("episodes"), 3 * 120);
    EXPECT_EQ(rows("alias_history"), 3);
    EXPECT_EQ(rows("stage_history"), 1);
    EXPECT_EQ(progress, SchemaTables());
  }
  EXPECT_EQ(Dump(sqlite.location()), Dump(postgres.location()));
  {
    auto from = OpenDatabase(postgres.location(), {});
    auto to = OpenDatabase(back.location(), {});
    EXPECT_TRUE(CopyDatabase(*from, *to).verified);
  }
  EXPECT_EQ(Dump(sqlite.location()), Dump(back.location()));

  // The copy is a working store: reads as the original, takes new rows (its id sequences
  // continue after the copied ids), and its artifacts resolve in the shared artifact root.
  StoreOptions o = postgres.Options();
  o.artifact_root = sqlite.Options().artifact_root;
  TrackingStore store(o);
  auto exp = store.GetExperimentByName("rmsa/nsfnet");
  ASSERT_TRUE(exp);
  SearchRunsRequest r;
  r.experiment_ids = {exp->experiment_id};
  r.view = ViewType::kAll;
  r.order_by = {"attributes.run_name ASC"};
  auto runs = store.SearchRuns(r).items;
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].info.run_name, "ppo-seed0");
  EXPECT_EQ(runs[2].info.lifecycle_stage, "deleted");
  auto odd = store.GetMetricHistory(runs[0].info.run_id, "odd").items;
  ASSERT_EQ(odd.size(), 2u);
  EXPECT_TRUE(std::isnan(odd[0].value));
  EXPECT_TRUE(std::isinf(odd[1].value));
  EXPECT_EQ(store.GetMetricHistory(runs[0].info.run_id, "tiny").items[0].value, 4.9e-324);
  EXPECT_EQ(store.ReadArtifact(runs[1].info.run_id, "policy/model.pt"), "weights-1");
  EXPECT_EQ(store.GetModelVersionByAlias("rmsa-nsfnet", "champion").version, 2);
  CreateRunOptions fresh;
  fresh.experiment_id = exp->experiment_id;
  const std::string id = store.CreateRun(fresh).info.run_id;
  store.LogMetric(id, "reward", 1.0);
  store.SetAlias("rmsa-nsfnet", "champion", 1, "carol");
  auto history = store.GetAliasHistory("rmsa-nsfnet", "champion");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history.back().changed_by, "carol");
  EXPECT_EQ(CountMissingArtifactBlobs(*OpenDatabase(postgres.location(), {}),
                                      sqlite.Options().artifact_root),
            0);
}

TEST_F(CopyTest, RefusesADestinationThatAlreadyHoldsData) {
  TempDir a;
  TestDatabase sqlite(Backend::kSqlite, a.path());
  TestDatabase postgres(Backend::kPostgres, dir_.path());
  { TrackingStore(sqlite.Options()).CreateExperiment("one"); }
  { TrackingStore(postgres.Options()).CreateExperiment("already-here"); }
  auto from = OpenDatabase(sqlite.location(), {});
  auto to = OpenDatabase(postgres.location(), {});
  try {
    CopyDatabase(*from, *to);
    FAIL() << "copied into a non-empty database";
  } catch (const TrackingError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidParameterValue);
    EXPECT_NE(std::string(e.what()).find("already holds data"), std::string::npos) << e.what();
  }
  // Nothing was written.
  TrackingStore store(postgres.Options());
  EXPECT_FALSE(store.GetExperimentByName("one"));
  EXPECT_TRUE(store.GetExperimentByName("already-here"));
}

}  // namespace
}  // namespace eonops::tracking
