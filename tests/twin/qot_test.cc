// Pins twin/qot.h: the worst-case table (built once per span list, a bound for every occupancy the
// slot rule allows: a property test over random, dense, wide and one-sided loads), path GSNR that
// falls with length, the actual-occupancy GSNR, the per-band amplifiers, and config errors.
#include "twin/qot.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <random>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "twin/bands.h"
#include "twin/json_util.h"
#include "twin/topology.h"

namespace eonops::twin {
namespace {

const std::string kConfigs = std::string(EONOPS_SOURCE_DIR) + "/configs";

class QotModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    plan_ = new BandPlan(BandPlan::Load(kConfigs + "/bands.json"));
    nsfnet_ = new Topology(Topology::Load(kConfigs + "/topologies/nsfnet.json"));
    auto start = std::chrono::steady_clock::now();
    model_ = new QotModel(QotModel::Load(*nsfnet_, *plan_, kConfigs));
    amplifiers_ = new BandAmplifiers(BandAmplifiers::Load(kConfigs + "/amplifiers.json", *plan_));
    build_seconds_ =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  static void TearDownTestSuite() {
    delete amplifiers_;
    delete model_;
    delete nsfnet_;
    delete plan_;
  }
  static int BandIndex(const std::string& name) { return plan_->IndexOf(name); }
  static BandPlan* plan_;
  static Topology* nsfnet_;
  static QotModel* model_;
  static BandAmplifiers* amplifiers_;
  static double build_seconds_;
};
BandPlan* QotModelTest::plan_ = nullptr;
Topology* QotModelTest::nsfnet_ = nullptr;
QotModel* QotModelTest::model_ = nullptr;
BandAmplifiers* QotModelTest::amplifiers_ = nullptr;
double QotModelTest::build_seconds_ = 0.0;

TEST_F(QotModelTest, BuildsOnceAndSharesEqualSpanLists) {
  // C+L+S, 44 fibres: the bound's Raman states and NLI fill (about 0.2 s in Release).
  EXPECT_LT(build_seconds_, 5.0);
  // NSFNET has 11 distinct link lengths, each cut into equal spans.
  EXPECT_EQ(model_->NumDistinctSpanLists(), 11);
  EXPECT_EQ(model_->NumFibres(), nsfnet_->NumFibres());
}

TEST_F(QotModelTest, FibresWithIdenticalSpansHaveIdenticalRows) {
  const auto& fibres = nsfnet_->fibres();
  int pairs = 0;
  for (size_t a = 0; a < fibres.size(); ++a) {
    for (size_t b = a + 1; b < fibres.size(); ++b) {
      if (fibres[a].spans_km != fibres[b].spans_km) continue;
      ++pairs;
      for (int band = 0; band < plan_->NumBands(); ++band) {
        const double* ra = model_->WorstCaseNsrRow(static_cast<int>(a), band);
        const double* rb = model_->WorstCaseNsrRow(static_cast<int>(b), band);
        for (int h = 0; h <= 2 * plan_->band(band).num_slots; ++h) ASSERT_EQ(ra[h], rb[h]);
      }
    }
  }
  EXPECT_GT(pairs, 22);  // at least every fibre with its reverse
}

TEST_F(QotModelTest, WorstCaseDecreasesWithPathLength) {
  // Seattle -> Palo Alto -> San Diego -> Houston (NSFNET node ids 0, 1, 2, 5).
  std::vector<int> nodes = {0, 1, 2, 5};
  std::vector<int> path;
  for (size_t i = 0; i + 1 < nodes.size(); ++i) {
    int f = nsfnet_->FibreBetween(nodes[i], nodes[i + 1]);
    ASSERT_GE(f, 0);
    path.push_back(f);
  }
  for (int band = 0; band < plan_->NumBands(); ++band) {
    double previous = 1e9;
    std::vector<int> prefix;
    for (int f : path) {
      prefix.push_back(f);
      double g = model_->WorstCaseGsnrDb(prefix, band, 40, 4);
      EXPECT_LT(g, previous - 0.5)
          << plan_->band(band).name << " after " << prefix.size() << " hops";
      previous = g;
    }
  }
  // A single longer fibre is worse too: 2400 km vs 300 km.
  int longest = -1, shortest = -1;
  for (const Fibre& f : nsfnet_->fibres()) {
    if (f.length_km == 2400 && longest < 0) longest = f.id;
    if (f.length_km == 300 && shortest < 0) shortest = f.id;
  }
  ASSERT_GE(longest, 0);
  ASSERT_GE(shortest, 0);
  EXPECT_LT(model_->WorstCaseGsnrDb({longest}, 0, 100, 4) + 8.0,
            model_->WorstCaseGsnrDb({shortest}, 0, 100, 4));
}

TEST_F(QotModelTest, PathGsnrIsTheSumOfFibreNsrs) {
  std::vector<int> path = {0, 2, 7};
  for (int band = 0; band < plan_->NumBands(); ++band) {
    for (int slot : {0, 17, 200, plan_->band(band).num_slots - 6}) {
      double nsr = 0;
      for (int f : path) nsr += model_->WorstCaseNsr(f, band, slot, 6);
      EXPECT_NEAR(model_->WorstCaseGsnrDb(path, band, slot, 6), -10 * std::log10(nsr), 1e-12);
      PathQot cached(*model_, path);
      EXPECT_DOUBLE_EQ(cached.WorstCaseGsnrDb(band, slot, 6),
                       model_->WorstCaseGsnrDb(path, band, slot, 6));
    }
  }
}

// An occupancy of one fibre: blocks (band, first slot, width) that do not overlap.
struct Block {
  int band, slot, width;
};

// Random occupancies of the kinds that stress each part of the bound: sparse and dense, narrow
// and wide (up to 41 slots), everywhere or only below / above a frequency (the Raman extremes).
std::vector<Block> RandomOccupancy(const BandPlan& plan, int kind, std::mt19937_64* rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double density = 0.05 + 0.95 * u(*rng);
  const double split = 186e12 + 16.5e12 * u(*rng);
  const bool wide = kind >= 3;
  std::vector<Block> out;
  for (int b = 0; b < plan.NumBands(); ++b) {
    const Band& band = plan.band(b);
    for (int s = 0; s < band.num_slots;) {
      const int w = wide ? 2 + static_cast<int>((*rng)() % 40) : 2 + static_cast<int>((*rng)() % 10);
      if (s + w > band.num_slots) break;
      const double f = band.f_min_hz + (s + 0.5 * w) * plan.slot_width_hz();
      bool lit = kind == 0 ? u(*rng) < density : true;
      if ((kind == 1 || kind == 4) && f > split) lit = false;
      if ((kind == 2 || kind == 5) && f < split) lit = false;
      if (lit) {
        out.push_back({b, s, w});
        s += w;
      } else {
        s += 1 + static_cast<int>((*rng)() % 4);
      }
    }
  }
  return out;
}

// The property the modulation choice rests on: whatever the slot rule lets light on a fibre,
// every lit channel's NSR under that occupancy is at most its worst-case table entry (so its
// GSNR at least the table's). 150 occupancies of 6 kinds on random NSFNET fibres, C+L+S.
TEST_F(QotModelTest, WorstCaseIsABoundOverRandomOccupancies) {
  std::mt19937_64 rng(20240514);
  long long checked = 0;
  double min_margin_db = 1e9, min_dense_margin_db = 1e9;
  std::vector<ChannelQot> q;
  for (int trial = 0; trial < 150; ++trial) {
    const int kind = trial % 6;
    const int fibre = static_cast<int>(rng() % nsfnet_->NumFibres());
    const std::vector<Block> lit = RandomOccupancy(*plan_, kind, &rng);
    std::vector<ActiveChannel> channels;
    for (const Block& b : lit) channels.push_back(model_->BlockChannel(b.band, b.slot, b.width));
    model_->FibreNsr(fibre, channels, &q);
    ASSERT_EQ(q.size(), lit.size());
    for (size_t i = 0; i < lit.size(); ++i) {
      const double bound = model_->WorstCaseNsr(fibre, lit[i].band, lit[i].slot, lit[i].width);
      const double margin_db = LinearToDb(bound / q[i].Nsr());
      ++checked;
      min_margin_db = std::min(min_margin_db, margin_db);
      if (kind == 3) min_dense_margin_db = std::min(min_dense_margin_db, margin_db);
      ASSERT_GE(margin_db, 0.0) << "trial " << trial << " kind " << kind << " fibre " << fibre
                                << ": " << plan_->band(lit[i].band).name << " slot "
                                << lit[i].slot << " width " << lit[i].width << " of "
                                << lit.size() << " lit: GSNR " << q[i].GsnrDb()
                                << " dB, worst case " << -LinearToDb(bound) << " dB";
    }
  }
  EXPECT_GT(checked, 5000);
  // The bound is not vacuous: a dense load of wide channels comes within 1.5 dB of it.
  EXPECT_LT(min_dense_margin_db, 1.5);
  std::cout << "worst-case bound: " << checked << " lit channels in 150 occupancies, smallest "
            << "margin " << min_margin_db << " dB (dense wide load: " << min_dense_margin_db
            << " dB)\n";
}

// The old table's assumption, a comb of 32 GBd channels on 50 GHz in every band, is one of the
// occupancies the bound covers; denser, wider channels are the reason it had to go.
TEST_F(QotModelTest, WorstCaseCoversTheFullReferenceComb) {
  for (int fibre : {0, 17, 42}) {
    std::vector<Block> comb;
    std::vector<ActiveChannel> channels;
    for (int b = 0; b < plan_->NumBands(); ++b) {
      for (int s = 0; s + 4 <= plan_->band(b).num_slots; s += 4) {
        comb.push_back({b, s, 4});
        channels.push_back({model_->BlockChannel(b, s, 4).centre_hz, 32e9});
      }
    }
    std::vector<ChannelQot> q;
    model_->FibreNsr(fibre, channels, &q);
    for (size_t i = 0; i < comb.size(); i += 7) {
      EXPECT_LE(q[i].Nsr(), model_->WorstCaseNsr(fibre, comb[i].band, comb[i].slot, 4));
    }
  }
}

TEST_F(QotModelTest, ActualGsnrIsTheSumOverFibresOfTheFibreNsr) {
  const std::vector<int> path = {0, 2, 7};
  const int band = BandIndex("L"), slot = 120, width = 5;
  auto lit = [&](int fibre, std::vector<ActiveChannel>* out) {
    for (int b = 0; b < plan_->NumBands(); ++b) {
      for (int s = (fibre * 7) % 9; s + 6 <= plan_->band(b).num_slots; s += 11) {
        if (b == band && s + 6 > slot && s < slot + width) continue;
        out->push_back(model_->BlockChannel(b, s, 6));
      }
    }
  };
  double nsr = 0.0;
  for (int f : path) {
    std::vector<ActiveChannel> channels = {model_->BlockChannel(band, slot, width)};
    lit(f, &channels);
    std::vector<ChannelQot> q;
    model_->FibreNsr(f, channels, &q);
    nsr += q[0].Nsr();
  }
  EXPECT_NEAR(model_->ActualGsnrDb(path, band, slot, width, lit), -LinearToDb(nsr), 1e-9);
}

TEST_F(QotModelTest, FewerActiveChannelsGiveBetterGsnr) {
  std::vector<int> path = {0, 2};
  const int band = BandIndex("C"), slot = 200, width = 4;
  auto none = [](int, std::vector<ActiveChannel>*) {};
  // 40 channels around the block on both fibres, in C only.
  auto forty = [&](int, std::vector<ActiveChannel>* out) {
    for (int i = -20; i < 20; ++i) {
      if (i == 0) continue;
      out->push_back(model_->BlockChannel(band, slot + 4 * i, width));
    }
  };
  auto with_itself = [&](int f, std::vector<ActiveChannel>* out) {
    forty(f, out);
    out->push_back(model_->BlockChannel(band, slot, width));  // reported too: ignored
  };
  double alone = model_->ActualGsnrDb(path, band, slot, width, none);
  double some = model_->ActualGsnrDb(path, band, slot, width, forty);
  double worst = model_->WorstCaseGsnrDb(path, band, slot, width);
  EXPECT_GT(alone, some + 1.0);
  EXPECT_GT(some, worst);
  EXPECT_DOUBLE_EQ(model_->ActualGsnrDb(path, band, slot, width, with_itself), some);
  // Alone on the fibre the only NLI is SPM; the GSNR is still finite and below the ASE limit.
  EXPECT_LT(alone, 40.0);
}

TEST_F(QotModelTest, BlockSymbolRateFollowsTheSlotRule) {
  // (4 - 1 guard) x 12.5 GHz / 1.15.
  EXPECT_NEAR(model_->SymbolRateForWidthBaud(4), 3 * 12.5e9 / 1.15, 1);
  ActiveChannel c = model_->BlockChannel(0, 10, 4);
  EXPECT_NEAR(c.centre_hz, plan_->band(0).f_min_hz + 12 * 12.5e9, 1e-3);
}

// ISRS drains the top of the S band into L and C: the S band's upper edge is worse with the ISRS
// GN model than with the GN model, on the same fibre.
TEST_F(QotModelTest, IsrsPenalisesTheTopOfTheSBand) {
  QotConfig gn_config = model_->config();
  gn_config.propagation.nli_model = NliModel::kGn;
  QotModel gn(*nsfnet_, *plan_, model_->fibre_params(), gn_config, *amplifiers_);
  const int s = BandIndex("S");
  const int top = plan_->band(s).num_slots - 4;
  EXPECT_LT(model_->WorstCaseGsnrDb({0}, s, top, 4), gn.WorstCaseGsnrDb({0}, s, top, 4) - 1.0);
}

TEST_F(QotModelTest, TransceiverLimitCapsTheGsnr) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "launch_power_dbm": 0, "launch_reference_symbol_rate_gbaud": 32, "roll_off": 0.15,
    "guard_slots": 1, "transceiver_snr_db": 20, "nli_model": "gn", "coherent_nli": false,
    "amplifier_gain": "equalise"})");
  QotModel m(*nsfnet_, *plan_, model_->fibre_params(), QotConfig::FromJson(j, "qot.json"),
             *amplifiers_);
  const int fibre = 42;  // the 150 km link
  ASSERT_EQ(nsfnet_->fibre(fibre).length_km, 150);
  double g = m.WorstCaseGsnrDb({fibre}, 0, 100, 4);
  EXPECT_LT(g, 20.0);
  double line_nsr = m.WorstCaseNsr(fibre, 0, 100, 4);
  EXPECT_NEAR(g, -10 * std::log10(line_nsr + 0.01), 1e-12);
}

// Each band's amplifier noise figure enters its ASE: one more dB of noise figure in S is one more
// dB of S-band ASE, and nothing changes in C.
TEST_F(QotModelTest, PerBandAmplifierNoiseFigureSetsTheAse) {
  nlohmann::json amps = ReadJsonFile(kConfigs + "/amplifiers.json");
  amps["bands"]["S"]["noise_figure_db"] = amps["bands"]["S"]["noise_figure_db"].get<double>() + 1.0;
  QotModel worse(*nsfnet_, *plan_, model_->fibre_params(), model_->config(),
                 BandAmplifiers::FromJson(amps, "amplifiers.json", *plan_));
  const int s = BandIndex("S"), c = BandIndex("C");
  std::vector<ActiveChannel> lit = {model_->BlockChannel(s, 100, 4), model_->BlockChannel(c, 100, 4)};
  std::vector<ChannelQot> a, b;
  model_->FibreNsr(3, lit, &a);
  worse.FibreNsr(3, lit, &b);
  EXPECT_NEAR(LinearToDb(b[0].nsr_ase / a[0].nsr_ase), 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(b[1].nsr_ase, a[1].nsr_ase);
  EXPECT_DOUBLE_EQ(b[0].nsr_nli, a[0].nsr_nli);
  EXPECT_EQ(amplifiers_->band(s).type, "TDFA");
  EXPECT_GT(amplifiers_->band(s).noise_figure_db, amplifiers_->band(c).noise_figure_db);
}

// The line must be buildable with the configured amplifiers: spans they can bridge, a full band
// they can power.
TEST_F(QotModelTest, RefusesALineTheAmplifiersCannotCarry) {
  Topology long_spans = Topology::Load(kConfigs + "/topologies/nsfnet.json", /*max_span_km=*/150);
  try {
    QotModel m(long_spans, *plan_, model_->fibre_params(), model_->config(), *amplifiers_);
    FAIL() << "a 150 km span (34 dB in S) was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_gain_db"), std::string::npos) << e.what();
  }
  QotConfig loud = model_->config();
  loud.launch_psd_w_per_hz *= DbToLinear(3.0);  // 3 dBm per 32 GBd: 25.7 dBm for a full S band
  try {
    QotModel m(*nsfnet_, *plan_, model_->fibre_params(), loud, *amplifiers_);
    FAIL() << "a full band beyond the amplifier's output power was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_output_power_dbm"), std::string::npos) << e.what();
  }
}

TEST(AmplifiersConfigTest, ErrorsNameTheFileAndField) {
  BandPlan plan = BandPlan::Load(kConfigs + "/bands.json");
  nlohmann::json good = ReadJsonFile(kConfigs + "/amplifiers.json");
  auto error_of = [&](const nlohmann::json& j) -> std::string {
    try {
      BandAmplifiers::FromJson(j, "amplifiers.json", plan);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_of(good), "");
  auto j = good;
  j["bands"].erase("S");
  EXPECT_NE(error_of(j).find("amplifiers.json.bands.S: missing"), std::string::npos);
  j = good;
  j["bands"]["C"]["noise_figure_db"] = 1.0;
  EXPECT_NE(error_of(j).find("amplifiers.json.bands.C.noise_figure_db: must be at least 3 dB"),
            std::string::npos);
  j = good;
  j["bands"]["L"]["gain_db"] = 20;
  EXPECT_NE(error_of(j).find("amplifiers.json.bands.L.gain_db: unknown key"), std::string::npos);
  j = good;
  j["bands"]["L"].erase("electrical_power_w");
  EXPECT_NE(error_of(j).find("amplifiers.json.bands.L.electrical_power_w: missing"),
            std::string::npos);
}

std::string QotErrorOf(const nlohmann::json& j) {
  try {
    QotConfig::FromJson(j, "qot.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(QotConfigTest, ErrorsNameTheFileAndField) {
  nlohmann::json good = nlohmann::json::parse(R"({
    "launch_power_dbm": 0, "launch_reference_symbol_rate_gbaud": 32, "roll_off": 0.15,
    "guard_slots": 1, "transceiver_snr_db": null, "nli_model": "isrs-gn", "coherent_nli": false,
    "amplifier_gain": "equalise"})");
  EXPECT_EQ(QotErrorOf(good), "");
  auto check = [&](nlohmann::json j, const std::string& expected) {
    std::string e = QotErrorOf(j);
    EXPECT_NE(e.find(expected), std::string::npos)
        << "got '" << e << "', want '" << expected << "'";
  };
  auto j = good;
  j.erase("nli_model");
  check(j, "qot.json.nli_model: missing");
  j = good;
  j["nli_model"] = "egn";
  check(j, "qot.json.nli_model: unknown NLI model 'egn'");
  j = good;
  j["amplifier_gain"] = "auto";
  check(j, "qot.json.amplifier_gain");
  j = good;
  j["reference_channel"] = {{"symbol_rate_gbaud", 32}, {"spacing_ghz", 50}};
  check(j, "qot.json.reference_channel: no longer used");
  j = good;
  j["launch_power"] = 1;
  check(j, "qot.json.launch_power: unknown key");
  j = good;
  j["roll_off"] = 1.5;
  check(j, "qot.json.roll_off");
  j = good;
  j["coherent_nli"] = "yes";
  check(j, "qot.json.coherent_nli");
  j = good;
  j["launch_reference_symbol_rate_gbaud"] = 0;
  check(j, "qot.json.launch_reference_symbol_rate_gbaud: must be positive");
  try {
    QotConfig::Load("/nonexistent/qot.json");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/qot.json"), std::string::npos);
  }
}

TEST(QotConfigTest, LoadsTheShippedConfig) {
  QotConfig c = QotConfig::Load(kConfigs + "/qot.json");
  EXPECT_NEAR(c.launch_psd_w_per_hz, 1e-3 / 32e9, 1e-24);
  EXPECT_EQ(c.propagation.nli_model, NliModel::kIsrsGn);
  EXPECT_EQ(c.propagation.amplifier_gain, AmplifierGain::kEqualise);
  EXPECT_EQ(c.transceiver_nsr, 0.0);
}

}  // namespace
}  // namespace eonops::twin
