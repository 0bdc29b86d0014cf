// Shared by the eonops Python modules: JSON between Python and C++, and loading configs with
// errors that Python users see as ValueError naming the field.
//
//   nlohmann::json j = ToJson(py_dict);           // any JSON-serialisable Python value
//   py::object d = ToPython(result.ToJson());     // dicts, lists, floats (NaN -> None)
//   twin::EnvConfig c = LoadEnvConfig(j, "tiny-test.json");   // ValueError on a bad config
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include <nlohmann/json.hpp>

#include "twin/envs.h"
#include "twin/scenario.h"

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

// The block causes in twin::BlockCause order, as the Python API names them.
py::tuple BlockCauseNames();

}  // namespace eonops::python
