// Pins what pce/pce.h does with the two request kinds controllers send besides a plain bit
// rate: a capacity in spectrum (a media channel of so many GHz: RSA, no format chosen) and a
// bidirectional service (two directed lightpaths, symmetric or per direction, provisioned,
// persisted and released both or neither).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "pce/pce.h"
#include "tests/pce/pce_test_util.h"

namespace eonops::pce {
namespace {

using testing::SmallConfig;
using testing::TempDir;

ServiceSpec Spec(int src, int dst, double gbps, bool bidirectional, const std::string& uuid = "") {
  ServiceSpec s;
  s.uuid = uuid;
  s.request.src = src;
  s.request.dst = dst;
  s.request.bit_rate_gbps = gbps;
  s.request.bidirectional = bidirectional;
  return s;
}

std::vector<int> Reversed(std::vector<int> v) {
  std::reverse(v.begin(), v.end());
  return v;
}

// Every slot of every fibre, occupied or not, as one string (to compare whole states).
std::string Picture(const OccupancySnapshot& o) {
  std::string s;
  for (int f = 0; f < o.num_fibres; ++f)
    for (size_t b = 0; b < o.band_slots.size(); ++b)
      for (int x = 0; x < o.band_slots[b]; ++x)
        s += o.Occupied(f, static_cast<int>(b), x) ? '#' : '.';
  return s;
}

TEST(SpectrumRequestTest, GhzIsAMediaChannelOfThatWidthRoutedLikeAnyLightpath) {
  Pce pce(SmallConfig());
  ServiceSpec spec;
  spec.request.src = 0;
  spec.request.dst = 13;
  spec.request.spectrum_width_hz = 50e9;  // TeraFlowSDN's default: 50 GHz
  Result<Service> r = pce.CreateService(spec);
  ASSERT_TRUE(r.ok()) << r.message;
  const PathDecision& d = r.value->decision;
  EXPECT_EQ(d.width, 4) << "50 GHz = 4 slots of 12.5 GHz, no guard added or format sized";
  EXPECT_DOUBLE_EQ(d.channel.upper_hz - d.channel.lower_hz, 50e9);
  EXPECT_EQ(d.bit_rate_gbps, 0);
  EXPECT_DOUBLE_EQ(d.spectrum_width_hz, 50e9);
  EXPECT_GE(d.modulation, 0) << "the path must still carry some format (validated)";
  EXPECT_EQ(d.decided_by, "heuristic:ksp-ff");
  EXPECT_FALSE(d.fell_back) << "a spectrum request is not the policy's to decide";
  // 40 GHz rounds up to whole slots; a width no band has is refused as invalid.
  spec.request.spectrum_width_hz = 40e9;
  Result<Service> w = pce.CreateService(spec);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.value->decision.width, 4);
  spec.request.spectrum_width_hz = 10e12;
  EXPECT_EQ(pce.CreateService(spec).error, ErrorKind::kInvalid);
  // Both: not one request.
  spec.request.spectrum_width_hz = 50e9;
  spec.request.bit_rate_gbps = 100;
  EXPECT_EQ(pce.CreateService(spec).error, ErrorKind::kInvalid);
  EXPECT_EQ(pce.CheckInvariants(), "");
}

TEST(BidirectionalTest, SymmetricPairTakesTheSameSlotsOnTheReverseRoute) {
  Pce pce(SmallConfig());
  for (auto [a, z] : {std::pair{0, 13}, {1, 5}, {2, 9}, {3, 11}, {4, 10}, {6, 12}, {7, 0}}) {
    Result<Service> r = pce.CreateService(Spec(a, z, 100, true));
    ASSERT_TRUE(r.ok()) << r.message;
    ASSERT_TRUE(r.value->reverse);
    const PathDecision &az = r.value->decision, &za = *r.value->reverse;
    EXPECT_EQ(za.nodes, Reversed(az.nodes));
    EXPECT_EQ(za.band, az.band);
    EXPECT_EQ(za.slot, az.slot);
    EXPECT_EQ(za.width, az.width);
    for (int f : az.fibres)
      EXPECT_EQ(std::count(za.fibres.begin(), za.fibres.end(), f), 0) << "opposite fibres";
  }
  EXPECT_FALSE(pce.ListServices().empty());
  EXPECT_EQ(pce.CheckInvariants(), "");
}

TEST(BidirectionalTest, OneDirectionRefusedRefusesBothAndBooksNothing) {
  PceConfig c = SmallConfig();
  Pce pce(c);
  // Fill the A->Z direction of one link only, one-way services 0 -> 1.
  const int a = 0, z = 1;
  while (pce.CreateService(Spec(a, z, 100, false)).ok()) {
  }
  const std::string before = Picture(pce.Occupancy());
  const size_t services = pce.ListServices().size();
  Result<Service> both = pce.CreateService(Spec(a, z, 100, true));
  // Z->A is free but A->Z is not (on every candidate path, or only on longer ones that then
  // also run out): whatever the outcome, a refusal books nothing and keeps no half.
  if (!both.ok()) {
    EXPECT_EQ(both.error, ErrorKind::kBlocked);
    EXPECT_EQ(Picture(pce.Occupancy()), before);
    EXPECT_EQ(pce.ListServices().size(), services);
  } else {
    EXPECT_TRUE(both.value->reverse);
  }
  EXPECT_EQ(pce.CheckInvariants(), "");
}

TEST(BidirectionalTest, PerDirectionSpectrumDecidesEachDirectionOnItsOwn) {
  PceConfig c = SmallConfig();
  c.pce.bidirectional_spectrum = BidirectionalSpectrum::kPerDirection;
  Pce pce(c);
  // Make the two directions differ: load Z->A first, so A->Z and Z->A first-fit differently.
  ASSERT_TRUE(pce.CreateService(Spec(1, 0, 100, false)).ok());
  Result<Service> r = pce.CreateService(Spec(0, 1, 100, true));
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_TRUE(r.value->reverse);
  EXPECT_EQ(r.value->reverse->nodes.front(), 1);
  EXPECT_EQ(r.value->reverse->nodes.back(), 0);
  EXPECT_NE(r.value->decision.slot, r.value->reverse->slot) << "each direction its own best";
  for (int f : r.value->decision.fibres)
    EXPECT_EQ(std::count(r.value->reverse->fibres.begin(), r.value->reverse->fibres.end(), f), 0);
  EXPECT_EQ(pce.CheckInvariants(), "");
}

TEST(BidirectionalTest, ReleasedTogetherAndRestoredTogether) {
  TempDir dir;
  PceSetup setup;
  setup.state_db = dir / "state.db";
  std::string kept, picture;
  {
    Pce pce(SmallConfig(), setup);
    const std::string empty = Picture(pce.Occupancy());
    Result<Service> gone = pce.CreateService(Spec(2, 9, 100, true, "gone"));
    ASSERT_TRUE(gone.ok()) << gone.message;
    Result<Service> stays = pce.CreateService(Spec(3, 11, 50, true, "stays"));
    ASSERT_TRUE(stays.ok()) << stays.message;
    ASSERT_TRUE(pce.DeleteService("gone"));
    Pce::StateView v = pce.View();
    ASSERT_EQ(v.services.size(), 1u);
    picture = Picture(v.occupancy);
    EXPECT_NE(picture, empty);
    kept = stays.value->uuid;
  }
  Pce again(SmallConfig(), setup);
  auto s = again.GetService(kept);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->reverse) << "the Z->A lightpath is restored with its service";
  EXPECT_EQ(Picture(again.Occupancy()), picture);
  EXPECT_EQ(again.CheckInvariants(), "");
  ASSERT_TRUE(again.DeleteService(kept));
  for (const auto& w : again.Occupancy().words)
    for (uint64_t x : w) EXPECT_EQ(x, 0u);
}

TEST(BidirectionalTest, ComputedPairKeepsBothPathsFindableByEitherUuid) {
  Pce pce(SmallConfig());
  PathRequest r;
  r.src = 4;
  r.dst = 10;
  r.bit_rate_gbps = 100;
  r.bidirectional = true;
  Result<ComputedPath> p = pce.ComputeAndStorePath(r);
  ASSERT_TRUE(p.ok()) << p.message;
  ASSERT_TRUE(p.value->reverse);
  ASSERT_FALSE(p.value->reverse_uuid.empty());
  auto by_reverse = pce.GetComputedPath(p.value->reverse_uuid);
  ASSERT_TRUE(by_reverse);
  EXPECT_EQ(by_reverse->uuid, p.value->uuid);
  EXPECT_TRUE(pce.DeleteComputedPath(p.value->reverse_uuid));
  EXPECT_FALSE(pce.GetComputedPath(p.value->uuid));
}

}  // namespace
}  // namespace eonops::pce
