"""PyTorch networks with the C++ learners' architecture and parameter names (agents/model.h), so
that a policy trained in Python exports to an artifact the C++ side serves
(eonops.export_policy), and masked-categorical helpers for masked policy gradients.

    net = ActorCritic(obs_size, num_actions, hidden_sizes=(64, 64), activation="tanh")
    logits, value = net(obs)                      # [B, A], [B]
    dist = masked_categorical(logits, mask)       # infeasible actions get probability 0

Parameter names: actor.fc0.weight, actor.fc0.bias, ..., critic.fc0.weight (unless
shared_trunk), policy_head.weight, value_head.weight, ...; for QNetwork trunk.fc*, then
value_head + advantage_head (dueling) or q_head.
"""

import math

import torch
from torch import nn

# As the C++ learners: a masked logit is finite, so entropies and gradients stay free of NaN.
MASKED_LOGIT = -1e9

_ACTIVATIONS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "elu": nn.functional.elu,
    "leaky_relu": lambda x: nn.functional.leaky_relu(x, 0.01),
}


def _init_linear(layer, orthogonal, gain):
    if orthogonal:
        nn.init.orthogonal_(layer.weight, gain)
        nn.init.zeros_(layer.bias)


class Mlp(nn.Module):
    """Linear layers fc0, fc1, ... each followed by the activation."""

    def __init__(self, in_features, hidden_sizes, activation="tanh", orthogonal_init=True):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got '{activation}'")
        if not hidden_sizes:
            raise ValueError("hidden_sizes needs at least one layer")
        self._act = _ACTIVATIONS[activation]
        self.out_features = in_features
        for i, width in enumerate(hidden_sizes):
            layer = nn.Linear(self.out_features, int(width))
            _init_linear(layer, orthogonal_init, math.sqrt(2.0))
            self.add_module(f"fc{i}", layer)
            self.out_features = int(width)

    def forward(self, x):
        for layer in self.children():
            x = self._act(layer(x))
        return x


class _Architecture:
    def _set_architecture(self, hidden_sizes, activation, shared_trunk, dueling, orthogonal_init):
        self.architecture = {
            "hidden_sizes": [int(h) for h in hidden_sizes],
            "activation": activation,
            "shared_trunk": bool(shared_trunk),
            "dueling": bool(dueling),
            "orthogonal_init": bool(orthogonal_init),
        }


class ActorCritic(nn.Module, _Architecture):
    """The PPO network of agents/model.h: actor and critic MLPs (or one shared trunk), a policy
    head and a value head."""

    algorithm = "ppo"

    def __init__(self, observation_size, num_actions, hidden_sizes=(128, 128), activation="tanh",
                 shared_trunk=False, orthogonal_init=True):
        super().__init__()
        self._set_architecture(hidden_sizes, activation, shared_trunk, True, orthogonal_init)
        self.actor = Mlp(observation_size, hidden_sizes, activation, orthogonal_init)
        self.critic = None if shared_trunk else Mlp(observation_size, hidden_sizes, activation, orthogonal_init)
        width = self.actor.out_features
        self.policy_head = nn.Linear(width, num_actions)
        self.value_head = nn.Linear(width, 1)
        # Small policy-head weights start near-uniform over the feasible actions (as in C++).
        _init_linear(self.policy_head, orthogonal_init, 0.01)
        _init_linear(self.value_head, orthogonal_init, 1.0)

    def forward(self, obs):
        h = self.actor(obs)
        hv = h if self.critic is None else self.critic(obs)
        return self.policy_head(h), self.value_head(hv).squeeze(-1)


class QNetwork(nn.Module, _Architecture):
    """The DQN network of agents/model.h: an MLP trunk, then Q = V + A - mean(A) (dueling) or a
    linear head."""

    algorithm = "dqn"

    def __init__(self, observation_size, num_actions, hidden_sizes=(128, 128), activation="relu",
                 dueling=True, orthogonal_init=True):
        super().__init__()
        self._set_architecture(hidden_sizes, activation, False, dueling, orthogonal_init)
        self.trunk = Mlp(observation_size, hidden_sizes, activation, orthogonal_init)
        width = self.trunk.out_features
        if dueling:
            self.value_head = nn.Linear(width, 1)
            self.advantage_head = nn.Linear(width, num_actions)
        else:
            self.q_head = nn.Linear(width, num_actions)
        self.dueling = dueling

    def forward(self, obs):
        h = self.trunk(obs)
        if not self.dueling:
            return self.q_head(h)
        a = self.advantage_head(h)
        return self.value_head(h) + a - a.mean(dim=-1, keepdim=True)


def masked_categorical(logits, mask):
    """A Categorical over the feasible actions only (mask: bool [B, A], True = feasible). A row
    with nothing feasible is uniform (the environment then blocks whatever is chosen)."""
    mask = torch.as_tensor(mask, dtype=torch.bool, device=logits.device)
    none = ~mask.any(dim=-1, keepdim=True)
    logits = torch.where(mask | none, logits, torch.full_like(logits, MASKED_LOGIT))
    return torch.distributions.Categorical(logits=logits)
