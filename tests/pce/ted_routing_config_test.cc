// Pins pce/ted.h (stable TAPI identities and lookups), pce/routing.h (constrained k shortest
// paths) and pce/config.h (configs/pce.json and its errors).
#include <filesystem>
#include <gtest/gtest.h>

#include <set>

#include "pce/config.h"
#include "pce/routing.h"
#include "pce/ted.h"
#include "tests/pce/pce_test_util.h"
#include "twin/json_util.h"

namespace eonops::pce {
namespace {

std::shared_ptr<const twin::NetworkModel> Nsfnet() {
  static auto model = std::make_shared<const twin::NetworkModel>(testing::SmallConfig().network);
  return model;
}

TEST(TeDatabaseTest, IdentitiesAreStableUuidsAndLookupsAcceptNames) {
  TeDatabase a(Nsfnet()), b(Nsfnet());
  EXPECT_EQ(a.SipUuid(3), b.SipUuid(3));
  EXPECT_EQ(a.LinkUuid(7), b.LinkUuid(7));
  std::set<std::string> all;
  for (int n = 0; n < a.NumNodes(); ++n) {
    for (const auto& u : {a.NodeUuid(n), a.SipUuid(n), a.AddDropNepUuid(n)}) {
      EXPECT_TRUE(IsUuid(u)) << u;
      EXPECT_EQ(u[14], '8') << "version 8 (name-derived)";
      all.insert(u);
    }
  }
  for (int f = 0; f < a.NumFibres(); ++f) {
    for (const auto& u : {a.LinkUuid(f), a.FibreOutNepUuid(f), a.FibreInNepUuid(f)}) all.insert(u);
  }
  EXPECT_EQ(all.size(), size_t(3 * a.NumNodes() + 3 * a.NumFibres()))
      << "no two elements share a uuid";
  EXPECT_EQ(a.FindNode(a.NodeUuid(5)), 5);
  EXPECT_EQ(a.FindNode(a.NodeName(5)), 5);
  EXPECT_EQ(a.FindSip(a.SipUuid(5)), 5);
  EXPECT_EQ(a.FindLink(a.LinkName(9)), 9);
  EXPECT_EQ(a.FindLink(a.LinkUuid(9)), 9);
  EXPECT_FALSE(a.FindLink("nope"));
  auto ep = a.FindEdgePoint(a.FibreOutNepUuid(9));
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->kind, TeDatabase::EdgeKind::kFibreOut);
  EXPECT_EQ(ep->node, a.topology().fibre(9).src);
  EXPECT_TRUE(a.IsTopology(a.TopologyUuid()));
  EXPECT_TRUE(IsUuid(RandomUuid()));
  EXPECT_NE(RandomUuid(), RandomUuid());
  EXPECT_EQ(RandomUuid()[14], '4');
  EXPECT_FALSE(IsUuid("not-a-uuid"));
}

TEST(RoutingTest, WithoutConstraintsTheKShortestPathsAreTheModels) {
  const twin::NetworkModel& m = *Nsfnet();
  for (int s = 0; s < 14; s += 3) {
    for (int d = 1; d < 14; d += 4) {
      if (s == d) continue;
      PathRequest r;
      r.src = s;
      r.dst = d;
      auto mine = ConstrainedPaths(m, r, m.k());
      const auto& theirs = m.paths().Get(s, d);
      ASSERT_EQ(mine.size(), theirs.size()) << s << "->" << d;
      for (size_t i = 0; i < mine.size(); ++i)
        EXPECT_NEAR(mine[i].length_km, theirs[i].length_km, 1e-6);
    }
  }
}

TEST(RoutingTest, ExcludedElementsAreAvoidedAndIncludedOnesCrossed) {
  const twin::NetworkModel& m = *Nsfnet();
  PathRequest r;
  r.src = 0;
  r.dst = 13;
  const twin::Path& shortest = m.paths().Get(0, 13)[0];
  r.exclude_links = {shortest.fibres[1]};
  r.exclude_nodes = {shortest.nodes[1]};
  for (const auto& p : ConstrainedPaths(m, r, 5)) EXPECT_TRUE(PathAllowed(p, r));
  PathRequest via;
  via.src = 0;
  via.dst = 13;
  const twin::Path& third = m.paths().Get(0, 13)[2];
  via.include_nodes = {third.nodes[1]};
  via.include_links = {third.fibres[third.fibres.size() / 2]};
  auto paths = ConstrainedPaths(m, via, 3);
  ASSERT_FALSE(paths.empty());
  for (size_t i = 0; i < paths.size(); ++i) {
    EXPECT_TRUE(PathAllowed(paths[i], via));
    if (i) {
      EXPECT_LE(paths[i - 1].length_km, paths[i].length_km + 1e-9) << "shortest first";
    }
  }
}

TEST(PceConfigTest, TheShippedConfigLoadsAndBadFieldsAreNamed) {
  PceConfig c = testing::ShippedConfig();
  EXPECT_EQ(c.network.topology, "nsfnet");
  EXPECT_EQ(c.pce.fallback, "mscl-ksp");
  EXPECT_EQ(c.pce.FallbackFor(twin::UseCase::kEnergyRmsa), "energy-aware");
  ASSERT_EQ(c.pce.policies.size(), 1u);
  EXPECT_EQ(c.pce.policies[0].alias, "champion");
  // The default policy, resolved against the config file's directory (configs/).
  EXPECT_EQ(c.pce.policies[0].default_policy,
            std::filesystem::path(std::string(EONOPS_SOURCE_DIR) + "/configs/policies/deeprmsa-nsfnet-es-linear-k50")
                .lexically_normal()
                .string());
  EXPECT_EQ(c.network.k_paths, 50);
  EXPECT_EQ(c.ToScenario().network.ToJson(), c.network.ToJson());
  // Round trip through ToJson.
  EXPECT_EQ(PceConfig::FromJson(c.ToJson(), "rt").ToJson(), c.ToJson());
  nlohmann::json j = c.ToJson();
  auto expect_error = [](nlohmann::json bad, const std::string& field) {
    try {
      PceConfig::FromJson(bad, "pce.json");
      ADD_FAILURE() << "accepted " << bad.dump();
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  nlohmann::json bad = j;
  bad["pce"]["fallbak"] = "ksp-ff";
  expect_error(bad, "pce.json.pce.fallbak");
  bad = j;
  bad["pce"]["fallback"] = "nope";
  expect_error(bad, "pce.json.pce.fallback");
  bad = j;
  bad["pce"]["registry_poll_ms"] = 5000;
  expect_error(bad, "registry_poll_ms");
  bad = j;
  bad["pce"]["policies"].push_back(bad["pce"]["policies"][0]);
  expect_error(bad, "use_case");
  bad = j;
  bad["pce"]["validation"]["gsnr_margin_db"] = -1;
  expect_error(bad, "gsnr_margin_db");
  bad = j;
  bad["pce"]["policies"][0]["default_policy"] = "policies/no-such-policy";
  expect_error(bad, "pce.json.pce.policies[0].default_policy");
  bad = j;
  bad["pce"]["policies"][0]["default_policy"] = "";
  expect_error(bad, "default_policy");
  bad = j;
  bad["routing"] = 1;
  expect_error(bad, "pce.json.routing");
}

}  // namespace
}  // namespace eonops::pce
