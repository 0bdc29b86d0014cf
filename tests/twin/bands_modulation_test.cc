#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/twin/test_util.h"
#include "twin/bands.h"
#include "twin/modulation.h"

namespace eonops::twin {
namespace {

using testing::ConfigPath;

TEST(BandPlanTest, LoadsCLSWithSlotCountsFromFrequencyRanges) {
  BandPlan plan = BandPlan::Load(ConfigPath("bands.json"));
  ASSERT_EQ(plan.NumBands(), 3);
  EXPECT_EQ(plan.band(plan.IndexOf("C")).num_slots, 384);
  EXPECT_EQ(plan.band(plan.IndexOf("L")).num_slots, 384);
  EXPECT_EQ(plan.band(plan.IndexOf("S")).num_slots, 480);
  BandPlan c = plan.Select({"C"});
  EXPECT_EQ(c.NumBands(), 1);
  EXPECT_THROW(plan.Select({"X"}), std::runtime_error);
}

TEST(BandPlanTest, SlotsMapToTheG6941FlexGrid) {
  BandPlan plan = BandPlan::Load(ConfigPath("bands.json")).Select({"C"});
  // Slot 0 of C spans 191.3000-191.3125 THz: centre 191.30625 THz.
  EXPECT_DOUBLE_EQ(plan.SlotCentreHz(0, 0), 191.30625e12);
  // A 4-slot block (50 GHz) at slot 144 spans 193.1-193.15 THz: centre 193.125 = n 4, m 4.
  FlexGridChannel ch = plan.SlotsToGrid(0, 144, 4);
  EXPECT_EQ(ch.n, 4);
  EXPECT_EQ(ch.m, 4);
  EXPECT_DOUBLE_EQ(ch.lower_hz, 193.1e12);
  int band, slot, width;
  ASSERT_TRUE(plan.GridToSlots(4, 4, &band, &slot, &width));
  EXPECT_EQ(slot, 144);
  EXPECT_EQ(width, 4);
  // Round trip over every block start and a few widths.
  for (int s = 0; s + 6 <= 384; ++s) {
    for (int w : {1, 3, 6}) {
      FlexGridChannel g = plan.SlotsToGrid(0, s, w);
      ASSERT_TRUE(plan.GridToSlots(g.n, g.m, &band, &slot, &width));
      ASSERT_EQ(slot, s);
      ASSERT_EQ(width, w);
    }
  }
  EXPECT_FALSE(plan.GridToSlots(4, 3, &band, &slot, &width));     // off the 12.5 GHz slot grid
  EXPECT_FALSE(plan.GridToSlots(100000, 4, &band, &slot, &width));  // outside every band
}

TEST(BandPlanTest, RejectsBadConfigs) {
  auto bad = [](nlohmann::json j) { EXPECT_THROW(BandPlan::FromJson(j, "b.json"), std::runtime_error) << j; };
  bad({{"bands", nlohmann::json::array()}});
  bad({{"bands", {{{"name", "C"}, {"f_min_thz", 192}, {"f_max_thz", 191}}}}});
  bad({{"bands", {{{"name", "C"}, {"f_min_thz", 191.301}, {"f_max_thz", 196.1}}}}});  // off grid
  bad({{"bands", {{{"name", "C"}, {"f_min_thz", 191.3}, {"f_max_thz", 196.1}},
                  {{"name", "X"}, {"f_min_thz", 195.0}, {"f_max_thz", 197.0}}}}});  // overlap
}

TEST(ModulationTest, DeepRmsaReachAndSlotRule) {
  ModulationTable m = ModulationTable::Load(ConfigPath("modulations-deeprmsa.json"));
  ASSERT_EQ(m.NumFormats(), 4);
  EXPECT_EQ(m.format(m.ByReach(625)).name, "16QAM");
  EXPECT_EQ(m.format(m.ByReach(626)).name, "8QAM");
  EXPECT_EQ(m.format(m.ByReach(1250)).name, "8QAM");
  EXPECT_EQ(m.format(m.ByReach(2500)).name, "QPSK");
  EXPECT_EQ(m.format(m.ByReach(6000)).name, "BPSK");
  // ceil(B / (12.5 * bits)) + 1 guard.
  EXPECT_EQ(m.SlotsNeeded(100, m.IndexOf("16QAM")), 2 + 1);
  EXPECT_EQ(m.SlotsNeeded(25, m.IndexOf("16QAM")), 1 + 1);
  EXPECT_EQ(m.SlotsNeeded(100, m.IndexOf("BPSK")), 8 + 1);
  EXPECT_EQ(m.SlotsNeeded(37, m.IndexOf("8QAM")), 1 + 1);  // 37/37.5 rounds up to 1
  EXPECT_EQ(m.SlotsNeeded(38, m.IndexOf("8QAM")), 2 + 1);
}

TEST(ModulationTest, GsnrChoosesTheMostEfficientFormatAboveThreshold) {
  ModulationTable m = ModulationTable::Load(ConfigPath("modulations.json"));
  ASSERT_EQ(m.NumFormats(), 6);
  EXPECT_EQ(m.format(m.ByGsnr(20.0)).name, "64QAM");
  EXPECT_EQ(m.format(m.ByGsnr(14.0)).name, "16QAM");
  EXPECT_EQ(m.format(m.ByGsnr(14.0, /*margin_db=*/1.0)).name, "8QAM");
  EXPECT_EQ(m.ByGsnr(2.0), -1);
  // Dual polarisation, 15% FEC, 0.15 roll-off: 100G 16QAM -> 14.375 GBd -> 16.53 GHz -> 2 slots + 1 guard.
  EXPECT_EQ(m.SlotsNeeded(100, m.IndexOf("16QAM")), 3);
  EXPECT_NEAR(m.SymbolRateBaud(100, m.IndexOf("16QAM")), 14.375e9, 1);
  EXPECT_THROW(m.SlotsNeeded(0, 0), std::invalid_argument);
}

TEST(ModulationTest, RejectsBadConfigs) {
  auto bad = [](nlohmann::json j) { EXPECT_THROW(ModulationTable::FromJson(j, "m.json"), std::runtime_error) << j; };
  bad({{"formats", nlohmann::json::array()}});
  bad({{"formats", {{{"name", "X"}, {"bits_per_symbol", 0}, {"gsnr_threshold_db", 1}, {"max_reach_km", 1}}}}});
  bad({{"formats", {{{"name", "X"}, {"bits_per_symbol", 2}, {"gsnr_threshold_db", 1}}}}});
  bad({{"slot_rule", {{"polarisations", 3}}}, {"formats", {{{"name", "X"}, {"bits_per_symbol", 2}, {"gsnr_threshold_db", 1}, {"max_reach_km", 1}}}}});
}

}  // namespace
}  // namespace eonops::twin
