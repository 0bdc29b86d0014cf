// Shared by the eonops Python modules: JSON between Python and C++, and loading configs with
// errors that Python users see as ValueError naming the field.
//
//   nlohmann::json j = ToJson(py_dict);           // any JSON-serialisable Python value
//   py::object d = ToPython(result.ToJson());     // dicts, lists, floats (NaN -> None)
//   twin::EnvConfig c = LoadEnvConfig(j, "tiny-test.json");   // ValueError on a bad config
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "twin/envs.h"
#include "twin/scenario.h"
#include "twin/sweep.h"

namespace eonops::python {

namespace py = pybind11;

// Through Python's json module: configs and results are small, and this keeps one JSON model.
nlohmann::json ToJson(py::handle value);
py::object ToPython(const nlohmann::json& j);

// Config sections as the twin reads them; any config error becomes a ValueError.
twin::EnvConfig LoadEnvConfig(const nlohmann::json& j, const std::string& origin);
twin::Scenario LoadScenario(const nlohmann::json& j, const std::string& origin);

// Runs `f`, turning std::exceptions into ValueError (for argument and config checks).
template <typename F>
auto AsValueError(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const py::error_already_set&) {
    throw;
  } catch (const std::exception& e) {
    throw py::value_error(e.what());
  }
}

// twin::SimulateSweep with the GIL released, as the report `eonops simulate --json` prints
// (a Python dict). Bad seeds, threads or loads raise ValueError.
py::object RunSweep(std::shared_ptr<const twin::NetworkModel> model, const twin::Scenario& scenario,
                    const std::vector<twin::SweepPolicy>& policies, const std::vector<double>& loads, uint64_t seed,
                    int seeds, int threads);

// Why a step blocked, as the Python API reports it: twin::BlockCause's values (kNone, ...,
// kNoPath) and then "agent", for a request the agent blocked (a masked or the reject action)
// while a feasible action existed, which the twin reports as kNone.
constexpr int kAgentBlock = 5;
int BlockCode(bool accepted, twin::BlockCause cause);
py::tuple BlockCauseNames();

}  // namespace eonops::python
