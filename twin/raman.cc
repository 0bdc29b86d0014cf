#include "twin/raman.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "twin/gsnr.h"
#include "twin/json_util.h"

namespace eonops::twin {

RamanGainSpectrum::RamanGainSpectrum(std::vector<double> offset_hz,
                                     std::vector<double> gain_m_per_w,
                                     double reference_frequency_hz)
    : offset_hz_(std::move(offset_hz)),
      gain_m_per_w_(std::move(gain_m_per_w)),
      reference_frequency_hz_(reference_frequency_hz) {
  if (offset_hz_.size() < 2 || offset_hz_.size() != gain_m_per_w_.size()) {
    throw std::invalid_argument("Raman gain spectrum: need as many gains as offsets, at least 2");
  }
  if (offset_hz_.front() != 0.0) {
    throw std::invalid_argument("Raman gain spectrum: the first offset must be 0");
  }
  for (size_t i = 1; i < offset_hz_.size(); ++i) {
    if (!(offset_hz_[i] > offset_hz_[i - 1])) {
      throw std::invalid_argument("Raman gain spectrum: offsets must increase");
    }
  }
  for (double g : gain_m_per_w_) {
    if (!(g >= 0) || !std::isfinite(g)) {
      throw std::invalid_argument("Raman gain spectrum: gains must be finite and >= 0");
    }
  }
  if (!(reference_frequency_hz_ > 0)) {
    throw std::invalid_argument("Raman gain spectrum: reference frequency must be positive");
  }
}

RamanGainSpectrum RamanGainSpectrum::Load(const std::string& path) {
  return FromJson(ReadJsonFile(path), path);
}

RamanGainSpectrum RamanGainSpectrum::FromJson(const nlohmann::json& j, const std::string& origin) {
  RejectUnknownKeys(j, {"reference_frequency_thz", "frequency_offset_thz", "gain_m_per_w"}, origin);
  const double f_ref = RequirePositive(j, "reference_frequency_thz", origin) * 1e12;
  auto numbers = [&](const std::string& key) {
    const auto& a = Require(j, key, origin);
    if (!a.is_array()) ConfigError(origin + "." + key, "expected an array of numbers");
    std::vector<double> out;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_number()) {
        ConfigError(origin + "." + key + "[" + std::to_string(i) + "]", "expected a number");
      }
      out.push_back(a[i].get<double>());
    }
    return out;
  };
  std::vector<double> offsets = numbers("frequency_offset_thz");
  for (double& f : offsets) f *= 1e12;
  std::vector<double> gains = numbers("gain_m_per_w");
  try {
    return RamanGainSpectrum(std::move(offsets), std::move(gains), f_ref);
  } catch (const std::invalid_argument& e) {
    ConfigError(origin, e.what());
  }
}

double RamanGainSpectrum::GainMPerW(double offset_hz) const {
  if (!(offset_hz > 0) || offset_hz >= offset_hz_.back()) return 0.0;
  auto it = std::upper_bound(offset_hz_.begin(), offset_hz_.end(), offset_hz);
  const size_t i = static_cast<size_t>(it - offset_hz_.begin()) - 1;
  const double t = (offset_hz - offset_hz_[i]) / (offset_hz_[i + 1] - offset_hz_[i]);
  return gain_m_per_w_[i] + t * (gain_m_per_w_[i + 1] - gain_m_per_w_[i]);
}

double RamanGainSpectrum::PeakOffsetHz() const {
  auto it = std::max_element(gain_m_per_w_.begin(), gain_m_per_w_.end());
  return offset_hz_[static_cast<size_t>(it - gain_m_per_w_.begin())];
}

// ---------------------------------------------------------------------------------------------

namespace {

// Signed coefficient of d ln P_i / dz per watt of a pump at f_j: gain from above, depletion
// (one photon for one photon) towards below.
double SignedCoefficient(const FibreParams& fibre, double f_i, double f_j) {
  if (f_j > f_i) return fibre.RamanCoefficient(f_i, f_j);
  if (f_j < f_i) return -fibre.RamanCoefficient(f_j, f_i) * f_i / f_j;
  return 0.0;
}

// int_0^h r0 e^{k t} dt.
double ExpIntegral(double r0, double k, double h) {
  const double kh = k * h;
  return r0 * (std::abs(kh) < 1e-9 ? h * (1.0 + 0.5 * kh) : std::expm1(kh) / k);
}

}  // namespace

RamanSolution SolveRaman(const FibreParams& fibre, const std::vector<Channel>& channels,
                         double length_m) {
  // Works with a linear gain (no spectrum) too: the worst-case bound solves one-sided loads.
  if (!(length_m > 0)) throw std::invalid_argument("SolveRaman: length must be positive");
  RamanSolution s;
  s.fibre_ = std::make_shared<const FibreParams>(fibre);
  const int n = static_cast<int>(channels.size());
  s.samples_ = static_cast<int>(std::ceil(length_m / kRamanStepM - 1e-9)) + 1;
  s.alpha_.resize(n);
  for (int k = 0; k < n; ++k) {
    s.alpha_[k] = fibre.bands[fibre.BandIndex(channels[k].frequency_hz)].alpha_per_m;
  }
  s.frequency_hz_.resize(n);
  for (int k = 0; k < n; ++k) s.frequency_hz_[k] = channels[k].frequency_hz;
  if (n == 0) return s;

  // Bins: channels gathered by floor(f / kRamanBinHz), each moving as one channel of their total
  // power at their power centroid, with their power-weighted loss.
  std::vector<int> order(n);
  for (int k = 0; k < n; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return channels[a].frequency_hz < channels[b].frequency_hz;
  });
  std::vector<double> bin_p, bin_f, bin_alpha;
  long long current = std::numeric_limits<long long>::min();
  for (int k : order) {
    const Channel& c = channels[k];
    long long key = static_cast<long long>(std::floor(c.frequency_hz / kRamanBinHz));
    if (key != current) {
      bin_p.push_back(0.0);
      bin_f.push_back(0.0);
      bin_alpha.push_back(0.0);
      current = key;
    }
    bin_p.back() += c.launch_power_w;
    bin_f.back() += c.launch_power_w * c.frequency_hz;
    bin_alpha.back() += c.launch_power_w * s.alpha_[k];
  }
  const int nb = static_cast<int>(bin_p.size());
  for (int b = 0; b < nb; ++b) {
    bin_f[b] /= bin_p[b];
    bin_alpha[b] /= bin_p[b];
  }
  std::vector<double> m(static_cast<size_t>(nb) * nb);
  for (int a = 0; a < nb; ++a) {
    for (int b = 0; b < nb; ++b) m[static_cast<size_t>(a) * nb + b] = SignedCoefficient(fibre, bin_f[a], bin_f[b]);
  }
  // State: y_b = ln(P_b(z) / P_b(0)) + alpha_b z and I_b = int_0^z P_b; dy_b/dz = sum M P.
  std::vector<double> y(nb, 0.0), integral(nb, 0.0);
  std::vector<double> p(nb), ky[4], ki[4], yt(nb), it(nb);
  for (auto& v : ky) v.resize(nb);
  for (auto& v : ki) v.resize(nb);
  std::vector<double> integral_at(static_cast<size_t>(nb) * s.samples_, 0.0);
  auto deriv = [&](double z, const std::vector<double>& yy, std::vector<double>* dy,
                   std::vector<double>* di) {
    for (int b = 0; b < nb; ++b) p[b] = bin_p[b] * std::exp(yy[b] - bin_alpha[b] * z);
    for (int a = 0; a < nb; ++a) {
      const double* row = &m[static_cast<size_t>(a) * nb];
      double sum = 0.0;
      for (int b = 0; b < nb; ++b) sum += row[b] * p[b];
      (*dy)[a] = sum;
      (*di)[a] = p[a];
    }
  };
  const double h = kRamanStepM;
  for (int step = 1; step < s.samples_; ++step) {
    const double z = (step - 1) * h;
    deriv(z, y, &ky[0], &ki[0]);
    for (int b = 0; b < nb; ++b) yt[b] = y[b] + 0.5 * h * ky[0][b];
    deriv(z + 0.5 * h, yt, &ky[1], &ki[1]);
    for (int b = 0; b < nb; ++b) yt[b] = y[b] + 0.5 * h * ky[1][b];
    deriv(z + 0.5 * h, yt, &ky[2], &ki[2]);
    for (int b = 0; b < nb; ++b) yt[b] = y[b] + h * ky[2][b];
    deriv(z + h, yt, &ky[3], &ki[3]);
    for (int b = 0; b < nb; ++b) {
      y[b] += h / 6 * (ky[0][b] + 2 * ky[1][b] + 2 * ky[2][b] + ky[3][b]);
      integral[b] += h / 6 * (ki[0][b] + 2 * ki[1][b] + 2 * ki[2][b] + ki[3][b]);
      integral_at[static_cast<size_t>(b) * s.samples_ + step] = integral[b];
    }
  }
  s.bin_f_ = bin_f;
  s.bin_integral_ = std::move(integral_at);
  return s;
}

double RamanSolution::LogNetGain(int k, double z_m) const {
  return ProbeLogNetGain(frequency_hz_[k], z_m);
}

double RamanSolution::NetGain(int k, double z_m) const { return std::exp(LogNetGain(k, z_m)); }

IsrsParams RamanSolution::Fit(int k) const {
  std::vector<double> lg(samples_);
  ProbeLogGain(frequency_hz_[k], lg.data());
  return FitSamples(lg.data(), alpha_[k]);
}

void RamanSolution::ProbeLogGain(double frequency_hz, double* out) const {
  std::fill(out, out + samples_, 0.0);
  if (!fibre_) return;
  for (size_t b = 0; b < bin_f_.size(); ++b) {
    const double m = SignedCoefficient(*fibre_, frequency_hz, bin_f_[b]);
    if (m == 0.0) continue;
    const double* ib = &bin_integral_[b * samples_];
    for (int t = 1; t < samples_; ++t) out[t] += m * ib[t];
  }
}

double RamanSolution::ProbeLogNetGain(double frequency_hz, double z_m) const {
  if (!fibre_ || samples_ < 2) return 0.0;
  const double x = std::clamp(z_m / kRamanStepM, 0.0, static_cast<double>(samples_ - 1));
  const int i = std::min(static_cast<int>(x), samples_ - 2);
  const double t = x - i;
  double lo = 0.0, hi = 0.0;
  for (size_t b = 0; b < bin_f_.size(); ++b) {
    const double m = SignedCoefficient(*fibre_, frequency_hz, bin_f_[b]);
    lo += m * bin_integral_[b * samples_ + i];
    hi += m * bin_integral_[b * samples_ + i + 1];
  }
  return lo + t * (hi - lo);
}

IsrsParams RamanSolution::FitSamples(const double* lg, double a) const {
  // int rho and int rho^2, rho = e^{-a z + lg(z)} piecewise exponential between samples.
  double i1 = 0.0, i2 = 0.0;
  const double h = kRamanStepM;
  for (int s = 0; s + 1 < samples_; ++s) {
    const double r0 = std::exp(-a * s * h + lg[s]);
    const double slope = -a + (lg[s + 1] - lg[s]) / h;
    i1 += ExpIntegral(r0, slope, h);
    i2 += ExpIntegral(r0 * r0, 2 * slope, h);
  }
  const double r_end = std::exp(-a * (samples_ - 1) * h + lg[samples_ - 1]);
  i1 += r_end / a;
  i2 += r_end * r_end / (2 * a);
  // rho = (1 - B) e^{-a z} + B e^{-(a + abar) z}:
  //   I1 = (1 - B)/a + B/(a + abar)
  //   I2 = (1 - B)^2/(2a) + 2 B (1 - B)/(2a + abar) + B^2/(2(a + abar))
  // B follows from I1 for a given abar; abar is the root of the I2 residual (log bisection).
  auto b_of = [&](double ab) { return (1.0 / a - i1) / (1.0 / a - 1.0 / (a + ab)); };
  auto residual = [&](double ab) {
    const double b = b_of(ab);
    return (1 - b) * (1 - b) / (2 * a) + 2 * b * (1 - b) / (2 * a + ab) + b * b / (2 * (a + ab)) - i2;
  };
  if (std::abs(1.0 / a - i1) < 1e-12 / a) return IsrsParams::None(a);  // no net Raman change
  double lo = 1e-3 * a, hi = 1e3 * a;
  double r_lo = residual(lo), r_hi = residual(hi);
  double ab;
  if ((r_lo > 0) == (r_hi > 0)) {
    // No two-exponential profile meets both integrals (a profile that first rises then falls):
    // keep the end that meets I2 best.
    ab = std::abs(r_lo) < std::abs(r_hi) ? lo : hi;
  } else {
    for (int it = 0; it < 100; ++it) {
      const double mid = std::sqrt(lo * hi);
      const double r_mid = residual(mid);
      if ((r_mid > 0) == (r_lo > 0)) {
        lo = mid;
        r_lo = r_mid;
      } else {
        hi = mid;
      }
      if (hi / lo < 1 + 1e-9) break;
    }
    ab = std::sqrt(lo * hi);
  }
  const double x = b_of(ab) * ab;
  return {ab, (a + ab - x) * (a + ab - x)};
}

// ---------------------------------------------------------------------------------------------

namespace {

// Semrau's closed form as a function of the profile, over the same without Raman:
//   s = [(T - a^2)/a f(u/a) + ((a + ab)^2 - T)/(a + ab) f(u/(a + ab))] / (ab (2a + ab)),
//   no Raman: f(u/a) / a.
template <typename Shape>
double IsrsFactor(double a, const IsrsParams& p, double u, Shape shape) {
  const double ab = p.abar_per_m, k = a + ab;
  double f1 = shape(u / a), f2 = shape(u / k);
  // Tiny |u| (tiny dispersion or frequency offset): f(y) ~ y.
  if (std::abs(u / a) < 1e-9) {
    f1 = u / a;
    f2 = u / k;
    if (u == 0.0) {
      f1 = 1.0 / a;
      f2 = 1.0 / k;
    }
  }
  const double s = ((p.t - a * a) / a * f1 + (k * k - p.t) / k * f2) / (ab * (2 * a + ab));
  return s / (f1 / a);
}

}  // namespace

double IsrsSpmFactor(double alpha, const IsrsParams& p, double u) {
  return IsrsFactor(alpha, p, u, [](double y) { return std::asinh(y); });
}

double IsrsXpmFactor(double alpha, const IsrsParams& p, double v) {
  return IsrsFactor(alpha, p, v, [](double y) { return std::atan(y); });
}

}  // namespace eonops::twin
