#include "twin/network.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "twin/json_util.h"
#include "tests/twin/twin_fixtures.h"
#include "twin/rng.h"
#include "twin/spectrum.h"

namespace eonops::twin {
namespace {

using fixtures::MakeRequest;

double PropagationUs(double km) { return km * 1.468 / 299792458.0 * 1e9; }

TEST(NetworkModelTest, DeepRmsaScenarioLoadsAsPublished) {
  const auto& s = fixtures::DeepRmsaScenario();
  const NetworkModel& m = *fixtures::DeepRmsaModel();
  EXPECT_EQ(m.topology().NumNodes(), 14);
  EXPECT_EQ(m.topology().NumFibres(), 44);
  ASSERT_EQ(m.NumBands(), 1);
  EXPECT_EQ(m.plan().band(0).num_slots, 100);
  EXPECT_EQ(m.k(), 5);
  EXPECT_EQ(m.modulations().slot_rule().guard_slots, 1);
  EXPECT_EQ(s.traffic.load_erlang, 250);
  EXPECT_EQ(s.traffic.ArrivalRate(), 10);
  EXPECT_EQ(s.traffic.holding_truncate_factor, 2);
  EXPECT_EQ(s.measurement.warmup, 3000);
  EXPECT_EQ(s.measurement.batch_size, 10000);
  // K = 5 by length: lengths never decrease along the candidate list.
  for (int a = 0; a < 14; ++a) {
    for (int b = 0; b < 14; ++b) {
      if (a == b) continue;
      const auto& ps = m.paths().Get(a, b);
      ASSERT_EQ(ps.size(), 5u) << a << "->" << b;
      for (size_t i = 1; i < ps.size(); ++i) EXPECT_LE(ps[i - 1].length_km, ps[i].length_km);
    }
  }
}

// Band names and sizes are checked against bands.json when the model is built; the error names
// the option and the file like a config loader's (fuzz_config found "unknown band 'V'" naming
// neither).
TEST(NetworkModelTest, BadBandsNameTheOptionAndTheBandsFile) {
  auto message = [](const NetworkOptions& o) -> std::string {
    try {
      NetworkModel model(o);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "accepted";
  };
  NetworkOptions o;
  o.topology = "ring4";
  o.bands = {"C", "V"};
  std::string m = message(o);
  EXPECT_NE(m.find("network.bands"), std::string::npos) << m;
  EXPECT_NE(m.find("'V'"), std::string::npos) << m;
  EXPECT_NE(m.find("bands.json"), std::string::npos) << m;
  o.bands = {"C", "C"};
  m = message(o);
  EXPECT_NE(m.find("network.bands"), std::string::npos) << m;
  o.bands = {"C"};
  o.slots_per_band = 1000;  // the C band has 384
  m = message(o);
  EXPECT_NE(m.find("network.slots_per_band"), std::string::npos) << m;
  EXPECT_NE(m.find("bands.json"), std::string::npos) << m;
}

TEST(NetworkModelTest, ReachBasedModulationAndSlotsByHand) {
  const NetworkModel& m = *fixtures::DeepRmsaModel();
  const auto& f = m.modulations();
  const int bpsk = f.IndexOf("BPSK"), qpsk = f.IndexOf("QPSK"), qam8 = f.IndexOf("8QAM"),
            qam16 = f.IndexOf("16QAM");
  struct Case {
    int src, dst;
    double km;  // shortest path, from the DeepRMSA link table
    int modulation;
    double gbps;
    int slots;  // ceil(gbps / (12.5 x bits)) + 1 guard
  };
  const std::vector<Case> cases = {
      {12, 13, 150, qam16, 100, 3},  // ceil(2) + 1
      {12, 13, 150, qam16, 25, 2},   // ceil(0.5) + 1
      {12, 13, 150, qam16, 51, 3},   // ceil(1.02) + 1
      {0, 1, 1050, qam8, 100, 4},    // ceil(2.67) + 1
      {0, 1, 1050, qam8, 75, 3},     // exactly 2 + 1: no float round-up
      {0, 7, 2400, qpsk, 100, 5},    // ceil(4) + 1
      {0, 13, 3600, bpsk, 100, 9},   // 0-7-8-12-13: ceil(8) + 1
      {0, 13, 3600, bpsk, 25, 3},    // ceil(2) + 1
      {1, 4, 1350, qpsk, 60, 4},     // 1-3-4, just past 8QAM's 1250 km: ceil(2.4) + 1
      {8, 13, 450, qam16, 100, 3},   // 8-12-13 (or 8-11-13: 600 km)
  };
  for (const auto& c : cases) {
    const Request r = MakeRequest(c.src, c.dst, c.gbps);
    const Candidate cand = m.Evaluate(r, 0, 0);
    ASSERT_TRUE(cand.usable()) << c.src << "->" << c.dst;
    EXPECT_DOUBLE_EQ(cand.path->length_km, c.km) << c.src << "->" << c.dst;
    EXPECT_EQ(cand.modulation, c.modulation) << c.src << "->" << c.dst;
    EXPECT_EQ(cand.width, c.slots) << c.src << "->" << c.dst << " at " << c.gbps << " Gb/s";
    EXPECT_EQ(cand.path_index, 0);
    EXPECT_EQ(cand.band, 0);
    EXPECT_EQ(cand.path, &m.paths().Get(c.src, c.dst)[0]);
  }
  // The fifth candidate of 0->13 is longer, so never a better format than the first.
  const Request r = MakeRequest(0, 13, 100);
  for (int k = 1; k < 5; ++k)
    EXPECT_LE(m.Evaluate(r, k, 0).modulation, m.Evaluate(r, k - 1, 0).modulation);
  // Out of range k or band: no path.
  EXPECT_EQ(m.Evaluate(r, 5, 0).cause, BlockCause::kNoPath);
  EXPECT_EQ(m.Evaluate(r, -1, 0).cause, BlockCause::kNoPath);
  EXPECT_EQ(m.Evaluate(r, 0, 1).cause, BlockCause::kNoPath);
}

TEST(NetworkModelTest, LatencyIsPropagationPlusNodesAndALatencyBoundRulesOut) {
  const NetworkModel& m = *fixtures::DeepRmsaModel();
  const Request free = MakeRequest(12, 13, 100);
  const Candidate c = m.Evaluate(free, 0, 0);
  ASSERT_EQ(c.path->hops, 1);
  ASSERT_EQ(c.path->num_amplifiers, 2);  // 150 km in spans of at most 80 km
  // configs/latency.json: 1.468 group index, 0.5 us per ROADM (2), 0.15 us per amplifier, 10 us
  // per transponder (2).
  EXPECT_NEAR(c.latency_us, PropagationUs(150) + 2 * 0.5 + 2 * 0.15 + 2 * 10.0, 1e-9);
  EXPECT_NEAR(c.latency_us, 755.8, 1.0);  // about 4.9 us/km

  const Candidate just_in = m.Evaluate(MakeRequest(12, 13, 100, c.latency_us + 1e-6), 0, 0);
  EXPECT_TRUE(just_in.usable());
  const Candidate just_out = m.Evaluate(MakeRequest(12, 13, 100, c.latency_us - 1e-6), 0, 0);
  EXPECT_EQ(just_out.cause, BlockCause::kLatency);
  EXPECT_FALSE(just_out.usable());
  // A bound between the first and the second candidate rules out only the second.
  const double second = m.Evaluate(free, 1, 0).latency_us;
  ASSERT_GT(second, c.latency_us);
  const Request between = MakeRequest(12, 13, 100, 0.5 * (c.latency_us + second));
  EXPECT_TRUE(m.Evaluate(between, 0, 0).usable());
  EXPECT_EQ(m.Evaluate(between, 1, 0).cause, BlockCause::kLatency);
}

TEST(NetworkModelTest, GsnrModePicksTheFormatTheWorstCaseGsnrAllows) {
  const NetworkModel& m = *fixtures::NsfnetClsGsnrModel();
  ASSERT_EQ(m.NumBands(), 3);
  ASSERT_EQ(m.options().modulation_mode, ModulationMode::kGsnr);
  int distinct_from_reach = 0;
  for (auto [a, b] : std::vector<std::pair<int, int>>{{12, 13}, {0, 1}, {0, 13}, {2, 11}}) {
    const Request r = MakeRequest(a, b, 100);
    for (int k = 0; k < m.k(); ++k) {
      const Path& p = m.paths().Get(a, b)[k];
      PathQot profile(m.qot(), p.fibres);
      for (int band = 0; band < 3; ++band) {
        const Candidate c = m.Evaluate(r, k, band);
        double worst = std::numeric_limits<double>::infinity();
        for (int s = 0; s < m.plan().band(band).num_slots; ++s)
          worst = std::min(worst, profile.WorstCaseGsnrDb(band, s, 1));
        EXPECT_NEAR(c.gsnr_db, worst, 1e-9);
        EXPECT_TRUE(std::isfinite(c.gsnr_db));
        EXPECT_EQ(c.modulation, m.modulations().ByGsnr(worst, 0.0)) << a << "->" << b << " k=" << k;
        if (c.modulation >= 0) {
          EXPECT_TRUE(c.usable());
          EXPECT_EQ(c.width, m.modulations().SlotsNeeded(100, c.modulation));
        } else {
          EXPECT_EQ(c.cause, BlockCause::kQot);
        }
        distinct_from_reach += c.modulation != m.modulations().ByReach(p.length_km);
      }
    }
  }
  // The two modes are different rules; if they agreed everywhere, the mode would be ignored.
  EXPECT_GT(distinct_from_reach, 0);
  // Short paths see a better GSNR than long ones.
  const Request r = MakeRequest(0, 13, 100);
  EXPECT_GT(m.Evaluate(MakeRequest(12, 13, 100), 0, 0).gsnr_db, m.Evaluate(r, 0, 0).gsnr_db + 3.0);
}

TEST(NetworkModelTest, GsnrMarginBeyondEveryThresholdBlocksOnQot) {
  NetworkOptions o = fixtures::RingOptions({"C"}, 32);
  o.modulation_mode = ModulationMode::kGsnr;
  o.gsnr_margin_db = 0.0;
  const auto ok = fixtures::MakeModel(o);
  const Candidate c = ok->Evaluate(MakeRequest(0, 1, 100), 0, 0);
  ASSERT_TRUE(c.usable());
  o.gsnr_margin_db = 100.0;
  const auto strict = fixtures::MakeModel(o);
  const Candidate d = strict->Evaluate(MakeRequest(0, 1, 100), 0, 0);
  EXPECT_EQ(d.cause, BlockCause::kQot);
  EXPECT_EQ(d.modulation, -1);
  EXPECT_NEAR(d.gsnr_db, c.gsnr_db, 1e-12);
}

TEST(NetworkModelTest, RefusesABandWiderThanTheSpectrumSearchSupports) {
  // The spectrum searches keep a band's occupancy in a fixed 1024-bit buffer; a wider band (here
  // 13 THz of 12.5 GHz slots: 1040) must be refused at load, not overrun it.
  const std::string dir =
      ::testing::TempDir() + "eonops_wide_band_configs_" + std::to_string(::getpid());
  ASSERT_EQ(
      std::system(
          ("mkdir -p " + dir + " && cp " + testing::ConfigPath("") + "*.json " + dir).c_str()),
      0);
  {
    std::ofstream bands(dir + "/bands.json");
    bands
        << R"({"slot_width_ghz": 12.5, "bands": [{"name": "C", "f_min_thz": 186.0, "f_max_thz": 199.0}]})";
    // An amplifier that can power 13 THz of spectrum, so the slot limit is what refuses it.
    std::ofstream amps(dir + "/amplifiers.json");
    amps << R"({"bands": {"C": {"type": "EDFA", "noise_figure_db": 5, "max_gain_db": 26,
               "max_output_power_dbm": 30, "electrical_power_w": 100}}})";
  }
  // The per-band tables of the other files name only the bands this bands.json has (a config
  // set is checked as a whole: an entry for a band it lacks is an error).
  for (const auto& [file, table] : {std::pair{"fibre.json", "/bands"},
                                    {"qot.json", "/launch_power_offset_db"},
                                    {"amplifiers.json", "/bands"}}) {
    nlohmann::json j = ReadJsonFile(dir + "/" + file);
    nlohmann::json& t = j[nlohmann::json::json_pointer(table)];
    t = nlohmann::json{{"C", t["C"]}};
    std::ofstream(dir + "/" + file) << j.dump();
  }
  NetworkOptions o = fixtures::RingOptions({"C"}, 0);
  o.config_dir = dir;
  try {
    NetworkModel m(o);
    FAIL() << "a band of 1040 slots was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("1024"), std::string::npos) << e.what();
  }
  o.slots_per_band = 1024;  // cut to what fits: fine
  EXPECT_EQ(NetworkModel(o).plan().band(0).num_slots, 1024);
}

// Amplifier power the lit (fibre, band) pairs of the given lightpaths draw, counted from the
// lightpath table alone (not from the spectrum's counters).
double AmplifierPowerFromLightpaths(const NetworkState& s) {
  std::set<std::pair<int, int>> lit;
  for (const Lightpath* lp : s.Lightpaths()) {
    for (int f : lp->path->fibres) lit.insert({f, lp->band});
  }
  double w = 0;
  for (auto [f, b] : lit) {
    w += s.model().energy().amplifier_w_per_span[b] * s.model().topology().fibre(f).spans_km.size();
  }
  return w;
}

void ExpectPowerRecomputes(const NetworkState& s) {
  ASSERT_EQ(s.CheckInvariants(), "");
  const auto& e = s.model().energy();
  double trx = 0, carried = 0;
  for (const Lightpath* lp : s.Lightpaths()) {
    trx += lp->transponder_w;
    carried += lp->bit_rate_gbps;
  }
  const int active = s.ActiveLightpaths();
  EXPECT_NEAR(s.PowerW(), e.NetworkPowerW(s.model().topology(), s.spectrum(), trx, 2 * active),
              1e-6);
  EXPECT_NEAR(s.PowerW(),
              e.RoadmBasePowerW(s.model().topology()) + trx + 2 * active * e.roadm_per_port_w +
                  AmplifierPowerFromLightpaths(s),
              1e-6);
  EXPECT_NEAR(s.CarriedGbps(), carried, 1e-6);
}

TEST(NetworkStateTest, ProvisionAndReleaseKeepPowerEqualToARecomputation) {
  const auto& model = fixtures::NsfnetClsGsnrModel();
  NetworkState s(model);
  const double base = s.PowerW();
  EXPECT_DOUBLE_EQ(base, model->energy().RoadmBasePowerW(model->topology()));
  Rng rng(42);
  std::vector<int32_t> live;
  std::vector<uint64_t> occ(s.spectrum().MaxWords());
  int provisioned = 0, released = 0;
  for (int step = 0; step < 3000; ++step) {
    if (!live.empty() && rng.Uniform() < 0.35) {
      const size_t i =
          static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(live.size()) - 1));
      const double before = s.PowerW();
      const Lightpath lp = *s.Find(live[i]);
      ASSERT_TRUE(s.Release(live[i]));
      EXPECT_LT(s.PowerW(), before - lp.transponder_w + 1e-6);
      live[i] = live.back();
      live.pop_back();
      ++released;
    } else {
      const int a = static_cast<int>(rng.UniformInt(0, 13));
      int b = static_cast<int>(rng.UniformInt(0, 12));
      if (b >= a) ++b;
      const Request r = MakeRequest(a, b, static_cast<double>(rng.UniformInt(25, 400)));
      const Candidate c = model->Evaluate(r, static_cast<int>(rng.UniformInt(0, 4)),
                                          static_cast<int>(rng.UniformInt(0, 2)));
      if (!c.usable()) continue;
      s.PathOccupancy(c, occ.data());
      const int slot = FirstFit(occ.data(), model->plan().band(c.band).num_slots, c.width);
      if (slot < 0) continue;
      const double before = s.PowerW(), expected_increment = s.IncrementalPowerW(c);
      const int32_t id = s.Provision(r, c, slot, 1.0);
      ASSERT_GE(id, 0);
      EXPECT_NEAR(s.PowerW() - before, expected_increment, 1e-6);
      const Lightpath* lp = s.Find(id);
      ASSERT_NE(lp, nullptr);
      EXPECT_EQ(lp->request_id, r.id);
      EXPECT_EQ(lp->slot, slot);
      EXPECT_EQ(lp->width, c.width);
      EXPECT_EQ(lp->band, c.band);
      live.push_back(id);
      ++provisioned;
    }
    if (step % 25 == 0) ExpectPowerRecomputes(s);
  }
  ExpectPowerRecomputes(s);
  EXPECT_GT(provisioned, 1000);
  EXPECT_GT(released, 500);
  EXPECT_EQ(s.ActiveLightpaths(), static_cast<int>(live.size()));
  for (int32_t id : live) ASSERT_TRUE(s.Release(id));
  EXPECT_EQ(s.ActiveLightpaths(), 0);
  EXPECT_DOUBLE_EQ(s.PowerW(), base);
  EXPECT_DOUBLE_EQ(s.CarriedGbps(), 0.0);
  for (int b = 0; b < 3; ++b) EXPECT_EQ(s.spectrum().TotalUsedSlots(b), 0);
  ExpectPowerRecomputes(s);
}

TEST(NetworkStateTest, RefusesDoubleBookingAndDoubleRelease) {
  const auto& model = fixtures::DeepRmsaModel();
  NetworkState s(model);
  const Request r = MakeRequest(0, 13, 100);
  const Candidate c = model->Evaluate(r, 0, 0);  // 9 slots of BPSK over 4 fibres
  const int32_t id = s.Provision(r, c, 10, 5.0);
  ASSERT_GE(id, 0);
  const double power = s.PowerW();
  const std::string before_check = s.CheckInvariants();
  ASSERT_EQ(before_check, "");
  // Same block, an overlapping block, and a block that crosses one shared fibre: all refused,
  // nothing changed.
  EXPECT_EQ(s.Provision(r, c, 10, 5.0), -1);
  EXPECT_EQ(s.Provision(r, c, 18, 5.0), -1);  // slot 18 is the block's last
  EXPECT_EQ(s.Provision(r, c, 2, 5.0), -1);   // slots 2..10
  const Candidate shared =
      model->Evaluate(MakeRequest(12, 13, 100), 0, 0);  // fibre 12->13 is on 0->13's path
  EXPECT_EQ(s.Provision(MakeRequest(12, 13, 100), shared, 17, 5.0), -1);
  EXPECT_EQ(s.ActiveLightpaths(), 1);
  EXPECT_DOUBLE_EQ(s.PowerW(), power);
  EXPECT_EQ(s.CheckInvariants(), "");
  // Adjacent blocks are fine: [1, 10) and [19, 22).
  const int32_t below = s.Provision(r, c, 1, 5.0);
  EXPECT_GE(below, 0);
  const int32_t above = s.Provision(MakeRequest(12, 13, 100), shared, 19, 5.0);
  EXPECT_GE(above, 0);
  // Out of the band.
  EXPECT_EQ(s.Provision(r, c, 92, 5.0), -1);  // 92 + 9 > 100
  EXPECT_EQ(s.Provision(r, c, -1, 5.0), -1);
  // An unusable candidate is refused.
  Candidate bad = c;
  bad.cause = BlockCause::kQot;
  EXPECT_EQ(s.Provision(r, bad, 50, 5.0), -1);
  EXPECT_EQ(s.ActiveLightpaths(), 3);

  EXPECT_TRUE(s.Release(id));
  EXPECT_EQ(s.Find(id), nullptr);
  EXPECT_FALSE(s.Release(id));
  EXPECT_FALSE(s.Release(-1));
  EXPECT_FALSE(s.Release(1000));
  EXPECT_EQ(s.ActiveLightpaths(), 2);
  EXPECT_EQ(s.CheckInvariants(), "");
  // The freed id is reused and the freed block can be taken again.
  const int32_t again = s.Provision(r, c, 10, 5.0);
  EXPECT_EQ(again, id);
  EXPECT_EQ(s.CheckInvariants(), "");
  s.Clear();
  EXPECT_EQ(s.ActiveLightpaths(), 0);
  EXPECT_DOUBLE_EQ(s.PowerW(), model->energy().RoadmBasePowerW(model->topology()));
  EXPECT_EQ(s.CheckInvariants(), "");
}

TEST(NetworkStateTest, AmplifiersOfABandLightWithTheFirstLightpathAndGoDarkWithTheLast) {
  const auto model = fixtures::MakeModel(fixtures::RingOptions({"C", "L"}, 16));
  NetworkState s(model);
  const int fibre01 = model->topology().FibreBetween(0, 1);
  ASSERT_EQ(model->topology().fibre(fibre01).spans_km.size(), 5u);  // 400 km in 80 km spans
  // 4 ROADMs of degree 2: 150 + 2 x 85 W each.
  const double base = 4 * (150.0 + 2 * 85.0);
  EXPECT_DOUBLE_EQ(s.PowerW(), base);

  const Request r = MakeRequest(0, 1, 50);       // 16QAM over 400 km: ceil(1) + 1 = 2 slots
  const Candidate l = model->Evaluate(r, 0, 1);  // band L
  ASSERT_TRUE(l.usable());
  ASSERT_EQ(l.width, 2);
  // One data slot of 16QAM: 12.5 GHz x 4 b = 50 Gb/s line rate; transponders at both ends.
  const double trx = 2 * (1.683 * 50 + 91.333);
  const double amps = 5 * 100.0;
  EXPECT_NEAR(s.IncrementalPowerW(l), trx + 2 * 100.0 + amps, 1e-9);

  const int32_t first = s.Provision(r, l, 0, 1.0);
  ASSERT_GE(first, 0);
  EXPECT_NEAR(s.PowerW(), base + trx + 200 + amps, 1e-9);
  EXPECT_EQ(s.spectrum().Lightpaths(fibre01, 1), 1);
  // The second lightpath in L on the same fibre finds the amplifiers lit.
  EXPECT_NEAR(s.IncrementalPowerW(l), trx + 200, 1e-9);
  const int32_t second = s.Provision(r, l, 4, 1.0);
  ASSERT_GE(second, 0);
  EXPECT_NEAR(s.PowerW(), base + 2 * (trx + 200) + amps, 1e-9);
  // C is another band with its own amplifiers; the reverse fibre is another fibre.
  EXPECT_NEAR(s.IncrementalPowerW(model->Evaluate(r, 0, 0)), trx + 200 + amps, 1e-9);
  EXPECT_NEAR(s.IncrementalPowerW(model->Evaluate(MakeRequest(1, 0, 50), 0, 1)), trx + 200 + amps,
              1e-9);

  ASSERT_TRUE(s.Release(first));
  EXPECT_NEAR(s.PowerW(), base + trx + 200 + amps, 1e-9);  // amplifiers stay on for the second
  EXPECT_EQ(s.CheckInvariants(), "");
  ASSERT_TRUE(s.Release(second));
  EXPECT_DOUBLE_EQ(s.PowerW(), base);
  EXPECT_EQ(s.spectrum().Lightpaths(fibre01, 1), 0);
  EXPECT_EQ(s.CheckInvariants(), "");

  // A two-hop lightpath lights both fibres; a one-hop one sharing the first keeps only that
  // fibre lit when the long one leaves.
  const Request far = MakeRequest(0, 2, 25);
  const Candidate c2 = model->Evaluate(far, 0, 0);
  ASSERT_TRUE(c2.usable());
  ASSERT_EQ(c2.path->hops, 2);
  const int32_t two_hop = s.Provision(far, c2, 0, 1.0);
  const Candidate one =
      model->Evaluate(MakeRequest(c2.path->nodes[0], c2.path->nodes[1], 25), 0, 0);
  const int32_t one_hop =
      s.Provision(MakeRequest(c2.path->nodes[0], c2.path->nodes[1], 25), one, 8, 1.0);
  ASSERT_GE(two_hop, 0);
  ASSERT_GE(one_hop, 0);
  ExpectPowerRecomputes(s);
  ASSERT_TRUE(s.Release(two_hop));
  EXPECT_NEAR(s.PowerW(), base + s.Find(one_hop)->transponder_w + 200 + amps, 1e-9);
  ExpectPowerRecomputes(s);
}

}  // namespace
}  // namespace eonops::twin

namespace eonops::twin {
namespace {

// The line capacity the transponder model charges is what the slot rule puts in the block: with
// configs/modulations.json (2 polarisations, 15% FEC, roll-off 0.15, one guard slot) a 100G QPSK
// lightpath needs 4 slots, and those carry (4 - 1) x 12.5 / 1.15 GBd x 2 bits x 2 / 1.15 = 113.4
// Gb/s (not the 75 Gb/s of slots x 12.5 GHz x bits).
TEST(NetworkModelTest, LineCapacityIsWhatTheSlotRulePutsInTheBlock) {
  NetworkOptions o = fixtures::NsfnetClsGsnrOptions();
  o.bands = {"C"};
  const auto m = fixtures::MakeModel(o);
  const ModulationTable& t = m->modulations();
  const int qpsk = t.IndexOf("QPSK");
  ASSERT_GE(qpsk, 0);
  EXPECT_EQ(t.SlotsNeeded(100, qpsk), 4);
  EXPECT_NEAR(m->LineCapacityGbps(4, qpsk), 3 * 12.5 / 1.15 * 2 * 2 / 1.15, 1e-9);
  EXPECT_NEAR(m->LineCapacityGbps(4, qpsk), 113.42, 0.01);
  for (int f = 0; f < t.NumFormats(); ++f) {
    for (double rate = 10; rate <= 1000; rate += 10) {
      const int w = t.SlotsNeeded(rate, f);
      EXPECT_GE(m->LineCapacityGbps(w, f), rate - 1e-9);
      if (w - 1 > t.slot_rule().guard_slots) EXPECT_LT(m->LineCapacityGbps(w - 1, f), rate);
      EXPECT_EQ(t.SlotsNeeded(m->LineCapacityGbps(w, f), f), w);
    }
  }
  // The transponders of a provisioned lightpath are charged for it.
  NetworkState s(m);
  Request r = fixtures::MakeRequest(0, 1, 100);
  Candidate c = m->Evaluate(r, 0, 0);
  c.modulation = qpsk;
  c.width = 4;
  const int32_t id = s.Provision(r, c, 0, 1e9);
  ASSERT_GE(id, 0);
  EXPECT_NEAR(s.Find(id)->transponder_w, 2 * (1.683 * 113.4224 + 91.333), 0.01);
  // DeepRMSA's rule (one polarisation, no FEC, no roll-off): (slots - 1) x 12.5 x bits, as before.
  const auto ring = fixtures::MakeModel(fixtures::RingOptions({"C"}, 100));
  const int bits2 = ring->modulations().IndexOf("QPSK");
  ASSERT_GE(bits2, 0);
  EXPECT_NEAR(ring->LineCapacityGbps(5, bits2), 4 * 12.5 * 2, 1e-9);
}

// Each band's amplifiers draw their own electrical power (configs/amplifiers.json): lighting the
// S band of a fibre adds its spans x the TDFA's 120 W, the C band its spans x 100 W.
TEST(NetworkStateTest, EachBandsAmplifiersDrawTheirOwnPower) {
  const auto m = fixtures::NsfnetClsGsnrModel();
  NetworkState s(m);
  const int c = m->plan().IndexOf("C"), sb = m->plan().IndexOf("S");
  EXPECT_EQ(m->energy().amplifier_w_per_span[c], 100.0);
  EXPECT_EQ(m->energy().amplifier_w_per_span[sb], 120.0);
  Request r = fixtures::MakeRequest(0, 1, 100);
  for (int band : {c, sb}) {
    Candidate cand = m->Evaluate(r, 0, band);
    ASSERT_TRUE(cand.usable());
    const double spans = m->topology().fibre(cand.path->fibres[0]).spans_km.size();
    const double before = s.PowerW();
    const double dp = s.IncrementalPowerW(cand);
    ASSERT_GE(s.Provision(r, cand, 0, 1e9), 0);
    EXPECT_NEAR(s.PowerW() - before, dp, 1e-9);
    double amps = 0;
    for (int f : cand.path->fibres) amps += m->energy().amplifier_w_per_span[band] * m->topology().fibre(f).spans_km.size();
    EXPECT_NEAR(dp - s.model().energy().TransponderPowerW(m->LineCapacityGbps(cand.width, cand.modulation)) -
                    2 * m->energy().roadm_per_port_w,
                amps, 1e-9);
    EXPECT_GT(spans, 0);
  }
}

}  // namespace
}  // namespace eonops::twin
