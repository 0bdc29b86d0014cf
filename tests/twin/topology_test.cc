#include "twin/topology.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/twin/test_util.h"

namespace eonops::twin {
namespace {

using testing::TopologyPath;

TEST(TopologyTest, LoadsNsfnetOfTheDeepRmsaBenchmark) {
  Topology t = Topology::Load(TopologyPath("nsfnet"));
  EXPECT_EQ(t.NumNodes(), 14);
  EXPECT_EQ(t.NumFibres(), 44);  // 22 links, two directed fibres each
  double total = 0;
  for (const auto& f : t.fibres()) total += f.length_km;
  EXPECT_DOUBLE_EQ(total, 2 * 21300.0);
  // DeepRMSA link 1-2 is 1050 km; ours are 0-based.
  int f = t.FibreBetween(0, 1);
  ASSERT_GE(f, 0);
  EXPECT_DOUBLE_EQ(t.fibre(f).length_km, 1050.0);
  EXPECT_EQ(t.fibre(t.fibre(f).reverse).src, 1);
  EXPECT_EQ(t.FibreBetween(0, 13), -1);
  ASSERT_TRUE(t.node(0).latitude.has_value());
}

TEST(TopologyTest, CutsLinksIntoEqualSpansNoLongerThanTheMaximum) {
  Topology t = Topology::Load(TopologyPath("nsfnet"));
  const Fibre& f = t.fibre(t.FibreBetween(0, 1));  // 1050 km -> 14 spans of 75 km
  ASSERT_EQ(f.spans_km.size(), 14u);
  EXPECT_DOUBLE_EQ(f.spans_km[0], 75.0);
  const Fibre& g = t.fibre(t.FibreBetween(12, 13));  // 150 km -> 2 spans of 75 km
  EXPECT_EQ(g.spans_km.size(), 2u);
}

TEST(TopologyTest, ShipsTheOtherReferenceTopologies) {
  EXPECT_EQ(Topology::Load(TopologyPath("cost239")).NumNodes(), 11);
  EXPECT_EQ(Topology::Load(TopologyPath("usnet")).NumNodes(), 24);
  EXPECT_EQ(Topology::Load(TopologyPath("usnet")).NumFibres(), 86);
  EXPECT_EQ(Topology::Load(TopologyPath("ring4")).NumFibres(), 8);
  EXPECT_EQ(Topology::Load(TopologyPath("jpn48")).NumNodes(), 48);
}

// Each bad file must fail naming the file, the field and the reason.
void ExpectLoadError(const nlohmann::json& j, const std::string& field, const std::string& reason) {
  try {
    Topology::FromJson(j, "bad.json");
    FAIL() << "expected an error for " << j.dump();
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("bad.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find(field), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << msg;
  }
}

TEST(TopologyTest, BadFilesFailNamingFileFieldAndReason) {
  auto nodes = nlohmann::json::array({{{"id", 0}}, {{"id", 1}}});
  ExpectLoadError({{"links", nlohmann::json::array()}}, "nodes", "missing");
  ExpectLoadError({{"nodes", nodes}}, "links", "missing");
  ExpectLoadError({{"nodes", nodes}, {"links", {{{"a", 0}, {"b", 5}, {"length_km", 10}}}}}, "links[0].b", "unknown node");
  ExpectLoadError({{"nodes", nodes}, {"links", {{{"a", 0}, {"b", 1}, {"length_km", -3}}}}}, "links[0].length_km", "positive");
  ExpectLoadError({{"nodes", nodes}, {"links", {{{"a", 0}, {"b", 1}, {"length_km", "far"}}}}}, "links[0].length_km", "number");
  ExpectLoadError({{"nodes", nodes}, {"links", {{{"a", 0}, {"b", 1}, {"length_km", 10}}, {{"a", 1}, {"b", 0}, {"length_km", 10}}}}},
                  "links[1]", "duplicate");
  ExpectLoadError({{"nodes", {{{"id", 1}}}}, {"links", {{{"a", 0}, {"b", 1}, {"length_km", 10}}}}}, "nodes[0].id", "0..N-1");
  ExpectLoadError({{"nodes", nodes}, {"links", {{{"a", 0}, {"b", 1}, {"length_km", 100}, {"spans_km", {40, 40}}}}}},
                  "spans_km", "add up");
  EXPECT_THROW(Topology::Load("/nonexistent/x.json"), std::runtime_error);
}

TEST(TopologyTest, ExplicitSpansAreKept) {
  nlohmann::json j = {{"nodes", {{{"id", 0}}, {{"id", 1}}}},
                      {"links", {{{"a", 0}, {"b", 1}, {"length_km", 100}, {"spans_km", {60, 40}}}}}};
  Topology t = Topology::FromJson(j, "inline");
  ASSERT_EQ(t.fibre(0).spans_km.size(), 2u);
  EXPECT_DOUBLE_EQ(t.fibre(1).spans_km[1], 40.0);
}

}  // namespace
}  // namespace eonops::twin
