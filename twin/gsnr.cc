#include "twin/gsnr.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "twin/json_util.h"

namespace eonops::twin {

namespace {

constexpr double kDbPerNeper = 4.342944819032518;  // 10 log10(e)

// Config units to SI.
constexpr double kSPerM2PerPsPerNmKm = 1e-6;    // 1 ps/(nm km) = 1e-12 s / (1e-9 m * 1e3 m)
constexpr double kSPerM3PerPsPerNm2Km = 1e3;    // 1 ps/(nm^2 km) = 1e-12 s / (1e-18 m^2 * 1e3 m)
constexpr double kPerWMPerPerWKm = 1e-3;        // 1 /(W km)
constexpr double kPerWMHzPerPerWKmThz = 1e-15;  // 1 /(W km THz)

}  // namespace

double DbToLinear(double db) { return std::pow(10.0, db / 10.0); }
double LinearToDb(double x) {
  if (x <= 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(x);
}
double DbmToW(double dbm) { return 1e-3 * DbToLinear(dbm); }
double WToDbm(double power_w) { return LinearToDb(power_w / 1e-3); }

double AlphaPerMFromDbPerKm(double loss_db_per_km) { return loss_db_per_km / kDbPerNeper / 1e3; }

double EffectiveLengthM(double alpha_per_m, double length_m) {
  if (alpha_per_m <= 0.0) return length_m;
  return -std::expm1(-alpha_per_m * length_m) / alpha_per_m;
}

double Beta2S2PerM(double dispersion_s_per_m2, double reference_frequency_hz) {
  double lambda_m = kSpeedOfLightMPerS / reference_frequency_hz;
  return -dispersion_s_per_m2 * lambda_m * lambda_m / (2.0 * kPi * kSpeedOfLightMPerS);
}

double Beta3S3PerM(double dispersion_s_per_m2, double slope_s_per_m3,
                   double reference_frequency_hz) {
  double lambda_m = kSpeedOfLightMPerS / reference_frequency_hz;
  double k = lambda_m / (2.0 * kPi * kSpeedOfLightMPerS);
  return k * k * (lambda_m * lambda_m * slope_s_per_m3 + 2.0 * lambda_m * dispersion_s_per_m2);
}

int FibreParams::BandIndex(double frequency_hz) const {
  int best = 0;
  double best_distance = std::numeric_limits<double>::infinity();
  for (int b = 0; b < static_cast<int>(bands.size()); ++b) {
    const FibreBand& band = bands[b];
    if (frequency_hz >= band.f_min_hz && frequency_hz <= band.f_max_hz) return b;
    double d =
        std::min(std::abs(frequency_hz - band.f_min_hz), std::abs(frequency_hz - band.f_max_hz));
    if (d < best_distance) {
      best_distance = d;
      best = b;
    }
  }
  return best;
}

double FibreParams::Beta2At(double frequency_hz) const {
  return beta2_s2_per_m + 2.0 * kPi * beta3_s3_per_m * (frequency_hz - reference_frequency_hz);
}

double FibreParams::RamanCoefficient(double f_probe_hz, double f_pump_hz) const {
  if (!raman_spectrum) return raman_gain_slope_per_w_m_hz * (f_pump_hz - f_probe_hz);
  const double area = 0.5 * (bands[BandIndex(f_probe_hz)].effective_area_m2 +
                             bands[BandIndex(f_pump_hz)].effective_area_m2);
  return raman_spectrum->GainMPerW(f_pump_hz - f_probe_hz) *
         (f_pump_hz / raman_spectrum->reference_frequency_hz()) / area;
}

FibreParams FibreParams::Uniform(double loss_db_per_km, double dispersion_ps_per_nm_km,
                                 double dispersion_slope_ps_per_nm2_km, double gamma_per_w_km,
                                 double raman_gain_slope_per_w_km_thz) {
  FibreParams p;
  p.reference_frequency_hz = kSpeedOfLightMPerS / 1550e-9;
  double d = dispersion_ps_per_nm_km * kSPerM2PerPsPerNmKm;
  p.beta2_s2_per_m = Beta2S2PerM(d, p.reference_frequency_hz);
  // GNPy's default slope is -2 D / lambda, i.e. beta3 = 0; we take "no slope given" to mean the
  // same so that `eonops qot line` matches GNPy out of the box.
  p.beta3_s3_per_m = dispersion_slope_ps_per_nm2_km == 0.0
                         ? 0.0
                         : Beta3S3PerM(d, dispersion_slope_ps_per_nm2_km * kSPerM3PerPsPerNm2Km,
                                       p.reference_frequency_hz);
  p.raman_gain_slope_per_w_m_hz = raman_gain_slope_per_w_km_thz * kPerWMHzPerPerWKmThz;
  p.bands.push_back({"all", 0.0, std::numeric_limits<double>::infinity(),
                     AlphaPerMFromDbPerKm(loss_db_per_km), gamma_per_w_km * kPerWMPerPerWKm});
  return p;
}

FibreParams FibreParams::Load(const std::string& path, const BandPlan& plan) {
  return FromJson(ReadJsonFile(path), path, plan);
}

FibreParams FibreParams::FromJson(const nlohmann::json& j, const std::string& origin,
                                  const BandPlan& plan) {
  if (!j.is_object()) ConfigError(origin, "expected a JSON object");
  RejectUnknownKeys(j,
                    {"fibre_type", "reference_wavelength_nm", "dispersion_ps_per_nm_km",
                     "dispersion_slope_ps_per_nm2_km", "raman_gain_slope_per_w_km_thz",
                     "raman_gain_spectrum", "bands"},
                    origin);
  if (j.contains("fibre_type")) RequireString(j, "fibre_type", origin);  // documentation
  FibreParams p;
  double lambda_nm = NumberOr(j, "reference_wavelength_nm", 1550.0, origin);
  if (!(lambda_nm > 0)) ConfigError(origin + ".reference_wavelength_nm", "must be positive");
  p.reference_frequency_hz = kSpeedOfLightMPerS / (lambda_nm * 1e-9);
  double d = RequirePositive(j, "dispersion_ps_per_nm_km", origin) * kSPerM2PerPsPerNmKm;
  double s = RequireNumber(j, "dispersion_slope_ps_per_nm2_km", origin) * kSPerM3PerPsPerNm2Km;
  p.beta2_s2_per_m = Beta2S2PerM(d, p.reference_frequency_hz);
  p.beta3_s3_per_m = Beta3S3PerM(d, s, p.reference_frequency_hz);
  // The Raman gain: the measured spectrum (a file next to this one), or Semrau's linear slope.
  const bool has_spectrum = j.contains("raman_gain_spectrum");
  const bool has_slope = j.contains("raman_gain_slope_per_w_km_thz");
  if (has_spectrum && has_slope) {
    ConfigError(origin + ".raman_gain_slope_per_w_km_thz",
                "give either raman_gain_spectrum or raman_gain_slope_per_w_km_thz, not both");
  }
  if (has_slope) {
    double cr = RequireNumber(j, "raman_gain_slope_per_w_km_thz", origin);
    if (cr < 0) ConfigError(origin + ".raman_gain_slope_per_w_km_thz", "must not be negative");
    p.raman_gain_slope_per_w_m_hz = cr * kPerWMHzPerPerWKmThz;
  }
  if (has_spectrum) {
    std::string file = RequireString(j, "raman_gain_spectrum", origin);
    if (!std::filesystem::path(file).is_absolute()) {
      file = (std::filesystem::path(origin).parent_path() / file).string();
    }
    p.raman_spectrum = std::make_shared<const RamanGainSpectrum>(RamanGainSpectrum::Load(file));
  }

  const auto& bands = Require(j, "bands", origin);
  if (!bands.is_object()) ConfigError(origin + ".bands", "expected an object keyed by band name");
  RejectUnknownKeys(bands, plan.CatalogueNames(), origin + ".bands");
  // Every band's entry is checked, also those this network does not use: never half-read.
  for (auto it = bands.begin(); it != bands.end(); ++it) {
    if (it.key().rfind('_', 0) == 0) continue;
    const std::string bw = origin + ".bands." + it.key();
    RejectUnknownKeys(it.value(), {"loss_db_per_km", "gamma_per_w_km", "effective_area_um2"}, bw);
    RequirePositive(it.value(), "loss_db_per_km", bw);
    RequireNumber(it.value(), "gamma_per_w_km", bw);
    if (it.value().contains("effective_area_um2")) RequirePositive(it.value(), "effective_area_um2", bw);
  }
  for (const Band& band : plan.bands()) {
    const std::string where = origin + ".bands";
    if (!bands.contains(band.name)) {
      ConfigError(where + "." + band.name, "missing (the band plan has band " + band.name + ")");
    }
    const auto& b = bands[band.name];
    const std::string bw = where + "." + band.name;
    FibreBand fb;
    fb.name = band.name;
    fb.f_min_hz = band.f_min_hz;
    fb.f_max_hz = band.f_max_hz;
    fb.alpha_per_m = AlphaPerMFromDbPerKm(RequirePositive(b, "loss_db_per_km", bw));
    double gamma = RequireNumber(b, "gamma_per_w_km", bw);
    if (gamma < 0) ConfigError(bw + ".gamma_per_w_km", "must not be negative");
    fb.gamma_per_w_m = gamma * kPerWMPerPerWKm;
    if (has_spectrum) {
      fb.effective_area_m2 = RequirePositive(b, "effective_area_um2", bw) * 1e-12;
    } else if (b.contains("effective_area_um2")) {
      ConfigError(bw + ".effective_area_um2", "only used with raman_gain_spectrum");
    }
    p.bands.push_back(fb);
    // The closed forms need a dispersion-unmanaged fibre far from its zero-dispersion point.
    for (double f : {band.f_min_hz, band.f_max_hz}) {
      if (!(p.Beta2At(f) < 0)) {
        ConfigError(origin + ".dispersion_slope_ps_per_nm2_km",
                    "beta2 is not negative at the edge of band " + band.name +
                        " (zero dispersion inside the band); the GN closed form needs anomalous "
                        "dispersion");
      }
    }
  }
  return p;
}

NliModel ParseNliModel(const std::string& s) {
  if (s == "gn") return NliModel::kGn;
  if (s == "isrs-gn") return NliModel::kIsrsGn;
  throw std::invalid_argument("unknown NLI model '" + s + "' (expected gn or isrs-gn)");
}

const char* ToString(NliModel m) { return m == NliModel::kGn ? "gn" : "isrs-gn"; }

AmplifierGain ParseAmplifierGain(const std::string& s) {
  if (s == "span-loss") return AmplifierGain::kSpanLoss;
  if (s == "equalise") return AmplifierGain::kEqualise;
  throw std::invalid_argument("unknown amplifier gain '" + s +
                              "' (expected span-loss or equalise)");
}

const char* ToString(AmplifierGain g) {
  return g == AmplifierGain::kSpanLoss ? "span-loss" : "equalise";
}

// ---------------------------------------------------------------------------------------------
// SpanPhysics

SpanPhysics::SpanPhysics(const FibreParams& fibre, const std::vector<Channel>& channels,
                         NliModel model, double max_span_m)
    : channels_(channels),
      phys_(channels.size()),
      isrs_(model == NliModel::kIsrsGn && fibre.HasRaman()),
      numerical_(isrs_ && fibre.raman_spectrum != nullptr),
      raman_slope_(fibre.raman_gain_slope_per_w_m_hz) {
  if (fibre.bands.empty()) throw std::invalid_argument("fibre parameters without bands");
  double weighted_f = 0.0;
  for (size_t k = 0; k < channels_.size(); ++k) {
    const Channel& c = channels_[k];
    phys_[k] = MakeNliChannel(fibre, c);
    total_power_w_ += c.launch_power_w;
    weighted_f += c.launch_power_w * c.frequency_hz;
  }
  if (total_power_w_ > 0.0) {
    centroid_hz_ = weighted_f / total_power_w_;
  }
  if (!isrs_ || channels_.empty()) return;
  if (numerical_) {
    if (!(max_span_m > 0)) {
      throw std::invalid_argument("SpanPhysics: a Raman spectrum needs the longest span length");
    }
    raman_ = SolveRaman(fibre, channels_, max_span_m);
    for (size_t k = 0; k < channels_.size(); ++k) phys_[k].isrs = raman_.Fit(static_cast<int>(k));
    return;
  }
  // Semrau's f_i is the frequency relative to the centre of the WDM signal, where the
  // linearisation exp(-x f) ~ 1 - x f of the ISRS profile is made; for an arbitrary comb the
  // first-order expansion of the profile's normalisation puts that centre at the power centroid.
  // His profile is then the two-exponential one with abar = alpha and x = C_r P_tot (f - f_c).
  for (size_t k = 0; k < channels_.size(); ++k) {
    const double a = phys_[k].alpha_per_m;
    const double x = raman_slope_ * total_power_w_ * (channels_[k].frequency_hz - centroid_hz_);
    phys_[k].isrs = {a, (2.0 * a - x) * (2.0 * a - x)};
  }
}

NliChannel MakeNliChannel(const FibreParams& fibre, const Channel& c) {
  NliChannel n;
  n.frequency_hz = c.frequency_hz;
  n.symbol_rate_baud = c.symbol_rate_baud;
  n.band = fibre.BandIndex(c.frequency_hz);
  n.alpha_per_m = fibre.bands[n.band].alpha_per_m;
  n.gamma_per_w_m = fibre.bands[n.band].gamma_per_w_m;
  n.beta2_s2_per_m = fibre.Beta2At(c.frequency_hz);
  n.isrs = IsrsParams::None(n.alpha_per_m);
  return n;
}

double NliXi(const NliChannel& ci, const NliChannel& ck, bool same_channel, bool isrs) {
  const double ri = ci.symbol_rate_baud;
  const double gamma2 = ci.gamma_per_w_m * ci.gamma_per_w_m;
  if (same_channel) {
    double b2 = std::abs(ci.beta2_s2_per_m);
    double la = 1.0 / ci.alpha_per_m;
    double xi = (16.0 / 27.0) * gamma2 * std::asinh(0.5 * kPi * kPi * la * b2 * ri * ri) /
                (2.0 * kPi * b2 * la * ri * ri);
    if (!isrs) return xi;
    // u = phi_i B_i^2 / pi with phi_i = 3/2 pi^2 beta2(f_i).
    const double u = 1.5 * kPi * ci.beta2_s2_per_m * ri * ri;
    return xi * IsrsSpmFactor(ci.alpha_per_m, ci.isrs, u);
  }
  const double rk = ck.symbol_rate_baud;
  const double df = ck.frequency_hz - ci.frequency_hz;
  // beta2 at the pair's mid frequency, as GNPy (mean of the two) and Semrau (phi_ik) take it.
  const double beta2_mid = 0.5 * (ci.beta2_s2_per_m + ck.beta2_s2_per_m);
  const double b2 = std::abs(beta2_mid);
  const double la = 1.0 / ck.alpha_per_m;
  const double a = kPi * kPi * la * b2 * ri;
  const double psi = 0.5 * (std::asinh(a * (df + 0.5 * rk)) - std::asinh(a * (df - 0.5 * rk)));
  double xi = (32.0 / 27.0) * gamma2 * psi / (2.0 * kPi * b2 * la * rk * rk);
  if (!isrs) return xi;
  // v = phi_ik B_i with phi_ik = 2 pi^2 (f_k - f_i) (beta2 + pi beta3 (f_i + f_k)).
  const double v = 2.0 * kPi * kPi * df * beta2_mid * ri;
  return xi * IsrsXpmFactor(ck.alpha_per_m, ck.isrs, v);
}

double CoherenceExponent(const NliChannel& c, double mean_span_length_m) {
  const double r = c.symbol_rate_baud;
  const double a =
      std::asinh(0.5 * kPi * kPi * std::abs(c.beta2_s2_per_m) * r * r / c.alpha_per_m);
  return 0.3 * std::log(1.0 + (6.0 / c.alpha_per_m) / (mean_span_length_m * a));
}

double SpanPhysics::Xi(int i, int k) const { return NliXi(phys_[i], phys_[k], i == k, isrs_); }

double SpanPhysics::Eta(int cut, int k, double length_m) const {
  double leff = EffectiveLengthM(phys_[k].alpha_per_m, length_m);
  return leff * leff * Xi(cut, k);
}

void SpanPhysics::RamanGains(double length_m, double* out) const {
  const int n = NumChannels();
  if (!isrs_ || total_power_w_ <= 0.0) {
    std::fill(out, out + n, 1.0);
    return;
  }
  if (numerical_) {
    if (length_m > raman_.LengthM() + 1e-6) {
      throw std::invalid_argument("SpanPhysics: span of " + std::to_string(length_m) +
                                  " m is longer than the " + std::to_string(raman_.LengthM()) +
                                  " m the Raman profile was solved for");
    }
    for (int k = 0; k < n; ++k) out[k] = raman_.NetGain(k, length_m);
    return;
  }
  // ln P_k(z) = ln P_k - alpha_k z - f_k X(z) + Y(z) solves the Raman equations exactly, with
  // X' = C_r sum_j P_j(z) and Y' = C_r sum_j f_j P_j(z). To first order in C_r, P_j(z) =
  // P_j e^{-alpha_j z} gives ln g_k = -C_r sum_j P_j L_eff,j (f_k - f_j) (GNPy's perturbative
  // solver at order 1); normalising as the exact equal-loss solution does (weights P_j L_eff,j)
  // keeps that first order and makes the result exact when all channels share one attenuation.
  double w_sum = 0.0, wf_sum = 0.0;
  for (int k = 0; k < n; ++k) {
    double w = channels_[k].launch_power_w * EffectiveLengthM(phys_[k].alpha_per_m, length_m);
    out[k] = w;  // reuse out as scratch for the weights
    w_sum += w;
    wf_sum += w * (channels_[k].frequency_hz - centroid_hz_);
  }
  const double x = raman_slope_ * w_sum;    // C_r sum_j P_j L_eff,j
  const double centre_hz = wf_sum / w_sum;  // relative to the power centroid
  double norm = 0.0;
  for (int k = 0; k < n; ++k) {
    double e = std::exp(-x * (channels_[k].frequency_hz - centroid_hz_ - centre_hz));
    norm += out[k] * e;
    out[k] = e;
  }
  norm /= w_sum;
  for (int k = 0; k < n; ++k) out[k] /= norm;
}

double SpanPhysics::CoherenceExponent(int k, double mean_span_length_m) const {
  return twin::CoherenceExponent(phys_[k], mean_span_length_m);
}

// ---------------------------------------------------------------------------------------------
// LinePropagation

LinePropagation::LinePropagation(const FibreParams& fibre,
                                 std::vector<double> noise_figure_lin_per_band,
                                 std::vector<Channel> channels, const PropagationOptions& options,
                                 std::vector<int> cuts, double max_span_m)
    : fibre_(fibre),
      nf_lin_(std::move(noise_figure_lin_per_band)),
      channels_(std::move(channels)),
      options_(options),
      cuts_(std::move(cuts)),
      launch_(fibre_, channels_, options.nli_model, max_span_m) {
  const int nb = static_cast<int>(fibre_.bands.size());
  if (nf_lin_.size() == 1 && nb > 1) nf_lin_.assign(nb, nf_lin_[0]);
  if (static_cast<int>(nf_lin_.size()) != nb) {
    throw std::invalid_argument("need one noise figure per fibre band (" + std::to_string(nb) +
                                "), got " + std::to_string(nf_lin_.size()));
  }
  for (const Channel& c : channels_) {
    if (!(c.frequency_hz > 0) || !(c.symbol_rate_baud > 0) || !(c.launch_power_w > 0)) {
      throw std::invalid_argument("channels need positive frequency, symbol rate and power");
    }
  }
  const int n = static_cast<int>(channels_.size());
  if (cuts_.empty()) {
    cuts_.resize(n);
    for (int i = 0; i < n; ++i) cuts_[i] = i;
  }
  for (int c : cuts_) {
    if (c < 0 || c >= n) throw std::invalid_argument("channel of interest out of range");
  }
  // With gain = per-channel span loss and no ISRS, or with equalising amplifiers, every span
  // starts from the launch powers.
  powers_evolve_ = options_.nli_model == NliModel::kIsrsGn &&
                   options_.amplifier_gain == AmplifierGain::kSpanLoss &&
                   fibre_.raman_gain_slope_per_w_m_hz > 0.0;
  if (powers_evolve_) return;
  xpm_by_band_.assign(cuts_.size() * nb, 0.0);
  spm_.assign(cuts_.size(), 0.0);
  for (size_t ci = 0; ci < cuts_.size(); ++ci) {
    const int c = cuts_[ci];
    double* row = &xpm_by_band_[ci * nb];
    for (int k = 0; k < n; ++k) {
      double p = channels_[k].launch_power_w;
      if (k == c) {
        spm_[ci] = p * p * launch_.Xi(c, c);
      } else {
        row[launch_.Band(k)] += p * p * launch_.Xi(c, k);
      }
    }
  }
}

double LinePropagation::AseNsrOverSpan(int cut, double power_in_w, double raman_gain,
                                       double length_m) const {
  const Channel& c = channels_[cut];
  double amp_in_w = power_in_w * std::exp(-launch_.AlphaPerM(cut) * length_m) * raman_gain;
  // P_ASE = NF h f R G against a signal of amp_in * G: G cancels.
  return nf_lin_[launch_.Band(cut)] * kPlanckJs * c.frequency_hz * c.symbol_rate_baud / amp_in_w;
}

std::vector<ChannelQot> LinePropagation::Run(const std::vector<double>& span_lengths_m) const {
  std::vector<ChannelQot> out(cuts_.size());
  Run(span_lengths_m, out.data());
  return out;
}

void LinePropagation::Run(const std::vector<double>& span_lengths_m, ChannelQot* out) const {
  for (double l : span_lengths_m) {
    if (!(l > 0)) throw std::invalid_argument("span lengths must be positive");
  }
  if (powers_evolve_) {
    RunEvolvingPowers(span_lengths_m, out);
  } else {
    RunFixedPowers(span_lengths_m, out);
  }
}

void LinePropagation::RunFixedPowers(const std::vector<double>& spans_m, ChannelQot* out) const {
  const int nb = static_cast<int>(fibre_.bands.size());
  const int n = static_cast<int>(channels_.size());
  const int nc = NumCuts();
  std::vector<double> spm(nc, 0.0), leff2(nb), gains(n, 1.0);
  for (int ci = 0; ci < nc; ++ci) {
    const Channel& c = channels_[cuts_[ci]];
    out[ci] = ChannelQot{c.frequency_hz, c.launch_power_w, 0.0, 0.0};
  }
  double previous_length_m = -1.0;
  for (double length_m : spans_m) {
    if (length_m != previous_length_m) {  // spans of a link are usually all equal
      for (int b = 0; b < nb; ++b) {
        double leff = EffectiveLengthM(fibre_.bands[b].alpha_per_m, length_m);
        leff2[b] = leff * leff;
      }
      launch_.RamanGains(length_m, gains.data());
      previous_length_m = length_m;
    }
    for (int ci = 0; ci < nc; ++ci) {
      const int c = cuts_[ci];
      const double* row = &xpm_by_band_[static_cast<size_t>(ci) * nb];
      double xpm = 0.0;
      for (int b = 0; b < nb; ++b) xpm += leff2[b] * row[b];
      out[ci].nsr_nli += xpm;
      spm[ci] += leff2[launch_.Band(c)] * spm_[ci];
      out[ci].nsr_ase += AseNsrOverSpan(c, channels_[c].launch_power_w, gains[c], length_m);
    }
  }
  double mean_span_m = 0.0;
  for (double l : spans_m) mean_span_m += l / spans_m.size();
  for (int ci = 0; ci < nc; ++ci) {
    double factor = 1.0;
    if (options_.coherent_nli && !spans_m.empty()) {
      factor = std::pow(static_cast<double>(spans_m.size()),
                        launch_.CoherenceExponent(cuts_[ci], mean_span_m));
    }
    out[ci].nsr_nli += spm[ci] * factor;
  }
}

void LinePropagation::RunEvolvingPowers(const std::vector<double>& spans_m, ChannelQot* out) const {
  const int nb = static_cast<int>(fibre_.bands.size());
  const int n = static_cast<int>(channels_.size());
  const int nc = NumCuts();
  std::vector<Channel> span_in = channels_;
  std::vector<double> spm(nc, 0.0), leff2(nb), gains(n);
  for (int ci = 0; ci < nc; ++ci) {
    out[ci] = ChannelQot{channels_[cuts_[ci]].frequency_hz, 0.0, 0.0, 0.0};
  }
  for (double length_m : spans_m) {
    SpanPhysics span(fibre_, span_in, options_.nli_model, length_m);
    span.RamanGains(length_m, gains.data());
    for (int b = 0; b < nb; ++b) {
      double leff = EffectiveLengthM(fibre_.bands[b].alpha_per_m, length_m);
      leff2[b] = leff * leff;
    }
    for (int ci = 0; ci < nc; ++ci) {
      const int c = cuts_[ci];
      double xpm = 0.0;
      for (int k = 0; k < n; ++k) {
        if (k == c) continue;
        double p = span_in[k].launch_power_w;
        xpm += p * p * leff2[span.Band(k)] * span.Xi(c, k);
      }
      double pc = span_in[c].launch_power_w;
      out[ci].nsr_nli += xpm;
      spm[ci] += pc * pc * leff2[span.Band(c)] * span.Xi(c, c);
      out[ci].nsr_ase += AseNsrOverSpan(c, pc, gains[c], length_m);
    }
    // The amplifiers give back each band's loss, not the Raman tilt: it carries on.
    for (int k = 0; k < n; ++k) span_in[k].launch_power_w *= gains[k];
  }
  double mean_span_m = 0.0;
  for (double l : spans_m) mean_span_m += l / spans_m.size();
  for (int ci = 0; ci < nc; ++ci) {
    out[ci].power_out_w = span_in[cuts_[ci]].launch_power_w;
    double factor = 1.0;
    if (options_.coherent_nli && !spans_m.empty()) {
      factor = std::pow(static_cast<double>(spans_m.size()),
                        launch_.CoherenceExponent(cuts_[ci], mean_span_m));
    }
    out[ci].nsr_nli += spm[ci] * factor;
  }
}

std::vector<ChannelQot> PropagateLine(const Line& line, const std::vector<Channel>& channels,
                                      const PropagationOptions& options) {
  if (channels.empty()) return {};
  double longest_m = 0.0;
  for (double l : line.span_lengths_m) longest_m = std::max(longest_m, l);
  LinePropagation prop(line.fibre, line.noise_figure_lin, channels, options, {}, longest_m);
  return prop.Run(line.span_lengths_m);
}

std::vector<double> SpanNliEta(const FibreParams& fibre, double span_length_m,
                               const std::vector<Channel>& channels, int cut, NliModel model) {
  SpanPhysics span(fibre, channels, model, span_length_m);
  std::vector<double> eta(channels.size());
  for (int k = 0; k < span.NumChannels(); ++k) eta[k] = span.Eta(cut, k, span_length_m);
  return eta;
}

std::vector<double> SpanOutputPowersW(const FibreParams& fibre, double span_length_m,
                                      const std::vector<Channel>& channels, NliModel model) {
  SpanPhysics span(fibre, channels, model, span_length_m);
  std::vector<double> out(channels.size());
  span.RamanGains(span_length_m, out.data());
  for (int k = 0; k < span.NumChannels(); ++k) {
    out[k] *= channels[k].launch_power_w * std::exp(-span.AlphaPerM(k) * span_length_m);
  }
  return out;
}

}  // namespace eonops::twin
