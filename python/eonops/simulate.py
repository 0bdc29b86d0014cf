"""The twin's simulator from Python: the same runs and the same figures as
`eonops simulate --json` (one C++ sweep and report builder serve both).

    r = eonops.simulate("configs/benchmarks/deeprmsa-nsfnet.json", policy="ksp-ff", seeds=5)
    r["blocking_probability"], r["blocking_ci95"]
    r = eonops.simulate(cfg, policies=["sp-ff", "ksp-ff"], loads=[150, 250, 350], threads=2)
    for row in r["results"]: ...
    r = eonops.simulate(policies=[eonops.Policy.load("out/policy"), "ksp-ff"], loads=[...])
"""

from . import _core
from . import config as _config


def _is_policy(p):
    return hasattr(p, "_p") and hasattr(p, "manifest")


def simulate(config=None, policy="ksp-ff", *, policies=None, loads=None, seeds=1, seed=1, threads=1,
             requests=None, warmup=None, batch_size=None, policy_name="drl", **overrides):
    """Replays the twin under Poisson traffic; returns what `eonops simulate --json` prints.

    config: a scenario/experiment file, a dict or a use-case name (None: the policy's training
    config when a Policy is simulated, else "deeprmsa"); policy or policies: heuristic names
    (eonops.heuristic_names()) and at most one eonops.Policy (asked like a heuristic, as
    `eonops evaluate` does, under the name `policy_name`); loads: Erlang (default: the
    config's); seeds independent runs from `seed` (CI across seeds when > 1); requests, warmup,
    batch_size override the measurement; other keywords override the config as in make().
    One row is returned as is, several under "results"; "scenario" is the scenario simulated.
    """
    chosen = list(policies) if policies is not None else [policy]
    if not chosen:
        raise ValueError("no policy to simulate")
    learned = [p for p in chosen if _is_policy(p)]
    if len(learned) > 1:
        raise ValueError("simulate() takes at most one eonops.Policy per call")
    for p in chosen:
        if not _is_policy(p) and not isinstance(p, str):
            raise TypeError(f"policies are heuristic names or an eonops.Policy, got {type(p).__name__}")
    if config is None:
        config = learned[0].env_config if learned else "deeprmsa"
    cfg, origin = _config.resolve(config, overrides)
    if learned and "env" not in cfg:
        # The observation layout (use case, J) the policy was trained with.
        cfg["env"] = learned[0].env_config.get("env", {})
    measurement = cfg.setdefault("measurement", {})
    for key, value in (("requests", requests), ("warmup", warmup), ("batch_size", batch_size)):
        if value is not None:
            measurement[key] = value
    loads = [] if loads is None else [float(x) for x in loads]
    for name, value in (("seeds", seeds), ("seed", seed), ("threads", threads)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if seed < 0:
        raise ValueError(f"seed must not be negative, got {seed}")
    if not learned:
        return _core.simulate(cfg, origin, chosen, loads, seed, seeds, threads)
    from . import _policy

    # "" marks the policy's place among the heuristics, so rows keep the order given.
    names = ["" if _is_policy(p) else p for p in chosen]
    return _policy.simulate(learned[0]._p, policy_name, cfg, origin, names, loads, seed, seeds, threads)


def heuristic_names():
    """The heuristics simulate(), heuristic_action() and the environments' warm-up accept."""
    return list(_core.heuristic_names())
