// Pins the ISRS model with the measured Raman gain (twin/raman.h, twin/gsnr.h) against an
// independent numerical reference (ggn_reference.h: per-channel RK4 Raman profiles and the
// generalized GN NLI integral): within 0.3 dB at every compared channel over C+L (201 x 50 GHz,
// 10 THz) and C+L+S (331 x 50 GHz, 16.5 THz, past the Raman gain peak), at 0 and 1 dBm per
// channel. The tables it prints are the README's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tests/twin/ggn_reference.h"
#include "twin/gsnr.h"
#include "twin/json_util.h"
#include "twin/raman.h"

namespace eonops::twin {
namespace {

namespace ref = reference;

const std::string kConfigs = std::string(EONOPS_SOURCE_DIR) + "/configs";
constexpr double kAreaM2 = 83e-12;  // GNPy's SSMF, the `eonops qot line` default
constexpr double kNfDb = 5.5;

struct LineCase {
  const char* name;
  int channels;  // 50 GHz apart from 186.05 THz, 32 GBd
  double power_dbm;
};

std::shared_ptr<const RamanGainSpectrum> Spectrum() {
  return std::make_shared<const RamanGainSpectrum>(RamanGainSpectrum::Load(kConfigs + "/raman.json"));
}

// `eonops qot line`'s fibre (0.2 dB/km, 16.7 ps/nm/km, beta3 = 0, gamma 1.275) with the spectrum.
FibreParams TwinFibre(const std::shared_ptr<const RamanGainSpectrum>& spectrum) {
  FibreParams f = FibreParams::Uniform(0.2, 16.7, 0.0, 1.275, 0.0);
  f.raman_spectrum = spectrum;
  f.bands[0].effective_area_m2 = kAreaM2;
  return f;
}

// The same fibre for the reference, written from the physics, not from twin/raman.cc: the gain
// coefficient g_R(df) (f_pump / f_ref) / A_eff, linear between the spectrum's points.
ref::Fibre ReferenceFibre(const FibreParams& twin, const std::shared_ptr<const RamanGainSpectrum>& spectrum) {
  ref::Fibre f;
  const double alpha = twin.bands[0].alpha_per_m;
  f.alpha_per_m = [alpha](double) { return alpha; };
  f.gamma_per_w_m = [](double) { return 1.275e-3; };
  f.beta2_s2_per_m = twin.beta2_s2_per_m;
  f.beta3_s3_per_m = 0.0;
  f.f_ref_hz = twin.reference_frequency_hz;
  f.raman_gain = [spectrum](double f_probe, double f_pump) {
    return spectrum->GainMPerW(f_pump - f_probe) * f_pump / spectrum->reference_frequency_hz() / kAreaM2;
  };
  return f;
}

struct Comparison {
  double max_error_db = 0.0;
  double max_error_slope_db = 0.0;  // Semrau's linear gain (C_r = 0.028) instead of the spectrum
  int frequencies = 0;
};

// One span with equalising amplifiers (every span of a longer line is the same: only the count
// scales ASE and NLI, so the dB differences are those of one span).
Comparison Compare(const LineCase& lc, bool print) {
  auto spectrum = Spectrum();
  const FibreParams fibre = TwinFibre(spectrum);
  const ref::Fibre rf = ReferenceFibre(fibre, spectrum);
  std::vector<Channel> channels;
  std::vector<ref::Channel> ref_channels;
  for (int i = 0; i < lc.channels; ++i) {
    const double f = 186.05e12 + i * 50e9;
    channels.push_back({f, 32e9, DbmToW(lc.power_dbm)});
    ref_channels.push_back({f, 32e9, DbmToW(lc.power_dbm)});
  }
  std::vector<int> cuts;
  for (int i = 0; i < lc.channels; i += (lc.channels - 1) / 20) cuts.push_back(i);
  const double length_m = 80e3;
  const ref::SpanNli r = ref::SolveSpan(rf, ref_channels, length_m, cuts);

  PropagationOptions options;
  options.nli_model = NliModel::kIsrsGn;
  options.amplifier_gain = AmplifierGain::kEqualise;
  const Line line{fibre, {length_m}, {DbToLinear(kNfDb)}};
  const std::vector<ChannelQot> twin = PropagateLine(line, channels, options);
  const Line slope_line{FibreParams::Uniform(0.2, 16.7, 0.0, 1.275, 0.028), {length_m},
                        {DbToLinear(kNfDb)}};
  const std::vector<ChannelQot> slope = PropagateLine(slope_line, channels, options);

  Comparison c;
  if (print) {
    std::printf("%s, %g dBm per channel, one 80 km span, equalising amplifiers:\n", lc.name,
                lc.power_dbm);
    std::printf("| f (THz) | Raman gain (dB) | reference GSNR (dB) | eonops GSNR (dB) | difference (dB) |"
                " linear-slope model (dB) |\n|---|---|---|---|---|---|\n");
  }
  for (size_t ci = 0; ci < cuts.size(); ++ci) {
    const int i = cuts[ci];
    const double nsr_ase = DbToLinear(kNfDb) * kPlanckJs * channels[i].frequency_hz * 32e9 /
                           (channels[i].launch_power_w * r.rho_end[i]);
    const double ref_db = -LinearToDb(nsr_ase + r.nsr_nli[ci]);
    const double diff = twin[i].GsnrDb() - ref_db;
    c.max_error_db = std::max(c.max_error_db, std::abs(diff));
    c.max_error_slope_db = std::max(c.max_error_slope_db, std::abs(slope[i].GsnrDb() - ref_db));
    ++c.frequencies;
    if (print) {
      std::printf("| %.2f | %+.2f | %.2f | %.2f | %+.2f | %+.2f |\n", channels[i].frequency_hz / 1e12,
                  LinearToDb(r.rho_end[i]) + 0.2 * length_m / 1e3, ref_db, twin[i].GsnrDb(), diff,
                  slope[i].GsnrDb() - ref_db);
    }
  }
  if (print) std::printf("max |difference| %.3f dB\n\n", c.max_error_db);
  return c;
}

TEST(IsrsReferenceTest, CPlusLWithinThreeTenthsOfADb) {
  for (double p : {0.0, 1.0}) {
    Comparison c = Compare({"C+L, 201 x 50 GHz, 186.05-196.05 THz", 201, p}, true);
    EXPECT_GE(c.frequencies, 10);
    EXPECT_LE(c.max_error_db, 0.3) << p << " dBm";
  }
}

TEST(IsrsReferenceTest, CPlusLPlusSWithinThreeTenthsOfADb) {
  for (double p : {0.0, 1.0}) {
    Comparison c = Compare({"C+L+S, 331 x 50 GHz, 186.05-202.55 THz", 331, p}, true);
    EXPECT_GE(c.frequencies, 10);
    EXPECT_LE(c.max_error_db, 0.3) << p << " dBm";
    // The linear fit of the gain does not hold beyond the peak: what the spectrum is for.
    if (p == 1.0) {
      EXPECT_GT(c.max_error_slope_db, 0.5);
    }
  }
}

// The twin's Raman solver (channels in 100 GHz bins, RK4 steps of 2 km) against per-channel RK4
// with 500 m steps: C+L+S at 1 dBm per channel, about 10 dB of tilt.
TEST(IsrsReferenceTest, BinnedRamanSolverMatchesPerChannelRk4) {
  auto spectrum = Spectrum();
  const FibreParams fibre = TwinFibre(spectrum);
  const ref::Fibre rf = ReferenceFibre(fibre, spectrum);
  std::vector<Channel> channels;
  std::vector<ref::Channel> ref_channels;
  for (int i = 0; i < 331; ++i) {
    channels.push_back({186.05e12 + i * 50e9, 32e9, DbmToW(1.0)});
    ref_channels.push_back({186.05e12 + i * 50e9, 32e9, DbmToW(1.0)});
  }
  const ref::RamanProfiles exact = ref::SolveRaman(rf, ref_channels, 80e3);
  const RamanSolution twin = SolveRaman(fibre, channels, 80e3);
  double max_gain_db = 0.0;
  for (int i = 0; i < 331; i += 5) {
    for (int km : {10, 40, 80}) {
      const double exact_db = LinearToDb(exact.rho[i][km]) + 0.2 * km;
      max_gain_db = std::max(max_gain_db, std::abs(exact_db));
      EXPECT_NEAR(LinearToDb(twin.NetGain(i, km * 1e3)), exact_db, 0.01) << "channel " << i << " at " << km << " km";
    }
  }
  EXPECT_GT(max_gain_db, 9.0);  // a strong transfer, not a trivial one
  // No spectrum, no Raman coupling: the profiles are pure loss and the ISRS factors 1.
  FibreParams plain = FibreParams::Uniform(0.2, 16.7, 0.0, 1.275, 0.0);
  EXPECT_FALSE(plain.HasRaman());
}

TEST(IsrsReferenceTest, ReferenceWithoutRamanIsTheGnClosedForm) {
  // The reference's NLI integral, checked on its own: with no Raman gain it gives Poggiolini's
  // closed form (the GN model both share) within 0.05 dB.
  FibreParams fibre = FibreParams::Uniform(0.2, 16.7, 0.0, 1.275, 0.0);
  ref::Fibre rf = ReferenceFibre(TwinFibre(Spectrum()), Spectrum());
  rf.raman_gain = nullptr;
  std::vector<Channel> channels;
  std::vector<ref::Channel> ref_channels;
  for (int i = 0; i < 96; ++i) {
    channels.push_back({191.35e12 + i * 50e9, 32e9, 1e-3});
    ref_channels.push_back({191.35e12 + i * 50e9, 32e9, 1e-3});
  }
  double mismatch = 0.0;
  const ref::SpanNli r = ref::SolveSpan(rf, ref_channels, 80e3, {0, 20, 48, 95}, &mismatch);
  EXPECT_LT(mismatch, 1e-3);  // the numerical and the asymptotic link integrals meet
  const std::vector<int> cuts = {0, 20, 48, 95};
  for (size_t c = 0; c < cuts.size(); ++c) {
    const std::vector<double> eta = SpanNliEta(fibre, 80e3, channels, cuts[c], NliModel::kGn);
    double nsr = 0.0;
    for (size_t k = 0; k < channels.size(); ++k) nsr += 1e-3 * 1e-3 * eta[k];
    EXPECT_NEAR(LinearToDb(nsr / r.nsr_nli[c]), 0.0, 0.05) << "channel " << cuts[c];
  }
}

TEST(IsrsReferenceTest, RamanSpectrumConfigErrorsNameTheFileAndField) {
  const nlohmann::json good = ReadJsonFile(kConfigs + "/raman.json");
  auto error_of = [](const nlohmann::json& j) -> std::string {
    try {
      RamanGainSpectrum::FromJson(j, "raman.json");
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_of(good), "");
  const RamanGainSpectrum g = RamanGainSpectrum::FromJson(good, "raman.json");
  EXPECT_NEAR(g.PeakOffsetHz(), 13e12, 0.3e12);  // the silica peak near 13 THz
  EXPECT_EQ(g.GainMPerW(-1e12), 0.0);
  EXPECT_EQ(g.GainMPerW(50e12), 0.0);
  auto j = good;
  j["gain_m_per_w"].erase(0);
  EXPECT_NE(error_of(j).find("need as many gains as offsets"), std::string::npos) << error_of(j);
  j = good;
  j["frequency_offset_thz"][3] = 0.2;
  EXPECT_NE(error_of(j).find("offsets must increase"), std::string::npos);
  j = good;
  j["gain_m_per_w"][4] = "high";
  EXPECT_NE(error_of(j).find("raman.json.gain_m_per_w[4]: expected a number"), std::string::npos);
  j = good;
  j.erase("reference_frequency_thz");
  EXPECT_NE(error_of(j).find("raman.json.reference_frequency_thz: missing"), std::string::npos);
}

}  // namespace
}  // namespace eonops::twin
