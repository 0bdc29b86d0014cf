// Pins twin/gsnr.h: ASE against hand calculation, the GN closed form against an independent
// evaluation and against Poggiolini's Nyquist-WDM formula, span scaling, the optimum launch
// power, and the ISRS GN model (reduction to GN, Semrau's closed form, the Raman power tilt
// against a numerical solution of the Raman equations).
#include "twin/gsnr.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "twin/bands.h"

namespace eonops::twin {
namespace {

constexpr double kH = 6.62607015e-34;
constexpr double kC = 299792458.0;

std::vector<Channel> Comb(int n, double f_first_hz, double spacing_hz, double baud,
                          double power_dbm) {
  std::vector<Channel> out;
  for (int i = 0; i < n; ++i) out.push_back({f_first_hz + i * spacing_hz, baud, DbmToW(power_dbm)});
  return out;
}

// GNPy's `eonops qot line` defaults: 80 km SSMF spans, 96 x 32 GBd on 50 GHz from 191.35 THz.
FibreParams Ssmf(double gamma_per_w_km = 1.275, double raman = 0.0, double slope = 0.0) {
  return FibreParams::Uniform(0.2, 16.7, slope, gamma_per_w_km, raman);
}

// A C+L fibre with per-band loss (C 0.20, L 0.21 dB/km) as in configs/fibre.json.
FibreParams CPlusL(double raman_per_w_km_thz) {
  FibreParams f = FibreParams::Uniform(0.2, 16.7, 0.067, 1.27, raman_per_w_km_thz);
  f.bands = {{"L", 186.0e12, 190.8e12, AlphaPerMFromDbPerKm(0.21), 1.20e-3},
             {"C", 191.3e12, 196.1e12, AlphaPerMFromDbPerKm(0.20), 1.27e-3}};
  return f;
}

std::vector<Channel> CPlusLComb(double power_dbm) {
  std::vector<Channel> ch = Comb(96, 186.025e12, 50e9, 32e9, power_dbm);                 // L
  for (const Channel& c : Comb(96, 191.325e12, 50e9, 32e9, power_dbm)) ch.push_back(c);  // C
  return ch;
}

// --- ASE ------------------------------------------------------------------------------------

// One 80 km span at 0.2 dB/km (16 dB loss, G = 10^1.6 = 39.8107), NF 5.5 dB (3.54813), one
// 32 GBd channel at 193.1 THz launched at 0 dBm:
//   h f       = 6.62607015e-34 * 193.1e12      = 1.279494e-19 J
//   * R_s     = 1.279494e-19 * 32e9            = 4.094381e-9 W
//   * NF      = 4.094381e-9 * 3.548134         = 1.452741e-8 W
//   * G       = 1.452741e-8 * 39.810717        = 5.783467e-7 W = -32.378 dBm
//   SNR_ASE   = 0 dBm - (-32.378 dBm)          = 32.378 dB
TEST(GsnrTest, AseOnlySingleSpanMatchesHandCalculation) {
  Line line{Ssmf(/*gamma=*/0.0), {80e3}, {DbToLinear(5.5)}};
  auto q = PropagateLine(line, {{193.1e12, 32e9, DbmToW(0.0)}}, {});
  ASSERT_EQ(q.size(), 1u);
  EXPECT_NEAR(q[0].SnrAseDb(), 32.378, 0.01);
  EXPECT_EQ(q[0].nsr_nli, 0.0);
  EXPECT_NEAR(q[0].GsnrDb(), 32.378, 0.01);
  EXPECT_NEAR(WToDbm(q[0].power_out_w), 0.0, 1e-9);  // gain = span loss
}

// N spans add N times the noise: 10 x 80 km -> 32.378 - 10 = 22.378 dB. Spans of 80 and 100 km
// (20 dB loss): NSR = 5.783467e-7 / 1e-3 + 1.452741e-8 * 100 / 1e-3 -> 26.923 dB.
TEST(GsnrTest, AseOnlyNSpansMatchHandCalculation) {
  std::vector<Channel> ch = {{193.1e12, 32e9, DbmToW(0.0)}};
  Line ten{Ssmf(0.0), std::vector<double>(10, 80e3), {DbToLinear(5.5)}};
  EXPECT_NEAR(PropagateLine(ten, ch, {})[0].GsnrDb(), 22.378, 0.01);
  Line mixed{Ssmf(0.0), {80e3, 100e3}, {DbToLinear(5.5)}};
  EXPECT_NEAR(PropagateLine(mixed, ch, {})[0].GsnrDb(), 26.923, 0.01);
}

// --- GN closed form ---------------------------------------------------------------------------

// An independent evaluation of GNPy's gn_model_analytic (Poggiolini, arXiv:1209.0394 eqs. 120
// and 123) for one span, written from the formulas rather than from twin/gsnr.cc: beta2 and beta3
// from D and S at 1550 nm, beta2 at the pair's mid frequency, L_eff and L_a of the interferer.
double ReferenceGnEta(const std::vector<Channel>& ch, int i, int k, double loss_db_per_km,
                      double d_ps_nm_km, double s_ps_nm2_km, double gamma_per_w_km,
                      double length_m) {
  const double pi = 3.14159265358979323846;
  const double lambda = 1550e-9, f0 = kC / lambda;
  const double d = d_ps_nm_km * 1e-6, s = s_ps_nm2_km * 1e3;
  const double beta2 = -d * lambda * lambda / (2 * pi * kC);
  const double beta3 = std::pow(lambda / (2 * pi * kC), 2) * (lambda * lambda * s + 2 * lambda * d);
  const double alpha = loss_db_per_km / (10 * std::log10(std::exp(1.0))) / 1e3;
  const double leff = (1 - std::exp(-alpha * length_m)) / alpha, la = 1 / alpha;
  const double gamma = gamma_per_w_km * 1e-3;
  const double fm = 0.5 * (ch[i].frequency_hz + ch[k].frequency_hz);
  const double b2 = std::abs(beta2 + 2 * pi * beta3 * (fm - f0));
  const double ri = ch[i].symbol_rate_baud, rk = ch[k].symbol_rate_baud;
  const double df = ch[k].frequency_hz - ch[i].frequency_hz;
  double psi;
  if (i == k) {
    psi = std::asinh(0.5 * pi * pi * la * b2 * ri * ri);
  } else {
    psi = 0.5 * (std::asinh(pi * pi * la * b2 * ri * (df + rk / 2)) -
                 std::asinh(pi * pi * la * b2 * ri * (df - rk / 2)));
  }
  double weight = i == k ? 16.0 / 27.0 : 32.0 / 27.0;
  return weight * gamma * gamma * leff * leff * psi / (2 * pi * b2 * la * rk * rk);
}

TEST(GsnrTest, GnEtaMatchesIndependentEvaluation) {
  // Mixed symbol rates and a dispersion slope, so that every argument of the formula matters.
  std::vector<Channel> ch = {
      {192.0e12, 32e9, 1e-3}, {192.1e12, 64e9, 2e-3}, {193.4e12, 32e9, 1e-3}};
  FibreParams f = FibreParams::Uniform(0.21, 17.0, 0.067, 1.3, 0.0);
  for (int i = 0; i < 3; ++i) {
    auto eta = SpanNliEta(f, 75e3, ch, i, NliModel::kGn);
    for (int k = 0; k < 3; ++k) {
      double ref = ReferenceGnEta(ch, i, k, 0.21, 17.0, 0.067, 1.3, 75e3);
      EXPECT_NEAR(eta[k] / ref, 1.0, 1e-9) << "i=" << i << " k=" << k;
    }
  }
}

// For a Nyquist comb (spacing = symbol rate) the pairwise sum must give back Poggiolini's
// closed form for Nyquist-WDM (JLT 2012, arXiv:1209.0394 eq. 13; the "asinh formula"):
//   G_NLI = 8/27 gamma^2 G^3 L_eff^2 asinh(pi^2/2 |beta2| L_a B^2) / (pi |beta2| L_a),
// which the XPM terms telescope into up to asinh(x) ~ ln(2x).
TEST(GsnrTest, GnPairwiseSumMatchesNyquistClosedForm) {
  const int n = 101;
  const double baud = 32e9, p = 1e-3;
  std::vector<Channel> ch = Comb(n, 192.0e12, baud, baud, 0.0);
  FibreParams f = Ssmf();
  auto eta = SpanNliEta(f, 80e3, ch, n / 2, NliModel::kGn);
  double nli = 0;
  for (double e : eta) nli += p * p * p * e;

  const double pi = 3.14159265358979323846;
  const double alpha = AlphaPerMFromDbPerKm(0.2), la = 1 / alpha;
  const double leff = (1 - std::exp(-alpha * 80e3)) / alpha;
  const double b2 = 16.7e-6 * std::pow(1550e-9, 2) / (2 * pi * kC);
  const double g = p / baud, bw = n * baud, gamma = 1.275e-3;
  double g_nli = 8.0 / 27.0 * gamma * gamma * g * g * g * leff * leff *
                 std::asinh(0.5 * pi * pi * b2 * la * bw * bw) / (pi * b2 * la);
  EXPECT_NEAR(LinearToDb(nli / (g_nli * baud)), 0.0, 0.05);
}

TEST(GsnrTest, DoublingTheSpansCostsThreeDb) {
  std::vector<Channel> ch = Comb(96, 191.35e12, 50e9, 32e9, 0.0);
  Line ten{Ssmf(), std::vector<double>(10, 80e3), {DbToLinear(5.5)}};
  Line twenty{Ssmf(), std::vector<double>(20, 80e3), {DbToLinear(5.5)}};
  auto a = PropagateLine(ten, ch, {});
  auto b = PropagateLine(twenty, ch, {});
  for (int i : {0, 48, 95}) {
    EXPECT_NEAR(a[i].GsnrDb() - b[i].GsnrDb(), 3.01, 0.1) << "channel " << i;
    EXPECT_LT(a[i].SnrNliDb(), a[i].SnrAseDb() + 10);  // NLI is not negligible here
  }
  // Coherent SPM accumulation (n^(1 + eps)) makes the doubling cost more than 3 dB of SNR_NLI.
  PropagationOptions coherent;
  coherent.coherent_nli = true;
  auto ac = PropagateLine(ten, ch, coherent);
  auto bc = PropagateLine(twenty, ch, coherent);
  EXPECT_GT(ac[48].SnrNliDb() - bc[48].SnrNliDb(), 3.02);
  EXPECT_LT(ac[48].SnrNliDb(), a[48].SnrNliDb());
}

// GSNR = P / (P_ASE + eta P^3) peaks at P* = (P_ASE / (2 eta))^(1/3), where the NLI is half the
// ASE and GSNR* = 2/3 SNR_ASE(P*) (Poggiolini 2012, sec. on optimum launch power; the "3/2 law").
TEST(GsnrTest, OptimumLaunchPowerFollowsTheThreeHalvesLaw) {
  Line line{Ssmf(), std::vector<double>(10, 80e3), {DbToLinear(5.5)}};
  double best_db = -1e9, best_p_dbm = 0;
  std::vector<double> gsnr_db;
  for (double p_dbm = -8; p_dbm <= 6 + 1e-9; p_dbm += 0.05) {
    auto q = PropagateLine(line, Comb(96, 191.35e12, 50e9, 32e9, p_dbm), {});
    gsnr_db.push_back(q[48].GsnrDb());
    if (gsnr_db.back() > best_db) {
      best_db = gsnr_db.back();
      best_p_dbm = p_dbm;
    }
  }
  EXPECT_GT(best_db, gsnr_db.front() + 1.0);  // rises ...
  EXPECT_GT(best_db, gsnr_db.back() + 1.0);   // ... then falls
  auto q0 = PropagateLine(line, Comb(96, 191.35e12, 50e9, 32e9, 0.0), {})[48];
  double p0 = 1e-3, p_ase = q0.nsr_ase * p0, eta = q0.nsr_nli / (p0 * p0);
  double p_opt = std::cbrt(p_ase / (2 * eta));
  EXPECT_NEAR(best_p_dbm, WToDbm(p_opt), 0.05);
  EXPECT_NEAR(best_db, LinearToDb(p_opt / p_ase) - LinearToDb(1.5), 0.01);
}

// --- ISRS -----------------------------------------------------------------------------------

TEST(GsnrTest, IsrsWithZeroRamanSlopeEqualsGn) {
  FibreParams f = CPlusL(0.0);
  std::vector<Channel> ch = CPlusLComb(1.0);
  for (int i : {0, 95, 96, 191}) {
    auto gn = SpanNliEta(f, 80e3, ch, i, NliModel::kGn);
    auto isrs = SpanNliEta(f, 80e3, ch, i, NliModel::kIsrsGn);
    for (size_t k = 0; k < ch.size(); ++k) EXPECT_NEAR(isrs[k] / gn[k], 1.0, 1e-12);
  }
  Line line{f, std::vector<double>(5, 80e3), {DbToLinear(5.0), DbToLinear(5.5)}};
  PropagationOptions gn_opt, isrs_opt;
  isrs_opt.nli_model = NliModel::kIsrsGn;
  auto a = PropagateLine(line, ch, gn_opt);
  auto b = PropagateLine(line, ch, isrs_opt);
  for (size_t i = 0; i < ch.size(); ++i) {
    EXPECT_NEAR(a[i].GsnrDb(), b[i].GsnrDb(), 1e-9);
    EXPECT_DOUBLE_EQ(b[i].power_out_w, ch[i].launch_power_w);
  }
}

// Semrau, Killey, Bayvel, JLT 37(9) 2019 (arXiv:1808.07940), eta_SPM and eta_XPM, transcribed
// with a general alpha_bar as in the authors' reference code (github.com/dsemrau/ISRSGNmodel).
// Frequencies relative to the centre of the (symmetric, equal-power) comb.
double SemrauSpm(double gamma, double bi, double phi_i, double t_i, double a, double ab) {
  const double pi = 3.14159265358979323846;
  return 4.0 / 9.0 * gamma * gamma / (bi * bi) * pi / (phi_i * ab * (2 * a + ab)) *
         ((t_i - a * a) / a * std::asinh(phi_i * bi * bi / a / pi) +
          ((a + ab) * (a + ab) - t_i) / (a + ab) * std::asinh(phi_i * bi * bi / (a + ab) / pi));
}
double SemrauXpm(double gamma, double bi, double bk, double phi_ik, double t_k, double a,
                 double ab) {
  return 32.0 / 27.0 * gamma * gamma / (bk * phi_ik * ab * (2 * a + ab)) *
         ((t_k - a * a) / a * std::atan(phi_ik * bi / a) +
          ((a + ab) * (a + ab) - t_k) / (a + ab) * std::atan(phi_ik * bi / (a + ab)));
}

struct SemrauSetup {
  double alpha, gamma, beta2, beta3, fc, cr, p_tot;
};
double SemrauEta(const SemrauSetup& s, const std::vector<Channel>& ch, int i, int k, double cr) {
  const double pi = 3.14159265358979323846;
  double fi = ch[i].frequency_hz - s.fc, fk = ch[k].frequency_hz - s.fc;
  // beta2/beta3 are referenced to the comb centre here, so f is also the dispersion offset.
  if (i == k) {
    double phi_i = 1.5 * pi * pi * (s.beta2 + 2 * pi * s.beta3 * fi);
    double t_i = std::pow(2 * s.alpha - s.p_tot * cr * fi, 2);
    return SemrauSpm(s.gamma, ch[i].symbol_rate_baud, phi_i, t_i, s.alpha, s.alpha);
  }
  double phi_ik = 2 * pi * pi * (fk - fi) * (s.beta2 + pi * s.beta3 * (fi + fk));
  double t_k = std::pow(2 * s.alpha - s.p_tot * cr * fk, 2);
  return SemrauXpm(s.gamma, ch[i].symbol_rate_baud, ch[k].symbol_rate_baud, phi_ik, t_k, s.alpha,
                   s.alpha);
}

// Semrau's example set-up (reference code README: SMF, 0.2 dB/km, D = 17 ps/nm/km, S = 0.067,
// gamma = 1.2 /W/km, C_r = 0.028 /W/km/THz, 100 km), here 201 x 40 GBd at 0 dBm (8 THz).
TEST(GsnrTest, IsrsFactorMatchesSemrauClosedForm) {
  const double pi = 3.14159265358979323846;
  const int n = 201;
  const double fc = kC / 1550e-9;  // comb centred on the dispersion reference
  std::vector<Channel> ch = Comb(n, fc - 100 * 40.005e9, 40.005e9, 40.004e9, 0.0);
  FibreParams isrs = FibreParams::Uniform(0.2, 17.0, 0.067, 1.2, 0.028);
  FibreParams plain = FibreParams::Uniform(0.2, 17.0, 0.067, 1.2, 0.0);
  const double lambda = 1550e-9, d = 17e-6, s = 0.067e3;
  SemrauSetup setup{AlphaPerMFromDbPerKm(0.2),
                    1.2e-3,
                    -d * lambda * lambda / (2 * pi * kC),
                    std::pow(lambda / (2 * pi * kC), 2) * (lambda * lambda * s + 2 * lambda * d),
                    fc,
                    0.028e-15,
                    n * 1e-3};
  for (int i : {0, 50, 100, 150, 200}) {
    auto with = SpanNliEta(isrs, 100e3, ch, i, NliModel::kIsrsGn);
    auto without = SpanNliEta(plain, 100e3, ch, i, NliModel::kGn);
    for (int k : {0, 1, 37, 99, 100, 101, 163, 199, 200}) {
      double expected = SemrauEta(setup, ch, i, k, 0.028e-15) / SemrauEta(setup, ch, i, k, 0.0);
      EXPECT_NEAR(with[k] / without[k], expected, 1e-9 * expected) << "i=" << i << " k=" << k;
    }
  }
  // Semrau's closed form at C_r = 0 is an independent derivation of the GN closed form (it takes
  // L_eff = 1/alpha and an atan XPM shape); the total NLI of each channel agrees within 0.1 dB
  // on this 100 km span.
  for (int i : {0, 100, 200}) {
    auto gn = SpanNliEta(plain, 100e3, ch, i, NliModel::kGn);
    double ours = 0, theirs = 0;
    for (int k = 0; k < n; ++k) {
      ours += gn[k];
      theirs += SemrauEta(setup, ch, i, k, 0.0);
    }
    EXPECT_NEAR(LinearToDb(ours / theirs), 0.0, 0.1) << "channel " << i;
  }
}

// ISRS on a C+L line, amplifier gain = span loss: the low-frequency (L) channels come out above
// their launch power, the high-frequency (C) ones below, by a tilt of about
// 4.34 * P_tot * L_eff * C_r * B between the outermost channels after one span.
TEST(GsnrTest, IsrsMovesPowerFromHighToLowFrequencies) {
  const double cr = 0.028;
  FibreParams f = CPlusL(cr);
  std::vector<Channel> ch = CPlusLComb(0.0);
  PropagationOptions opt;
  opt.nli_model = NliModel::kIsrsGn;
  Line one{f, {80e3}, {DbToLinear(5.0), DbToLinear(5.5)}};
  auto q = PropagateLine(one, ch, opt);
  EXPECT_GT(q.front().power_out_w, ch.front().launch_power_w);
  EXPECT_LT(q.back().power_out_w, ch.back().launch_power_w);
  // Power is conserved apart from loss: gains and losses balance around the centroid.
  double tilt_db = WToDbm(q.front().power_out_w) - WToDbm(q.back().power_out_w);
  double p_tot = 192 * 1e-3;
  double leff_km =
      EffectiveLengthM(0.5 * (AlphaPerMFromDbPerKm(0.2) + AlphaPerMFromDbPerKm(0.21)), 80e3) / 1e3;
  double span_thz = (ch.back().frequency_hz - ch.front().frequency_hz) / 1e12;
  double rule_db = 4.343 * p_tot * leff_km * cr * span_thz;
  EXPECT_GT(rule_db, 3.0);
  EXPECT_NEAR(tilt_db, rule_db, 0.02 * rule_db);

  // With gain = span loss the tilt piles up span after span; equalising amplifiers remove it.
  Line five{f, std::vector<double>(5, 80e3), {DbToLinear(5.0), DbToLinear(5.5)}};
  auto q5 = PropagateLine(five, ch, opt);
  double tilt5_db = WToDbm(q5.front().power_out_w) - WToDbm(q5.back().power_out_w);
  EXPECT_GT(tilt5_db, 4 * tilt_db);
  opt.amplifier_gain = AmplifierGain::kEqualise;
  auto qe = PropagateLine(five, ch, opt);
  EXPECT_DOUBLE_EQ(qe.front().power_out_w, ch.front().launch_power_w);
  EXPECT_DOUBLE_EQ(qe.back().power_out_w, ch.back().launch_power_w);
}

// The closed-form power profile against a numerical (RK4) solution of the Raman equations with a
// triangular gain, dP_i/dz = P_i (-alpha_i + C_r sum_k (f_k - f_i) P_k) (GNPy's 'numerical'
// RamanSolver without the photon-energy ratio): exact for one loss, within 0.03 dB with per-band
// loss (C 0.20, L 0.21 dB/km) at 1 dBm per channel, 24.8 dBm in all.
TEST(GsnrTest, IsrsPowerProfileMatchesNumericalRamanSolution) {
  const double cr = 0.028e-15;  // 1/(W m Hz)
  for (bool per_band_loss : {false, true}) {
    FibreParams f = CPlusL(0.028);
    if (!per_band_loss) f.bands[0].alpha_per_m = f.bands[1].alpha_per_m;
    std::vector<Channel> ch = CPlusLComb(1.0);
    const int n = static_cast<int>(ch.size());
    std::vector<double> alpha(n), p(n);
    for (int i = 0; i < n; ++i) {
      alpha[i] = f.bands[f.BandIndex(ch[i].frequency_hz)].alpha_per_m;
      p[i] = ch[i].launch_power_w;
    }
    auto deriv = [&](const std::vector<double>& x) {
      std::vector<double> d(n);
      double s0 = 0, s1 = 0;  // sum P_k and sum f_k P_k, so the RHS is O(n)
      for (int k = 0; k < n; ++k) {
        s0 += x[k];
        s1 += ch[k].frequency_hz * x[k];
      }
      for (int i = 0; i < n; ++i) d[i] = x[i] * (-alpha[i] + cr * (s1 - ch[i].frequency_hz * s0));
      return d;
    };
    const int steps = 800;
    const double h = 80e3 / steps;
    for (int s = 0; s < steps; ++s) {
      auto k1 = deriv(p);
      std::vector<double> t(n);
      for (int i = 0; i < n; ++i) t[i] = p[i] + 0.5 * h * k1[i];
      auto k2 = deriv(t);
      for (int i = 0; i < n; ++i) t[i] = p[i] + 0.5 * h * k2[i];
      auto k3 = deriv(t);
      for (int i = 0; i < n; ++i) t[i] = p[i] + h * k3[i];
      auto k4 = deriv(t);
      for (int i = 0; i < n; ++i) p[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
    auto closed = SpanOutputPowersW(f, 80e3, ch, NliModel::kIsrsGn);
    double tolerance_db = per_band_loss ? 0.03 : 1e-6;
    for (int i = 0; i < n; i += 7) {
      EXPECT_NEAR(WToDbm(closed[i]), WToDbm(p[i]), tolerance_db)
          << "channel " << i << (per_band_loss ? " (per-band loss)" : "");
    }
  }
}

// With the tilt removed by the amplifiers, ISRS still reshapes the NLI: channels at the low end
// see more power along the span (more NLI), those at the high end less (Semrau 2019, Fig. 3).
TEST(GsnrTest, IsrsRaisesNliAtLowFrequenciesAndLowersItAtHighOnes) {
  std::vector<Channel> ch = CPlusLComb(1.0);
  Line line{CPlusL(0.028), std::vector<double>(5, 80e3), {DbToLinear(5.0), DbToLinear(5.5)}};
  PropagationOptions gn, isrs;
  isrs.nli_model = NliModel::kIsrsGn;
  isrs.amplifier_gain = AmplifierGain::kEqualise;
  auto a = PropagateLine(line, ch, gn);
  auto b = PropagateLine(line, ch, isrs);
  EXPECT_LT(b.front().SnrNliDb(), a.front().SnrNliDb() - 1.0);
  EXPECT_GT(b.back().SnrNliDb(), a.back().SnrNliDb() + 1.0);
  // ... and the ASE: the high end reaches its amplifiers with less power.
  EXPECT_GT(b.front().SnrAseDb(), a.front().SnrAseDb());
  EXPECT_LT(b.back().SnrAseDb(), a.back().SnrAseDb());
}

// --- configuration --------------------------------------------------------------------------

BandPlan ShippedPlan() {
  return BandPlan::Load(std::string(EONOPS_SOURCE_DIR) + "/configs/bands.json");
}

TEST(GsnrTest, LoadsTheShippedFibreConfig) {
  BandPlan plan = ShippedPlan();
  FibreParams f = FibreParams::Load(std::string(EONOPS_SOURCE_DIR) + "/configs/fibre.json", plan);
  ASSERT_EQ(static_cast<int>(f.bands.size()), plan.NumBands());
  for (int b = 0; b < plan.NumBands(); ++b) {
    EXPECT_EQ(f.bands[b].name, plan.band(b).name);
    EXPECT_GT(f.bands[b].alpha_per_m, 0);
    EXPECT_LT(f.Beta2At(plan.band(b).f_min_hz), 0);
  }
  // 16.7 ps/nm/km at 1550 nm is beta2 = -21.3 ps^2/km.
  EXPECT_NEAR(f.beta2_s2_per_m * 1e27, -21.30, 0.01);
  // The measured Raman gain, not the linear fit: about 0.3 /(W km) at 10 THz in C (the fit's
  // 0.028 x 10), but falling past the 13 THz peak where the fit keeps rising.
  ASSERT_NE(f.raman_spectrum, nullptr);
  EXPECT_EQ(f.raman_gain_slope_per_w_m_hz, 0.0);
  EXPECT_NEAR(f.RamanCoefficient(186e12, 196e12) * 1e3, 0.29, 0.03);
  EXPECT_LT(f.RamanCoefficient(186e12, 202.5e12), 0.5 * f.RamanCoefficient(186e12, 199.2e12));
  for (const FibreBand& b : f.bands) EXPECT_GT(b.effective_area_m2, 70e-12);
}

std::string ErrorOf(const nlohmann::json& j, const BandPlan& plan) {
  try {
    FibreParams::FromJson(j, "fibre.json", plan);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(GsnrTest, FibreConfigErrorsNameTheFileAndField) {
  BandPlan plan = ShippedPlan();
  nlohmann::json good = {{"dispersion_ps_per_nm_km", 16.7},
                         {"dispersion_slope_ps_per_nm2_km", 0.067},
                         {"raman_gain_slope_per_w_km_thz", 0.028},
                         {"bands",
                          {{"C", {{"loss_db_per_km", 0.2}, {"gamma_per_w_km", 1.27}}},
                           {"L", {{"loss_db_per_km", 0.21}, {"gamma_per_w_km", 1.2}}},
                           {"S", {{"loss_db_per_km", 0.23}, {"gamma_per_w_km", 1.36}}}}}};
  EXPECT_EQ(ErrorOf(good, plan), "");

  auto no_s = good;
  no_s["bands"].erase("S");
  EXPECT_NE(ErrorOf(no_s, plan).find("fibre.json.bands.S: missing"), std::string::npos)
      << ErrorOf(no_s, plan);
  auto bad_loss = good;
  bad_loss["bands"]["L"]["loss_db_per_km"] = -0.2;
  EXPECT_NE(ErrorOf(bad_loss, plan).find("fibre.json.bands.L.loss_db_per_km"), std::string::npos);
  auto no_d = good;
  no_d.erase("dispersion_ps_per_nm_km");
  EXPECT_NE(ErrorOf(no_d, plan).find("fibre.json.dispersion_ps_per_nm_km: missing"),
            std::string::npos);
  auto zero_dispersion_in_band = good;
  zero_dispersion_in_band["dispersion_slope_ps_per_nm2_km"] = 0.3;  // D = 0 near 1494 nm
  EXPECT_NE(ErrorOf(zero_dispersion_in_band, plan).find("dispersion_slope_ps_per_nm2_km"),
            std::string::npos);
  auto both = good;
  both["raman_gain_spectrum"] = std::string(EONOPS_SOURCE_DIR) + "/configs/raman.json";
  EXPECT_NE(ErrorOf(both, plan).find("not both"), std::string::npos) << ErrorOf(both, plan);
  auto spectrum = good;
  spectrum.erase("raman_gain_slope_per_w_km_thz");
  spectrum["raman_gain_spectrum"] = std::string(EONOPS_SOURCE_DIR) + "/configs/raman.json";
  EXPECT_NE(ErrorOf(spectrum, plan).find("fibre.json.bands.C.effective_area_um2: missing"),
            std::string::npos)
      << ErrorOf(spectrum, plan);
  for (const char* b : {"C", "L", "S"}) spectrum["bands"][b]["effective_area_um2"] = 80;
  EXPECT_EQ(ErrorOf(spectrum, plan), "");
  try {
    FibreParams::Load("/nonexistent/fibre.json", plan);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fibre.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace eonops::twin
