"""Policies trained in PyTorch from Python, exported to the C++ artifact format: the C++ loader
acts exactly as the PyTorch network does, and every malformed export is refused by name."""

import json
import os

import numpy as np
import pytest

import eonops

torch = pytest.importorskip("torch")
from eonops import nn as enn  # noqa: E402


def greedy(net, norm, obs, mask):
    with torch.no_grad():
        x = torch.as_tensor(norm.normalize(obs) if norm is not None else obs)
        out = net(x)
        scores = out[0] if isinstance(out, tuple) else out
        scores = scores.masked_fill(~torch.as_tensor(mask), -float("inf"))
        return scores.argmax(-1).numpy()


def observations(env_path, steps=300):
    vec = eonops.VecEnv(env_path, num_envs=4, copy=True)
    vec.reset(seed=5)
    obs, masks = [], []
    for _ in range(steps // 4):
        o, *_ , m, _ = vec.step(vec.sample_actions())
        obs.append(o)
        masks.append(m)
    return vec, np.concatenate(obs), np.concatenate(masks)


@pytest.mark.parametrize("kind", ["ppo", "ppo-shared", "dqn-dueling", "dqn-plain"])
def test_exported_policy_acts_like_the_torch_network(tmp_path, tiny_path, kind):
    vec, obs, masks = observations(tiny_path)
    torch.manual_seed(0)
    d, a = vec.observation_size, vec.num_actions
    if kind.startswith("ppo"):
        net = enn.ActorCritic(d, a, hidden_sizes=(32, 16), activation="tanh", shared_trunk=kind == "ppo-shared")
    else:
        net = enn.QNetwork(d, a, hidden_sizes=(24,), activation="relu", dueling=kind == "dqn-dueling")
    # Non-trivial weights, so that a transposed or misnamed tensor would show.
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.5)
    norm = eonops.ObservationNormalizer(d)
    norm.update(obs)
    policy = eonops.export_policy(net, tmp_path / "policy", vec, normalizer=norm, steps=123, seed=9,
                                  experiment="pytest")
    assert policy.manifest["algorithm"] == net.algorithm
    assert policy.manifest["training"]["steps"] == 123
    assert policy.manifest["environment"]["config_hash"] == vec.twin_spec["config_hash"]
    np.testing.assert_array_equal(policy.act(obs, masks), greedy(net, norm, obs, masks))
    for i in range(10):
        assert policy.act(obs[i], masks[i]) == greedy(net, norm, obs[i:i + 1], masks[i:i + 1])[0]
    if kind.startswith("ppo"):
        with torch.no_grad():
            logits, value = net(torch.as_tensor(norm.normalize(obs[:1])))
            probs = enn.masked_categorical(logits, torch.as_tensor(masks[:1])).probs[0].numpy()
        np.testing.assert_allclose(policy.scores(obs[0], masks[0]), probs, rtol=1e-4, atol=1e-6)
        d0 = policy.decide(obs[0], masks[0])
        assert d0["value"] == pytest.approx(float(value[0]), rel=1e-4, abs=1e-5)
    # loaded again from disk, as the PCE does
    again = eonops.Policy.load(tmp_path / "policy")
    np.testing.assert_array_equal(again.act(obs, masks), policy.act(obs, masks))


def test_expected_weights_are_the_state_dict(tiny_path):
    env = eonops.make(tiny_path)
    net = enn.ActorCritic(env.observation_size, env.num_actions, hidden_sizes=(8, 8))
    expected = eonops.expected_weights(env, "ppo", net.architecture)
    assert expected == [(k, tuple(v.shape)) for k, v in net.state_dict().items()]


def test_bad_exports_are_refused_by_name(tmp_path, tiny_path):
    env = eonops.make(tiny_path)
    net = enn.ActorCritic(env.observation_size, env.num_actions, hidden_sizes=(8,))
    weights = {k: v.numpy().copy() for k, v in net.state_dict().items()}

    def export(w, **kw):
        return eonops.export_policy(w, tmp_path / "p", env, architecture=net.architecture, **kw)

    w = dict(weights)
    del w["value_head.bias"]
    with pytest.raises(ValueError, match="missing tensors: value_head.bias"):
        export(w)
    w = dict(weights, extra=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="unexpected tensor 'extra'"):
        export(w)
    w = dict(weights)
    w["actor.fc0.weight"] = w["actor.fc0.weight"].T.copy()
    with pytest.raises(ValueError, match=r"'actor.fc0.weight' has shape \[.*\], the manifest's network needs"):
        export(w)
    w = dict(weights)
    w["policy_head.bias"] = np.full_like(w["policy_head.bias"], np.nan)
    with pytest.raises(ValueError, match="non-finite"):
        export(w)
    with pytest.raises(ValueError, match=r"needs \[9, "):
        eonops.export_policy(weights, tmp_path / "p", env, architecture={"hidden_sizes": [9]})
    with pytest.raises(ValueError, match="activation"):
        eonops.export_policy(weights, tmp_path / "p", env, architecture={"hidden_sizes": [8], "activation": "swish"})
    with pytest.raises(ValueError, match="algorithm"):
        export(weights, algorithm="a2c")
    with pytest.raises(ValueError, match="normalization"):
        export(weights, normalizer={"count": 1, "mean": [0.0], "m2": [0.0], "clip": 10})
    with pytest.raises(TypeError, match="eonops.Env"):
        eonops.export_policy(net, tmp_path / "p", object())
    assert not os.path.exists(tmp_path / "p" / "manifest.json")  # nothing half-written
    export(weights)  # the untouched weights export fine


def test_policy_load_and_act_errors(tmp_path, tiny_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        eonops.Policy.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="manifest.json"):
        eonops.Policy.load(tmp_path / "empty")
    env = eonops.make(tiny_path)
    net = enn.ActorCritic(env.observation_size, env.num_actions, hidden_sizes=(8,))
    policy = eonops.export_policy(net, tmp_path / "ok", env)
    manifest = json.loads((tmp_path / "ok" / "manifest.json").read_text())
    manifest["observation"]["size"] = 3
    (tmp_path / "ok" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="observation"):
        eonops.Policy.load(tmp_path / "ok")
    with pytest.raises(ValueError, match=r"observation has shape \(3,\)"):
        policy.act(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="mask has shape"):
        policy.act(np.zeros(env.observation_size, np.float32), np.ones(2, bool))
    assert policy.act(np.zeros(env.observation_size, np.float32), np.zeros(env.num_actions, bool)) == -1


def test_simulate_a_policy_beside_the_heuristics(tmp_path, tiny_path):
    env = eonops.make(tiny_path)
    net = enn.ActorCritic(env.observation_size, env.num_actions, hidden_sizes=(8,))
    policy = eonops.export_policy(net, tmp_path / "p", env)
    r = eonops.simulate(policies=["ksp-ff", policy], requests=2000, warmup=200, seeds=2)
    assert [row["policy"] for row in r["results"]] == ["ksp-ff", "drl"]
    assert r["scenario"]["network"]["topology"] == "ring4"  # the policy's own training config
    for row in r["results"]:
        assert 0 <= row["blocking_probability"] < 0.5
    with pytest.raises(ValueError, match="does not fit"):
        eonops.simulate("deeprmsa", policies=[policy], requests=100)
