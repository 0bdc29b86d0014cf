#include "tracking/downsample.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace eonops::tracking {
namespace {

TEST(DownsampleTest, ShortSeriesAreKeptWhole) {
  std::vector<XY> pts = {{0, 1}, {1, 2}, {2, 3}};
  EXPECT_EQ(LttbIndices(pts, 10), (std::vector<size_t>{0, 1, 2}));
  EXPECT_TRUE(LttbIndices({}, 10).empty());
}

TEST(DownsampleTest, KeepsEndpointsCountAndOrder) {
  std::vector<XY> pts;
  for (int i = 0; i < 100000; ++i) pts.push_back({double(i), std::sin(i / 500.0)});
  auto keep = LttbIndices(pts, 1000);
  ASSERT_EQ(keep.size(), 1000u);
  EXPECT_EQ(keep.front(), 0u);
  EXPECT_EQ(keep.back(), pts.size() - 1);
  for (size_t i = 1; i < keep.size(); ++i) EXPECT_LT(keep[i - 1], keep[i]);
}

TEST(DownsampleTest, KeepsAOnePointSpikeThatAStrideWouldDrop) {
  // A blocking spike at one step among 10,000 flat ones: the chart must still show it.
  std::vector<XY> pts;
  for (int i = 0; i < 10000; ++i) pts.push_back({double(i), i == 4321 ? 0.9 : 0.01});
  auto keep = LttbIndices(pts, 100);
  EXPECT_NE(std::find(keep.begin(), keep.end(), 4321u), keep.end());
}

}  // namespace
}  // namespace eonops::tracking
