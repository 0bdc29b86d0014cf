// `eonops qot line`: per-channel SNR_ASE, SNR_NLI and GSNR of a point-to-point line of equal
// spans, an amplifier of gain = span loss after each, for comparison with other QoT tools
// (GNPy). The defaults are GNPy's: 80 km SSMF spans, 96 x 32 GBd channels on 50 GHz from
// 191.35 THz at 0 dBm, NF 5.5 dB, roll-off 0.15.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/args.h"
#include "tools/commands.h"
#include "twin/gsnr.h"

namespace eonops::tools {

namespace {

constexpr int kMaxChannels = 4000;  // the NLI sum is O(channels^2) per span

// Rounded to `digits` decimals so that JSON prints e.g. 191.4, not 191.39999999999998.
double Round(double x, int digits) {
  double scale = std::pow(10.0, digits);
  return std::round(x * scale) / scale;
}

// dB values that may be infinite (no NLI when gamma = 0) become JSON null.
nlohmann::ordered_json DbOrNull(double db) {
  if (!std::isfinite(db)) return nullptr;
  return Round(db, 4);
}

std::string Cell(double x, int precision) {
  if (!std::isfinite(x)) return "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", precision, x);
  return buf;
}

}  // namespace

int RunQotLine(int argc, char** argv) {
  ArgParser p(
      "eonops qot line",
      "Per-channel SNR_ASE, SNR_NLI and GSNR of a line of equal spans, an amplifier of gain\n"
      "= span loss after each (P_ASE = NF h f R_s G, GNPy's convention). NLI from the\n"
      "closed-form GN model (Poggiolini 2012, GNPy's gn_model_analytic); with a Raman gain the\n"
      "closed-form ISRS GN model (Semrau et al., JLT 2019), whose Raman transfer moves power from\n"
      "high to low frequencies: --raman-spectrum FILE (configs/raman.json: the measured SSMF gain,\n"
      "solved numerically per span) or --raman-slope CR (Semrau's linear fit, closed form).");
  p.Add("spans", "N", "number of spans (one amplifier after each)", "10")
      .Add("span-km", "KM", "span length", "80")
      .Add("loss-db-per-km", "DB", "fibre attenuation", "0.2")
      .Add("dispersion-ps-nm-km", "D", "chromatic dispersion at 1550 nm", "16.7")
      .Add("dispersion-slope", "S",
           "dispersion slope at 1550 nm in ps/nm^2/km (0: beta3 = 0, GNPy's default)", "0")
      .Add("gamma-per-w-km", "G", "nonlinear coefficient", "1.275")
      .Add("nf-db", "DB", "amplifier noise figure", "5.5")
      .Add("channels", "N", "number of channels", "96")
      .Add("spacing-ghz", "GHZ", "channel spacing", "50")
      .Add("baud-gbd", "GBD", "symbol rate (also the noise bandwidth)", "32")
      .Add("f-first-thz", "THZ", "centre frequency of the first (lowest) channel", "191.35")
      .Add("power-dbm", "DBM", "launch power per channel", "0")
      .Add("roll-off", "R", "raised-cosine roll-off (channels must not overlap)", "0.15")
      .Add("raman-slope", "CR",
           "Raman gain slope C_r in 1/(W km THz); > 0 uses the ISRS GN model (SSMF: 0.028)", "0")
      .Add("raman-spectrum", "FILE",
           "Raman gain spectrum (configs/raman.json); uses the ISRS GN model", "")
      .Add("effective-area-um2", "A", "effective area, for the Raman gain of --raman-spectrum",
           "83")
      .AddSwitch("coherent", "add SPM coherently over spans (n^(1+eps)) instead of incoherently")
      .AddSwitch("equalise", "amplifiers restore every channel's launch power (tilt control)")
      .AddSwitch("json", "print JSON");
  if (!p.Parse(argc, argv)) return 0;

  const long long spans = p.GetInt("spans");
  if (spans < 1 || spans > 100000) {
    throw UsageError("--spans must be between 1 and 100000, got " + std::to_string(spans));
  }
  auto positive = [&](const std::string& flag) {
    double v = p.GetDouble(flag);
    if (!(v > 0)) throw UsageError("--" + flag + " must be positive, got " + p.Get(flag));
    return v;
  };
  auto non_negative = [&](const std::string& flag) {
    double v = p.GetDouble(flag);
    if (v < 0) throw UsageError("--" + flag + " must not be negative, got " + p.Get(flag));
    return v;
  };
  const double span_km = positive("span-km");
  const double loss_db_per_km = positive("loss-db-per-km");
  // The closed forms assume a dispersion-unmanaged fibre with anomalous dispersion.
  const double dispersion = positive("dispersion-ps-nm-km");
  const double slope = p.GetDouble("dispersion-slope");
  const double gamma = non_negative("gamma-per-w-km");
  const double nf_db = non_negative("nf-db");
  const long long num_channels = p.GetInt("channels");
  if (num_channels < 1 || num_channels > kMaxChannels) {
    throw UsageError("--channels must be between 1 and " + std::to_string(kMaxChannels) + ", got " +
                     std::to_string(num_channels));
  }
  const double spacing_hz = positive("spacing-ghz") * 1e9;
  const double baud = positive("baud-gbd") * 1e9;
  const double f_first_hz = positive("f-first-thz") * 1e12;
  const double power_dbm = p.GetDouble("power-dbm");
  const double roll_off = non_negative("roll-off");
  if (roll_off > 1) throw UsageError("--roll-off must be in [0, 1], got " + p.Get("roll-off"));
  if (num_channels > 1 && spacing_hz < baud * (1 + roll_off) * (1 - 1e-12)) {
    throw UsageError("channels overlap: --spacing-ghz " + p.Get("spacing-ghz") +
                     " is less than --baud-gbd x (1 + --roll-off) = " +
                     Cell(baud * (1 + roll_off) / 1e9, 2) + " GHz");
  }
  const double raman_slope = non_negative("raman-slope");
  const std::string spectrum_file = p.Get("raman-spectrum");
  if (!spectrum_file.empty() && raman_slope > 0) {
    throw UsageError("give --raman-spectrum or --raman-slope, not both");
  }

  twin::FibreParams fibre =
      twin::FibreParams::Uniform(loss_db_per_km, dispersion, slope, gamma, raman_slope);
  if (!spectrum_file.empty()) {
    fibre.raman_spectrum = std::make_shared<const twin::RamanGainSpectrum>(
        twin::RamanGainSpectrum::Load(spectrum_file));
    fibre.bands[0].effective_area_m2 = positive("effective-area-um2") * 1e-12;
  }
  std::vector<twin::Channel> channels;
  for (long long i = 0; i < num_channels; ++i) {
    channels.push_back({f_first_hz + i * spacing_hz, baud, twin::DbmToW(power_dbm)});
  }
  for (const auto& c : {channels.front(), channels.back()}) {
    if (!(fibre.Beta2At(c.frequency_hz) < 0)) {
      throw UsageError("--dispersion-slope " + p.Get("dispersion-slope") +
                       " puts zero dispersion inside the comb; the GN closed form needs "
                       "anomalous dispersion at every channel");
    }
  }
  twin::PropagationOptions options;
  options.nli_model = fibre.HasRaman() ? twin::NliModel::kIsrsGn : twin::NliModel::kGn;
  options.coherent_nli = p.Switch("coherent");
  options.amplifier_gain =
      p.Switch("equalise") ? twin::AmplifierGain::kEqualise : twin::AmplifierGain::kSpanLoss;
  twin::Line line{fibre, std::vector<double>(spans, span_km * 1e3), {twin::DbToLinear(nf_db)}};
  std::vector<twin::ChannelQot> qot = twin::PropagateLine(line, channels, options);

  if (p.Switch("json")) {
    nlohmann::ordered_json out;
    out["line"] = {{"spans", spans},
                   {"span_km", span_km},
                   {"loss_db_per_km", loss_db_per_km},
                   {"dispersion_ps_nm_km", dispersion},
                   {"dispersion_slope_ps_nm2_km", slope},
                   {"gamma_per_w_km", gamma},
                   {"nf_db", nf_db},
                   {"baud_gbd", baud / 1e9},
                   {"spacing_ghz", spacing_hz / 1e9},
                   {"power_dbm", power_dbm},
                   {"roll_off", roll_off},
                   {"raman_slope_per_w_km_thz", raman_slope},
                   {"raman_spectrum", spectrum_file.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(spectrum_file)},
                   {"nli_model", twin::ToString(options.nli_model)},
                   {"coherent_nli", options.coherent_nli},
                   {"amplifier_gain", twin::ToString(options.amplifier_gain)}};
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& q : qot) {
      rows.push_back({{"frequency_thz", Round(q.frequency_hz / 1e12, 6)},
                      {"power_out_dbm", DbOrNull(twin::WToDbm(q.power_out_w))},
                      {"snr_ase_db", DbOrNull(q.SnrAseDb())},
                      {"snr_nli_db", DbOrNull(q.SnrNliDb())},
                      {"gsnr_db", DbOrNull(q.GsnrDb())}});
    }
    out["channels"] = rows;
    std::cout << out.dump(2) << "\n";
    return 0;
  }

  std::printf("%lld x %g km, %lld x %g GBd on %g GHz, %g dBm/ch, NF %g dB, %s, amplifiers %s\n",
              spans, span_km, num_channels, baud / 1e9, spacing_hz / 1e9, power_dbm, nf_db,
              twin::ToString(options.nli_model), twin::ToString(options.amplifier_gain));
  std::printf("%8s %14s %14s %11s %11s %9s\n", "channel", "frequency_thz", "power_out_dbm",
              "snr_ase_db", "snr_nli_db", "gsnr_db");
  int worst = 0;
  for (size_t i = 0; i < qot.size(); ++i) {
    const auto& q = qot[i];
    if (q.GsnrDb() < qot[worst].GsnrDb()) worst = static_cast<int>(i);
    std::printf("%8zu %14s %14s %11s %11s %9s\n", i + 1, Cell(q.frequency_hz / 1e12, 4).c_str(),
                Cell(twin::WToDbm(q.power_out_w), 2).c_str(), Cell(q.SnrAseDb(), 2).c_str(),
                Cell(q.SnrNliDb(), 2).c_str(), Cell(q.GsnrDb(), 2).c_str());
  }
  const auto& centre = qot[qot.size() / 2];
  std::printf("centre channel %zu: gsnr_db %s; worst channel %d: gsnr_db %s\n", qot.size() / 2 + 1,
              Cell(centre.GsnrDb(), 2).c_str(), worst + 1, Cell(qot[worst].GsnrDb(), 2).c_str());
  return 0;
}

}  // namespace eonops::tools
