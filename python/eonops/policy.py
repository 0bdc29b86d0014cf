"""Exported policies: load and act, and export a policy trained in Python so that the C++ side
(`eonops evaluate`, `eonops pce serve --policy-dir`) serves it.

    policy = eonops.Policy.load("out/policy")
    action = policy.act(obs, mask)                  # greedy over the feasible actions
    actions = policy.act(obs_batch, mask_batch)     # int32 [B]

    net = eonops.nn.ActorCritic(env.observation_size, env.num_actions, hidden_sizes=(64, 64))
    ... train it ...
    eonops.export_policy(net, "out/my-policy", env, normalizer=norm, steps=100_000)

The artifact is the one `eonops train` writes (agents/manifest.h): manifest.json (the
environment's spec and config, the architecture, the normalisation statistics, provenance)
and weights.pt, written by the same C++ code as the trainer's, then loaded back as a check.

This module loads eonops._policy, which links libtorch: `import eonops` alone does not.
"""

import os

import numpy as np


def _policy_module():
    from . import _policy  # libtorch comes with it: only when a policy is used

    return _policy


class Policy:
    """A policy artifact loaded through the C++ torch-free Policy interface."""

    def __init__(self, handle, directory):
        self._p = handle
        self.directory = directory

    @staticmethod
    def load(directory):
        directory = os.fspath(directory)
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"policy directory '{directory}' not found")
        return Policy(_policy_module().Policy.load(directory), directory)

    def act(self, observation, mask=None):
        """Greedy feasible action: an int for one observation [D], an int32 array for a batch
        [B, D]; `mask` [A] or [B, A], True where allowed (None: every action). -1 where the
        mask allows nothing."""
        return self._p.act(observation, mask)

    def decide(self, observation, mask=None):
        """{action, probability, value} for one observation."""
        return self._p.decide(observation, mask)

    def scores(self, observation, mask=None):
        """Per-action probabilities (PPO; 0 where masked) or Q-values (DQN; -inf where masked)."""
        return self._p.scores(observation, mask)

    @property
    def manifest(self):
        return self._p.manifest

    @property
    def observation_size(self):
        return self._p.observation_size

    @property
    def num_actions(self):
        return self._p.num_actions

    @property
    def env_config(self):
        """The config sections the policy was trained on."""
        return self.manifest["environment"]["config"]

    def __repr__(self):
        m = self.manifest
        return (f"<eonops.Policy {m['algorithm']} on {m['environment']['name']} "
                f"({m['training']['steps']} steps) from {self.directory}>")


def ObservationNormalizer(size, clip=10.0):
    """Running mean/variance normalisation of observations, the C++ class a policy artifact
    stores (agents/normalizer.h): update(batch), normalize(batch), to_json(). Train with it and
    pass it to export_policy so the served policy scales its inputs exactly as in training."""
    return _policy_module().ObservationNormalizer(size, clip)


def _env_description(env):
    try:
        return env.twin_spec, env.config
    except AttributeError:
        raise TypeError("env must be an eonops.Env or eonops.VecEnv (the environment the policy was trained on)") from None


def expected_weights(env, algorithm="ppo", architecture=None):
    """[(name, shape)] of the C++ network for this environment and architecture: what
    export_policy needs."""
    spec, _ = _env_description(env)
    return [(n, tuple(s)) for n, s in _policy_module().expected_weights(spec, algorithm, architecture or {})]


def _weights_of(model):
    if isinstance(model, dict):
        items = model.items()
    elif hasattr(model, "state_dict"):
        items = model.state_dict().items()
    else:
        raise TypeError("model must be a torch nn.Module (or anything with state_dict()) or a dict of arrays")
    out = {}
    for name, value in items:
        if hasattr(value, "detach"):  # a torch tensor
            value = value.detach().cpu().numpy()
        out[name] = np.ascontiguousarray(value, dtype=np.float32)
    return out


def export_policy(model, directory, env, *, normalizer=None, algorithm=None, architecture=None,
                  run_id="", experiment="", steps=0, seed=0):
    """Writes `model` as an eonops policy artifact in `directory` and returns it loaded.

    model: an eonops.nn.ActorCritic / QNetwork (its architecture and algorithm are known), or
    any torch module or dict of arrays with the C++ network's parameter names (then give
    `architecture`, a dict like {"hidden_sizes": [64, 64], "activation": "tanh"}, and
    `algorithm`); env: the eonops Env or VecEnv it was trained on; normalizer: the
    ObservationNormalizer used in training (None if observations were not normalised).
    Raises ValueError naming the tensor when a weight is missing, extra or of the wrong shape.
    """
    spec, env_config = _env_description(env)
    if architecture is None:
        architecture = getattr(model, "architecture", None)
        if architecture is None:
            raise ValueError("give architecture=... (hidden_sizes, activation, ...) for this model")
    if algorithm is None:
        algorithm = getattr(model, "algorithm", "ppo")
    normalization = None
    if normalizer is not None:
        normalization = normalizer.to_json() if hasattr(normalizer, "to_json") else dict(normalizer)
    training = {"run_id": str(run_id), "experiment": str(experiment), "steps": int(steps), "seed": int(seed)}
    directory = os.fspath(directory)
    _policy_module().export_policy(directory, spec, env_config, algorithm, dict(architecture), normalization,
                                   training, _weights_of(model))
    return Policy.load(directory)
