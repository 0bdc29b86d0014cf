// Line-level physics of the QoT model: per-channel SNR_ASE, SNR_NLI and GSNR of a chain of
// amplified fibre spans, accumulated span by span.
//
//   ASE   each span is followed by an amplifier of gain G = span loss and noise figure NF; it
//         adds P_ASE = NF * h * f * R_s * G in the symbol-rate bandwidth (GNPy's convention).
//   NLI   closed-form GN model (Poggiolini, JLT 2012, arXiv:1209.0394 eqs. 120 and 123, as in
//         GNPy's `gn_model_analytic`): P_NLI,i = P_i * sum_k P_k^2 * eta_ik, SPM (k = i) and XPM
//         (k != i) per channel pair, spans adding incoherently unless `coherent_nli`.
//   ISRS  with NliModel::kIsrsGn, the closed-form ISRS GN model (Semrau, Killey, Bayvel, JLT
//         37(9), 2019, arXiv:1808.07940): inter-channel stimulated Raman scattering moves power
//         from high to low frequencies along each span, which changes both the signal powers
//         (a tilt of about 4.34 * P_tot * L_eff * C_r * B_tot dB per span) and the NLI.
//
//   FibreParams fibre = FibreParams::Uniform(0.2, 16.7, 0.0, 1.27, 0.0);
//   std::vector<Channel> channels = {{193.1e12, 32e9, 1e-3}, {193.15e12, 32e9, 1e-3}};
//   Line line{fibre, std::vector<double>(10, 80e3), {DbToLinear(5.5)}};
//   for (const ChannelQot& q : PropagateLine(line, channels, {})) q.GsnrDb();
//
// Units are SI and linear throughout (W, Hz, m, 1/W/m); dB only in the *Db helpers.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "twin/bands.h"
#include "twin/raman.h"

namespace eonops::twin {

inline constexpr double kPlanckJs = 6.62607015e-34;        // exact (SI 2019)
inline constexpr double kSpeedOfLightMPerS = 299792458.0;  // exact
inline constexpr double kPi = 3.14159265358979323846;

double DbToLinear(double db);
double LinearToDb(double x);
double DbmToW(double dbm);
double WToDbm(double power_w);

// Power attenuation coefficient (Np/m) of a loss given in dB/km.
double AlphaPerMFromDbPerKm(double loss_db_per_km);
// L_eff = (1 - exp(-alpha L)) / alpha.
double EffectiveLengthM(double alpha_per_m, double length_m);
// beta2 = -D lambda^2 / (2 pi c) and beta3 = lambda^2 / (2 pi c)^2 (lambda^2 S + 2 lambda D) at
// the wavelength of `reference_frequency_hz` (D in s/m^2, S in s/m^3).
double Beta2S2PerM(double dispersion_s_per_m2, double reference_frequency_hz);
double Beta3S3PerM(double dispersion_s_per_m2, double slope_s_per_m3,
                   double reference_frequency_hz);

// Fibre properties over one frequency range (one amplification band).
struct FibreBand {
  std::string name;
  double f_min_hz = 0.0;
  double f_max_hz = 0.0;
  double alpha_per_m = 0.0;    // power attenuation, Np/m
  double gamma_per_w_m = 0.0;  // Kerr nonlinear coefficient
  double effective_area_m2 = 0.0;  // for the Raman gain coefficient (0: no Raman spectrum)
};

// One fibre type: per-band loss and nonlinearity, one dispersion law (beta2 linear in frequency
// around the reference), and its Raman gain: either the measured spectrum (raman_spectrum, solved
// numerically, twin/raman.h) or, without one, the linearised slope C_r of Semrau's closed form.
struct FibreParams {
  std::vector<FibreBand> bands;
  double reference_frequency_hz = 0.0;
  double beta2_s2_per_m = 0.0;  // at reference_frequency_hz
  double beta3_s3_per_m = 0.0;
  double raman_gain_slope_per_w_m_hz = 0.0;  // C_r, used only without raman_spectrum
  std::shared_ptr<const RamanGainSpectrum> raman_spectrum;

  // The band holding `frequency_hz`, else the nearest one.
  int BandIndex(double frequency_hz) const;
  // beta2 at a frequency: beta2 + 2 pi beta3 (f - f_ref).
  double Beta2At(double frequency_hz) const;
  bool HasRaman() const { return raman_spectrum != nullptr || raman_gain_slope_per_w_m_hz > 0.0; }
  // Raman gain coefficient (1/(W m)) of a probe from a pump at f_pump > f_probe: g_R(f_pump -
  // f_probe) (f_pump / f_ref) / A_eff, A_eff the mean of the two bands' effective areas (the
  // overlap of GNPy's Fiber.cr); C_r (f_pump - f_probe) without a spectrum.
  double RamanCoefficient(double f_probe_hz, double f_pump_hz) const;

  // The same loss and gamma at every frequency (the `eonops qot line` fibre). Units as named;
  // the dispersion and its slope are at 1550 nm, a slope of 0 meaning beta3 = 0 (GNPy's default).
  static FibreParams Uniform(double loss_db_per_km, double dispersion_ps_per_nm_km,
                             double dispersion_slope_ps_per_nm2_km, double gamma_per_w_km,
                             double raman_gain_slope_per_w_km_thz);
  // configs/fibre.json, with one entry per band of `plan` (frequency ranges come from the plan).
  // Throws std::runtime_error("<file>: <field>: <reason>").
  static FibreParams Load(const std::string& path, const BandPlan& plan);
  static FibreParams FromJson(const nlohmann::json& j, const std::string& origin,
                              const BandPlan& plan);
};

enum class NliModel { kGn, kIsrsGn };
NliModel ParseNliModel(const std::string& s);  // "gn" | "isrs-gn"; throws std::invalid_argument
const char* ToString(NliModel m);

// What the in-line amplifiers do with the ISRS tilt. kSpanLoss: every channel gets the loss of
// its band back (GNPy's gain = span loss), so the tilt accumulates span after span. kEqualise:
// each amplifier restores every channel to its launch power (ideal dynamic gain equalisation,
// the assumption of Semrau et al.'s multi-span results); the ASE then follows the higher gain.
enum class AmplifierGain { kSpanLoss, kEqualise };
AmplifierGain ParseAmplifierGain(const std::string& s);  // "span-loss" | "equalise"
const char* ToString(AmplifierGain g);

struct PropagationOptions {
  NliModel nli_model = NliModel::kGn;
  // SPM adds up coherently over the n spans of the line: its sum is multiplied by n^eps_i with
  // eps_i = 3/10 ln(1 + 6 / (alpha_i L_mean asinh(pi^2/2 |beta2_i| R_i^2 / alpha_i))) (Semrau's
  // reference code: Poggiolini's 2012 coherence factor with the channel's own bandwidth).
  bool coherent_nli = false;
  AmplifierGain amplifier_gain = AmplifierGain::kSpanLoss;
};

// A channel at the input of the line (or of a span).
struct Channel {
  double frequency_hz = 0.0;
  double symbol_rate_baud = 0.0;  // also the noise bandwidth of ASE and NLI
  double launch_power_w = 0.0;
};

// Noise-to-signal ratios of one channel at the end of a line, linear.
struct ChannelQot {
  double frequency_hz = 0.0;
  double power_out_w = 0.0;  // signal power after the last amplifier
  double nsr_ase = 0.0;
  double nsr_nli = 0.0;

  double Nsr() const { return nsr_ase + nsr_nli; }
  double Gsnr() const { return 1.0 / Nsr(); }
  double SnrAseDb() const { return -LinearToDb(nsr_ase); }
  double SnrNliDb() const { return -LinearToDb(nsr_nli); }  // +inf without NLI
  double GsnrDb() const { return -LinearToDb(Nsr()); }
};

// The Kerr and Raman physics of one span of a fibre for a fixed set of channels at fixed span
// launch powers. The per-pair NLI coefficient of a span of length L is
//   eta_ik(L) = L_eff(alpha_k, L)^2 * Xi(i, k),
// because the GN closed form depends on L only through the interferer's effective length (psi
// uses the asymptotic length 1/alpha), and Semrau's ISRS factor assumes exp(-alpha L) << 1.
// Xi is therefore length-free: computed once, it serves every span length.
//
// GN (GNPy's gn_model_analytic, arXiv:1209.0394 eqs. 120, 123), with Delta f = f_k - f_i, the
// interferer's asymptotic length L_a = 1/alpha_k and beta2 at the pair's mid frequency:
//   Xi_ii = 16/27 gamma_i^2 asinh(pi^2/2 L_a |beta2| R_i^2) / (2 pi |beta2| L_a R_i^2)
//   Xi_ik = 32/27 gamma_i^2 psi_ik / (2 pi |beta2| L_a R_k^2),
//   psi_ik = 1/2 [asinh(a (Df + R_k/2)) - asinh(a (Df - R_k/2))],  a = pi^2 L_a |beta2| R_i
// ISRS GN (kIsrsGn): each term is multiplied by the ratio of Semrau's closed form (JLT 2019 eqs.
// for eta_SPM and eta_XPM, alpha_bar = alpha) at the actual C_r * P_tot to the same at C_r = 0.
// With x_k = C_r P_tot (f_k - f_c), f_c the power centroid of the comb, T_k = (2 alpha_k - x_k)^2:
//   SPM: [(T_i - a^2)/a asinh(u/a) + (4a^2 - T_i)/(2a) asinh(u/(2a))] / [3a asinh(u/a)],
//        a = alpha_i, u = phi_i R_i^2 / pi, phi_i = 3/2 pi^2 beta2(f_i)
//   XPM: [(T_k - a^2)/a atan(v/a) + (4a^2 - T_k)/(2a) atan(v/(2a))] / [3a atan(v/a)],
//        a = alpha_k, v = phi_ik R_i, phi_ik = 2 pi^2 (f_k - f_i) beta2((f_i + f_k)/2)
// The ratio carries the whole ISRS dependence of Semrau's formula while the GN closed form keeps
// the finite span length (Semrau's derivation drops exp(-alpha L)) and Poggiolini's XPM shape;
// at C_r = 0 the ratio is exactly 1, so the ISRS model reduces to the GN one.
//
// ISRS power profile, two models:
// - Raman gain spectrum (fibre.raman_spectrum, the network's configs/fibre.json): the power
//   equations solved numerically for this set of channels (twin/raman.h) up to the longest span;
//   the ISRS factors above take each channel's profile as fitted by RamanSolution::Fit (its own
//   abar and T instead of alpha and Semrau's first-order T), which keeps the NLI within 0.3 dB of
//   a numerical generalized-GN integral over C+L and C+L+S (gsnr_test).
// - Linear slope C_r only (Christodoulides & Jander, IEEE PTL 8(12) 1996, for a triangular Raman
//   gain; used in this form by Semrau et al., JLT 36(14) 2018): over a span of length L,
//     P_k(L) = P_k e^(-alpha_k L) P_tot e^(-C_r P_tot L_eff f_k) / sum_j P_j e^(-C_r P_tot L_eff f_j)
//   exact when all channels share one attenuation. With per-band loss, P_tot L_eff becomes
//   sum_j P_j L_eff(alpha_j, L) and the weights of the normalisation P_j L_eff(alpha_j, L), exact
//   to first order in C_r. The triangle overstates the transfer beyond about 10 THz (the measured
//   gain peaks at 13 THz and falls after 15), which costs up to 0.7 dB over C+L+S.
// What the NLI closed forms need of one channel on a fibre.
struct NliChannel {
  double frequency_hz = 0.0;
  double symbol_rate_baud = 0.0;
  int band = 0;  // of the fibre
  double alpha_per_m = 0.0;
  double gamma_per_w_m = 0.0;
  double beta2_s2_per_m = 0.0;
  IsrsParams isrs;  // its Raman profile (IsrsParams::None without ISRS)
};
NliChannel MakeNliChannel(const FibreParams& fibre, const Channel& c);
// Xi of interferer k on channel i (SpanPhysics::Xi below); same_channel: the SPM term.
double NliXi(const NliChannel& i, const NliChannel& k, bool same_channel, bool isrs);
// SPM coherence exponent eps of a channel over spans of the given mean length.
double CoherenceExponent(const NliChannel& c, double mean_span_length_m);

class SpanPhysics {
 public:
  // `max_span_m`: the longest span the physics will serve (the numerical Raman profile is solved
  // that far; unused without a Raman spectrum).
  SpanPhysics(const FibreParams& fibre, const std::vector<Channel>& channels, NliModel model,
              double max_span_m);

  int NumChannels() const { return static_cast<int>(channels_.size()); }
  const Channel& channel(int k) const { return channels_[k]; }
  int Band(int k) const { return phys_[k].band; }
  double AlphaPerM(int k) const { return phys_[k].alpha_per_m; }
  double TotalPowerW() const { return total_power_w_; }
  double PowerCentroidHz() const { return centroid_hz_; }
  bool Isrs() const { return isrs_; }
  // The ISRS profile parameters of channel k (IsrsParams::None without ISRS).
  const IsrsParams& Profile(int k) const { return phys_[k].isrs; }
  const NliChannel& Nli(int k) const { return phys_[k]; }
  // The numerical Raman solution (with a Raman spectrum and ISRS only, else nullptr).
  const RamanSolution* Raman() const { return numerical_ ? &raman_ : nullptr; }

  double Xi(int cut, int k) const;
  // P_NLI,cut = P_cut * sum_k P_k^2 * Eta(cut, k, L): NLI at the span end, referred to its input.
  double Eta(int cut, int k, double length_m) const;
  // Net Raman factor of every channel over a span of length L (all 1 without ISRS); out has
  // NumChannels() entries. Power after the span: P_k e^{-a_k L} g_k.
  void RamanGains(double length_m, double* out) const;
  double CoherenceExponent(int k, double mean_span_length_m) const;

 private:
  std::vector<Channel> channels_;
  std::vector<NliChannel> phys_;
  bool isrs_ = false;
  bool numerical_ = false;  // profiles from raman_ (a Raman spectrum), else the linear slope
  RamanSolution raman_;
  double raman_slope_ = 0.0;
  double total_power_w_ = 0.0;
  double centroid_hz_ = 0.0;
};

// Propagates a comb of channels over chains of spans of one fibre type and returns the QoT of
// the channels of interest (`cuts`; all channels when empty). When the span launch powers do not
// change along the line (GN model, or ISRS with kEqualise) the O(channels x cuts) NLI sums are
// computed once here and each Run costs O(spans x cuts); otherwise every span recomputes them
// from the tilted powers.
class LinePropagation {
 public:
  // `max_span_m`: the longest span Run will see (needed with a Raman spectrum).
  LinePropagation(const FibreParams& fibre, std::vector<double> noise_figure_lin_per_band,
                  std::vector<Channel> channels, const PropagationOptions& options,
                  std::vector<int> cuts, double max_span_m);

  int NumCuts() const { return static_cast<int>(cuts_.size()); }
  // The span physics at the launch powers (every span's, when the powers do not evolve).
  const SpanPhysics& launch() const { return launch_; }
  std::vector<ChannelQot> Run(const std::vector<double>& span_lengths_m) const;
  // The same into out[0 .. NumCuts()).
  void Run(const std::vector<double>& span_lengths_m, ChannelQot* out) const;

 private:
  void RunFixedPowers(const std::vector<double>& spans_m, ChannelQot* out) const;
  void RunEvolvingPowers(const std::vector<double>& spans_m, ChannelQot* out) const;
  double AseNsrOverSpan(int cut, double power_in_w, double raman_gain, double length_m) const;

  FibreParams fibre_;
  std::vector<double> nf_lin_;
  std::vector<Channel> channels_;
  PropagationOptions options_;
  std::vector<int> cuts_;
  SpanPhysics launch_;  // the span physics at the launch powers
  bool powers_evolve_ = false;
  // Fixed-power path: sum over interferers k of band b of P_k^2 Xi(cut, k), per cut and band,
  // and the SPM term P_cut^2 Xi(cut, cut).
  std::vector<double> xpm_by_band_;
  std::vector<double> spm_;
};

// A point-to-point line: spans of one fibre, an amplifier after each (NF per fibre band).
struct Line {
  FibreParams fibre;
  std::vector<double> span_lengths_m;
  std::vector<double> noise_figure_lin;  // one per fibre band (one value applies to all)
};

std::vector<ChannelQot> PropagateLine(const Line& line, const std::vector<Channel>& channels,
                                      const PropagationOptions& options);

// The NLI coefficients eta_cut,k of one span (all k), for tests and tools.
std::vector<double> SpanNliEta(const FibreParams& fibre, double span_length_m,
                               const std::vector<Channel>& channels, int cut, NliModel model);
// Signal powers of every channel after one span (before the amplifier).
std::vector<double> SpanOutputPowersW(const FibreParams& fibre, double span_length_m,
                                      const std::vector<Channel>& channels, NliModel model);

}  // namespace eonops::twin
