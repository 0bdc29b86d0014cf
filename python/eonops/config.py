"""Experiment configs for the Python API: a file, a dict or a use-case name, plus keyword overrides.

A config is the JSON document `eonops train` and `eonops simulate` read: sections "network",
"traffic", "measurement" and "env" (other sections, such as a trainer's, are ignored here). The
twin checks every field when the environment is built; a bad value raises ValueError naming
the file, the field and the reason.

    cfg, origin = resolve("configs/experiments/tiny-test.json", {"load": 12})
    cfg, origin = resolve("qot-rmbsa", {"topology": "cost239", "k": 3})
"""

import copy
import json
import os

from . import _core

# A use-case name starts from the experiment file eonops trains that use case with.
USE_CASE_CONFIGS = {
    "deeprmsa": "experiments/deeprmsa-nsfnet-ppo.json",
    "latency-rsa": "experiments/nsfnet-latency-rsa-ppo.json",
    "qot-rmbsa": "experiments/nsfnet-qot-rmbsa-ppo.json",
    "energy-rmsa": "experiments/nsfnet-energy-rmsa-ppo.json",
}


def _bands(value):
    if isinstance(value, str):
        return [b.strip() for b in value.split(",") if b.strip()]
    return list(value)


# keyword -> (section, key) of the config it sets; the same names as the CLI flags where the
# CLI has one (--k, --load, --path-order, ...), else the config's own key.
OVERRIDES = {
    "topology": ("network", "topology"),
    "bands": ("network", "bands"),
    "slots": ("network", "slots_per_band"),
    "slots_per_band": ("network", "slots_per_band"),
    "modulations": ("network", "modulations"),
    "modulation_mode": ("network", "modulation_mode"),
    "gsnr_margin_db": ("network", "gsnr_margin_db"),
    "k": ("network", "k_paths"),
    "k_paths": ("network", "k_paths"),
    "path_order": ("network", "path_order"),
    "max_span_km": ("network", "max_span_km"),
    "load": ("traffic", "load_erlang"),
    "load_erlang": ("traffic", "load_erlang"),
    "holding": ("traffic", "mean_holding_time"),
    "mean_holding_time": ("traffic", "mean_holding_time"),
    "holding_truncate_factor": ("traffic", "holding_truncate_factor"),
    "bit_rate_min_gbps": ("traffic", "bit_rate_min_gbps"),
    "bit_rate_max_gbps": ("traffic", "bit_rate_max_gbps"),
    "latency_bound_us": ("traffic", "latency_bound_us"),
    "use_case": ("env", "use_case"),
    "j": ("env", "j_blocks"),
    "j_blocks": ("env", "j_blocks"),
    "episode_length": ("env", "episode_length"),
    "warmup": ("env", "warmup"),
    "warmup_policy": ("env", "warmup_policy"),
    "latency_weight": ("env", "latency_weight"),
    "qot_weight": ("env", "qot_weight"),
    "margin_cap_db": ("env", "margin_cap_db"),
    "energy_weight": ("env", "energy_weight"),
    "energy_reference_w": ("env", "energy_reference_w"),
    "block_rules": ("env", "block_rules"),
    "action_features": ("env", "action_features"),
    "link_features": ("env", "link_features"),
}


def config_dir():
    """Where the twin reads topologies, bands and tables ($EONOPS_CONFIGS, else beside the module)."""
    return _core.config_dir()


def _find_file(path):
    """`path` as given, else under the configs directory (so "configs/experiments/x.json" and
    "experiments/x.json" work from any working directory)."""
    if os.path.isfile(path):
        return path
    base = config_dir()
    rel = path[len("configs/"):] if path.startswith("configs/") else path
    candidate = os.path.join(base, rel)
    if not os.path.isabs(path) and os.path.isfile(candidate):
        return candidate
    return None


def load_file(path):
    found = _find_file(os.fspath(path))
    if found is None:
        raise FileNotFoundError(f"config file '{os.fspath(path)}' not found (nor under {config_dir()})")
    with open(found, encoding="utf-8") as f:
        try:
            return json.load(f), found
        except json.JSONDecodeError as e:
            raise ValueError(f"{found}: invalid JSON: {e}") from None


def resolve(config, overrides):
    """(config dict, origin for error messages) from a path, a dict or a use-case name, with
    the keyword overrides applied. Unknown keywords raise TypeError."""
    if isinstance(config, dict):
        cfg, origin = copy.deepcopy(config), "<config dict>"
    elif isinstance(config, (str, os.PathLike)):
        name = os.fspath(config)
        if name in USE_CASE_CONFIGS:
            cfg, origin = load_file(USE_CASE_CONFIGS[name])
        elif name.endswith(".json") or os.path.sep in name or os.path.exists(name):
            cfg, origin = load_file(name)
        else:
            raise ValueError(
                f"config '{name}' is neither a use case ({', '.join(USE_CASE_CONFIGS)}) nor a JSON file")
    else:
        raise TypeError(f"config must be a file path, a dict or a use-case name, got {type(config).__name__}")
    if not isinstance(cfg, dict):
        raise ValueError(f"{origin}: a config must be a JSON object")
    for key, value in overrides.items():
        if key == "bit_rate":  # (min, max) Gb/s, like the CLI's --bit-rate MIN:MAX
            try:
                low, high = value
            except (TypeError, ValueError):
                raise ValueError(f"bit_rate must be a (min, max) pair in Gb/s, got {value!r}") from None
            cfg.setdefault("traffic", {}).update({"bit_rate_min_gbps": low, "bit_rate_max_gbps": high})
            continue
        if key not in OVERRIDES:
            known = ", ".join(sorted(list(OVERRIDES) + ["bit_rate"]))
            raise TypeError(f"unknown config keyword '{key}' (known: {known})")
        section, field = OVERRIDES[key]
        if key == "bands":
            value = _bands(value)
        sect = cfg.setdefault(section, {})
        if not isinstance(sect, dict):
            raise ValueError(f"{origin}: section '{section}' must be an object")
        sect[field] = value
    return cfg, origin
