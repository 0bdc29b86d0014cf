// Pins twin/qot.h: the worst-case table (built fast, shared by equal span lists, consistent with
// the line model), path GSNR that falls with length, the actual-occupancy GSNR, and config errors.
#include "twin/qot.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "twin/bands.h"
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
    build_seconds_ =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete nsfnet_;
    delete plan_;
  }
  static int BandIndex(const std::string& name) { return plan_->IndexOf(name); }
  // The reference-comb channel nearest a block, as ActiveChannels of every band.
  static void FullComb(std::vector<ActiveChannel>* out) {
    const QotConfig& c = model_->config();
    for (int b = 0; b < plan_->NumBands(); ++b) {
      const Band& band = plan_->band(b);
      double width = band.num_slots * plan_->slot_width_hz();
      int n = static_cast<int>(std::floor(width / c.reference_spacing_hz + 1e-9));
      double first =
          band.f_min_hz + 0.5 * (width - n * c.reference_spacing_hz) + 0.5 * c.reference_spacing_hz;
      for (int i = 0; i < n; ++i) {
        out->push_back({first + i * c.reference_spacing_hz, c.reference_symbol_rate_baud});
      }
    }
  }

  static BandPlan* plan_;
  static Topology* nsfnet_;
  static QotModel* model_;
  static double build_seconds_;
};
BandPlan* QotModelTest::plan_ = nullptr;
Topology* QotModelTest::nsfnet_ = nullptr;
QotModel* QotModelTest::model_ = nullptr;
double QotModelTest::build_seconds_ = 0.0;

TEST_F(QotModelTest, BuildsQuicklyAndSharesEqualSpanLists) {
  // C+L+S, 312 reference channels, 44 fibres: well under a second (a few ms in Release).
  EXPECT_LT(build_seconds_, 1.0);
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

// A block whose centre is a reference channel's reads that channel's NSR from the line model.
TEST_F(QotModelTest, WorstCaseTableMatchesTheLineModelAtReferenceChannels) {
  const int fibre = 0;
  std::vector<ActiveChannel> comb;
  FullComb(&comb);
  std::vector<Channel> channels;
  for (const auto& a : comb)
    channels.push_back(
        {a.centre_hz, a.symbol_rate_baud, model_->LaunchPowerW(a.centre_hz, a.symbol_rate_baud)});
  std::vector<double> nf;
  for (const auto& b : plan_->bands()) nf.push_back(DbToLinear(b.noise_figure_db));
  std::vector<double> spans_m;
  for (double km : nsfnet_->fibre(fibre).spans_km) spans_m.push_back(km * 1e3);
  auto qot = LinePropagation(model_->fibre_params(), nf, channels, model_->config().propagation, {}, 80e3)
                 .Run(spans_m);
  // C band (first in the plan): channel j of the 50 GHz comb is centred on slots [4j, 4j + 4).
  for (int j : {0, 25, 95}) {
    EXPECT_NEAR(model_->WorstCaseNsr(fibre, 0, 4 * j, 4) / qot[j].Nsr(), 1.0, 1e-12)
        << "channel " << j;
    // Any width centred there reads the same value (constant launch PSD).
    EXPECT_EQ(model_->WorstCaseNsr(fibre, 0, 4 * j + 1, 2),
              model_->WorstCaseNsr(fibre, 0, 4 * j, 4));
  }
}

TEST_F(QotModelTest, ActualGsnrUnderFullLoadEqualsWorstCase) {
  std::vector<int> path = {0, 2};
  auto full = [](int, std::vector<ActiveChannel>* out) { FullComb(out); };
  const double r = model_->config().reference_symbol_rate_baud;
  for (int j : {3, 50}) {
    double actual = model_->ActualGsnrDb(path, 0, 4 * j, 4, full, r);
    EXPECT_NEAR(actual, model_->WorstCaseGsnrDb(path, 0, 4 * j, 4), 1e-9) << "channel " << j;
  }
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
  QotModel gn(*nsfnet_, *plan_, model_->fibre_params(), gn_config);
  const int s = BandIndex("S");
  const int top = plan_->band(s).num_slots - 4;
  EXPECT_LT(model_->WorstCaseGsnrDb({0}, s, top, 4), gn.WorstCaseGsnrDb({0}, s, top, 4) - 1.0);
}

TEST_F(QotModelTest, TransceiverLimitCapsTheGsnr) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "launch_power_dbm": 0, "launch_reference_symbol_rate_gbaud": 32,
    "reference_channel": {"symbol_rate_gbaud": 32, "spacing_ghz": 50}, "roll_off": 0.15,
    "guard_slots": 1, "transceiver_snr_db": 20, "nli_model": "gn", "coherent_nli": false,
    "amplifier_gain": "equalise"})");
  QotModel m(*nsfnet_, *plan_, model_->fibre_params(), QotConfig::FromJson(j, "qot.json"));
  const int fibre = 42;  // the 150 km link
  ASSERT_EQ(nsfnet_->fibre(fibre).length_km, 150);
  double g = m.WorstCaseGsnrDb({fibre}, 0, 100, 4);
  EXPECT_LT(g, 20.0);
  double line_nsr = m.WorstCaseNsr(fibre, 0, 100, 4);
  EXPECT_NEAR(g, -10 * std::log10(line_nsr + 0.01), 1e-12);
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
    "launch_power_dbm": 0, "launch_reference_symbol_rate_gbaud": 32,
    "reference_channel": {"symbol_rate_gbaud": 32, "spacing_ghz": 50}, "roll_off": 0.15,
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
  j["reference_channel"]["spacing_ghz"] = 33;
  check(j, "qot.json.reference_channel.spacing_ghz: reference channels would overlap");
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
