// Pins lifecycle/trace.h and lifecycle/replay.h against a real PCE: the recorder mirrors the
// live services, a cut trace starts from the lightpaths that were lit, and replaying the PCE's
// own heuristic on its own trace reproduces every live decision exactly.
#include "lifecycle/replay.h"
#include "lifecycle/trace.h"

#include <gtest/gtest.h>

#include <set>

#include "lifecycle/kpi.h"
#include "tests/lifecycle/lifecycle_test_util.h"
#include "twin/heuristics.h"

namespace eonops::lifecycle {
namespace {

using testing::Drain;
using testing::TrafficDriver;

// `n` requests of `pce`'s traffic, recorded from the PCE's start.
TraceRecorder Recorded(pce::Pce& pce, uint64_t seed, int64_t n) {
  auto source = InProcessTraceSource(pce);
  TraceRecorder rec(100000);
  rec.Reset(source->Snapshot());
  TrafficDriver(pce, pce.config().traffic, seed).Run(n);
  Drain(*source, rec);
  return rec;
}

std::vector<uint8_t> LiveBlocked(const ReplayTrace& t) {
  std::vector<uint8_t> out;
  for (const auto& r : t.requests) out.push_back(r.live_accepted ? 0 : 1);
  return out;
}

TEST(Trace, PceRecordsEveryRequestAndRelease) {
  pce::Pce pce(pce::testing::SmallConfig());
  TrafficDriver drive(pce, pce.config().traffic, 1);
  const int64_t accepted = drive.Run(300);
  const auto page = pce.trace().Read(0, 100000);
  int64_t arrivals = 0, lit = 0, releases = 0;
  double last = -1;
  for (const auto& e : page.events) {
    EXPECT_GE(e.time_s, last);  // times never go backwards along the sequence
    last = e.time_s;
    if (e.kind == pce::TraceEvent::Kind::kRelease) {
      ++releases;
      continue;
    }
    ++arrivals;
    if (e.accepted) {
      ++lit;
      EXPECT_FALSE(e.uuid.empty());
      EXPECT_GE(e.nodes.size(), 2u);
      EXPECT_GT(e.network_power_w, 0);
    } else {
      EXPECT_TRUE(e.uuid.empty());
      EXPECT_NE(e.cause, twin::BlockCause::kNone);
    }
    // The JSON form round-trips (what `GET /eonops/trace` sends).
    const pce::TraceEvent back = pce::TraceEvent::FromJson(e.ToJson());
    EXPECT_EQ(back.ToJson(), e.ToJson());
  }
  EXPECT_EQ(arrivals, 300);
  EXPECT_EQ(lit, accepted);
  EXPECT_EQ(releases, accepted - static_cast<int64_t>(pce.ListServices().size()));
  EXPECT_EQ(page.next_seq, static_cast<int64_t>(page.events.size()) + 1);
  EXPECT_THROW(pce::TraceEvent::FromJson({{"seq", 1}}), std::invalid_argument);
}

TEST(Trace, SmallBufferKeepsTheNewestAndSaysWhatWasLost) {
  pce::PceConfig c = pce::testing::SmallConfig();
  c.pce.trace_events = 100;
  pce::Pce pce(c);
  TrafficDriver drive(pce, c.traffic, 2);
  drive.Run(200);
  const auto page = pce.trace().Read(0, 1000);
  ASSERT_EQ(page.events.size(), 100u);
  EXPECT_EQ(page.first_seq, page.next_seq - 100);
  EXPECT_EQ(page.events.front().seq, page.first_seq);
  EXPECT_EQ(pce.trace().Read(page.next_seq - 3, 1000).events.size(), 2u);
}

TEST(Trace, RecorderMirrorsTheLiveServicesFromAnySnapshot) {
  pce::Pce pce(pce::testing::SmallConfig());
  auto source = InProcessTraceSource(pce);
  TrafficDriver drive(pce, pce.config().traffic, 3);
  drive.Run(250);
  TraceRecorder rec(10000);
  rec.Reset(source->Snapshot());  // starts mid-life: 250 requests already served
  EXPECT_EQ(rec.live(), pce.ListServices().size());
  drive.Run(400);
  Drain(*source, rec);
  EXPECT_EQ(rec.live(), pce.ListServices().size());
  EXPECT_EQ(rec.arrivals(), 400);
  drive.DeleteAll();
  Drain(*source, rec);
  EXPECT_EQ(rec.live(), 0u);
}

TEST(Replay, ThePcesOwnHeuristicOnItsOwnTraceDecidesExactlyAsLive) {
  pce::Pce pce(pce::testing::SmallConfig());  // no policy: its fallback, KSP-FF, decides everything
  const TraceRecorder rec = Recorded(pce, 4, 1500);
  auto model = std::make_shared<const twin::NetworkModel>(pce.config().network);
  const auto ksp_ff = twin::MakeHeuristic("ksp-ff");
  // The whole life, from the empty network, and its last 600 requests, from the lightpaths that
  // were lit when they began.
  for (int64_t n : {1500, 600}) {
    const ReplayTrace t = rec.Cut(n);
    ASSERT_EQ(t.requests.size(), size_t(n));
    if (n == 600) {
      EXPECT_GT(t.initial.size(), 20u);
    }
    const std::vector<uint8_t> live = LiveBlocked(t);
    ASSERT_GT(std::count(live.begin(), live.end(), 1), 5) << "the test needs some blocking";
    const ReplayResult r = Replay(model, t, twin::UseCase::kDeepRmsa, *ksp_ff, 1);
    EXPECT_EQ(r.initial, static_cast<int64_t>(t.initial.size()));
    EXPECT_EQ(r.blocked_flags, live) << "replay from " << t.initial.size() << " lit lightpaths";
    // The JSON form replays the same.
    const ReplayTrace back = ReplayTrace::FromJson(t.ToJson());
    EXPECT_EQ(Replay(model, back, twin::UseCase::kDeepRmsa, *ksp_ff, 1).blocked_flags, live);
  }
  // SP-FF on the same trace blocks more, beyond the noise of 10 paired batches.
  const ReplayTrace t = rec.Cut(1500);
  const ReplayResult a = Replay(model, t, twin::UseCase::kDeepRmsa, *twin::MakeHeuristic("sp-ff"), 1);
  const ReplayResult b = Replay(model, t, twin::UseCase::kDeepRmsa, *ksp_ff, 1);
  const PairedComparison d = CompareBatches(a.blocked_flags, b.blocked_flags, 10);
  EXPECT_GT(d.ci95_low, 0) << d.ToJson();
  EXPECT_FALSE(d.Lower());
  EXPECT_TRUE(CompareBatches(b.blocked_flags, a.blocked_flags, 10).Lower());
  // Identical outcomes: a zero-width interval at 0, never "lower".
  const PairedComparison same = CompareBatches(b.blocked_flags, b.blocked_flags, 10);
  EXPECT_EQ(same.difference, 0.0);
  EXPECT_FALSE(same.Lower());
}

TEST(Replay, OtherUseCasesLoadTheNetworkAsTheyDidLive) {
  pce::Pce pce(pce::testing::SmallConfig());  // live decisions by KSP-FF, which the replay judges with
  ReplayTrace t = Recorded(pce, 5, 600).Cut(600);
  // Judge only every other request; the rest replay as recorded.
  for (size_t i = 0; i < t.requests.size(); i += 2) t.requests[i].use_case = twin::UseCase::kLatencyRsa;
  auto model = std::make_shared<const twin::NetworkModel>(pce.config().network);
  const ReplayResult r = Replay(model, t, twin::UseCase::kDeepRmsa, *twin::MakeHeuristic("ksp-ff"), 1);
  EXPECT_EQ(r.requests, 300);
  EXPECT_EQ(r.background, 300);
  EXPECT_EQ(r.background_dropped, 0);  // same decisions, so their spectrum is free as it was
}

TEST(Kpi, WindowFiguresAndOutcomeRing) {
  KpiWindow w(4);
  auto event = [](double t, bool accepted, twin::BlockCause cause, bool fell_back) {
    pce::TraceEvent e;
    e.time_s = t;
    e.bit_rate_gbps = 100;
    e.accepted = accepted;
    e.cause = accepted ? twin::BlockCause::kNone : cause;
    e.fell_back = fell_back;
    e.margin_db = accepted ? 2.0 : std::numeric_limits<double>::quiet_NaN();
    e.latency_us = 500;
    e.latency_bound_us = accepted ? 1000 : std::numeric_limits<double>::infinity();
    e.network_power_w = 1000;
    return e;
  };
  w.Add(event(0, true, twin::BlockCause::kNone, false));  // falls out of the window
  w.Add(event(1, false, twin::BlockCause::kQot, false));
  w.Add(event(2, true, twin::BlockCause::kNone, true));
  w.Add(event(3, false, twin::BlockCause::kNoSpectrum, false));
  w.Add(event(4, true, twin::BlockCause::kNone, false));
  const KpiFigures k = w.Figures(10.0);
  EXPECT_EQ(k.requests, 4);
  EXPECT_DOUBLE_EQ(k.blocking, 0.5);
  EXPECT_DOUBLE_EQ(k.blocking_qot, 0.25);
  EXPECT_DOUBLE_EQ(k.blocking_no_spectrum, 0.25);
  EXPECT_DOUBLE_EQ(k.fallback_rate, 0.25);
  EXPECT_DOUBLE_EQ(k.request_rate_per_s, 1.0);  // 3 intervals in 3 s
  EXPECT_DOUBLE_EQ(k.offered_load_erlang, 10.0);
  EXPECT_DOUBLE_EQ(k.gsnr_margin_db, 2.0);
  EXPECT_DOUBLE_EQ(k.latency_violations, 0.0);
  EXPECT_EQ(k.ToMetrics(7, 1000).front().step, 7);
  OutcomeRing ring(2);
  ring.Add(true, 100);
  ring.Add(false, 100);
  ring.Add(false, 300);
  EXPECT_EQ(ring.Counts().requests, 2);
  EXPECT_EQ(ring.Counts().blocked, 0);
  ring.Add(true, 100);
  EXPECT_DOUBLE_EQ(ring.Counts().Rate("blocking"), 0.5);
  EXPECT_DOUBLE_EQ(ring.Counts().Rate("bit_rate_blocking"), 0.25);
}

}  // namespace
}  // namespace eonops::lifecycle
