// eonops._core: the twin for Python (environments, batched environments, heuristics,
// simulation). No torch: `import eonops` loads only this module.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "env_bindings.h"
#include "twin/heuristics.h"
#include "twin/sweep.h"
#include "twin/topology.h"

namespace py = pybind11;

namespace eonops::python {
namespace {

// eonops simulate --json, from Python: the same sweep and the same report builder.
py::object Simulate(py::handle config, const std::string& origin, const std::vector<std::string>& policies,
                    const std::vector<double>& loads, uint64_t seed, int seeds, int threads) {
  const twin::Scenario scenario = LoadScenario(ToJson(config), origin);
  std::vector<twin::SweepPolicy> sweep_policies;
  for (const auto& name : policies) {
    sweep_policies.push_back(AsValueError([&] { return twin::HeuristicPolicy(name, scenario); }));
  }
  auto model = AsValueError([&] { return std::make_shared<const twin::NetworkModel>(scenario.network); });
  return RunSweep(model, scenario, sweep_policies, loads, seed, seeds, threads);
}

}  // namespace
}  // namespace eonops::python

PYBIND11_MODULE(_core, m) {
  using namespace eonops;
  m.doc() = "eonops twin bindings (use the eonops package, not this module)";
  python::BindEnvs(m);
  m.def("simulate", &python::Simulate, py::arg("config"), py::arg("origin"), py::arg("policies"), py::arg("loads"),
        py::arg("seed"), py::arg("seeds"), py::arg("threads"));
  m.def("heuristic_names", &twin::HeuristicNames);
  m.def("config_dir", &twin::ConfigDir, "where the twin reads its configs ($EONOPS_CONFIGS, else found beside this module: the source tree of a build, or the installed data directory)");
  m.attr("BLOCK_CAUSES") = python::BlockCauseNames();
  m.attr("__version__") = EONOPS_VERSION;
}
