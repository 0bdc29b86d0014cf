// An independent numerical reference for the ISRS GN model, for tests only: the Raman power
// profile of every channel by RK4, and the NLI of chosen channels by numerical integration of
// the generalized GN (GGN) model in its spectrally separated form (GNPy's `ggn_spectrally_separated`,
// after Semrau et al., JLT 36(14) 2018, and D'Amico et al., JLT 40(11) 2022).
//
// Per span, the NLI-to-signal ratio of channel i is
//   NSR_NLI,i = 16/27 gamma_i^2 sum_k w_k (P_k / R_k)^2 Psi_ik,   w_i = 1 (SPM), w_k = 2 (XPM)
//   Psi_ik = iint_D |L_k(dbeta)|^2 df1 df2,  dbeta = 4 pi^2 (f1 - f_i)(f2 - f_i) beta2(f1, f_i)
//   L_k(b) = int_0^L rho_k(z) e^{j b z} dz,   rho_k(z) = P_k(z) / P_k(0) (the RK4 solution)
// over the domain D of rectangular spectra: f1 and f3 = f1 + f2 - f_i in channel k, f2 in
// channel i. beta2 is taken at (f1 + f_i) / 2 for the whole f2 range (beta3 varies it by ~1e-4
// across a channel). For fixed f1 the f2 integral is a difference of the cumulative integral
// H_k(B) = int_0^B |L_k(b)|^2 db, which is tabulated on a fine grid (32+ points per ripple
// period 2 pi / L) up to 40 alpha and continued by its exact limit H_k(inf) = pi int rho_k^2 dz
// (Parseval) minus the 1/B tail (rho(0)^2 + rho(L)^2) / B. The f1 integral is Gauss-Legendre,
// split where the domain's edges bend. Nothing here calls twin/ code.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <functional>
#include <vector>

namespace eonops::twin::reference {

struct Fibre {
  std::function<double(double f_hz)> alpha_per_m;    // power attenuation, Np/m
  std::function<double(double f_hz)> gamma_per_w_m;  // Kerr coefficient
  double beta2_s2_per_m = 0.0;                       // at f_ref_hz
  double beta3_s3_per_m = 0.0;
  double f_ref_hz = 0.0;
  // Raman gain coefficient (1/(W m)) of a probe at f_probe from a pump at f_pump > f_probe; the
  // pump is depleted by the same coefficient times the photon-energy ratio f_pump / f_probe.
  std::function<double(double f_probe_hz, double f_pump_hz)> raman_gain;
};

struct Channel {
  double f_hz = 0.0;
  double baud = 0.0;
  double power_w = 0.0;
};

// Power profiles of every channel over one span, sampled every `dz_m`.
struct RamanProfiles {
  double dz_m = 0.0;
  int samples = 0;                         // z = 0, dz, ..., (samples - 1) dz
  std::vector<std::vector<double>> rho;    // [channel][sample], rho(0) = 1
};

inline RamanProfiles SolveRaman(const Fibre& fibre, const std::vector<Channel>& ch,
                                double length_m, double dz_m = 1000.0, int substeps = 2) {
  const int n = static_cast<int>(ch.size());
  std::vector<double> alpha(n), m(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) {
    alpha[i] = fibre.alpha_per_m(ch[i].f_hz);
    for (int j = 0; j < n; ++j) {
      if (i == j || !fibre.raman_gain) continue;
      if (ch[j].f_hz > ch[i].f_hz) {
        m[static_cast<size_t>(i) * n + j] = fibre.raman_gain(ch[i].f_hz, ch[j].f_hz);
      } else {
        m[static_cast<size_t>(i) * n + j] =
            -fibre.raman_gain(ch[j].f_hz, ch[i].f_hz) * ch[i].f_hz / ch[j].f_hz;
      }
    }
  }
  // d ln P_i / dz = -alpha_i + sum_j M_ij P_j
  auto deriv = [&](const std::vector<double>& lnp, std::vector<double>* d) {
    std::vector<double> p(n);
    for (int j = 0; j < n; ++j) p[j] = std::exp(lnp[j]);
    for (int i = 0; i < n; ++i) {
      double s = -alpha[i];
      const double* row = &m[static_cast<size_t>(i) * n];
      for (int j = 0; j < n; ++j) s += row[j] * p[j];
      (*d)[i] = s;
    }
  };
  RamanProfiles out;
  out.dz_m = dz_m;
  out.samples = static_cast<int>(std::lround(length_m / dz_m)) + 1;
  out.rho.assign(n, std::vector<double>(out.samples, 1.0));
  std::vector<double> y(n), k1(n), k2(n), k3(n), k4(n), t(n);
  for (int i = 0; i < n; ++i) y[i] = std::log(ch[i].power_w);
  const std::vector<double> y0 = y;
  const double h = dz_m / substeps;
  for (int s = 1; s < out.samples; ++s) {
    for (int sub = 0; sub < substeps; ++sub) {
      deriv(y, &k1);
      for (int i = 0; i < n; ++i) t[i] = y[i] + 0.5 * h * k1[i];
      deriv(t, &k2);
      for (int i = 0; i < n; ++i) t[i] = y[i] + 0.5 * h * k2[i];
      deriv(t, &k3);
      for (int i = 0; i < n; ++i) t[i] = y[i] + h * k3[i];
      deriv(t, &k4);
      for (int i = 0; i < n; ++i) y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
    for (int i = 0; i < n; ++i) out.rho[i][s] = std::exp(y[i] - y0[i]);
  }
  return out;
}

// The cumulative link-function integral H(B) = int_0^B |L(b)|^2 db of one normalised power
// profile rho (piecewise exponential between samples).
class LinkIntegral {
 public:
  LinkIntegral(const std::vector<double>& rho, double dz_m, double alpha_per_m) {
    const int segs = static_cast<int>(rho.size()) - 1;
    const double length = segs * dz_m;
    std::vector<double> kappa(segs);
    h_inf_ = 0.0;
    for (int s = 0; s < segs; ++s) {
      kappa[s] = std::log(rho[s + 1] / rho[s]) / dz_m;
      // int rho^2 over the segment, exactly for the exponential piece
      double k2 = 2 * kappa[s];
      h_inf_ += rho[s] * rho[s] * (std::abs(k2 * dz_m) < 1e-12 ? dz_m : std::expm1(k2 * dz_m) / k2);
    }
    h_inf_ *= kPi;
    tail_ = rho.front() * rho.front() + rho.back() * rho.back();
    delta_ = 2 * kPi / length / 32.0;
    b_switch_ = 40.0 * alpha_per_m;
    const int nb = static_cast<int>(std::ceil(b_switch_ / delta_)) + 1;
    b_switch_ = (nb - 1) * delta_;
    std::vector<std::complex<double>> phase(segs), step(segs);
    std::vector<double> growth(segs);
    for (int s = 0; s < segs; ++s) {
      phase[s] = 1.0;
      step[s] = std::polar(1.0, delta_ * s * dz_m);
      growth[s] = std::exp(kappa[s] * dz_m);
    }
    const std::complex<double> seg_step = std::polar(1.0, delta_ * dz_m);
    std::complex<double> seg_phase = 1.0;
    std::vector<double> f(nb);
    for (int n = 0; n < nb; ++n) {
      const double b = n * delta_;
      std::complex<double> sum = 0.0;
      for (int s = 0; s < segs; ++s) {
        // (e^{(kappa + jb) dz} - 1) / (kappa + jb)
        const double norm = kappa[s] * kappa[s] + b * b;
        std::complex<double> piece =
            norm * dz_m * dz_m < 1e-18
                ? std::complex<double>(dz_m)
                : (growth[s] * seg_phase - 1.0) * std::complex<double>(kappa[s], -b) / norm;
        sum += rho[s] * phase[s] * piece;
        phase[s] *= step[s];
      }
      seg_phase *= seg_step;
      f[n] = std::norm(sum);
    }
    f0_ = f[0];
    h_.assign(nb, 0.0);
    for (int n = 1; n < nb; ++n) h_[n] = h_[n - 1] + 0.5 * delta_ * (f[n - 1] + f[n]);
    f_ = std::move(f);
  }

  double F0() const { return f0_; }
  double HInf() const { return h_inf_; }
  // |numerical H(b_switch) - asymptotic H(b_switch)| / H(inf): how well the two pieces meet.
  double Mismatch() const { return std::abs(h_.back() - (h_inf_ - tail_ / b_switch_)) / h_inf_; }
  // Odd in B.
  double H(double b) const {
    if (b < 0) return -H(-b);
    if (b >= b_switch_) return h_inf_ - tail_ / b;
    double x = b / delta_;
    int n = static_cast<int>(x);
    double t = x - n;
    // trapezoid from grid point n to b with F linear in between
    double fb = f_[n] + t * (f_[n + 1] - f_[n]);
    return h_[n] + 0.5 * (b - n * delta_) * (f_[n] + fb);
  }

 private:
  static constexpr double kPi = 3.14159265358979323846;
  std::vector<double> f_, h_;
  double delta_ = 0.0, b_switch_ = 0.0, h_inf_ = 0.0, tail_ = 0.0, f0_ = 0.0;
};

// Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_n).
inline void GaussLegendre(int n, std::vector<double>* x, std::vector<double>* w) {
  const double pi = 3.14159265358979323846;
  x->assign(n, 0.0);
  w->assign(n, 0.0);
  for (int i = 0; i < n; ++i) {
    double z = std::cos(pi * (i + 0.75) / (n + 0.5)), dp = 0.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = z;
      for (int k = 2; k <= n; ++k) {
        double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1);
      double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-15) break;
    }
    (*x)[i] = z;
    (*w)[i] = 2.0 / ((1 - z * z) * dp * dp);
  }
}

// Psi_ik over the exact rectangular-spectrum domain (see the file comment).
inline double Psi(const Fibre& fibre, const Channel& cut, const Channel& pump,
                  const LinkIntegral& link) {
  const double pi = 3.14159265358979323846;
  const double d = pump.f_hz - cut.f_hz, ri = cut.baud, rk = pump.baud;
  const double u_lo = d - rk / 2, u_hi = d + rk / 2;
  std::vector<double> cuts = {u_lo, u_hi, d - rk / 2 + ri / 2, d + rk / 2 - ri / 2, 0.0};
  std::sort(cuts.begin(), cuts.end());
  static std::vector<double> gx, gw;
  if (gx.empty()) GaussLegendre(24, &gx, &gw);
  double total = 0.0;
  for (size_t c = 0; c + 1 < cuts.size(); ++c) {
    double a = std::max(cuts[c], u_lo), b = std::min(cuts[c + 1], u_hi);
    if (!(b > a)) continue;
    for (size_t g = 0; g < gx.size(); ++g) {
      double u = 0.5 * (a + b) + 0.5 * (b - a) * gx[g];
      double v_lo = std::max(-ri / 2, d - rk / 2 - u), v_hi = std::min(ri / 2, d + rk / 2 - u);
      if (!(v_hi > v_lo)) continue;
      double beta2 = fibre.beta2_s2_per_m +
                     pi * fibre.beta3_s3_per_m * (2 * cut.f_hz + u - 2 * fibre.f_ref_hz);
      double s = 4 * pi * pi * std::abs(beta2) * u;  // dbeta = s * v
      double inner = std::abs(s) * std::max(std::abs(v_lo), std::abs(v_hi)) < 1e-12
                         ? link.F0() * (v_hi - v_lo)
                         : (link.H(s * v_hi) - link.H(s * v_lo)) / s;
      total += 0.5 * (b - a) * gw[g] * inner;
    }
  }
  return total;
}

struct SpanNli {
  std::vector<double> rho_end;   // rho_k(L) of every channel
  std::vector<double> nsr_nli;   // NLI-to-signal ratio of each cut over the span
};

// One span of length_m: Raman profiles of all channels, NLI of `cuts`.
inline SpanNli SolveSpan(const Fibre& fibre, const std::vector<Channel>& ch, double length_m,
                         const std::vector<int>& cuts, double* worst_mismatch = nullptr) {
  RamanProfiles prof = SolveRaman(fibre, ch, length_m);
  const int n = static_cast<int>(ch.size());
  SpanNli out;
  for (int k = 0; k < n; ++k) out.rho_end.push_back(prof.rho[k].back());
  std::vector<LinkIntegral> links;
  links.reserve(n);
  double mismatch = 0.0;
  for (int k = 0; k < n; ++k) {
    links.emplace_back(prof.rho[k], prof.dz_m, fibre.alpha_per_m(ch[k].f_hz));
    mismatch = std::max(mismatch, links.back().Mismatch());
  }
  if (worst_mismatch) *worst_mismatch = mismatch;
  for (int i : cuts) {
    const double g = fibre.gamma_per_w_m(ch[i].f_hz);
    double sum = 0.0;
    for (int k = 0; k < n; ++k) {
      const double psd = ch[k].power_w / ch[k].baud;
      sum += (k == i ? 1.0 : 2.0) * psd * psd * Psi(fibre, ch[i], ch[k], links[k]);
    }
    out.nsr_nli.push_back(16.0 / 27.0 * g * g * sum);
  }
  return out;
}

}  // namespace eonops::twin::reference
