// The environments for Python: eonops._core.Env (one twin::RsaEnv) and eonops._core.VecEnv (a
// twin::VecEnv of them), wrapped in Gymnasium-style classes by python/eonops/envs.py.
#pragma once

#include <pybind11/pybind11.h>

namespace eonops::python {

void BindEnvs(pybind11::module_& m);

}  // namespace eonops::python
