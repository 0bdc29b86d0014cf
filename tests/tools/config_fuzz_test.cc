// Every config file eonops ships, read by the reader that reads it in eonops, with each of its
// keys misspelled in turn and each of its values given the wrong type: every one fails at load,
// with a message that names the file and the key path (or, for a misspelled required key, the
// key that is now missing). "_"-keys are comments and stay free.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agents/policy.h"
#include "agents/options.h"
#include "lifecycle/config.h"
#include "pce/config.h"
#include "tapi/server.h"
#include "tests/pce/pce_test_util.h"
#include "twin/amplifiers.h"
#include "twin/bands.h"
#include "twin/energy.h"
#include "twin/gsnr.h"
#include "twin/json_util.h"
#include "twin/latency.h"
#include "twin/modulation.h"
#include "twin/qot.h"
#include "twin/scenario.h"
#include "twin/topology.h"

namespace eonops {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kConfigs = std::string(EONOPS_SOURCE_DIR) + "/configs";

const twin::BandPlan& AllBands() {
  static const twin::BandPlan plan = twin::BandPlan::Load(kConfigs + "/bands.json");
  return plan;
}

// The C band alone: the readers check every band's entries whatever the plan, and the QoT
// model's tables build three times faster.
const twin::BandPlan& CBand() {
  static const twin::BandPlan plan = AllBands().Select({"C"});
  return plan;
}

// How eonops reads the config at `rel` (relative to configs/), given a copy of configs/ in `dir`
// where that file may have been changed.
std::function<void(const std::string& dir)> ReaderOf(const std::string& rel) {
  const std::string name = fs::path(rel).filename().string();
  if (rel.rfind("topologies/", 0) == 0)
    return [rel](const std::string& d) { twin::Topology::Load(d + "/" + rel); };
  if (rel.rfind("benchmarks/", 0) == 0)
    return [rel](const std::string& d) { twin::Scenario::Load(d + "/" + rel); };
  if (rel.rfind("experiments/", 0) == 0)
    return [rel](const std::string& d) { agents::LoadExperimentConfig(d + "/" + rel); };
  if (rel.rfind("policies/", 0) == 0 && name == "manifest.json") {
    return [rel](const std::string& d) {
      agents::Policy::Load(fs::path(d + "/" + rel).parent_path().string());  // manifest + weights
    };
  }
  if (rel == "pce.json" || rel.rfind("pce-", 0) == 0) {  // ShippedConfigs lists .json only
    return [rel](const std::string& d) {
      tapi::TapiServerOptions::FromConfig(pce::PceConfig::Load(d + "/" + rel));
    };
  }
  if (rel == "lifecycle.json")
    return [rel](const std::string& d) { lifecycle::LifecycleConfig::Load(d + "/" + rel); };
  if (rel == "bands.json")
    return [rel](const std::string& d) { twin::BandPlan::Load(d + "/" + rel); };
  if (rel == "latency.json")
    return [rel](const std::string& d) { twin::LatencyModel::Load(d + "/" + rel); };
  if (rel == "energy.json")
    return [rel](const std::string& d) {
      twin::EnergyModel::Load(d + "/" + rel, CBand(),
                              twin::BandAmplifiers::Load(kConfigs + "/amplifiers.json", CBand()));
    };
  if (rel == "fibre.json" || rel == "qot.json" || rel == "amplifiers.json" || rel == "raman.json") {
    // Read together, as the twin reads them, on the smallest topology and every band.
    return [](const std::string& d) {
      twin::QotModel::Load(twin::Topology::Load(kConfigs + "/topologies/ring4.json"), CBand(), d);
    };
  }
  if (name.rfind("modulations", 0) == 0)
    return [rel](const std::string& d) { twin::ModulationTable::Load(d + "/" + rel); };
  return nullptr;
}

// Every member of every object in `j`, as a JSON pointer, "_" comments excluded.
void Keys(const json& j, const json::json_pointer& at, std::vector<json::json_pointer>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key().rfind('_', 0) == 0) continue;
      out->push_back(at / it.key());
      Keys(it.value(), at / it.key(), out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Keys(j[i], at / i, out);
  }
}

// A plausible typo: two letters swapped, or a letter added to a one- or two-letter key.
std::string Misspell(const std::string& key) {
  std::string m = key;
  if (m.size() >= 3 && m[1] != m[2]) {
    std::swap(m[1], m[2]);
  } else {
    m += "x";
  }
  return m;
}

// A value of another type than `v`.
json WrongType(const json& v) {
  if (v.is_string()) return 42;
  if (v.is_number()) return "42";
  if (v.is_boolean()) return "true";
  if (v.is_array()) return json{{"not", "a list"}};
  if (v.is_object()) return json::array({1, 2});
  return "none";  // null (e.g. "no transceiver noise"): a string is not that
}

class ConfigCopy {
 public:
  ConfigCopy() { fs::copy(kConfigs, dir_.path(), fs::copy_options::recursive); }
  const std::string& dir() const { return dir_.path(); }
  void Write(const std::string& rel, const json& j) { std::ofstream(dir_ / rel) << j.dump(2); }

 private:
  pce::testing::TempDir dir_;
};

std::vector<std::string> ShippedConfigs() {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(kConfigs)) {
    if (e.path().extension() == ".json") out.push_back(fs::relative(e.path(), kConfigs).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ConfigFuzzTest, EveryShippedConfigHasAReaderAndLoads) {
  const auto files = ShippedConfigs();
  ASSERT_GE(files.size(), 20u);
  for (const std::string& rel : files) {
    auto read = ReaderOf(rel);
    ASSERT_TRUE(read) << rel << ": no reader known; add it to ReaderOf";
    EXPECT_NO_THROW(read(kConfigs)) << rel;
  }
}

// Runs `mutate` over every key of every shipped config and expects each result to fail at
// load, naming the file and `expected_in_message(pointer)` (one of the strings given).
void ExpectEveryMutationFails(const std::string& what,
                              const std::function<json(const json&, const json::json_pointer&,
                                                       std::vector<std::string>*)>& mutate) {
  ConfigCopy copy;
  int mutations = 0;
  for (const std::string& rel : ShippedConfigs()) {
    // A shipped policy's manifest is what `eonops train` wrote, not a file people edit; its
    // checks are the agents suite's (ManifestTest), and its training record is free-form.
    if (rel.rfind("policies/", 0) == 0) continue;
    const json original = twin::ReadJsonFile(kConfigs + "/" + rel);
    auto read = ReaderOf(rel);
    std::vector<json::json_pointer> keys;
    Keys(original, json::json_pointer(), &keys);
    for (const auto& key : keys) {
      std::vector<std::string> names;  // the message names one of these
      const json changed = mutate(original, key, &names);
      if (changed.is_null()) continue;
      ++mutations;
      copy.Write(rel, changed);
      try {
        read(copy.dir());
        ADD_FAILURE() << rel << ": " << what << " " << key.to_string() << " was accepted";
      } catch (const std::exception& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(fs::path(rel).filename().string()), std::string::npos)
            << rel << " " << key.to_string() << ": the message does not name the file: " << msg;
        bool named = false;
        for (const auto& n : names) named = named || msg.find(n) != std::string::npos;
        EXPECT_TRUE(named) << rel << " " << key.to_string()
                           << ": the message does not name the key: " << msg;
      }
    }
    copy.Write(rel, original);
  }
  EXPECT_GT(mutations, 300) << "the fuzz should reach every key of every file";
}

TEST(ConfigFuzzTest, EveryMisspelledKeyFailsNamingFileAndKey) {
  ExpectEveryMutationFails("misspelled", [](const json& original, const json::json_pointer& key,
                                            std::vector<std::string>* names) {
    const std::string last = key.back();
    json changed = original;
    json& parent = changed.at(key.parent_pointer());
    const std::string typo = Misspell(last);
    if (parent.contains(typo)) return json();  // the typo is a real key here: not a typo
    parent[typo] = parent[last];
    parent.erase(last);
    *names = {typo, last};  // "unknown key <typo>", or the required <last> is missing
    return changed;
  });
}

TEST(ConfigFuzzTest, EveryWrongTypeFailsNamingFileAndKey) {
  ExpectEveryMutationFails("wrong type for", [](const json& original, const json::json_pointer& key,
                                                std::vector<std::string>* names) {
    json changed = original;
    changed.at(key) = WrongType(original.at(key));
    *names = {key.back()};
    return changed;
  });
}

}  // namespace
}  // namespace eonops
