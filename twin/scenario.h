// A scenario: the network, the traffic and how to measure, as one JSON document with the
// sections "network" (NetworkOptions), "traffic" (TrafficConfig) and "measurement"; experiment
// and PCE files add their own sections beside these, which their own readers check.
//
//   Scenario s = Scenario::Load("configs/benchmarks/deeprmsa-nsfnet.json");
//   auto model = std::make_shared<const NetworkModel>(s.network);
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "twin/network.h"
#include "twin/traffic.h"

namespace eonops::twin {

struct Measurement {
  int64_t warmup = 3000;
  int64_t requests = 100000;
  int64_t batch_size = 10000;
};

struct Scenario {
  NetworkOptions network;
  TrafficConfig traffic;
  Measurement measurement;
  std::string origin = "defaults";

  // A scenario file: only name, description and the three sections, "network" required.
  // Throws "<file>: <field>: <reason>".
  static Scenario Load(const std::string& path);
  // The three sections of a larger document (an experiment, a PCE config, a manifest): the
  // members it does not read belong to that document's own reader.
  static Scenario FromJson(const nlohmann::json& j, const std::string& origin);
  nlohmann::json ToJson() const;
};

}  // namespace eonops::twin
