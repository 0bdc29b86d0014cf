#include "twin/spectrum.h"

#include <gtest/gtest.h>

#include <random>

#include "twin/bands.h"

namespace eonops::twin {
namespace {

// Builds an occupancy bitset from a string: '#' occupied, '.' free, slot 0 first.
std::vector<uint64_t> Occ(const std::string& s) {
  std::vector<uint64_t> w((s.size() + 63) / 64 + 1, 0);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '#') w[i / 64] |= uint64_t{1} << (i % 64);
  }
  return w;
}

TEST(FitTest, FirstLastAndBestFitOnAHandMadePattern) {
  //             0123456789
  auto occ = Occ("#..###....#...");
  const int n = 14;
  EXPECT_EQ(FirstFit(occ.data(), n, 1), 1);
  EXPECT_EQ(FirstFit(occ.data(), n, 2), 1);
  EXPECT_EQ(FirstFit(occ.data(), n, 3), 6);
  EXPECT_EQ(FirstFit(occ.data(), n, 4), 6);
  EXPECT_EQ(FirstFit(occ.data(), n, 5), -1);
  EXPECT_EQ(LastFit(occ.data(), n, 1), 13);
  EXPECT_EQ(LastFit(occ.data(), n, 3), 11);
  EXPECT_EQ(LastFit(occ.data(), n, 4), 6);
  EXPECT_EQ(BestFit(occ.data(), n, 2), 1);   // the 2-slot hole is an exact fit
  EXPECT_EQ(BestFit(occ.data(), n, 3), 11);  // the 3-slot run beats the 4-slot one
  EXPECT_EQ(BestFit(occ.data(), n, 4), 6);
  EXPECT_EQ(FirstFit(occ.data(), n, 0), -1);
}

TEST(FitTest, BandEdgesAreNeitherOffByOneNorOverrun) {
  // Free only at the very top of the band: slots 97, 98, 99 of 100.
  std::string s(100, '#');
  s[97] = s[98] = s[99] = '.';
  auto occ = Occ(s);
  EXPECT_EQ(FirstFit(occ.data(), 100, 3), 97);
  EXPECT_EQ(FirstFit(occ.data(), 100, 4), -1);
  EXPECT_EQ(LastFit(occ.data(), 100, 3), 97);
  // Bits past num_slots must not count as free even if the word has zeros there.
  std::string t(64, '#');
  t += "..";  // slots 64, 65 free; num_slots 66: a block of 3 must not use slot 66+
  auto occ2 = Occ(t);
  EXPECT_EQ(FirstFit(occ2.data(), 66, 2), 64);
  EXPECT_EQ(FirstFit(occ2.data(), 66, 3), -1);
  // Free only at slot 0.
  std::string u(100, '#');
  u[0] = '.';
  auto occ3 = Occ(u);
  EXPECT_EQ(FirstFit(occ3.data(), 100, 1), 0);
  EXPECT_EQ(LastFit(occ3.data(), 100, 1), 0);
}

TEST(FitTest, RunsCrossingWordBoundariesAreFound) {
  std::string s(200, '#');
  for (int i = 60; i < 70; ++i) s[i] = '.';
  auto occ = Occ(s);
  EXPECT_EQ(FirstFit(occ.data(), 200, 10), 60);
  EXPECT_EQ(FirstFit(occ.data(), 200, 11), -1);
  EXPECT_EQ(CountFree(occ.data(), 200), 10);
  EXPECT_EQ(CountFreeRuns(occ.data(), 200), 1);
}

TEST(FitTest, MatchesANaiveSearchOnRandomPatterns) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    int n = 1 + rng() % 480;
    std::string s(n, '.');
    double p = (rng() % 100) / 100.0;
    for (auto& c : s) c = (rng() % 1000) < p * 1000 ? '#' : '.';
    auto occ = Occ(s);
    int w = 1 + rng() % 12;
    int naive_first = -1, naive_last = -1;
    for (int i = 0; i + w <= n; ++i) {
      if (s.compare(i, w, std::string(w, '.')) == 0) {
        if (naive_first < 0) naive_first = i;
        naive_last = i;
      }
    }
    ASSERT_EQ(FirstFit(occ.data(), n, w), naive_first) << s << " w=" << w;
    ASSERT_EQ(LastFit(occ.data(), n, w), naive_last) << s << " w=" << w;
    int bf = BestFit(occ.data(), n, w);
    ASSERT_EQ(bf >= 0, naive_first >= 0);
    int starts[8];
    int k = FreeBlocks(occ.data(), n, w, 8, starts);
    if (naive_first >= 0) {
      ASSERT_GE(k, 1);
      EXPECT_EQ(starts[0], naive_first);
    } else {
      EXPECT_EQ(k, 0);
    }
  }
}

TEST(FitTest, FreeBlocksListsTheStartOfEachRunThatFits) {
  auto occ = Occ("..#.#...#....#.");
  int starts[10], sizes[10];
  int k = FreeBlocks(occ.data(), 15, 2, 10, starts, sizes);
  ASSERT_EQ(k, 3);
  EXPECT_EQ(starts[0], 0);
  EXPECT_EQ(sizes[0], 2);
  EXPECT_EQ(starts[1], 5);
  EXPECT_EQ(starts[2], 9);
  EXPECT_EQ(FreeBlocks(occ.data(), 15, 2, 2, starts), 2);
}

class SpectrumStateTest : public ::testing::Test {
 protected:
  BandPlan plan_ = BandPlan::SingleBand("C", 191.3e12, 100);
  SpectrumState s_{6, plan_};
};

TEST_F(SpectrumStateTest, AllocationNeedsContinuityAcrossEveryFibre) {
  ASSERT_TRUE(s_.Allocate({1}, 0, 0, 4, /*owner=*/7));
  std::vector<uint64_t> occ(s_.MaxWords());
  s_.PathOccupancy({0, 1, 2}, 0, occ.data());
  EXPECT_EQ(FirstFit(occ.data(), 100, 4), 4);  // slots 0-3 are busy on fibre 1
  s_.PathOccupancy({0, 2}, 0, occ.data());
  EXPECT_EQ(FirstFit(occ.data(), 100, 4), 0);
  EXPECT_TRUE(s_.Allocate({0, 1, 2}, 0, 4, 4, 8));
  EXPECT_EQ(s_.Lightpaths(1, 0), 2);
  EXPECT_EQ(s_.UsedSlots(1, 0), 8);
  EXPECT_EQ(s_.CheckInvariants(), "");
}

TEST_F(SpectrumStateTest, RefusesToDoubleBookAndChangesNothingWhenRefusing) {
  ASSERT_TRUE(s_.Allocate({0, 1}, 0, 10, 3, 1));
  EXPECT_FALSE(s_.Allocate({2, 1}, 0, 12, 2, 2));  // slot 12 on fibre 1 is taken
  EXPECT_FALSE(s_.IsOccupied(2, 0, 12));             // fibre 2 untouched
  EXPECT_FALSE(s_.Allocate({0}, 0, 98, 3, 3));       // past the band edge
  EXPECT_FALSE(s_.Allocate({0}, 0, -1, 2, 3));
  EXPECT_FALSE(s_.Allocate({3, 3}, 0, 0, 2, 3));     // a fibre twice
  EXPECT_FALSE(s_.Allocate({3}, 0, 0, 2, -5));       // no owner
  EXPECT_EQ(s_.CheckInvariants(), "");
}

TEST_F(SpectrumStateTest, RefusesToReleaseWhatIsNotHeld) {
  ASSERT_TRUE(s_.Allocate({0, 1}, 0, 10, 3, 1));
  EXPECT_FALSE(s_.Release({0, 1}, 0, 10, 3, /*owner=*/2));  // not the owner
  EXPECT_FALSE(s_.Release({0, 1}, 0, 10, 4, 1));            // more than it holds
  EXPECT_FALSE(s_.Release({0, 2}, 0, 10, 3, 1));            // not on that fibre
  EXPECT_TRUE(s_.Release({0, 1}, 0, 10, 3, 1));
  EXPECT_FALSE(s_.Release({0, 1}, 0, 10, 3, 1));  // twice
  EXPECT_EQ(s_.UsedSlots(0, 0), 0);
  EXPECT_EQ(s_.Lightpaths(0, 0), 0);
  EXPECT_EQ(s_.CheckInvariants(), "");
}

TEST(SpectrumStateMultiBand, BandsAreIndependent) {
  BandPlan plan({{"C", 191.3e12, 196.1e12, 384}, {"L", 186.0e12, 190.8e12, 384},
                 {"S", 196.5e12, 202.5e12, 480}},
                12.5e9);
  SpectrumState s(2, plan);
  EXPECT_TRUE(s.Allocate({0}, 0, 380, 4, 1));
  EXPECT_TRUE(s.Allocate({0}, 1, 380, 4, 2));
  EXPECT_TRUE(s.Allocate({0}, 2, 476, 4, 3));
  EXPECT_FALSE(s.Allocate({0}, 2, 477, 4, 4));
  EXPECT_EQ(s.TotalUsedSlots(2), 4);
  EXPECT_EQ(s.CheckInvariants(), "");
}

}  // namespace
}  // namespace eonops::twin
