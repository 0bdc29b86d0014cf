"""Observation and action spaces: Gymnasium's own when `gymnasium` is importable, else minimal
stand-ins with the same attributes and methods the eonops environments use (shape, dtype, n,
nvec, low, high, sample, contains, seed), so code written against Gymnasium's spaces runs
unchanged on a machine without it (Debian 12 does not package Gymnasium).
"""

import numpy as np

try:  # pragma: no cover - depends on the machine
    import gymnasium.spaces as _gym_spaces
except ImportError:  # pragma: no cover
    _gym_spaces = None

HAVE_GYMNASIUM = _gym_spaces is not None


class Space:
    """Base of the stand-in spaces: a shape, a dtype and a seedable NumPy generator."""

    def __init__(self, shape, dtype, seed=None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self._np_random = None
        if seed is not None:
            self.seed(seed)

    @property
    def np_random(self):
        if self._np_random is None:
            self._np_random = np.random.default_rng()
        return self._np_random

    def seed(self, seed=None):
        self._np_random = np.random.default_rng(seed)
        return [seed]

    def __contains__(self, x):
        return self.contains(x)


class Discrete(Space):
    """{start, ..., start + n - 1}; sample(mask) draws among the actions whose mask is 1."""

    def __init__(self, n, seed=None, start=0):
        super().__init__((), np.int64, seed)
        self.n = int(n)
        self.start = int(start)

    def sample(self, mask=None):
        if mask is None:
            return int(self.start + self.np_random.integers(self.n))
        mask = np.asarray(mask)
        if mask.shape != (self.n,):
            raise ValueError(f"mask must have shape ({self.n},), got {mask.shape}")
        allowed = np.flatnonzero(mask)
        if allowed.size == 0:
            return self.start  # Gymnasium's choice when nothing is allowed
        return int(self.start + self.np_random.choice(allowed))

    def contains(self, x):
        if isinstance(x, (bool, np.bool_)):
            return False
        if isinstance(x, (int, np.integer)):
            v = int(x)
        elif isinstance(x, np.ndarray) and x.shape == () and np.issubdtype(x.dtype, np.integer):
            v = int(x)
        else:
            return False
        return self.start <= v < self.start + self.n

    def __repr__(self):
        return f"Discrete({self.n})"

    def __eq__(self, other):
        return isinstance(other, Discrete) and other.n == self.n and other.start == self.start


class MultiDiscrete(Space):
    """One Discrete per environment of a batch."""

    def __init__(self, nvec, dtype=np.int64, seed=None):
        self.nvec = np.asarray(nvec, dtype=np.int64)
        super().__init__(self.nvec.shape, dtype, seed)

    def sample(self):
        return (self.np_random.random(self.nvec.shape) * self.nvec).astype(self.dtype)

    def contains(self, x):
        x = np.asarray(x)
        return (x.shape == self.shape and np.issubdtype(x.dtype, np.integer)
                and bool(np.all((x >= 0) & (x < self.nvec))))

    def __repr__(self):
        return f"MultiDiscrete({self.nvec})"

    def __eq__(self, other):
        return isinstance(other, MultiDiscrete) and np.array_equal(other.nvec, self.nvec)


class Box(Space):
    """A box in R^shape; sample() is uniform where bounded, normal where unbounded."""

    def __init__(self, low, high, shape=None, dtype=np.float32, seed=None):
        dtype = np.dtype(dtype)
        if shape is None:
            shape = np.shape(low)
        super().__init__(shape, dtype, seed)
        self.low = np.full(self.shape, low, dtype=dtype)
        self.high = np.full(self.shape, high, dtype=dtype)

    def sample(self):
        bounded = np.isfinite(self.low) & np.isfinite(self.high)
        out = self.np_random.normal(size=self.shape)
        u = self.np_random.random(self.shape)
        out = np.where(bounded, self.low + u * (self.high - self.low), out)
        return out.astype(self.dtype)

    def contains(self, x):
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x, dtype=self.dtype)
            except (ValueError, TypeError):
                return False
        return (x.shape == self.shape and np.can_cast(x.dtype, self.dtype)
                and bool(np.all(x >= self.low)) and bool(np.all(x <= self.high)))

    def __repr__(self):
        return f"Box({self.shape}, {self.dtype})"

    def __eq__(self, other):
        return (isinstance(other, Box) and other.shape == self.shape and other.dtype == self.dtype
                and np.array_equal(other.low, self.low) and np.array_equal(other.high, self.high))


if HAVE_GYMNASIUM:  # pragma: no cover - depends on the machine
    Box = _gym_spaces.Box  # noqa: F811
    Discrete = _gym_spaces.Discrete  # noqa: F811
    MultiDiscrete = _gym_spaces.MultiDiscrete  # noqa: F811


def observation_box(shape):
    """The observation space of an eonops environment. Unbounded: most features are in [0, 1],
    but path length, hops, latency ratio, GSNR margin and power ratio are not bounded above (the
    margin can be negative), and a Box must contain every observation."""
    return Box(low=-np.inf, high=np.inf, shape=tuple(shape), dtype=np.float32)
