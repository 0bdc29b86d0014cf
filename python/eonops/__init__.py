"""eonops from Python: the C++ digital twin of an elastic optical network, its RL environments
(Gymnasium-style, single and batched), heuristics, simulator and exported DRL policies.

    import eonops
    env = eonops.make("configs/experiments/tiny-test.json")
    obs, info = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(env.heuristic_action("ksp-ff"))

    vec = eonops.VecEnv("deeprmsa", num_envs=64)
    r = eonops.simulate("configs/benchmarks/deeprmsa-nsfnet.json", policy="ksp-ff", seeds=3)
    policy = eonops.Policy.load("out/policy"); policy.act(obs, env.action_masks())

`import eonops` loads only the twin; eonops.Policy, eonops.export_policy and
eonops.ObservationNormalizer load the policy module (libtorch) on first use, and eonops.nn
needs PyTorch.
"""

import os as _os

# Installed (cmake --install), the package carries its configs; from the build tree the twin
# reads the source tree's. $EONOPS_CONFIGS, when set, wins either way.
_bundled = _os.path.join(_os.path.dirname(__file__), "configs")
if _os.path.isdir(_bundled) and not _os.environ.get("EONOPS_CONFIGS"):
    _os.environ["EONOPS_CONFIGS"] = _bundled

from . import spaces  # noqa: E402
from ._core import __version__  # noqa: E402,F401
from .config import USE_CASE_CONFIGS, config_dir  # noqa: E402,F401
from .envs import BLOCK_CAUSES, Env, VecEnv, make, make_vec  # noqa: E402,F401
from .policy import ObservationNormalizer, Policy, expected_weights, export_policy  # noqa: E402,F401
from .simulate import heuristic_names, simulate  # noqa: E402,F401

__all__ = [
    "BLOCK_CAUSES", "Env", "ObservationNormalizer", "Policy", "USE_CASE_CONFIGS", "VecEnv",
    "config_dir", "expected_weights", "export_policy", "heuristic_names", "make", "make_vec",
    "simulate", "spaces",
]


def __getattr__(name):
    # eonops.nn needs PyTorch: imported on first use, not with the package.
    if name == "nn":
        import importlib

        return importlib.import_module(".nn", __name__)
    raise AttributeError(f"module 'eonops' has no attribute '{name}'")
