"""A policy trained in PyTorch and exported from Python is served by `eonops pce serve
--policy-dir`: the PCE loads it, checks it against its network, and answers TAPI
compute-p-2-p-path requests with it (decided-by "policy", no fallback)."""

import json
import re
import signal
import subprocess
import time
import urllib.request

import numpy as np
import pytest

import eonops
from conftest import tiny_config

torch = pytest.importorskip("torch")
from eonops import nn as enn  # noqa: E402

CONTEXT = "/restconf/data/tapi-common:context"
COMPUTE = "/restconf/operations/tapi-path-computation:compute-p-2-p-path"


def request(base, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json", "Accept": "application/yang-data+json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read())


def compute_input(a, z, gbps):
    return {"tapi-path-computation:input": {"sep": [
        {"local-id": "a", "service-interface-point": {"service-interface-point-uuid": a},
         "capacity": {"total-size": {"value": gbps, "unit": "GBPS"}}},
        {"local-id": "z", "service-interface-point": {"service-interface-point-uuid": z}}]}}


def train_a_little(env_path):
    """A few hundred masked policy-gradient steps in plain PyTorch: a policy trained in Python."""
    vec = eonops.VecEnv(env_path, num_envs=8, copy=True)
    norm = eonops.ObservationNormalizer(vec.observation_size)
    net = enn.ActorCritic(vec.observation_size, vec.num_actions, hidden_sizes=(16, 16))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    obs, _ = vec.reset(seed=1)
    masks = vec.action_masks()
    for _ in range(40):
        norm.update(obs)
        logits, _ = net(torch.as_tensor(norm.normalize(obs)))
        dist = enn.masked_categorical(logits, masks)
        actions = dist.sample()
        obs, rewards, _, _, masks, _ = vec.step(actions.numpy().astype(np.int32))
        loss = -(dist.log_prob(actions) * torch.as_tensor(rewards)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, norm, vec


def test_pce_serves_a_policy_exported_from_python(tmp_path, tiny_path, eonops_cli):
    net, norm, vec = train_a_little(tiny_path)
    policy_dir = tmp_path / "policy"
    eonops.export_policy(net, policy_dir, vec, normalizer=norm, steps=320, experiment="python")

    cfg = tiny_config()
    pce_config = {key: cfg[key] for key in ("network", "traffic", "env")}
    pce_config["pce"] = {"default_use_case": "deeprmsa", "fallback": "ksp-ff", "policies": []}
    (tmp_path / "pce.json").write_text(json.dumps(pce_config))

    proc = subprocess.Popen([eonops_cli, "pce", "serve", "--config", str(tmp_path / "pce.json"), "--port", "0",
                             "--state-db", ":memory:", "--policy-dir", str(policy_dir), "--no-decision-log"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner, base = [], None
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            banner.append(line)
            m = re.search(r"serving TAPI on (http://[\d.]+:\d+)/restconf", line)
            if m:
                base = m.group(1)
            if base and line.strip().startswith("policy deeprmsa"):
                break
        assert base, "".join(banner)
        assert str(policy_dir) in banner[-1], "".join(banner)  # the policy line names the artifact

        status, ctx = request(base, CONTEXT)
        sips = [s["uuid"] for s in ctx["tapi-common:context"]["service-interface-point"]]
        assert status == 200 and len(sips) == 4
        decided = []
        for a, z in [(0, 1), (1, 3), (2, 0), (3, 2), (0, 2)]:
            status, out = request(base, COMPUTE, compute_input(sips[a], sips[z], 100))
            assert status == 200
            lp = out["tapi-path-computation:output"]["service"]["eonops-pce:lightpath"]
            decided.append(lp["decided-by"])
            assert lp["fell-back"] is False, lp
            assert str(policy_dir) in lp["policy-version"]
        assert decided == ["policy"] * 5
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
