#include "tracking/store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

#include "tests/tracking/test_util.h"
#include "tracking/errors.h"
#include "tracking/schema.h"
#include "tracking/sha256.h"

namespace eonops::tracking {
namespace {

using testing::CodeOf;
using testing::TempDir;

// Every store test runs on a SQLite file and on a PostgreSQL database.
class StoreTest : public testing::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (IsSkipped()) return;
    owned_ = std::make_unique<TrackingStore>(db_->Options());
    store_ = owned_.get();
  }

  std::string NewRun(const std::string& experiment_id = "0", const std::string& name = "") {
    CreateRunOptions o;
    o.experiment_id = experiment_id;
    o.run_name = name;
    return store_->CreateRun(o).info.run_id;
  }

  static const Metric* FindMetric(const tracking::Run& run, const std::string& key) {
    for (const auto& m : run.data.metrics)
      if (m.key == key) return &m;
    return nullptr;
  }
  // The pointer points into `run`: a temporary Run would be destroyed before it is read (the
  // heap-use-after-free ASan found here, issue 17), so calling this on one does not compile.
  static const Metric* FindMetric(tracking::Run&& run, const std::string& key) = delete;
  static std::string TagOf(const tracking::Run& run, const std::string& key) {
    for (const auto& t : run.data.tags)
      if (t.key == key) return t.value;
    return "<none>";
  }

  std::unique_ptr<TrackingStore> owned_;
  TrackingStore* store_ = nullptr;
};

TEST_P(StoreTest, FreshDatabaseHasLatestSchemaAndDefaultExperiment) {
  EXPECT_EQ(store_->SchemaVersion(), kLatestSchemaVersion);
  Experiment e = store_->GetExperiment("0");
  EXPECT_EQ(e.name, "Default");
  EXPECT_EQ(e.lifecycle_stage, "active");
  EXPECT_EQ(e.artifact_location, "mlflow-artifacts:/0");
  EXPECT_EQ(store_->IntegrityCheck(), "ok");
}

TEST_P(StoreTest, ExperimentsCreateGetRenameDeleteRestore) {
  std::string id = store_->CreateExperiment("rmsa/nsfnet", "", {{"topology", "nsfnet"}});
  EXPECT_EQ(id, "1");
  Experiment e = store_->GetExperiment(id);
  EXPECT_EQ(e.name, "rmsa/nsfnet");
  ASSERT_EQ(e.tags.size(), 1u);
  EXPECT_EQ(e.tags[0], (Tag{"topology", "nsfnet"}));
  EXPECT_EQ(store_->GetExperimentByName("rmsa/nsfnet")->experiment_id, id);
  EXPECT_FALSE(store_->GetExperimentByName("nope").has_value());

  EXPECT_EQ(CodeOf([&] { store_->CreateExperiment("rmsa/nsfnet"); }),
            ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(CodeOf([&] { store_->CreateExperiment(""); }), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CodeOf([&] { store_->GetExperiment("42"); }), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(CodeOf([&] { store_->GetExperiment("abc"); }), ErrorCode::kInvalidParameterValue);

  store_->RenameExperiment(id, "rmsa/nsfnet-v2");
  EXPECT_EQ(store_->GetExperiment(id).name, "rmsa/nsfnet-v2");
  store_->DeleteExperiment(id);
  EXPECT_EQ(store_->GetExperiment(id).lifecycle_stage, "deleted");
  CreateRunOptions o;
  o.experiment_id = id;
  EXPECT_EQ(CodeOf([&] { store_->CreateRun(o); }), ErrorCode::kInvalidParameterValue);
  store_->RestoreExperiment(id);
  EXPECT_EQ(store_->GetExperiment(id).lifecycle_stage, "active");
  EXPECT_EQ(CodeOf([&] { store_->DeleteExperiment("0"); }), ErrorCode::kInvalidParameterValue);
}

TEST_P(StoreTest, GetOrCreateExperimentIsIdempotent) {
  std::string a = store_->GetOrCreateExperiment("energy/cost239");
  std::string b = store_->GetOrCreateExperiment("energy/cost239");
  EXPECT_EQ(a, b);
  EXPECT_EQ(store_->GetOrCreateExperiment("Default"), "0");
}

TEST_P(StoreTest, CreateRunRecordsInfoTagsAndName) {
  CreateRunOptions o;
  o.experiment_id = "0";
  o.user_id = "alice";
  o.start_time_ms = 1700000000000;
  o.tags = {{"mlflow.source.name", "train.cc"}};
  o.run_name = "ppo-seed1";
  tracking::Run run = store_->CreateRun(o);
  EXPECT_EQ(run.info.run_id.size(), 32u);
  EXPECT_EQ(run.info.run_name, "ppo-seed1");
  EXPECT_EQ(run.info.status, RunStatus::kRunning);
  EXPECT_EQ(run.info.start_time_ms, 1700000000000);
  EXPECT_FALSE(run.info.end_time_ms.has_value());
  EXPECT_EQ(run.info.artifact_uri, "mlflow-artifacts:/0/" + run.info.run_id + "/artifacts");
  EXPECT_EQ(TagOf(run, "mlflow.runName"), "ppo-seed1");
  EXPECT_EQ(TagOf(run, "mlflow.user"), "alice");
  EXPECT_EQ(TagOf(run, "mlflow.source.name"), "train.cc");

  // A name from the tag alone; a generated one when neither is given.
  CreateRunOptions by_tag;
  by_tag.tags = {{"mlflow.runName", "from-tag"}};
  EXPECT_EQ(store_->CreateRun(by_tag).info.run_name, "from-tag");
  EXPECT_FALSE(store_->CreateRun({}).info.run_name.empty());
  CreateRunOptions clash;
  clash.run_name = "a";
  clash.tags = {{"mlflow.runName", "b"}};
  EXPECT_EQ(CodeOf([&] { store_->CreateRun(clash); }), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CodeOf([&] { store_->GetRun("0123456789abcdef0123456789abcdef"); }),
            ErrorCode::kResourceDoesNotExist);
}

TEST_P(StoreTest, UpdateAndEndRun) {
  std::string id = NewRun();
  RunInfo info = store_->UpdateRun(id, RunStatus::kFailed, 123, std::string("renamed"));
  EXPECT_EQ(info.status, RunStatus::kFailed);
  EXPECT_EQ(info.end_time_ms, 123);
  EXPECT_EQ(info.run_name, "renamed");
  EXPECT_EQ(TagOf(store_->GetRun(id), "mlflow.runName"), "renamed");
  int64_t before = NowMs();
  store_->EndRun(id);
  tracking::Run run = store_->GetRun(id);
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_GE(*run.info.end_time_ms, before);
}

TEST_P(StoreTest, ParamsAreWriteOnce) {
  std::string id = NewRun();
  store_->LogParam(id, "lr", "3e-4");
  store_->LogParam(id, "lr", "3e-4");  // same value: fine (a retried request)
  EXPECT_EQ(CodeOf([&] { store_->LogParam(id, "lr", "1e-3"); }), ErrorCode::kInvalidParameterValue);
  tracking::Run run = store_->GetRun(id);
  ASSERT_EQ(run.data.params.size(), 1u);
  EXPECT_EQ(run.data.params[0], (Param{"lr", "3e-4"}));
  EXPECT_EQ(CodeOf([&] { store_->LogParam(id, "", "x"); }), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CodeOf([&] { store_->LogParam(id, "../etc", "x"); }), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CodeOf([&] { store_->LogParam(id, "k", std::string(6001, 'x')); }),
            ErrorCode::kInvalidParameterValue);
}

TEST_P(StoreTest, LatestMetricFollowsMlflowOrderingAndHistoryKeepsAll) {
  std::string id = NewRun();
  store_->LogMetric(id, {"loss", 0.5, 1000, 1});
  store_->LogMetric(id, {"loss", 0.4, 1001, 3});
  store_->LogMetric(id, {"loss", 0.9, 5000, 2});  // later in time but an earlier step
  const tracking::Run run = store_->GetRun(id);
  const Metric* latest = FindMetric(run, "loss");
  ASSERT_NE(latest, nullptr);
  EXPECT_DOUBLE_EQ(latest->value, 0.4);
  EXPECT_EQ(latest->step, 3);

  auto history = store_->GetMetricHistory(id, "loss").items;
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].step, 1);
  EXPECT_EQ(history[1].step, 2);
  EXPECT_EQ(history[2].step, 3);
  EXPECT_DOUBLE_EQ(history[1].value, 0.9);
  EXPECT_TRUE(store_->GetMetricHistory(id, "other").items.empty());
}

TEST_P(StoreTest, TheSamePointLoggedTwiceIsStoredOnce) {
  // As in MLflow: a retried request that repeats a point does not duplicate it, while a new
  // value at the same step and time is a new point.
  std::string id = NewRun();
  store_->LogMetric(id, {"loss", 0.5, 1000, 1});
  store_->LogMetric(id, {"loss", 0.5, 1000, 1});
  store_->LogMetric(id, {"loss", 0.6, 1000, 1});
  store_->LogBatch(id, {{"nan", std::nan(""), 1, 0}, {"nan", std::nan(""), 1, 0}}, {}, {});
  EXPECT_EQ(store_->GetMetricHistory(id, "loss").items.size(), 2u);
  EXPECT_EQ(store_->GetMetricHistory(id, "nan").items.size(), 1u);
}

TEST_P(StoreTest, NonFiniteMetricValuesRoundTrip) {
  std::string id = NewRun();
  store_->LogBatch(id,
                  {{"a", std::nan(""), 1, 0},
                   {"b", INFINITY, 1, 0},
                   {"c", -INFINITY, 1, 0},
                   {"d", 1e308, 1, 0}},
                  {}, {});
  tracking::Run run = store_->GetRun(id);
  EXPECT_TRUE(std::isnan(FindMetric(run, "a")->value));
  EXPECT_EQ(FindMetric(run, "b")->value, INFINITY);
  EXPECT_EQ(FindMetric(run, "c")->value, -INFINITY);
  EXPECT_EQ(FindMetric(run, "d")->value, 1e308);
  EXPECT_TRUE(std::isnan(store_->GetMetricHistory(id, "a").items.at(0).value));
}

TEST_P(StoreTest, MetricHistoryPages) {
  std::string id = NewRun();
  std::vector<Metric> batch;
  for (int i = 0; i < 250; ++i) batch.push_back({"r", double(i), 1000 + i, i});
  store_->LogBatch(id, batch, {}, {});
  std::vector<Metric> all;
  std::string token;
  int pages = 0;
  do {
    auto page = store_->GetMetricHistory(id, "r", 100, token);
    all.insert(all.end(), page.items.begin(), page.items.end());
    token = page.next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(all.size(), 250u);
  for (int i = 0; i < 250; ++i) EXPECT_EQ(all[i].step, i);
  EXPECT_EQ(CodeOf([&] { store_->GetMetricHistory(id, "r", 10, "not-a-token!"); }),
            ErrorCode::kInvalidParameterValue);
}

TEST_P(StoreTest, LogBatchEnforcesLimitsAndIsAllOrNothing) {
  std::string id = NewRun();
  std::vector<Metric> too_many(1001, Metric{"m", 1.0, 1, 0});
  EXPECT_EQ(CodeOf([&] { store_->LogBatch(id, too_many, {}, {}); }),
            ErrorCode::kInvalidParameterValue);
  std::vector<Param> params(101);
  for (int i = 0; i < 101; ++i) params[i] = {"p" + std::to_string(i), "v"};
  EXPECT_EQ(CodeOf([&] { store_->LogBatch(id, {}, params, {}); }),
            ErrorCode::kInvalidParameterValue);
  std::vector<Tag> tags(101, Tag{"t", "v"});
  EXPECT_EQ(CodeOf([&] { store_->LogBatch(id, {}, {}, tags); }), ErrorCode::kInvalidParameterValue);
  // 950 metrics + 100 params: each within its limit, 1050 in total.
  params.pop_back();
  std::vector<Metric> many(950, Metric{"m", 1.0, 1, 0});
  EXPECT_EQ(CodeOf([&] { store_->LogBatch(id, many, params, {}); }),
            ErrorCode::kInvalidParameterValue);

  // A conflicting param at the end of an otherwise fine batch: nothing is written.
  store_->LogParam(id, "fixed", "1");
  EXPECT_EQ(CodeOf([&] {
              store_->LogBatch(id, {{"loss", 0.1, 1, 1}}, {{"new", "x"}, {"fixed", "2"}},
                              {{"note", "hi"}});
            }),
            ErrorCode::kInvalidParameterValue);
  tracking::Run run = store_->GetRun(id);
  EXPECT_EQ(FindMetric(run, "loss"), nullptr);
  EXPECT_EQ(run.data.params.size(), 1u);
  EXPECT_EQ(TagOf(run, "note"), "<none>");

  // 1000 metrics is allowed.
  std::vector<Metric> max(1000);
  for (int i = 0; i < 1000; ++i) max[i] = {"x", double(i), 1, i};
  store_->LogBatch(id, max, {}, {});
  EXPECT_EQ(store_->GetMetricHistory(id, "x").items.size(), 1000u);
}

TEST_P(StoreTest, DeletedRunsRefuseWritesAndLeaveSearch) {
  std::string id = NewRun();
  store_->DeleteRun(id);
  EXPECT_EQ(store_->GetRun(id).info.lifecycle_stage, "deleted");
  EXPECT_EQ(CodeOf([&] { store_->LogMetric(id, "m", 1); }), ErrorCode::kInvalidParameterValue);
  SearchRunsRequest r;
  r.experiment_ids = {"0"};
  EXPECT_TRUE(store_->SearchRuns(r).items.empty());
  r.view = ViewType::kDeletedOnly;
  EXPECT_EQ(store_->SearchRuns(r).items.size(), 1u);
  store_->RestoreRun(id);
  store_->LogMetric(id, "m", 1);
}

TEST_P(StoreTest, TagsSetAndDelete) {
  std::string id = NewRun();
  store_->SetTag(id, "phase", "warmup");
  store_->SetTag(id, "phase", "main");
  EXPECT_EQ(TagOf(store_->GetRun(id), "phase"), "main");
  store_->DeleteTag(id, "phase");
  EXPECT_EQ(TagOf(store_->GetRun(id), "phase"), "<none>");
  EXPECT_EQ(CodeOf([&] { store_->DeleteTag(id, "phase"); }), ErrorCode::kResourceDoesNotExist);
}

class SearchRunsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    exp_ = store_->CreateExperiment("search");
    for (int i = 0; i < 6; ++i) {
      CreateRunOptions o;
      o.experiment_id = exp_;
      o.run_name = "run-" + std::to_string(i);
      o.start_time_ms = 1000 + i;
      std::string id = store_->CreateRun(o).info.run_id;
      ids_.push_back(id);
      store_->LogBatch(id, {{"loss", 1.0 / (i + 1), 1, 1}},
                      {{"algo", i % 2 ? "ppo" : "dqn"}, {"seed", std::to_string(i)}},
                      {{"topology", i < 3 ? "nsfnet" : "cost239"}});
      if (i < 4) store_->EndRun(id);
    }
  }
  std::vector<std::string> Names(const std::string& filter,
                                 const std::vector<std::string>& order = {}) {
    SearchRunsRequest r;
    r.experiment_ids = {exp_};
    r.filter = filter;
    r.order_by = order;
    std::vector<std::string> names;
    for (const tracking::Run& run : store_->SearchRuns(r).items) names.push_back(run.info.run_name);
    return names;
  }
  std::string exp_;
  std::vector<std::string> ids_;
};

TEST_P(SearchRunsTest, DefaultOrderIsNewestFirst) {
  EXPECT_EQ(Names(""),
            (std::vector<std::string>{"run-5", "run-4", "run-3", "run-2", "run-1", "run-0"}));
}

TEST_P(SearchRunsTest, FiltersOnMetricsParamsTagsAndAttributes) {
  EXPECT_EQ(Names("metrics.loss < 0.3"), (std::vector<std::string>{"run-5", "run-4", "run-3"}));
  EXPECT_EQ(Names("params.algo = 'ppo'"), (std::vector<std::string>{"run-5", "run-3", "run-1"}));
  EXPECT_EQ(Names("tags.topology = 'nsfnet' AND params.algo = 'dqn'"),
            (std::vector<std::string>{"run-2", "run-0"}));
  EXPECT_EQ(Names("attributes.status = 'FINISHED' AND metrics.loss <= 0.25"),
            (std::vector<std::string>{"run-3"}));
  EXPECT_EQ(Names("attributes.status = 'RUNNING'"), (std::vector<std::string>{"run-5", "run-4"}));
  EXPECT_EQ(Names("run_name LIKE 'run-1%'"), (std::vector<std::string>{"run-1"}));
  EXPECT_EQ(Names("tags.topology ILIKE 'COST%'"),
            (std::vector<std::string>{"run-5", "run-4", "run-3"}));
  EXPECT_EQ(Names("attributes.run_id IN ('" + ids_[0] + "', '" + ids_[2] + "')"),
            (std::vector<std::string>{"run-2", "run-0"}));
  EXPECT_EQ(Names("metrics.missing > 0"), std::vector<std::string>{});
  EXPECT_EQ(Names("attributes.start_time >= 1004"), (std::vector<std::string>{"run-5", "run-4"}));
}

TEST_P(SearchRunsTest, OrdersByMetricsParamsAndAttributes) {
  EXPECT_EQ(Names("", {"metrics.loss ASC"}),
            (std::vector<std::string>{"run-5", "run-4", "run-3", "run-2", "run-1", "run-0"}));
  EXPECT_EQ(Names("", {"metrics.loss DESC"}),
            (std::vector<std::string>{"run-0", "run-1", "run-2", "run-3", "run-4", "run-5"}));
  EXPECT_EQ(Names("", {"params.algo ASC", "start_time ASC"}),
            (std::vector<std::string>{"run-0", "run-2", "run-4", "run-1", "run-3", "run-5"}));
  EXPECT_EQ(Names("", {"attributes.run_name DESC"}).front(), "run-5");
}

TEST_P(SearchRunsTest, PagesWithTokensCoverEveryRunOnce) {
  SearchRunsRequest r;
  r.experiment_ids = {exp_};
  r.max_results = 4;
  auto first = store_->SearchRuns(r);
  ASSERT_EQ(first.items.size(), 4u);
  ASSERT_FALSE(first.next_page_token.empty());
  r.page_token = first.next_page_token;
  auto second = store_->SearchRuns(r);
  EXPECT_EQ(second.items.size(), 2u);
  EXPECT_TRUE(second.next_page_token.empty());
  std::set<std::string> seen;
  for (const auto& run : first.items) seen.insert(run.info.run_id);
  for (const auto& run : second.items) seen.insert(run.info.run_id);
  EXPECT_EQ(seen.size(), 6u);
}

TEST_P(SearchRunsTest, RejectsBadFiltersAndLimits) {
  SearchRunsRequest r;
  r.experiment_ids = {exp_};
  r.filter = "metrics.loss < 'abc'";
  EXPECT_EQ(CodeOf([&] { store_->SearchRuns(r); }), ErrorCode::kInvalidParameterValue);
  r.filter = "attributes.colour = 'red'";
  EXPECT_EQ(CodeOf([&] { store_->SearchRuns(r); }), ErrorCode::kInvalidParameterValue);
  r.filter = "params.algo < 'x'";
  EXPECT_EQ(CodeOf([&] { store_->SearchRuns(r); }), ErrorCode::kInvalidParameterValue);
  r.filter = "";
  r.max_results = 50001;
  EXPECT_EQ(CodeOf([&] { store_->SearchRuns(r); }), ErrorCode::kInvalidParameterValue);
}

TEST_P(StoreTest, SearchExperimentsFiltersAndPages) {
  store_->CreateExperiment("rmsa/nsfnet", "", {{"use_case", "rmsa"}});
  store_->CreateExperiment("rmsa/cost239", "", {{"use_case", "rmsa"}});
  store_->CreateExperiment("energy/nsfnet", "", {{"use_case", "energy"}});
  SearchExperimentsRequest r;
  r.filter = "name LIKE 'rmsa/%'";
  r.order_by = {"name ASC"};
  auto page = store_->SearchExperiments(r);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].name, "rmsa/cost239");
  r.filter = "tags.use_case = 'energy'";
  EXPECT_EQ(store_->SearchExperiments(r).items.at(0).name, "energy/nsfnet");
  r.filter = "";
  r.max_results = 3;
  auto first = store_->SearchExperiments(r);
  EXPECT_EQ(first.items.size(), 3u);
  r.page_token = first.next_page_token;
  EXPECT_EQ(store_->SearchExperiments(r).items.size(), 1u);  // 4 with Default
}

TEST_P(StoreTest, EpisodesAreIdempotentAndSummarised) {
  std::string id = NewRun();
  std::vector<Episode> eps;
  for (int i = 0; i < 1000; ++i) {
    Episode e;
    e.episode = i;
    e.reward = i;  // mean of a bucket of 100 consecutive episodes is known exactly
    e.length = 200;
    e.blocking = 0.5;
    e.energy = 10;
    e.extra_json = R"({"lightpaths": 3})";
    eps.push_back(e);
  }
  store_->LogEpisodes(id, eps);
  store_->LogEpisodes(id, {eps[5]});  // a retry with identical values
  EXPECT_EQ(store_->CountEpisodes(id), 1000);
  Episode changed = eps[5];
  changed.reward = -1;
  EXPECT_EQ(CodeOf([&] { store_->LogEpisode(id, changed); }), ErrorCode::kInvalidParameterValue);

  auto got = store_->GetEpisodes(id, 10, 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].episode, 10);
  EXPECT_DOUBLE_EQ(got[0].reward, 10);
  EXPECT_EQ(got[0].extra_json, R"({"lightpaths":3})");

  auto buckets = store_->SummarizeEpisodes(id, 10);
  ASSERT_EQ(buckets.size(), 10u);
  EXPECT_EQ(buckets[0].first_episode, 0);
  EXPECT_EQ(buckets[0].last_episode, 99);
  EXPECT_EQ(buckets[0].count, 100);
  EXPECT_DOUBLE_EQ(buckets[0].reward_mean, 49.5);
  EXPECT_DOUBLE_EQ(buckets[9].reward_max, 999);
  EXPECT_DOUBLE_EQ(buckets[3].blocking_mean, 0.5);
  EXPECT_EQ(store_->SummarizeEpisodes(id, 5000).size(), 1000u);

  Episode bad;
  bad.episode = 2000;
  bad.blocking = 1.5;
  EXPECT_EQ(CodeOf([&] { store_->LogEpisode(id, bad); }), ErrorCode::kInvalidParameterValue);
  bad.blocking = 0.1;
  bad.extra_json = "[1,2]";
  EXPECT_EQ(CodeOf([&] { store_->LogEpisode(id, bad); }), ErrorCode::kInvalidParameterValue);
}

TEST_P(StoreTest, ArtifactsAreContentHashedDedupedAndListed) {
  std::string id = NewRun();
  const std::string src = dir_ / "policy.pt";
  {
    std::ofstream f(src, std::ios::binary);
    f << "weights-v1";
  }
  ArtifactFile a = store_->LogArtifact(id, src, "models");
  EXPECT_EQ(a.path, "models/policy.pt");
  EXPECT_EQ(a.sha256, Sha256Hex("weights-v1"));
  EXPECT_EQ(a.file_size, 10);
  store_->LogArtifactBytes(id, "models/copy.pt", "weights-v1");  // same bytes
  store_->LogArtifactBytes(id, "notes.txt", "hello");
  // Stored once by content: the blob lies under sha256/<first two hex>/<hash>.
  const std::string blob = dir_ / ("artifacts/sha256/" + a.sha256.substr(0, 2) + "/" + a.sha256);
  EXPECT_TRUE(std::filesystem::exists(blob));
  EXPECT_EQ(store_->ReadArtifact(id, "models/copy.pt"), "weights-v1");

  auto root = store_->ListArtifacts(id);
  ASSERT_EQ(root.size(), 2u);
  EXPECT_TRUE(root[0].is_dir);
  EXPECT_EQ(root[0].path, "models");
  EXPECT_EQ(root[1].path, "notes.txt");
  EXPECT_EQ(root[1].file_size, 5);
  auto models = store_->ListArtifacts(id, "models");
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0].path, "models/copy.pt");
  EXPECT_EQ(store_->ListAllArtifacts(id).size(), 3u);

  EXPECT_EQ(CodeOf([&] { store_->ReadArtifact(id, "nope"); }), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(CodeOf([&] { store_->LogArtifactBytes(id, "../escape", "x"); }),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CodeOf([&] { store_->LogArtifactBytes(id, "/abs", "x"); }),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CodeOf([&] { store_->LogArtifact(id, dir_ / "missing.pt"); }),
            ErrorCode::kInvalidParameterValue);
}

TEST_P(StoreTest, RegistryVersionsStagesAliasesAndAuditTrail) {
  std::string run = NewRun();
  RegisteredModel m =
      store_->CreateRegisteredModel("rmsa-nsfnet", "RMSA on NSFNET", {{"use_case", "rmsa"}});
  EXPECT_EQ(m.name, "rmsa-nsfnet");
  EXPECT_EQ(CodeOf([&] { store_->CreateRegisteredModel("rmsa-nsfnet"); }),
            ErrorCode::kResourceAlreadyExists);
  ModelVersion v1 = store_->CreateModelVersion("rmsa-nsfnet", "runs:/" + run + "/policy.pt", run);
  ModelVersion v2 = store_->CreateModelVersion("rmsa-nsfnet", "runs:/" + run + "/policy2.pt", run);
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v2.version, 2);
  EXPECT_EQ(v1.current_stage, Stage::kNone);
  EXPECT_EQ(v1.status, "READY");
  EXPECT_EQ(CodeOf([&] { store_->CreateModelVersion("nope", "s"); }),
            ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(CodeOf([&] { store_->CreateModelVersion("rmsa-nsfnet", "s", "no-such-run"); }),
            ErrorCode::kResourceDoesNotExist);

  store_->TransitionStage("rmsa-nsfnet", 1, Stage::kProduction, false, "ops");
  ModelVersion p2 = store_->TransitionStage("rmsa-nsfnet", 2, Stage::kProduction, true, "ops");
  EXPECT_EQ(p2.current_stage, Stage::kProduction);
  EXPECT_EQ(store_->GetModelVersion("rmsa-nsfnet", 1).current_stage, Stage::kArchived);
  auto stages = store_->GetStageHistory("rmsa-nsfnet");
  ASSERT_EQ(stages.size(), 3u);  // v1 None->Production, v1 Production->Archived, v2 None->Prod
  EXPECT_EQ(stages[1].version, 1);
  EXPECT_EQ(stages[1].to_stage, Stage::kArchived);
  EXPECT_EQ(stages[2].changed_by, "ops");
  EXPECT_EQ(CodeOf([&] { store_->TransitionStage("rmsa-nsfnet", 1, Stage::kNone, true); }),
            ErrorCode::kInvalidParameterValue);

  store_->SetAlias("rmsa-nsfnet", "champion", 1, "alice");
  store_->SetAlias("rmsa-nsfnet", "champion", 1, "alice");  // not a move: no history row
  store_->SetAlias("rmsa-nsfnet", "champion", 2, "bob");
  store_->SetAlias("rmsa-nsfnet", "challenger", 1, "bob");
  EXPECT_EQ(store_->GetModelVersionByAlias("rmsa-nsfnet", "champion").version, 2);
  EXPECT_EQ(store_->GetModelVersion("rmsa-nsfnet", 1).aliases,
            (std::vector<std::string>{"challenger"}));
  store_->DeleteAlias("rmsa-nsfnet", "challenger", "carol");
  store_->DeleteAlias("rmsa-nsfnet", "challenger", "carol");  // absent: no-op, as MLflow
  EXPECT_EQ(CodeOf([&] { store_->GetModelVersionByAlias("rmsa-nsfnet", "challenger"); }),
            ErrorCode::kResourceDoesNotExist);

  auto champion = store_->GetAliasHistory("rmsa-nsfnet", "champion");
  ASSERT_EQ(champion.size(), 2u);
  EXPECT_FALSE(champion[0].from_version.has_value());
  EXPECT_EQ(champion[0].to_version, 1);
  EXPECT_EQ(champion[0].changed_by, "alice");
  EXPECT_EQ(champion[1].from_version, 1);
  EXPECT_EQ(champion[1].to_version, 2);
  EXPECT_EQ(champion[1].changed_by, "bob");
  auto all = store_->GetAliasHistory("rmsa-nsfnet");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3].alias, "challenger");
  EXPECT_FALSE(all[3].to_version.has_value());  // deleted
  EXPECT_EQ(all[3].changed_by, "carol");

  EXPECT_EQ(CodeOf([&] { store_->SetAlias("rmsa-nsfnet", "latest", 1); }),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CodeOf([&] { store_->SetAlias("rmsa-nsfnet", "v3", 1); }),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CodeOf([&] { store_->SetAlias("rmsa-nsfnet", "x", 99); }),
            ErrorCode::kResourceDoesNotExist);

  RegisteredModel got = store_->GetRegisteredModel("rmsa-nsfnet");
  ASSERT_EQ(got.aliases.size(), 1u);
  EXPECT_EQ(got.aliases[0].alias, "champion");
  EXPECT_EQ(got.aliases[0].version, 2);
  ASSERT_EQ(got.latest_versions.size(), 2u);  // newest in Archived (v1) and Production (v2)
  EXPECT_EQ(store_->GetLatestVersions("rmsa-nsfnet", {Stage::kProduction}).at(0).version, 2);

  SearchModelsRequest q;
  q.filter = "run_id = '" + run + "'";
  EXPECT_EQ(store_->SearchModelVersions(q).items.size(), 2u);
  q.filter = "name LIKE 'rmsa%'";
  EXPECT_EQ(store_->SearchRegisteredModels(q).items.size(), 1u);
  q.filter = "name = 'other'";
  EXPECT_TRUE(store_->SearchRegisteredModels(q).items.empty());
}

class StoreMigrationTest : public testing::DatabaseTest {};

TEST_P(StoreMigrationTest, UpgradesAnOldDatabaseInPlaceKeepingItsData) {
  StoreOptions o = db_->Options();
  {
    // A database as schema version 1 left it, with one run and a metric.
    auto owned = OpenDatabase(o.db_path, {});
    Connection& db = *owned;
    Migrate(db, 1);
    EXPECT_EQ(SchemaVersion(db), 1);
    db.Exec(
        "INSERT INTO runs(run_uuid, experiment_id, name, status, start_time, artifact_uri)"
        " VALUES('00000000000000000000000000000001', 0, 'old', 'FINISHED', 5, 'x')");
    db.Exec(
        "INSERT INTO latest_metrics(run_pk, key, value, step, timestamp) VALUES(1, 'loss', 0.25,"
        " 7, 9)");
    db.Exec("INSERT INTO metrics(series_id, step, timestamp, value) VALUES(1, 7, 9, 0.25)");
  }
  TrackingStore store(o);
  EXPECT_EQ(store.SchemaVersion(), kLatestSchemaVersion);
  tracking::Run run = store.GetRun("00000000000000000000000000000001");
  EXPECT_EQ(run.info.run_name, "old");
  ASSERT_EQ(run.data.metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(run.data.metrics[0].value, 0.25);
  // The later migrations' tables work.
  store.CreateRegisteredModel("m");
  store.LogEpisode(run.info.run_id, Episode{});
  EXPECT_EQ(store.IntegrityCheck(), "ok");
  // Re-opening applies nothing twice.
  TrackingStore again(o);
  EXPECT_EQ(again.SchemaVersion(), kLatestSchemaVersion);
}

TEST_P(StoreMigrationTest, RefusesADatabaseFromANewerBinary) {
  StoreOptions o = db_->Options();
  { TrackingStore store(o); }
  {
    auto db = OpenDatabase(o.db_path, {});
    db->Exec("INSERT INTO schema_version VALUES(99, 0, 'from the future')");
  }
  try {
    TrackingStore store(o);
    FAIL() << "opened a schema-99 database";
  } catch (const TrackingError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, testing::kBothBackends, testing::BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, SearchRunsTest, testing::kBothBackends, testing::BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, StoreMigrationTest, testing::kBothBackends, testing::BackendName);

}  // namespace
}  // namespace eonops::tracking
