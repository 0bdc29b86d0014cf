// Pins pce/pce.h without a policy: decisions equal the twin's heuristic, provisioning books the
// spectrum it reports, refusals carry their cause, validation, explicit spectrum, computed
// paths, and the durable state across a restart.
#include "pce/pce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "pce/validation.h"
#include "tests/pce/pce_test_util.h"
#include "twin/heuristics.h"

namespace eonops::pce {
namespace {

using testing::SmallConfig;
using testing::TempDir;

PathRequest Req(int src, int dst, double gbps) {
  PathRequest r;
  r.src = src;
  r.dst = dst;
  r.bit_rate_gbps = gbps;
  return r;
}

ServiceSpec Spec(int src, int dst, double gbps, const std::string& uuid = "") {
  ServiceSpec s;
  s.uuid = uuid;
  s.request = Req(src, dst, gbps);
  return s;
}

TEST(PceTest, WithoutPolicyDecidesLikeTheTwinsHeuristicAndSaysSo) {
  Pce pce(SmallConfig());
  twin::NetworkState twin_state(std::make_shared<const twin::NetworkModel>(SmallConfig().network));
  auto ksp = twin::MakeHeuristic("ksp-ff");  // SmallConfig's fallback
  for (int i = 0; i < 60; ++i) {
    const int src = i % 14, dst = (i * 5 + 3) % 14;
    if (src == dst) continue;
    const double gbps = 25 + (i * 7) % 76;
    twin::Request tr;
    tr.src = src;
    tr.dst = dst;
    tr.bit_rate_gbps = gbps;
    twin::Decision td = ksp->Decide(tr, twin_state);
    auto created = pce.CreateService(Spec(src, dst, gbps));
    ASSERT_EQ(created.ok(), td.accepted) << i;
    const PathDecision& d = created.decision;
    EXPECT_TRUE(d.fell_back);
    EXPECT_EQ(d.fallback_reason, "no policy served for deeprmsa");
    EXPECT_EQ(d.decided_by, "heuristic:ksp-ff");
    if (!td.accepted) {
      EXPECT_EQ(created.error, ErrorKind::kBlocked);
      continue;
    }
    EXPECT_EQ(d.fibres, td.candidate.path->fibres);
    EXPECT_EQ(d.band, td.candidate.band);
    EXPECT_EQ(d.slot, td.slot);
    EXPECT_EQ(d.width, td.candidate.width);
    twin_state.Provision(tr, td.candidate, td.slot, 1e18);
  }
  EXPECT_EQ(pce.CheckInvariants(), "");
}

TEST(PceTest, ReportsTheLightpathOnTheFlexGridWithQotLatencyAndPower) {
  Pce pce(SmallConfig());
  PathDecision d = pce.ComputePath(Req(0, 13, 100));
  ASSERT_TRUE(d.feasible) << d.reason;
  const twin::NetworkModel& m = pce.model();
  EXPECT_EQ(d.nodes.front(), 0);
  EXPECT_EQ(d.nodes.back(), 13);
  EXPECT_EQ(d.fibres.size() + 1, d.nodes.size());
  // G.694.1: centre 193.1 THz + n x 6.25 GHz, width m x 12.5 GHz, and it is the block's.
  EXPECT_DOUBLE_EQ(d.channel.centre_hz, 193.1e12 + d.channel.n * 6.25e9);
  EXPECT_DOUBLE_EQ(d.channel.upper_hz - d.channel.lower_hz, d.channel.m * 12.5e9);
  EXPECT_EQ(d.channel.m, d.width);
  EXPECT_DOUBLE_EQ(d.channel.lower_hz, m.plan().SlotLowerHz(d.band, d.slot));
  EXPECT_EQ(d.modulation_name, m.modulations().format(d.modulation).name);
  EXPECT_TRUE(std::isfinite(d.gsnr_db));
  EXPECT_GE(d.gsnr_db, d.threshold_db);               // validated
  EXPECT_GE(d.gsnr_db, d.worst_case_gsnr_db - 1e-9);  // an empty network is the best case
  EXPECT_GT(d.latency_us, 0);
  EXPECT_GT(d.incremental_power_w, 0);  // the first lightpath lights amplifiers and transponders
  EXPECT_TRUE(pce.ListServices().empty()) << "compute-p-2-p-path provisions nothing";
}

TEST(PceTest, ProvisionedSpectrumIsBookedAndFreedAgain) {
  Pce pce(SmallConfig());
  auto s = pce.CreateService(Spec(2, 9, 100, "svc-1"));
  ASSERT_TRUE(s.ok()) << s.message;
  EXPECT_EQ(s.value->uuid, "svc-1");
  OccupancySnapshot occ = pce.Occupancy();
  const PathDecision& d = s.value->decision;
  for (int f : d.fibres) {
    for (int x = d.slot; x < d.slot + d.width; ++x) EXPECT_TRUE(occ.Occupied(f, d.band, x));
  }
  // The same request is now placed after the first lightpath, not on it.
  PathDecision next = pce.ComputePath(Req(2, 9, 100));
  ASSERT_TRUE(next.feasible);
  EXPECT_TRUE(next.fibres != d.fibres || next.slot >= d.slot + d.width);
  EXPECT_EQ(pce.CheckInvariants(), "");
  auto again = pce.CreateService(Spec(2, 9, 100, "svc-1"));
  EXPECT_EQ(again.error, ErrorKind::kExists);
  ASSERT_TRUE(pce.DeleteService("svc-1"));
  EXPECT_FALSE(pce.DeleteService("svc-1"));
  occ = pce.Occupancy();
  for (int f : d.fibres) EXPECT_FALSE(occ.Occupied(f, d.band, d.slot));
  EXPECT_EQ(pce.CheckInvariants(), "");
}

TEST(PceTest, RefusalsCarryTheirCause) {
  Pce pce(SmallConfig());
  // Fill every candidate of 0 -> 1 until nothing is left.
  int created = 0;
  Result<Service> last;
  for (int i = 0; i < 200; ++i) {
    last = pce.CreateService(Spec(0, 1, 100));
    if (!last.ok()) break;
    ++created;
  }
  ASSERT_GT(created, 3);
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error, ErrorKind::kBlocked);
  EXPECT_EQ(last.decision.cause, twin::BlockCause::kNoSpectrum);
  EXPECT_NE(last.decision.reason.find("no free block"), std::string::npos) << last.decision.reason;

  PathRequest tight = Req(0, 13, 50);
  tight.latency_bound_us = 100;  // far below any coast-to-coast path
  PathDecision d = pce.ComputePath(tight);
  EXPECT_FALSE(d.feasible);
  EXPECT_EQ(d.cause, twin::BlockCause::kLatency);

  auto invalid = pce.CreateService(Spec(3, 3, 100));
  EXPECT_EQ(invalid.error, ErrorKind::kInvalid);
  EXPECT_NE(invalid.message.find("same node"), std::string::npos);
  auto negative = pce.CreateService(Spec(3, 4, -10));
  EXPECT_EQ(negative.error, ErrorKind::kInvalid);
  // No capacity at all is the config's default bit rate, and the decision says so.
  auto unnamed = pce.CreateService(Spec(3, 4, 0));
  ASSERT_TRUE(unnamed.ok()) << unnamed.message;
  EXPECT_TRUE(unnamed.value->request.capacity_defaulted);
  EXPECT_EQ(unnamed.value->request.bit_rate_gbps, pce.config().pce.default_bit_rate_gbps);
  EXPECT_TRUE(unnamed.decision.capacity_defaulted);
}

TEST(PceTest, ValidationMarginRefusesWhatTheHeuristicWouldLight) {
  PceConfig c = SmallConfig();
  c.pce.validation.gsnr_margin_db = 60.0;  // no lightpath has 60 dB to spare
  Pce pce(c);
  PathDecision d = pce.ComputePath(Req(0, 13, 100));
  EXPECT_FALSE(d.feasible);
  EXPECT_EQ(d.cause, twin::BlockCause::kQot);
  EXPECT_NE(d.reason.find("failed validation"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("threshold"), std::string::npos) << d.reason;
}

TEST(PceTest, ValidateChecksSpectrumLatencyAndActualGsnr) {
  auto model = std::make_shared<const twin::NetworkModel>(SmallConfig().network);
  twin::NetworkState state(model);
  twin::Request r;
  r.src = 0;
  r.dst = 13;
  r.bit_rate_gbps = 100;
  twin::Candidate c = model->Evaluate(r, 0, 0);
  ASSERT_TRUE(c.usable());
  ValidationOptions o;
  Check ok = Validate(state, r, c, 0, o);
  ASSERT_TRUE(ok.ok) << ok.reason;
  // A neighbour lowers the actual GSNR (more NLI) but never below the worst case.
  ASSERT_GE(state.Provision(r, c, c.width, 1e18), 0);
  const double with_neighbour = ActualGsnrDb(state, c.path->fibres, 0, 0, c.width);
  EXPECT_LT(with_neighbour, ok.gsnr_db);
  EXPECT_GE(with_neighbour, c.gsnr_db - 1e-6);
  Check taken = Validate(state, r, c, c.width, o);
  EXPECT_FALSE(taken.ok);
  EXPECT_EQ(taken.cause, twin::BlockCause::kNoSpectrum);
  EXPECT_NE(taken.reason.find("is taken on"), std::string::npos) << taken.reason;
  twin::Request tight = r;
  tight.latency_bound_us = c.latency_us - 1;
  Check late = Validate(state, tight, c, 0, o);
  EXPECT_EQ(late.cause, twin::BlockCause::kLatency);
}

// A lightpath that meets its own threshold is still refused when it would push a lit one below
// its format's threshold plus the margin (cause qot_impact); with a margin the lit one keeps, the
// same lightpath passes.
TEST(PceTest, ValidateRefusesALightpathThatWouldPushALitOneBelowItsThreshold) {
  auto model = std::make_shared<const twin::NetworkModel>(SmallConfig().network);
  twin::NetworkState state(model);
  state.EnableQotTracking();
  twin::Request r;
  r.src = 0;
  r.dst = 13;
  r.bit_rate_gbps = 100;
  const twin::Candidate lit = model->Evaluate(r, 0, 0);
  ASSERT_TRUE(lit.usable());
  const int32_t id = state.Provision(r, lit, 10, 1e18);
  ASSERT_GE(id, 0);
  const double lit_margin =
      state.LightpathGsnrDb(id) - model->modulations().format(lit.modulation).gsnr_threshold_db;
  // A one-hop lightpath on the lit one's first fibre, right next to it, in BPSK: a large margin
  // of its own.
  const twin::Fibre& f0 = model->topology().fibre(lit.path->fibres[0]);
  twin::Request s;
  s.src = f0.src;
  s.dst = f0.dst;
  s.bit_rate_gbps = 100;
  twin::Candidate next = model->Evaluate(s, 0, 0);
  ASSERT_EQ(next.path->fibres, std::vector<int>{f0.id});
  next.modulation = 0;
  next.width = model->modulations().SlotsNeeded(100, 0);
  ValidationOptions o;
  o.gsnr_margin_db = lit_margin - 0.005;
  Check refused = Validate(state, s, next, 10 + lit.width, o);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.cause, twin::BlockCause::kQotImpact);
  EXPECT_NE(refused.reason.find("lit lightpath " + std::to_string(id)), std::string::npos)
      << refused.reason;
  EXPECT_LT(refused.impact_margin_db, 0.0);
  EXPECT_STREQ(twin::ToString(twin::BlockCause::kQotImpact), "qot_impact");
  o.gsnr_margin_db = lit_margin - 0.5;
  Check passed = Validate(state, s, next, 10 + lit.width, o);
  EXPECT_TRUE(passed.ok) << passed.reason;
  EXPECT_GE(passed.impact_margin_db, 0.0);
}

TEST(PceTest, TopologyConstraintsAreHonoured) {
  Pce pce(SmallConfig());
  PathDecision free = pce.ComputePath(Req(0, 13, 100));
  ASSERT_TRUE(free.feasible);
  PathRequest r = Req(0, 13, 100);
  r.exclude_links = {free.fibres[0]};
  PathDecision avoid = pce.ComputePath(r);
  ASSERT_TRUE(avoid.feasible) << avoid.reason;
  EXPECT_EQ(std::count(avoid.fibres.begin(), avoid.fibres.end(), free.fibres[0]), 0);
  PathRequest via = Req(0, 13, 100);
  via.include_nodes = {6};
  PathDecision through = pce.ComputePath(via);
  ASSERT_TRUE(through.feasible) << through.reason;
  EXPECT_NE(std::find(through.nodes.begin(), through.nodes.end(), 6), through.nodes.end());
  PathRequest cut = Req(0, 13, 100);
  cut.exclude_links = pce.model().topology().OutFibres(0);  // every fibre out of node 0
  PathDecision none = pce.ComputePath(cut);
  EXPECT_FALSE(none.feasible);
  EXPECT_EQ(none.cause, twin::BlockCause::kNoPath);
  EXPECT_NE(none.reason.find("topology constraints"), std::string::npos);
}

TEST(PceTest, ExplicitSpectrumIsUsedOrRefused) {
  Pce pce(SmallConfig());
  PathRequest r = Req(1, 5, 100);
  PathDecision auto_d = pce.ComputePath(r);
  ASSERT_TRUE(auto_d.feasible);
  r.spectrum = PathRequest::MediaChannel{0, 20, auto_d.width + 1};
  auto s = pce.CreateService(ServiceSpec{"pinned", {}, r});
  ASSERT_TRUE(s.ok()) << s.message;
  EXPECT_EQ(s.value->decision.slot, 20);
  EXPECT_EQ(s.value->decision.width, auto_d.width + 1);
  EXPECT_EQ(s.value->decision.decided_by, "explicit-spectrum");
  EXPECT_FALSE(s.value->decision.fell_back);
  // The same block again: taken on the first path, so another candidate path or a refusal.
  auto again = pce.CreateService(ServiceSpec{"pinned-2", {}, r});
  if (again.ok()) {
    EXPECT_NE(again.value->decision.fibres, s.value->decision.fibres);
  } else {
    EXPECT_EQ(again.decision.cause, twin::BlockCause::kNoSpectrum);
  }
  PathRequest narrow = Req(1, 5, 100);
  narrow.spectrum = PathRequest::MediaChannel{0, 0, 1};
  PathDecision n = pce.ComputePath(narrow);
  EXPECT_FALSE(n.feasible);
  EXPECT_NE(n.reason.find("narrower"), std::string::npos) << n.reason;
}

TEST(PceTest, ComputedPathsAreKeptUntilDeletedAndBounded) {
  PceConfig c = SmallConfig();
  c.pce.max_computed_paths = 3;
  Pce pce(c);
  std::vector<ComputedPath> kept;
  for (int i = 0; i < 5; ++i) {
    auto p = pce.ComputeAndStorePath(Req(i, i + 5, 50));
    ASSERT_TRUE(p.ok());
    kept.push_back(*p.value);
  }
  EXPECT_EQ(pce.ListComputedPaths().size(), 3u);
  EXPECT_FALSE(pce.GetComputedPath(kept[0].uuid)) << "the oldest are evicted";
  ASSERT_TRUE(pce.GetComputedPath(kept[4].uuid));
  ASSERT_TRUE(pce.GetComputedPath(kept[4].service_uuid)) << "also found by its path-comp-service";
  EXPECT_TRUE(IsUuid(kept[4].uuid));
  EXPECT_TRUE(pce.DeleteComputedPath(kept[4].service_uuid));
  EXPECT_FALSE(pce.GetComputedPath(kept[4].uuid));
  EXPECT_TRUE(pce.ListServices().empty());
}

TEST(PceTest, StateSurvivesARestartExactly) {
  TempDir dir;
  PceSetup setup;
  setup.state_db = dir / "state.db";
  std::vector<Service> before;
  OccupancySnapshot occ_before;
  std::string path_uuid;
  double power_before = 0;
  {
    Pce pce(SmallConfig(), setup);
    for (int i = 0; i < 40; ++i) pce.CreateService(Spec(i % 14, (i % 14 + 1 + i % 5) % 14, 40 + i));
    pce.DeleteService(pce.ListServices()[3].uuid);
    pce.DeleteService(pce.ListServices()[7].uuid);
    auto p = pce.ComputeAndStorePath(Req(4, 10, 100));
    ASSERT_TRUE(p.ok());
    path_uuid = p.value->uuid;
    before = pce.ListServices();
    occ_before = pce.Occupancy();
    power_before = pce.PowerW();
  }
  Pce pce(SmallConfig(), setup);
  std::vector<Service> after = pce.ListServices();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].uuid, before[i].uuid);
    EXPECT_EQ(after[i].decision.ToJson(), before[i].decision.ToJson());
    EXPECT_EQ(after[i].request.ToJson(), before[i].request.ToJson());
  }
  EXPECT_EQ(pce.Occupancy().words, occ_before.words);
  EXPECT_NEAR(pce.PowerW(), power_before, 1e-6);
  EXPECT_EQ(pce.CheckInvariants(), "");
  EXPECT_TRUE(pce.GetComputedPath(path_uuid));
}

TEST(PceTest, StateOfAnotherNetworkIsRefused) {
  TempDir dir;
  PceSetup setup;
  setup.state_db = dir / "state.db";
  { Pce pce(SmallConfig(), setup); }
  PceConfig other = SmallConfig();
  other.network.slots_per_band = 60;
  try {
    Pce pce(other, setup);
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("another network"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(setup.state_db), std::string::npos) << e.what();
  }
}

TEST(PceTest, MetricsCountDecisionsAndRender) {
  Pce pce(SmallConfig());
  pce.ComputePath(Req(0, 13, 100));
  PathRequest tight = Req(0, 13, 100);
  tight.latency_bound_us = 10;
  pce.ComputePath(tight);
  pce.metrics().ObserveRequest("compute-p-2-p-path", "ok", 0.0003);
  const std::string text = pce.RenderMetrics();
  EXPECT_NE(text.find("eonops_pce_decisions_total{use_case=\"deeprmsa\",decided_by=\"heuristic\","
                      "result=\"accepted\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("eonops_pce_blocked_total{cause=\"latency\"} 1"), std::string::npos);
  EXPECT_NE(text.find("eonops_pce_fallbacks_total{use_case=\"deeprmsa\",reason=\"no_policy\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("eonops_pce_request_duration_seconds_bucket{operation=\"compute-p-2-p-path\","
                      "le=\"0.0005\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE eonops_pce_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("eonops_pce_spectrum_utilisation{band=\"C\"} 0"), std::string::npos);
}

}  // namespace
}  // namespace eonops::pce
