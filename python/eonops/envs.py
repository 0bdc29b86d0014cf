"""Gymnasium-style environments over the C++ twin.

    env = eonops.make("configs/experiments/tiny-test.json")       # or "deeprmsa", load=300, ...
    obs, info = env.reset(seed=1)
    mask = env.action_masks()                                      # sb3-contrib MaskablePPO style
    obs, reward, terminated, truncated, info = env.step(env.heuristic_action("ksp-ff"))
    info["decision"]   # path, band, slot, slots, format, GSNR margin, latency, incremental power
    info["block_cause"]

    vec = eonops.VecEnv("configs/experiments/tiny-test.json", num_envs=64)
    obs, infos = vec.reset(seed=1)
    obs, rewards, terminated, truncated, masks, infos = vec.step(actions)

Where `gymnasium` is importable, Env is a gymnasium.Env and its spaces are Gymnasium's;
without it the same methods and attributes work duck-typed (eonops.spaces).

An episode is `env.episode_length` decisions of a network that goes on: it ends truncated
(terminated is False; bootstrap from the final observation). A masked (infeasible) action is
accepted by step() and blocks the request, as in the C++ environments; an action outside the
action space raises ValueError.
"""

import numpy as np

from . import _core
from . import config as _config
from . import spaces

try:  # pragma: no cover - depends on the machine
    import gymnasium as _gym
    _EnvBase = _gym.Env
except ImportError:  # pragma: no cover
    _gym = None
    _EnvBase = object

BLOCK_CAUSES = tuple(_core.BLOCK_CAUSES)  # VecEnv infos["block_cause"] indexes this


def _check_seed(seed):
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer, got {type(seed).__name__}")
    seed = int(seed)
    if seed < 0 or seed >= 2**64:
        raise ValueError(f"seed must be in 0..2**64-1, got {seed}")
    return seed


class _Seeding:
    """Gymnasium's seeding contract: reset(seed=s) seeds the episode with s (the same seed as
    the C++ environments take) and reseeds np_random; reset() draws the next seed from
    np_random, so a run started from one seed is reproducible."""

    _np_random = None

    @property
    def np_random(self):
        if self._np_random is None:
            self._np_random = np.random.default_rng()
        return self._np_random

    @np_random.setter
    def np_random(self, value):
        self._np_random = value

    def _episode_seed(self, seed):
        if seed is not None:
            seed = _check_seed(seed)
            if _gym is None or not isinstance(self, _gym.Env):
                self._np_random = np.random.default_rng(seed)
            return seed
        return int(self.np_random.integers(0, 2**63))


class _Twin:
    """What an environment (or each environment of a batch) is: sizes, layout, config."""

    observation_size = property(lambda self: self._c.observation_size)
    num_actions = property(lambda self: self._c.num_actions)
    twin_spec = property(lambda self: self._c.spec, doc="observation layout, action and reward descriptions, config hash")
    config = property(lambda self: self._c.config, doc="the config sections the environment was built from")
    canonical_config = property(lambda self: self._c.canonical_config, doc="every field, defaults included")
    band_names = property(lambda self: self._c.band_names)
    modulation_names = property(lambda self: self._c.modulation_names)
    num_nodes = property(lambda self: self._c.num_nodes)
    topology = property(lambda self: self._c.topology)
    k = property(lambda self: self._c.k)
    num_bands = property(lambda self: self._c.num_bands)
    j_blocks = property(lambda self: self._c.j_blocks)
    episode_length = property(lambda self: self._c.episode_length)


class Env(_Twin, _Seeding, _EnvBase):
    """One environment of the twin. `config`: a file, a dict or a use-case name ("deeprmsa",
    "latency-rsa", "qot-rmbsa", "energy-rmsa"); keyword overrides as in eonops.config.OVERRIDES
    (topology, bands, k, path_order, load, j_blocks, episode_length, ...)."""

    metadata = {"render_modes": []}
    render_mode = None

    def __init__(self, config="deeprmsa", **overrides):
        cfg, origin = _config.resolve(config, overrides)
        self._c = _core.Env(cfg, origin)
        self.observation_space = spaces.observation_box((self._c.observation_size,))
        self.action_space = spaces.Discrete(self._c.num_actions)

    def reset(self, seed=None, options=None):
        """Starts an episode: (observation, info). info["request"] is the request to decide."""
        if _gym is not None and isinstance(self, _gym.Env):
            super().reset(seed=seed)
        if options:
            raise ValueError(f"reset() takes no options, got {sorted(options)}")
        return self._c.reset(self._episode_seed(seed))

    def step(self, action):
        """Decides the current request with `action`: (observation, reward, terminated,
        truncated, info). info: accepted, block_cause, request, decision (None when blocked),
        episode_step, and at the end of an episode episode = {r, l, blocking}."""
        return self._c.step(action)

    def action_masks(self):
        """bool array [num_actions]: True where the action is feasible (MaskablePPO's hook)."""
        return self._c.action_masks()

    def heuristic_action(self, name="ksp-ff"):
        """The action that commits what heuristic `name` (eonops.heuristic_names()) would do
        now: compare against it or warm-start from it."""
        return self._c.heuristic_action(name)

    def current_request(self):
        return self._c.current_request()

    def network_status(self):
        """Active lightpaths, network power, carried traffic and utilisation per band now."""
        return self._c.network_status()

    def close(self):
        pass

    def __repr__(self):
        return (f"<eonops.Env {self.twin_spec['name']} on {self.topology}: "
                f"{self.observation_size} observations, {self.num_actions} actions>")


class VecEnv(_Twin, _Seeding):
    """`num_envs` environments stepped in one call, the GIL released while C++ steps them
    (`threads` worker threads). Environment i is seeded seed + i, and after its k-th episode
    seed + i + num_envs * k, like the C++ VecEnv.

    Arrays come back without a copy: read-only views of the C++ buffers, overwritten by the next
    step or reset (EnvPool-style; pass copy=True for fresh arrays, Gymnasium's default).

    step(actions) -> (obs [N, D] float32, rewards [N] float32, terminated [N] bool,
    truncated [N] bool, masks [N, A] bool, infos). Environments whose episode ended were reset
    automatically, their row holding the new episode's first observation; infos carries
    "final_observation" [N, D] (valid where "_final_observation") and "episode" {r, l, blocking}
    (valid where "_episode"), and per environment the step's decision: accepted, block_cause
    (index into eonops.BLOCK_CAUSES), path_index, band, slot, slots, modulation (indices into
    band_names / modulation_names, -1 when blocked), gsnr_margin_db, latency_us (NaN when
    blocked), incremental_power_w, src, dst, bit_rate_gbps and action_mask.
    """

    def __init__(self, config="deeprmsa", num_envs=64, threads=1, copy=False, **overrides):
        for name, value in (("num_envs", num_envs), ("threads", threads)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
        cfg, origin = _config.resolve(config, overrides)
        self._c = _core.VecEnv(cfg, origin, int(num_envs), int(threads), bool(copy))
        self.num_envs = self._c.num_envs
        self.single_observation_space = spaces.observation_box((self._c.observation_size,))
        self.single_action_space = spaces.Discrete(self._c.num_actions)
        self.observation_space = spaces.observation_box((self.num_envs, self._c.observation_size))
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, self._c.num_actions))

    def reset(self, seed=None, options=None):
        """Resets every environment: (obs [N, D], infos)."""
        if options:
            raise ValueError(f"reset() takes no options, got {sorted(options)}")
        return self._c.reset(self._episode_seed(seed))

    def step(self, actions):
        """Steps every environment with its action (integer array [N]): see the class docstring."""
        return self._c.step(actions)

    def action_masks(self):
        """bool [N, A]: True where the action is feasible."""
        return self._c.action_masks()

    def heuristic_actions(self, name="ksp-ff"):
        """int32 [N]: heuristic `name`'s action in every environment (see Env.heuristic_action)."""
        return self._c.heuristic_actions(name)

    def sample_actions(self, rng=None):
        """A uniformly random feasible action per environment (int32 [N]), drawn with `rng` (a
        NumPy Generator; np_random by default)."""
        rng = self.np_random if rng is None else rng
        masks = self._c.action_masks()
        # Random keys, -1 where masked: the argmax is uniform over each row's feasible actions.
        keys = np.where(masks, rng.random(masks.shape, dtype=np.float32), np.float32(-1.0))
        return keys.argmax(axis=1).astype(np.int32)

    def close(self):
        pass

    def __repr__(self):
        return (f"<eonops.VecEnv {self.num_envs} x {self.twin_spec['name']} on {self.topology}: "
                f"{self.observation_size} observations, {self.num_actions} actions>")


def make(config="deeprmsa", **overrides):
    """An Env from a config file, a dict or a use-case name, with keyword overrides."""
    return Env(config, **overrides)


def make_vec(config="deeprmsa", num_envs=64, threads=1, copy=False, **overrides):
    """A VecEnv (same arguments as make, plus the batch size, worker threads and copy)."""
    return VecEnv(config, num_envs=num_envs, threads=threads, copy=copy, **overrides)
