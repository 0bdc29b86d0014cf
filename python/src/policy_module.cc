// eonops._policy: exported policies for Python (load and act, export weights trained in
// Python, simulate a policy beside the heuristics) and the observation normaliser the policies
// carry. Links eonops_agents and so libtorch; the eonops package imports it only when one of
// these is used.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "agents/external_policy.h"
#include "agents/manifest.h"
#include "agents/normalizer.h"
#include "agents/options.h"
#include "agents/policy.h"
#include "agents/policy_heuristic.h"
#include "common.h"
#include "twin/heuristics.h"
#include "twin/sweep.h"

namespace py = pybind11;

namespace eonops::python {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using MaskArray = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

std::string ShapeOf(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// Observations [D] or [B, D] and masks [A] or [B, A] (or None: every action allowed), checked
// against the policy's sizes; returns B (0 for a single, unbatched observation).
struct Batch {
  FloatArray obs;
  MaskArray mask;
  py::ssize_t rows = 0;
  bool single = true;
};

Batch CheckBatch(const agents::Policy& p, py::handle obs_obj, py::handle mask_obj) {
  Batch b;
  const py::ssize_t d = p.observation_size(), a = p.num_actions();
  b.obs = FloatArray::ensure(obs_obj);
  if (!b.obs) throw py::type_error("observation must be a float array of shape (" + std::to_string(d) + ",) or (batch, " + std::to_string(d) + ")");
  if (b.obs.ndim() == 1 && b.obs.shape(0) == d) {
    b.rows = 1;
  } else if (b.obs.ndim() == 2 && b.obs.shape(1) == d) {
    b.rows = b.obs.shape(0);
    b.single = false;
  } else {
    throw py::value_error("observation has shape " + ShapeOf(b.obs) + ", the policy takes (" + std::to_string(d) +
                          ",) or (batch, " + std::to_string(d) + ")");
  }
  if (mask_obj.is_none()) {
    b.mask = MaskArray(b.single ? std::vector<py::ssize_t>{a} : std::vector<py::ssize_t>{b.rows, a});
    std::fill(b.mask.mutable_data(), b.mask.mutable_data() + b.mask.size(), uint8_t{1});
    return b;
  }
  py::array raw = py::array::ensure(mask_obj);
  if (!raw) throw py::type_error("mask must be a bool array");
  b.mask = MaskArray::ensure(raw.dtype().kind() == 'b' ? raw : py::array(raw.attr("astype")("bool")));
  const bool ok = b.single ? (b.mask.ndim() == 1 && b.mask.shape(0) == a)
                           : (b.mask.ndim() == 2 && b.mask.shape(0) == b.rows && b.mask.shape(1) == a);
  if (!ok) {
    throw py::value_error("mask has shape " + ShapeOf(b.mask) + ", expected " +
                          (b.single ? "(" + std::to_string(a) + ",)"
                                    : "(" + std::to_string(b.rows) + ", " + std::to_string(a) + ")"));
  }
  return b;
}

class PyPolicy {
 public:
  explicit PyPolicy(std::unique_ptr<agents::Policy> p) : p_(std::move(p)) {}

  static std::unique_ptr<PyPolicy> Load(const std::string& dir) {
    return std::make_unique<PyPolicy>(AsValueError([&] { return agents::Policy::Load(dir); }));
  }

  // The greedy feasible action: an int for one observation, an int32 array for a batch; -1
  // where the mask allows nothing.
  py::object Act(py::handle obs_obj, py::handle mask_obj) const {
    Batch b = CheckBatch(*p_, obs_obj, mask_obj);
    const float* obs = b.obs.data();
    const uint8_t* mask = b.mask.data();
    const py::ssize_t d = p_->observation_size(), a = p_->num_actions();
    if (b.single) return py::int_(p_->Act(obs, mask).action);
    py::array_t<int32_t> out(b.rows);
    int32_t* dst = out.mutable_data();
    {
      py::gil_scoped_release release;
      for (py::ssize_t i = 0; i < b.rows; ++i) dst[i] = p_->Act(obs + i * d, mask + i * a).action;
    }
    return out;
  }

  py::dict Decide(py::handle obs_obj, py::handle mask_obj) const {
    Batch b = CheckBatch(*p_, obs_obj, mask_obj);
    if (!b.single) throw py::value_error("decide() takes one observation; use act() for a batch");
    const agents::Decision d = p_->Act(b.obs.data(), b.mask.data());
    py::dict out;
    out["action"] = d.action;
    out["probability"] = d.probability;
    out["value"] = d.value;
    return out;
  }

  py::array_t<float> Scores(py::handle obs_obj, py::handle mask_obj) const {
    Batch b = CheckBatch(*p_, obs_obj, mask_obj);
    const py::ssize_t d = p_->observation_size(), a = p_->num_actions();
    py::array_t<float> out(b.single ? std::vector<py::ssize_t>{a} : std::vector<py::ssize_t>{b.rows, a});
    for (py::ssize_t i = 0; i < b.rows; ++i) {
      p_->Scores(b.obs.data() + i * d, b.mask.data() + i * a, out.mutable_data() + i * a);
    }
    return out;
  }

  const agents::Policy& policy() const { return *p_; }

 private:
  std::unique_ptr<agents::Policy> p_;
};

twin::EnvSpec SpecFromDict(const nlohmann::json& j) {
  twin::EnvSpec s;
  s.name = j.at("name").get<std::string>();
  s.observation_size = j.at("observation_size").get<int>();
  s.num_actions = j.at("num_actions").get<int>();
  for (const auto& f : j.at("observation_layout")) {
    s.observation_layout.push_back({f.at("name").get<std::string>(), f.at("offset").get<int>(),
                                    f.at("size").get<int>(), f.at("description").get<std::string>()});
  }
  s.action_description = j.at("action_description").get<std::string>();
  s.reward_description = j.at("reward_description").get<std::string>();
  s.config_hash = j.at("config_hash").get<std::string>();
  return s;
}

agents::Manifest MakeManifest(py::handle spec, py::handle env_config, const std::string& algorithm,
                              py::handle architecture, py::handle normalization, py::handle training) {
  return AsValueError([&] {
    agents::Manifest m;
    m.eonops_version = agents::EonopsVersion();
    if (algorithm != "ppo" && algorithm != "dqn") throw std::invalid_argument("algorithm must be 'ppo' or 'dqn', got '" + algorithm + "'");
    m.algorithm = algorithm;
    m.network = algorithm == "ppo" ? agents::NetworkKind::kActorCritic : agents::NetworkKind::kQNetwork;
    m.architecture = agents::ParseModelOptions(ToJson(architecture), "architecture");
    agents::SetEnvSpec(SpecFromDict(ToJson(spec)), &m);
    m.env_config = ToJson(env_config);
    if (!normalization.is_none()) m.normalization = agents::RunningNormalizer::FromJson(ToJson(normalization), "export");
    const nlohmann::json t = ToJson(training);
    m.run_id = t.value("run_id", "");
    m.experiment = t.value("experiment", "");
    m.train_steps = t.value("steps", int64_t{0});
    m.seed = t.value("seed", uint64_t{0});
    m.created_at = agents::UtcTimestamp();
    // The loader's own validation (sizes against each other), before any file is written.
    return agents::ManifestFromJson(agents::ToJson(m), "manifest");
  });
}

py::list ExpectedWeights(py::handle spec, const std::string& algorithm, py::handle architecture) {
  const agents::Manifest m = MakeManifest(spec, py::dict(), algorithm, architecture, py::none(), py::dict());
  py::list out;
  for (const auto& w : AsValueError([&] { return agents::ExpectedWeights(m); })) {
    out.append(py::make_tuple(w.name, py::tuple(py::cast(w.shape))));
  }
  return out;
}

void ExportPolicy(const std::string& dir, py::handle spec, py::handle env_config, const std::string& algorithm,
                  py::handle architecture, py::handle normalization, py::handle training, py::dict weights) {
  const agents::Manifest m = MakeManifest(spec, env_config, algorithm, architecture, normalization, training);
  std::vector<FloatArray> arrays;  // keeps the converted arrays alive while exporting
  std::vector<agents::NamedWeights> named;
  for (auto item : weights) {
    const std::string name = py::str(item.first);
    FloatArray a = FloatArray::ensure(item.second);
    if (!a) throw py::type_error("weights['" + name + "'] is not a float array");
    arrays.push_back(a);
    std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
    named.push_back({name, shape, a.data()});
  }
  AsValueError([&] {
    agents::ExportExternalPolicy(m, named, dir);
    return 0;
  });
}

// `names`: heuristic names, with "" where the policy goes (rows come back in this order).
py::object SimulatePolicy(const PyPolicy& policy, const std::string& policy_name, py::handle config,
                          const std::string& origin, const std::vector<std::string>& names,
                          const std::vector<double>& loads, uint64_t seed, int seeds, int threads) {
  const nlohmann::json j = ToJson(config);
  const twin::Scenario scenario = LoadScenario(j, origin);
  const twin::EnvConfig env = LoadEnvConfig(j, origin);
  auto model = AsValueError([&] { return std::make_shared<const twin::NetworkModel>(scenario.network); });
  const agents::Policy& p = policy.policy();
  // Refuses a policy that does not fit this network before any run.
  AsValueError([&] { return std::make_unique<agents::PolicyHeuristic>(p, model, env, policy_name); });
  std::vector<twin::SweepPolicy> policies;
  for (const auto& h : names) {
    if (h.empty()) {
      policies.push_back({policy_name, [&p, model, env, policy_name]() -> std::unique_ptr<twin::Heuristic> {
                            return std::make_unique<agents::PolicyHeuristic>(p, model, env, policy_name);
                          }});
    } else {
      policies.push_back(AsValueError([&] { return twin::HeuristicPolicy(h, scenario); }));
    }
  }
  return RunSweep(model, scenario, policies, loads, seed, seeds, threads);
}

// Normaliser over numpy arrays: [D] or [B, D] float32.
FloatArray Rows(const agents::RunningNormalizer& n, py::handle x, py::ssize_t* rows) {
  FloatArray a = FloatArray::ensure(x);
  if (!a) throw py::type_error("observations must be a float array");
  if (a.ndim() == 1 && a.shape(0) == n.size()) {
    *rows = 1;
  } else if (a.ndim() == 2 && a.shape(1) == n.size()) {
    *rows = a.shape(0);
  } else {
    throw py::value_error("observations have shape " + ShapeOf(a) + ", the normaliser takes (" +
                          std::to_string(n.size()) + ",) or (batch, " + std::to_string(n.size()) + ")");
  }
  return a;
}

}  // namespace
}  // namespace eonops::python

PYBIND11_MODULE(_policy, m) {
  using namespace eonops;
  using python::PyPolicy;
  m.doc() = "eonops policy bindings (use the eonops package, not this module)";

  py::class_<PyPolicy>(m, "Policy")
      .def_static("load", &PyPolicy::Load, py::arg("directory"))
      .def("act", &PyPolicy::Act, py::arg("observation"), py::arg("mask") = py::none())
      .def("decide", &PyPolicy::Decide, py::arg("observation"), py::arg("mask") = py::none())
      .def("scores", &PyPolicy::Scores, py::arg("observation"), py::arg("mask") = py::none())
      .def_property_readonly("manifest", [](const PyPolicy& p) { return python::ToPython(agents::ToJson(p.policy().manifest())); })
      .def_property_readonly("observation_size", [](const PyPolicy& p) { return p.policy().observation_size(); })
      .def_property_readonly("num_actions", [](const PyPolicy& p) { return p.policy().num_actions(); });

  py::class_<agents::RunningNormalizer>(m, "ObservationNormalizer")
      .def(py::init([](int size, float clip) {
             return python::AsValueError([&] { return agents::RunningNormalizer(size, clip); });
           }),
           py::arg("size"), py::arg("clip") = 10.0f)
      .def("update",
           [](agents::RunningNormalizer& n, py::handle x) {
             py::ssize_t rows = 0;
             auto a = python::Rows(n, x, &rows);
             n.Update(a.data(), static_cast<int>(rows));
           },
           py::arg("observations"))
      .def("normalize",
           [](const agents::RunningNormalizer& n, py::handle x) {
             py::ssize_t rows = 0;
             auto a = python::Rows(n, x, &rows);
             py::array_t<float> out(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
             n.Normalize(a.data(), out.mutable_data(), static_cast<int>(rows));
             return out;
           },
           py::arg("observations"))
      .def("merge", &agents::RunningNormalizer::Merge, py::arg("other"))
      .def_property_readonly("size", &agents::RunningNormalizer::size)
      .def_property_readonly("count", &agents::RunningNormalizer::count)
      .def_property_readonly("clip", &agents::RunningNormalizer::clip)
      .def_property_readonly("mean", [](const agents::RunningNormalizer& n) { return py::array(py::cast(n.mean())); })
      .def_property_readonly("variance", [](const agents::RunningNormalizer& n) { return py::array(py::cast(n.Variance())); })
      .def("to_json", [](const agents::RunningNormalizer& n) { return python::ToPython(n.ToJson()); })
      .def_static("from_json", [](py::handle j) {
        return python::AsValueError([&] { return agents::RunningNormalizer::FromJson(python::ToJson(j), "normalization"); });
      });

  m.def("expected_weights", &python::ExpectedWeights, py::arg("spec"), py::arg("algorithm"), py::arg("architecture"));
  m.def("export_policy", &python::ExportPolicy, py::arg("directory"), py::arg("spec"), py::arg("env_config"),
        py::arg("algorithm"), py::arg("architecture"), py::arg("normalization"), py::arg("training"),
        py::arg("weights"));
  m.def("simulate", &python::SimulatePolicy, py::arg("policy"), py::arg("name"), py::arg("config"),
        py::arg("origin"), py::arg("heuristics"), py::arg("loads"), py::arg("seed"), py::arg("seeds"),
        py::arg("threads"));
}
