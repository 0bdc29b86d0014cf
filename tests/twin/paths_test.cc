#include "twin/paths.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/twin/test_util.h"

namespace eonops::twin {
namespace {

// A hand-checkable graph (Yen's classic example, lengths in km):
//   C-D 3, C-E 2, D-F 4, E-D 1, E-F 2, E-G 3, F-G 2, F-H 1, G-H 2
// with C=0 D=1 E=2 F=3 G=4 H=5, links bidirectional. By enumeration of every simple path:
// C-E-F-H 5; C-E-G-H 7 (3 hops); C-D-E-F-H 7 (4 hops); C-D-F-H 8; then two more of 8.
Topology YenGraph() {
  nlohmann::json j;
  for (int i = 0; i < 6; ++i) j["nodes"].push_back({{"id", i}});
  auto link = [&](int a, int b, double km) { j["links"].push_back({{"a", a}, {"b", b}, {"length_km", km}}); };
  link(0, 1, 3); link(0, 2, 2); link(1, 3, 4); link(2, 1, 1); link(2, 3, 2);
  link(2, 4, 3); link(3, 4, 2); link(3, 5, 1); link(4, 5, 2);
  return Topology::FromJson(j, "yen");
}

TEST(PathsTest, YenFindsTheKShortestLooplessPathsInOrder) {
  Topology t = YenGraph();
  auto paths = KShortestPaths(t, 0, 5, 4);
  ASSERT_EQ(paths.size(), 4u);
  EXPECT_EQ(paths[0].nodes, (std::vector<int>{0, 2, 3, 5}));
  EXPECT_DOUBLE_EQ(paths[0].length_km, 5);
  // Ties in length break by hops: C-E-G-H (3 hops) before C-D-E-F-H (4 hops).
  EXPECT_EQ(paths[1].nodes, (std::vector<int>{0, 2, 4, 5}));
  EXPECT_DOUBLE_EQ(paths[1].length_km, 7);
  EXPECT_EQ(paths[2].nodes, (std::vector<int>{0, 1, 2, 3, 5}));
  EXPECT_DOUBLE_EQ(paths[2].length_km, 7);
  EXPECT_EQ(paths[3].nodes, (std::vector<int>{0, 1, 3, 5}));
  EXPECT_DOUBLE_EQ(paths[3].length_km, 8);
  for (const auto& p : paths) {
    EXPECT_EQ(p.hops, static_cast<int>(p.fibres.size()));
    EXPECT_EQ(p.nodes.size(), p.fibres.size() + 1);
  }
}

TEST(PathsTest, ReturnsFewerWhenFewerExist) {
  Topology t = Topology::Load(testing::TopologyPath("ring4"));
  auto paths = KShortestPaths(t, 0, 2, 5);
  ASSERT_EQ(paths.size(), 2u);  // clockwise and anticlockwise
  EXPECT_DOUBLE_EQ(paths[0].length_km, 800);
  EXPECT_DOUBLE_EQ(paths[1].length_km, 800);
  EXPECT_NE(paths[0].nodes, paths[1].nodes);
}

TEST(PathsTest, HopsIsItsOwnCandidateSetNotTheKmSetResorted) {
  Topology t = YenGraph();
  // By km the third path is C-D-E-F-H (7 km, 4 hops); by hops it is C-D-F-H (8 km, 3 hops):
  // the fewest-hop set holds every 3-hop path before any 4-hop one, ties by km.
  PathTable by_len(t, 3, PathOrder::kLength), by_hops(t, 3, PathOrder::kHops);
  const auto& a = by_len.Get(0, 5);
  const auto& b = by_hops.Get(0, 5);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(a[2].nodes, (std::vector<int>{0, 1, 2, 3, 5}));
  EXPECT_EQ(b[0].nodes, (std::vector<int>{0, 2, 3, 5}));
  EXPECT_EQ(b[1].nodes, (std::vector<int>{0, 2, 4, 5}));
  EXPECT_EQ(b[2].nodes, (std::vector<int>{0, 1, 3, 5}));
  EXPECT_TRUE(by_len.Get(3, 3).empty());
}

// Every loopless path from src to dst, by depth-first search (small graphs only).
void AllSimplePaths(const Topology& t, int node, int dst, std::vector<int>& stack, std::vector<char>& on,
                    double km, std::vector<std::pair<int, double>>* out) {
  if (node == dst) {
    out->push_back({static_cast<int>(stack.size()) - 1, km});
    return;
  }
  for (const auto& f : t.fibres()) {
    if (f.src != node || on[f.dst]) continue;
    on[f.dst] = 1;
    stack.push_back(f.dst);
    AllSimplePaths(t, f.dst, dst, stack, on, km + f.length_km, out);
    stack.pop_back();
    on[f.dst] = 0;
  }
}

TEST(PathsTest, HopsSetHoldsTheKFewestHopPathsOfEveryNsfnetPair) {
  // Against brute force: the (hops, km) keys of the table's paths are the K smallest keys of
  // all loopless paths of the pair, for K = 5 and K = 50.
  Topology t = Topology::Load(testing::TopologyPath("nsfnet"));
  for (int k : {5, 50}) {
    PathTable table(t, k, PathOrder::kHops);
    for (int s = 0; s < t.NumNodes(); s += 3) {
      for (int d = 0; d < t.NumNodes(); ++d) {
        if (s == d) continue;
        std::vector<std::pair<int, double>> all;
        std::vector<int> stack{s};
        std::vector<char> on(t.NumNodes(), 0);
        on[s] = 1;
        AllSimplePaths(t, s, d, stack, on, 0.0, &all);
        std::sort(all.begin(), all.end());
        const auto& ps = table.Get(s, d);
        ASSERT_EQ(ps.size(), std::min<size_t>(k, all.size())) << s << "->" << d;
        for (size_t i = 0; i < ps.size(); ++i) {
          EXPECT_EQ(ps[i].hops, all[i].first) << s << "->" << d << " #" << i;
          EXPECT_NEAR(ps[i].length_km, all[i].second, 1e-6) << s << "->" << d << " #" << i;
        }
      }
    }
  }
}

TEST(PathsTest, RemovedFibresAreAvoided) {
  Topology t = YenGraph();
  std::vector<char> removed(t.NumFibres(), 0);
  removed[t.FibreBetween(2, 3)] = 1;  // E->F
  for (const auto& p : KShortestPaths(t, 0, 5, 4, PathMetric::kLength, &removed)) {
    for (int f : p.fibres) EXPECT_NE(f, t.FibreBetween(2, 3));
  }
  EXPECT_EQ(KShortestPaths(t, 0, 5, 1, PathMetric::kLength, &removed)[0].nodes, (std::vector<int>{0, 2, 4, 5}));
}

TEST(PathsTest, ParsesEveryOrder) {
  for (auto o : {PathOrder::kLength, PathOrder::kHops, PathOrder::kHopsSe}) EXPECT_EQ(ParsePathOrder(ToString(o)), o);
  EXPECT_THROW(ParsePathOrder("km"), std::invalid_argument);
}

TEST(PathsTest, NsfnetHasFivePathsForEveryPair) {
  Topology t = Topology::Load(testing::TopologyPath("nsfnet"));
  PathTable table(t, 5);
  for (int s = 0; s < 14; ++s) {
    for (int d = 0; d < 14; ++d) {
      if (s == d) continue;
      const auto& ps = table.Get(s, d);
      ASSERT_EQ(ps.size(), 5u) << s << "->" << d;
      for (size_t i = 1; i < ps.size(); ++i) EXPECT_LE(ps[i - 1].length_km, ps[i].length_km);
      EXPECT_EQ(ps[0].nodes.front(), s);
      EXPECT_EQ(ps[0].nodes.back(), d);
    }
  }
}

TEST(PathsTest, PathFromNodesValidates) {
  Topology t = Topology::Load(testing::TopologyPath("nsfnet"));
  Path p = PathFromNodes(t, {0, 2, 5});
  EXPECT_DOUBLE_EQ(p.length_km, 1500 + 1800);
  EXPECT_EQ(p.hops, 2);
  EXPECT_THROW(PathFromNodes(t, {0, 13}), std::invalid_argument);
  EXPECT_THROW(PathFromNodes(t, {0, 2, 0}), std::invalid_argument);
  EXPECT_THROW(PathFromNodes(t, {0, 99}), std::invalid_argument);
  EXPECT_THROW(PathFromNodes(t, {0}), std::invalid_argument);
}

}  // namespace
}  // namespace eonops::twin
