// Shared fixtures for the twin's traffic, network, heuristics and simulator tests: the shipped
// models (built once per test binary, they are read-only) and small helpers that light a
// chosen block by hand.
//
//   const auto& model = fixtures::DeepRmsaModel();          //
//   configs/benchmarks/deeprmsa-nsfnet.json NetworkState state(model); fixtures::Occupy(state,
//   /*src=*/0, /*dst=*/1, /*k=*/0, /*band=*/0, /*slot=*/4, /*width=*/3);
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <string>

#include "tests/twin/test_util.h"
#include "twin/network.h"
#include "twin/scenario.h"

namespace eonops::twin::fixtures {

inline Request MakeRequest(int src, int dst, double bit_rate_gbps,
                           double latency_bound_us = std::numeric_limits<double>::infinity()) {
  static int64_t next_id = 1000000;
  Request r;
  r.id = next_id++;
  r.src = src;
  r.dst = dst;
  r.bit_rate_gbps = bit_rate_gbps;
  r.latency_bound_us = latency_bound_us;
  return r;
}

inline std::shared_ptr<const NetworkModel> MakeModel(const NetworkOptions& options) {
  return std::make_shared<const NetworkModel>(options);
}

inline const Scenario& DeepRmsaScenario() {
  static const Scenario s = Scenario::Load(testing::ConfigPath("benchmarks/deeprmsa-nsfnet.json"));
  return s;
}

// NSFNET, 100 C-band slots, reach-based modulation, K = 5 by length (the DeepRMSA benchmark).
inline const std::shared_ptr<const NetworkModel>& DeepRmsaModel() {
  static const auto m = MakeModel(DeepRmsaScenario().network);
  return m;
}

// NSFNET with the full C, L and S bands and GSNR-based modulation (configs/modulations.json).
inline NetworkOptions NsfnetClsGsnrOptions() {
  NetworkOptions o;
  o.topology = "nsfnet";
  o.bands = {"C", "L", "S"};
  o.modulation_mode = ModulationMode::kGsnr;
  o.k_paths = 5;
  return o;
}
inline const std::shared_ptr<const NetworkModel>& NsfnetClsGsnrModel() {
  static const auto m = MakeModel(NsfnetClsGsnrOptions());
  return m;
}

// The 4-node ring of 400 km links with `slots` slots per band and the DeepRMSA slot rule:
// 16QAM within 625 km (one hop), 8QAM within 1250 km (two or three hops).
inline NetworkOptions RingOptions(std::vector<std::string> bands, int slots) {
  NetworkOptions o;
  o.topology = "ring4";
  o.bands = std::move(bands);
  o.slots_per_band = slots;
  o.modulations = "modulations-deeprmsa.json";
  o.k_paths = 5;
  return o;
}

// Lights a lightpath from src to dst on its k-th path in `band` at [slot, slot + width); the
// width is forced, so any block can be made. Fails the test when the block is not free.
inline int32_t Occupy(NetworkState& state, int src, int dst, int k, int band, int slot, int width,
                      double bit_rate_gbps = 25.0) {
  Request r = MakeRequest(src, dst, bit_rate_gbps);
  Candidate c = state.model().Evaluate(r, k, band);
  EXPECT_TRUE(c.usable()) << "candidate " << src << "->" << dst << " k=" << k << " band=" << band;
  c.width = width;
  const int32_t id = state.Provision(r, c, slot, 1e9);
  EXPECT_GE(id, 0) << "block " << slot << "+" << width << " is not free";
  return id;
}

// A file under the test's temporary directory holding `text`. The name carries the process id:
// ctest runs tests of one binary as parallel processes that would otherwise race on it.
inline std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path =
      ::testing::TempDir() + "eonops_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream out(path);
  out << text;
  EXPECT_TRUE(out.good()) << "cannot write " << path;
  return path;
}

}  // namespace eonops::twin::fixtures
