// Inter-channel stimulated Raman scattering (ISRS) over a fibre span: the fibre's Raman gain
// spectrum (configs/raman.json), a numerical solution of the coupled power equations, and the
// per-channel profile parameters the closed-form ISRS GN model takes.
//
//   RamanGainSpectrum g = RamanGainSpectrum::Load(ConfigDir() + "/raman.json");
//   RamanSolution s = SolveRaman(fibre, channels, /*length_m=*/80e3);   // fibre.raman_spectrum set
//   double g_k = s.NetGain(k, 80e3);        // P_k(L) / (P_k(0) e^{-alpha_k L})
//   IsrsParams p = s.Fit(k);                // for the ISRS GN closed form (twin/gsnr.h)
//
// The power equations (GNPy's RamanSolver without pumps or noise; D'Amico et al., JLT 40(11)
// 2022), for channels j of power P_j:
//   dP_i/dz = P_i [ -alpha_i + sum_{f_j > f_i} C_R(f_i, f_j) P_j
//                             - sum_{f_j < f_i} (f_i / f_j) C_R(f_j, f_i) P_j ]
// with C_R(f_probe, f_pump) = g_R(f_pump - f_probe) (f_pump / f_ref) / A_eff,overlap. They are
// solved for the channels gathered into bins of kRamanBinHz (a bin moves as one channel at its
// power centroid: exact for the linear part of the gain around zero offset), by RK4 in the log
// of the net Raman gain with steps of kRamanStepM; every channel (or probe) then integrates its
// own gain from the bins' powers. Within 0.01 dB of per-channel RK4 for full C+L+S (gsnr_test).
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace eonops::twin {

struct Channel;
struct FibreParams;

// The Raman gain coefficient g_R (m/W) of the fibre against the pump-probe frequency offset, at
// the reference pump frequency; linear in between the offsets, zero beyond the last.
class RamanGainSpectrum {
 public:
  RamanGainSpectrum(std::vector<double> offset_hz, std::vector<double> gain_m_per_w,
                    double reference_frequency_hz);
  // Throws std::runtime_error("<file>: <field>: <reason>").
  static RamanGainSpectrum Load(const std::string& path);
  static RamanGainSpectrum FromJson(const nlohmann::json& j, const std::string& origin);

  // g_R at a pump-probe offset (>= 0; 0 for offsets <= 0).
  double GainMPerW(double offset_hz) const;
  double reference_frequency_hz() const { return reference_frequency_hz_; }
  double PeakOffsetHz() const;

 private:
  std::vector<double> offset_hz_;
  std::vector<double> gain_m_per_w_;
  double reference_frequency_hz_ = 0.0;
};

// Net Raman profile of one channel in the form of the ISRS GN closed form (Semrau et al., JLT
// 37(9) 2019): P(z) / P(0) = e^{-alpha z} [1 - (x / abar) (1 - e^{-abar z})], T = (alpha + abar - x)^2.
// With x = C_r P_tot f and abar = alpha it is Semrau's first-order profile of a triangular gain.
struct IsrsParams {
  double abar_per_m = 0.0;
  double t = 0.0;  // (alpha + abar - x)^2, 1/m^2
  // No Raman: x = 0.
  static IsrsParams None(double alpha_per_m) {
    return {alpha_per_m, 4.0 * alpha_per_m * alpha_per_m};
  }
};

// Numerical resolution of SolveRaman (accuracy: raman_test).
inline constexpr double kRamanBinHz = 100e9;
inline constexpr double kRamanStepM = 2000.0;

// The net Raman gain of every channel along a span, sampled every kRamanStepM from 0 to at least
// `length_m`; also that of a probe at any frequency (a channel too weak to pump the others).
class RamanSolution {
 public:
  RamanSolution() = default;
  int NumChannels() const { return static_cast<int>(alpha_.size()); }
  int NumSamples() const { return samples_; }
  double LengthM() const { return (samples_ - 1) * kRamanStepM; }
  // P_k(z) / (P_k(0) e^{-alpha_k z}); z in [0, LengthM()].
  double NetGain(int k, double z_m) const;
  double LogNetGain(int k, double z_m) const;
  // The closed-form profile with the same int_0^inf rho and int_0^inf rho^2 as the solution,
  // rho = P_k(z) / P_k(0) over [0, LengthM()] continued by the fibre loss alone: the two
  // integrals fix the NLI of the nearest and of the farthest interferers (|L(0)|^2 and, by
  // Parseval, the integral of |L(b)|^2) exactly.
  IsrsParams Fit(int k) const;

  // A probe at `frequency_hz`: its log net gain at every sample (NumSamples() values).
  void ProbeLogGain(double frequency_hz, double* out) const;
  double ProbeLogNetGain(double frequency_hz, double z_m) const;
  // Fit() of a probe with loss alpha_per_m and the given log net gain samples.
  IsrsParams FitSamples(const double* log_gain, double alpha_per_m) const;

 private:
  friend RamanSolution SolveRaman(const FibreParams&, const std::vector<Channel>&, double);
  int samples_ = 0;
  std::vector<double> alpha_;         // per channel
  std::vector<double> frequency_hz_;  // per channel
  // The bins that carry the power, for probes: centroid and int_0^z P_b at every sample.
  std::shared_ptr<const FibreParams> fibre_;
  std::vector<double> bin_f_;
  std::vector<double> bin_integral_;  // [b * samples_ + s]
};

// Solves the power equations of `channels` (launch powers) over [0, length_m] of `fibre` (its
// Raman spectrum, or its linear slope C_r without one).
RamanSolution SolveRaman(const FibreParams& fibre, const std::vector<Channel>& channels,
                         double length_m);

// The ISRS factor of the SPM (asinh shape) or XPM (atan shape) term: Semrau's closed form with
// the interferer's profile parameters over the same with no Raman (so 1 without ISRS). `u` is
// phi_i B_i^2 / pi (SPM) or phi_ik B_i (XPM), `alpha` the interferer's loss.
double IsrsSpmFactor(double alpha, const IsrsParams& p, double u);
double IsrsXpmFactor(double alpha, const IsrsParams& p, double v);

}  // namespace eonops::twin
