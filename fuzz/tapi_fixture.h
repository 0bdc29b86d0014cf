// The PCE the TAPI fuzz targets talk to: the shipped configs/pce.json cut down to the 4-node test
// ring with C and L bands of 40 slots (two bands exercise the mc-config band lookups; a small
// network keeps every reply small and every execution fast), no registry, no decision log,
// state in memory. Built once per fuzzing process.
#pragma once

#include <memory>
#include <string>

#include "pce/config.h"
#include "pce/pce.h"

namespace eonops::fuzz {

inline pce::PceConfig FuzzPceConfig() {
  pce::PceConfig c = pce::PceConfig::Load(std::string(EONOPS_SOURCE_DIR) + "/configs/pce.json");
  c.network.topology = "ring4";
  c.network.bands = {"C", "L"};
  c.network.slots_per_band = 40;
  c.network.k_paths = 3;
  c.pce.policies.clear();
  c.pce.decision_log.enabled = false;
  return c;
}

inline pce::Pce& FuzzPce() {
  static pce::Pce* pce = [] {
    pce::PceSetup setup;
    setup.poll_registry = false;
    return new pce::Pce(FuzzPceConfig(), setup);  // lives as long as the process
  }();
  return *pce;
}

}  // namespace eonops::fuzz
