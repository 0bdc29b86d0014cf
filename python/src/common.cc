#include "common.h"

#include <cmath>

namespace eonops::python {

nlohmann::json ToJson(py::handle value) {
  py::module_ json = py::module_::import("json");
  std::string text;
  try {
    text = py::str(json.attr("dumps")(value, py::arg("allow_nan") = false));
  } catch (py::error_already_set& e) {
    // Not JSON-serialisable (a set, an object, NaN): say so as a ValueError.
    throw py::value_error("not a JSON document: " + std::string(e.what()));
  }
  return nlohmann::json::parse(text);
}

py::object ToPython(const nlohmann::json& j) {
  // nlohmann writes NaN and infinities as null, which is what the CLI's --json prints too.
  return py::module_::import("json").attr("loads")(j.dump());
}

twin::EnvConfig LoadEnvConfig(const nlohmann::json& j, const std::string& origin) {
  return AsValueError([&] { return twin::EnvConfig::FromJson(j, origin); });
}

twin::Scenario LoadScenario(const nlohmann::json& j, const std::string& origin) {
  return AsValueError([&] { return twin::Scenario::FromJson(j, origin); });
}

py::object RunSweep(std::shared_ptr<const twin::NetworkModel> model, const twin::Scenario& scenario,
                    const std::vector<twin::SweepPolicy>& policies, const std::vector<double>& loads, uint64_t seed,
                    int seeds, int threads) {
  twin::SweepOptions options;
  options.loads = loads;
  options.seed = seed;
  options.seeds = seeds;
  options.threads = threads;
  std::vector<nlohmann::json> rows;
  {
    py::gil_scoped_release release;
    rows = twin::SimulateSweep(std::move(model), scenario, policies, options);  // invalid_argument -> ValueError
  }
  return ToPython(twin::SweepReport(rows, scenario));
}

int BlockCode(bool accepted, twin::BlockCause cause) {
  if (accepted) return static_cast<int>(twin::BlockCause::kNone);
  return cause == twin::BlockCause::kNone ? kAgentBlock : static_cast<int>(cause);
}

py::tuple BlockCauseNames() {
  using twin::BlockCause;
  // VecEnv infos hold BlockCode values: this tuple is indexed by them.
  static_assert(static_cast<int>(BlockCause::kNone) == 0 && static_cast<int>(BlockCause::kNoPath) == kAgentBlock - 1);
  py::tuple t(kAgentBlock + 1);
  int i = 0;
  for (BlockCause c : {BlockCause::kNone, BlockCause::kNoSpectrum, BlockCause::kQot, BlockCause::kLatency,
                       BlockCause::kNoPath}) {
    t[i++] = py::str(twin::ToString(c));
  }
  t[kAgentBlock] = py::str("agent");
  return t;
}

}  // namespace eonops::python
