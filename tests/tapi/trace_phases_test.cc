// Pins the service trace over HTTP (GET /eonops/trace, /eonops/trace/snapshot in tapi/server.h)
// and the load generator's changing traffic (tapi/loadgen.h: traffic matrix, phases).
#include <gtest/gtest.h>

#include <fstream>

#include "tapi/loadgen.h"
#include "tests/tapi/tapi_test_util.h"
#include "twin/simulator.h"

namespace eonops::tapi {
namespace {

using testing::Json;
using testing::Server;
using testing::TempDir;

void Write(const std::string& path, const Json& j) { std::ofstream(path) << j.dump(); }

Json Matrix(int n, int hot_src, double hot_weight) {
  Json m = Json::array();
  for (int s = 0; s < n; ++s) {
    Json row = Json::array();
    for (int d = 0; d < n; ++d) row.push_back(s == d ? 0.0 : (s == hot_src ? hot_weight : 1.0));
    m.push_back(row);
  }
  return m;
}

TEST(TraceOverHttpTest, EventsAndSnapshotWithRfc8040Errors) {
  Server s;
  LoadgenOptions o;
  o.pce_url = s.Url();
  o.scenario = s.pce().config().ToScenario();
  o.scenario.measurement.warmup = 0;
  o.scenario.measurement.requests = 200;
  o.cleanup = false;
  ASSERT_EQ(RunLoadgen(o).errors, 0);
  auto page = s.Get("/eonops/trace?after=0&limit=50");
  ASSERT_EQ(page.status, 200) << page.text;
  ASSERT_EQ(page.body["events"].size(), 50u);
  EXPECT_EQ(page.body["first_seq"], 1);
  EXPECT_EQ(page.body["events"][0]["seq"], 1);
  EXPECT_EQ(page.body["events"][0]["kind"], "arrival");
  int64_t arrivals = 0;
  for (int64_t after = 0;;) {
    auto p = s.Get("/restconf/eonops/trace/?after=" + std::to_string(after));  // prefix and slash too
    ASSERT_EQ(p.status, 200) << p.text;
    if (p.body["events"].empty()) break;
    for (const auto& e : p.body["events"]) {
      arrivals += e["kind"] == "arrival";
      after = e["seq"].get<int64_t>();
      pce::TraceEvent::FromJson(e);  // parses
    }
  }
  EXPECT_EQ(arrivals, 200);
  auto snap = s.Get("/eonops/trace/snapshot");
  ASSERT_EQ(snap.status, 200) << snap.text;
  EXPECT_EQ(snap.body["services"].size(), s.pce().ListServices().size());
  EXPECT_EQ(snap.body["network"], s.pce().model().options().ToJson());
  for (const char* bad : {"/eonops/trace?after=-1", "/eonops/trace?limit=0", "/eonops/trace?limit=20000",
                          "/eonops/trace?after=abc"}) {
    auto r = s.Get(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(testing::Error(r)["error-tag"], "invalid-value") << r.text;
  }
  EXPECT_EQ(s.Get("/eonops/trace/nothing").status, 404);
  EXPECT_EQ(s.Post("/eonops/trace", Json::object()).status, 405);
}

TEST(LoadgenPhasesTest, TrafficMatrixAndPhasesChangeTheTrafficAtTheirRequest) {
  TempDir dir;
  Server s;
  const int n = s.pce().model().topology().NumNodes();
  Write(dir / "hot.json", {{"traffic_matrix", Matrix(n, 2, 40.0)}});
  Write(dir / "phases.json",
        {{"phases",
          {{{"at_request", 0}, {"label", "uniform"}},
           {{"at_request", 300}, {"label", "hot spot"}, {"load_erlang", 250}, {"traffic_matrix", "hot.json"}},
           {{"at_request", 600}, {"label", "back"}, {"traffic_matrix", "uniform"}}}}});
  LoadgenOptions o;
  o.pce_url = s.Url();
  o.scenario = s.pce().config().ToScenario();
  o.scenario.measurement.warmup = 100;
  o.scenario.measurement.requests = 800;
  o.phases = LoadTrafficPhases(dir / "phases.json", n);
  ASSERT_EQ(o.phases.size(), 3u);
  const LoadgenResult r = RunLoadgen(o);
  EXPECT_EQ(r.errors, 0) << r.last_error;
  ASSERT_EQ(r.phases.size(), 3u);
  EXPECT_EQ(r.phases[0].label, "uniform");
  EXPECT_EQ(r.phases[0].requests, 200);  // 300 minus the 100 warm-up
  EXPECT_EQ(r.phases[1].requests, 300);
  EXPECT_EQ(r.phases[1].load_erlang, 250);
  EXPECT_EQ(r.phases[2].requests, 300);
  EXPECT_EQ(r.phases[2].load_erlang, 250);  // what a phase leaves unset stays
  EXPECT_EQ(r.phases[0].accepted + r.phases[1].accepted + r.phases[2].accepted, r.accepted);
  // In the hot-spot phase most requests leave node 2; before and after, about 1 in 14.
  std::vector<int> from2(3, 0), total(3, 0);
  int64_t k = 0;
  for (const auto& e : s.pce().trace().Read(0, 100000).events) {
    if (e.kind != pce::TraceEvent::Kind::kArrival) continue;
    const int phase = k < 300 ? 0 : k < 600 ? 1 : 2;
    ++total[phase];
    from2[phase] += e.src == 2;
    ++k;
  }
  EXPECT_LT(from2[0], total[0] / 5);
  EXPECT_GT(from2[1], total[1] / 2);
  EXPECT_LT(from2[2], total[2] / 5);
  // Without phases the result is one phase, and the matrix file alone works too.
  o.phases.clear();
  o.scenario.traffic.traffic_matrix = LoadTrafficMatrix(dir / "hot.json", n);
  const LoadgenResult one = RunLoadgen(o);
  ASSERT_EQ(one.phases.size(), 1u);
  EXPECT_EQ(one.phases[0].requests, 800);
}

TEST(LoadgenPhasesTest, BadFilesAreRefusedNamingTheField) {
  TempDir dir;
  auto error = [&](const Json& j) {
    Write(dir / "p.json", j);
    try {
      LoadTrafficPhases(dir / "p.json", 4);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error({{"phases", Json::array()}}).find("at least one phase"), std::string::npos);
  EXPECT_NE(error({{"phase", Json::array()}}).find("phases"), std::string::npos);
  EXPECT_NE(error({{"phases", {{{"at_request", 0}, {"load", 3}}}}}).find("phases[0].load"), std::string::npos);
  EXPECT_NE(error({{"phases", {{{"at_request", -1}}}}}).find("at_request"), std::string::npos);
  EXPECT_NE(error({{"phases", {{{"load_erlang", 3}}}}}).find("at_request is missing"), std::string::npos);
  EXPECT_NE(error({{"phases", {{{"at_request", 5}}, {{"at_request", 5}}}}}).find("increasing"),
            std::string::npos);
  EXPECT_NE(error({{"phases", {{{"at_request", 0}, {"load_erlang", 0}}}}}).find("load_erlang"),
            std::string::npos);
  EXPECT_NE(error({{"phases", {{{"at_request", 0}, {"traffic_matrix", Matrix(3, 0, 1)}}}}}).find("4 x 4"),
            std::string::npos);
  EXPECT_NE(error({{"phases", {{{"at_request", 0}, {"traffic_matrix", "missing.json"}}}}}).find("cannot read"),
            std::string::npos);
  Json zero = Matrix(4, 0, 1);
  for (auto& row : zero)
    for (auto& x : row) x = 0.0;
  EXPECT_NE(error({{"phases", {{{"at_request", 0}, {"traffic_matrix", zero}}}}}).find("positive"),
            std::string::npos);
}

}  // namespace
}  // namespace eonops::tapi
