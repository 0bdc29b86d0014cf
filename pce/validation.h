// Checks a proposed lightpath against the live network state before the PCE commits to it:
// the block is free on every fibre of the path, the path meets the request's latency bound,
// the GSNR under the actual occupancy (twin/qot.h, every lit channel on every fibre of the
// path) is at least the modulation format's threshold plus the configured margin, and lighting
// it would not push any lit lightpath below its own format's threshold plus that margin
// (cause qot_impact; twin/qot_impact.h, when the state tracks the lit lightpaths' GSNR).
//
//   Check c = Validate(state, request, candidate, slot, options.validation);
//   if (!c.ok) std::cout << twin::ToString(c.cause) << ": " << c.reason;
//
// Infeasibility is a value (cause + reason), never an exception.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "pce/config.h"
#include "twin/network.h"

namespace eonops::pce {

struct Check {
  bool ok = false;
  twin::BlockCause cause = twin::BlockCause::kNone;
  std::string reason;
  double gsnr_db = std::numeric_limits<double>::quiet_NaN();       // actual occupancy
  double threshold_db = std::numeric_limits<double>::quiet_NaN();  // of the format
  // The lowest margin it would leave a lit lightpath it shares a fibre with (+inf: none).
  double impact_margin_db = std::numeric_limits<double>::infinity();
};

// GSNR (dB) of the block [slot, slot + width) of `band` along `fibres`, with the channels lit in
// `state` (all bands) as the interferers.
double ActualGsnrDb(const twin::NetworkState& state, const std::vector<int>& fibres, int band,
                    int slot, int width);

Check Validate(const twin::NetworkState& state, const twin::Request& request,
               const twin::Candidate& candidate, int slot, const ValidationOptions& options);

}  // namespace eonops::pce
