"""Bad arguments raise Python exceptions whose message says what is wrong (never a crash)."""

import json

import numpy as np
import pytest

import eonops


@pytest.mark.parametrize("overrides, error, message", [
    ({"k": 0}, ValueError, "k_paths"),
    ({"k": "five"}, ValueError, "k_paths"),
    ({"topology": "atlantis"}, ValueError, "atlantis"),
    ({"bands": "C,X"}, ValueError, "X"),
    ({"path_order": "random"}, ValueError, "random"),
    ({"j_blocks": 0}, ValueError, "j_blocks"),
    ({"episode_length": -1}, ValueError, "episode_length"),
    ({"use_case": "teleport"}, ValueError, "use case"),
    ({"warmup_policy": "magic"}, ValueError, "magic"),
    ({"load": -3}, ValueError, "load"),
    ({"bit_rate": (100, 25)}, ValueError, "bit_rate"),
    ({"bit_rate": 5}, ValueError, "bit_rate"),
    ({"colour": "blue"}, TypeError, "unknown config keyword 'colour'"),
])
def test_bad_config_values(tiny_path, overrides, error, message):
    with pytest.raises(error, match=message):
        eonops.make(tiny_path, **overrides)


def test_bad_config_sources(tmp_path):
    with pytest.raises(ValueError, match="neither a use case"):
        eonops.make("teleportation")
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        eonops.make("nowhere.json")
    with pytest.raises(TypeError, match="config must be"):
        eonops.make(42)
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        eonops.make(str(bad))
    bad.write_text(json.dumps({"network": {"k_paths": 2, "typo_key": 1}}))
    with pytest.raises(ValueError, match="typo_key"):
        eonops.make(str(bad))
    bad.write_text(json.dumps({"measurement": {"requests": 0}}))
    with pytest.raises(ValueError, match="requests"):
        eonops.make(str(bad))
    with pytest.raises(ValueError, match="JSON"):
        eonops.make({"network": {"topology": {1, 2}}})


def test_bad_env_calls(tiny_path):
    env = eonops.make(tiny_path)
    env.reset(seed=1)
    for action in (-1, env.num_actions, 10**12):
        with pytest.raises(ValueError, match="outside the action space"):
            env.step(action)
    for action in (1.5, "2", None, True, [1]):
        with pytest.raises(TypeError, match="action must be an integer"):
            env.step(action)
    env.step(np.int64(0))  # NumPy integers are fine
    with pytest.raises(ValueError, match="seed"):
        env.reset(seed=-1)
    with pytest.raises(TypeError, match="seed"):
        env.reset(seed="1")
    with pytest.raises(ValueError, match="options"):
        env.reset(seed=1, options={"x": 1})
    with pytest.raises(ValueError, match="magic"):
        env.heuristic_action("magic")


def test_bad_vec_env_calls(tiny_path):
    with pytest.raises(ValueError, match="num_envs"):
        eonops.VecEnv(tiny_path, num_envs=0)
    with pytest.raises(ValueError, match="threads"):
        eonops.VecEnv(tiny_path, num_envs=2, threads=0)
    with pytest.raises(TypeError, match="num_envs"):
        eonops.VecEnv(tiny_path, num_envs=2.5)
    vec = eonops.VecEnv(tiny_path, num_envs=4)
    with pytest.raises(RuntimeError, match="reset"):
        vec.step(np.zeros(4, dtype=np.int32))
    vec.reset(seed=1)
    with pytest.raises(ValueError, match=r"shape \(4,\), got \(3\)"):
        vec.step(np.zeros(3, dtype=np.int32))
    with pytest.raises(ValueError, match=r"got \(4, 1\)"):
        vec.step(np.zeros((4, 1), dtype=np.int32))
    with pytest.raises(TypeError, match="integer array"):
        vec.step(np.zeros(4, dtype=np.float32))
    with pytest.raises(ValueError, match=r"actions\[2\] = 9"):
        vec.step(np.array([0, 0, 9, 0]))
    with pytest.raises(ValueError, match=r"actions\[0\] = -1"):
        vec.step(np.array([-1, 0, 0, 0], dtype=np.int64))
    vec.step([0, 0, 0, 0])  # a list of ints is an integer array
    vec.step(np.zeros(4, dtype=np.uint8))


def test_bad_simulate_calls(tiny_path):
    with pytest.raises(ValueError, match="ksp-ff"):  # the message lists the known names
        eonops.simulate(tiny_path, policy="magic", requests=100)
    with pytest.raises(ValueError, match="seeds"):
        eonops.simulate(tiny_path, seeds=0, requests=100)
    with pytest.raises(ValueError, match="threads"):
        eonops.simulate(tiny_path, threads=0, requests=100)
    with pytest.raises(ValueError, match="loads"):
        eonops.simulate(tiny_path, loads=[10, -1], requests=100)
    with pytest.raises(ValueError, match="requests"):
        eonops.simulate(tiny_path, requests=0)
    with pytest.raises(TypeError, match="heuristic names"):
        eonops.simulate(tiny_path, policies=[3])
    with pytest.raises(ValueError, match="no policy"):
        eonops.simulate(tiny_path, policies=[])
