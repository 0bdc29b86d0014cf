// Fuzz target: the config loaders. Every JSON file eonops reads (configs/, an experiment file,
// a policy manifest, a PCE config) goes through one of these FromJson functions, and the
// gRPC twin worker runs EnvConfig::FromJson on config_json sent by any client.
//
// Input: the first line names the loader (pce, experiment, manifest, normalizer, scenario,
// env, network, traffic, topology, bands, modulations, fibre, qot, latency, energy, amplifiers,
// raman); the rest is the JSON document.
//
// Properties checked on every input:
//   - a bad document throws std::runtime_error (or agents::ConfigError, one) whose message names
//     the document ("fuzz.json") and the field, or the file it failed to open; never a
//     nlohmann::json exception with no file or field, never another kind of exception;
//   - what a loader keeps is what the document said: every number of the document that the
//     loaded config writes back (ToJson) under the same key has the same value (a loader must
//     refuse 4294967336 slots, not read it as 40);
//   - a network/env section that loads also builds (NetworkModel, and for env a few steps of
//     the environment), on the 4-node ring only, so the loader does not accept values the model
//     then trips over.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "agents/manifest.h"
#include "agents/normalizer.h"
#include "agents/options.h"
#include "fuzz/fuzz_check.h"
#include "pce/config.h"
#include "twin/amplifiers.h"
#include "twin/bands.h"
#include "twin/energy.h"
#include "twin/envs.h"
#include "twin/gsnr.h"
#include "twin/latency.h"
#include "twin/modulation.h"
#include "twin/network.h"
#include "twin/qot.h"
#include "twin/raman.h"
#include "twin/scenario.h"
#include "twin/topology.h"
#include "twin/traffic.h"

namespace eonops::fuzz {
namespace {

using Json = nlohmann::json;
constexpr const char* kOrigin = "fuzz.json";

const twin::BandPlan& ShippedBands() {
  static const twin::BandPlan plan = twin::BandPlan::Load(twin::ConfigDir() + "/bands.json");
  return plan;
}

const twin::BandAmplifiers& ShippedAmplifiers() {
  static const twin::BandAmplifiers amplifiers =
      twin::BandAmplifiers::Load(twin::ConfigDir() + "/amplifiers.json", ShippedBands());
  return amplifiers;
}

void StepEnv(twin::EnvConfig c);

// Small enough to build in a few milliseconds; larger networks are the shipped files' business.
bool Buildable(const twin::NetworkOptions& n) {
  return n.topology == "ring4" && n.slots_per_band > 0 && n.slots_per_band <= 2048 &&
         n.k_paths <= 5 && n.bands.size() <= 3;
}

// Numbers under the same keys in the document and in the loaded config's ToJson must agree.
void CheckNumbersKept(const Json& given, const Json& read, const std::string& where) {
  if (given.is_object() && read.is_object()) {
    for (auto it = given.begin(); it != given.end(); ++it) {
      auto r = read.find(it.key());
      if (r != read.end()) CheckNumbersKept(*it, *r, where + "." + it.key());
    }
    return;
  }
  if (given.is_number() && read.is_number()) {
    EONOPS_FUZZ_CHECK(
        given.get<double>() == read.get<double>(),
        where + ": the document says " + given.dump() + ", the loader kept " + read.dump());
  }
}

// Building checks what loading cannot (band names against bands.json, slot counts, ...); its
// errors cannot name the document, but must name the option ("network.bands: ...") or a file.
template <typename F>
void Build(const char* what, F&& f) {
  try {
    f();
  } catch (const nlohmann::json::exception& e) {
    Fail(__FILE__, __LINE__, std::string(what) + ": a JSON library error escaped: " + e.what());
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EONOPS_FUZZ_CHECK(
        m.find("network.") != std::string::npos || m.find("traffic.") != std::string::npos ||
            m.find("env.") != std::string::npos || m.find(".json") != std::string::npos ||
            m.find("cannot open file") != std::string::npos,
        std::string(what) + ": the error names no option and no file: " + Shown(m));
  }
}

void BuildNetwork(const twin::NetworkOptions& n) {
  if (Buildable(n)) Build("building the network", [&] { twin::NetworkModel model(n); });
}

void BuildEnv(const twin::EnvConfig& c) {
  if (Buildable(c.network)) Build("building the environment", [&] { StepEnv(c); });
}

// A few steps of the environment the config describes.
void StepEnv(twin::EnvConfig c) {
  c.env.warmup = std::min(c.env.warmup, 20);  // warm-up requests only cost time here
  auto model = std::make_shared<const twin::NetworkModel>(c.network);
  auto env = twin::MakeEnv(model, c);
  const twin::EnvSpec spec = env->Spec();
  if (spec.observation_size > (1 << 20) || spec.num_actions > (1 << 20)) return;
  std::vector<float> obs(spec.observation_size);
  std::vector<uint8_t> mask(spec.num_actions);
  env->Reset(1, obs.data(), mask.data());
  for (int step = 0; step < 3; ++step) {
    const int a = static_cast<int>(std::find(mask.begin(), mask.end(), 1) - mask.begin());
    env->Step(a, obs.data(), mask.data());
  }
}

const std::map<std::string, std::function<void(const Json&)>>& Loaders() {
  static const std::map<std::string, std::function<void(const Json&)>> loaders = {
      {"pce",
       [](const Json& j) {
         CheckNumbersKept(j, pce::PceConfig::FromJson(j, kOrigin).ToJson(), "pce");
       }},
      {"experiment", [](const Json& j) { agents::ParseExperimentConfig(j, kOrigin); }},
      {"manifest", [](const Json& j) { agents::ManifestFromJson(j, kOrigin); }},
      {"normalizer", [](const Json& j) { agents::RunningNormalizer::FromJson(j, kOrigin); }},
      {"scenario",
       [](const Json& j) {
         const twin::Scenario s = twin::Scenario::FromJson(j, kOrigin);
         CheckNumbersKept(j, s.ToJson(), "scenario");
         BuildNetwork(s.network);
       }},
      {"env",
       [](const Json& j) {
         const twin::EnvConfig c = twin::EnvConfig::FromJson(j, kOrigin);
         CheckNumbersKept(j, c.ToJson(), "env");
         BuildEnv(c);
       }},
      {"network",
       [](const Json& j) {
         const twin::NetworkOptions n = twin::NetworkOptions::FromJson(j, kOrigin);
         CheckNumbersKept(j, n.ToJson(), "network");
         BuildNetwork(n);
       }},
      {"traffic",
       [](const Json& j) {
         CheckNumbersKept(j, twin::TrafficConfig::FromJson(j, kOrigin).ToJson(), "traffic");
       }},
      {"topology", [](const Json& j) { twin::Topology::FromJson(j, kOrigin); }},
      {"bands", [](const Json& j) { twin::BandPlan::FromJson(j, kOrigin); }},
      {"modulations", [](const Json& j) { twin::ModulationTable::FromJson(j, kOrigin); }},
      {"fibre", [](const Json& j) { twin::FibreParams::FromJson(j, kOrigin, ShippedBands()); }},
      {"qot", [](const Json& j) { twin::QotConfig::FromJson(j, kOrigin); }},
      {"latency", [](const Json& j) { twin::LatencyModel::FromJson(j, kOrigin); }},
      {"energy",
       [](const Json& j) {
         twin::EnergyModel::FromJson(j, kOrigin, ShippedBands(), ShippedAmplifiers());
       }},
      {"amplifiers", [](const Json& j) { twin::BandAmplifiers::FromJson(j, kOrigin, ShippedBands()); }},
      {"raman", [](const Json& j) { twin::RamanGainSpectrum::FromJson(j, kOrigin); }},
  };
  return loaders;
}

}  // namespace
}  // namespace eonops::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eonops::fuzz;
  std::string_view rest = AsText(data, size);
  const std::string loader(TakeLine(&rest));
  auto it = Loaders().find(loader);
  if (it == Loaders().end()) return 0;
  const Json j = Json::parse(rest.begin(), rest.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;  // ReadJsonFile's business: it names the file and the parse error
  try {
    it->second(j);
  } catch (const nlohmann::json::exception& e) {
    Fail(__FILE__, __LINE__, loader + ": a JSON library error escaped the loader: " + e.what());
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EONOPS_FUZZ_CHECK(what.find(kOrigin) != std::string::npos ||
                          what.find("cannot open file") != std::string::npos,
                      loader + ": the error names neither the document nor a file: " + Shown(what));
  } catch (const std::exception& e) {
    Fail(__FILE__, __LINE__,
         loader + ": " + typeid(e).name() + " escaped the loader: " + Shown(e.what()));
  }
  return 0;
}
