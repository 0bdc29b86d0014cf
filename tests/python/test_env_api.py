"""Gymnasium-style semantics of eonops.Env and eonops.VecEnv: spaces, seeding, masks, infos,
heuristic actions, episode ends."""

import numpy as np
import pytest

import eonops
from conftest import tiny_config


def test_spaces_and_sizes_follow_the_layout(tiny_path):
    env = eonops.make(tiny_path)
    spec = env.twin_spec
    assert env.observation_space.shape == (spec["observation_size"],)
    assert env.observation_space.dtype == np.float32
    assert env.action_space.n == spec["num_actions"] == env.num_actions
    # tiny-test: 4 nodes, K = 2 paths, 1 band, J = 2 blocks (+ reject); groups of 2J + 9
    assert env.num_actions == 2 * 1 * 2 + 1
    assert env.observation_size == 2 * 4 + 1 + 2 * 1 * (2 * 2 + 9)
    assert sum(f["size"] for f in spec["observation_layout"]) == env.observation_size
    obs, info = env.reset(seed=1)
    assert obs.dtype == np.float32 and obs in env.observation_space
    assert set(info) >= {"seed", "request"}
    mask = env.action_masks()
    assert mask.dtype == bool and mask.shape == (env.num_actions,)
    a = env.action_space.sample(mask=mask.astype(np.int8))
    assert mask[a]


def test_reset_is_reproducible(tiny_path):
    a, b = eonops.make(tiny_path), eonops.make(tiny_path)
    oa, _ = a.reset(seed=3)
    ob, _ = b.reset(seed=3)
    np.testing.assert_array_equal(oa, ob)
    # reset() without a seed continues from the seeded generator: same sequence in both
    for _ in range(3):
        np.testing.assert_array_equal(a.reset()[0], b.reset()[0])
    oc, _ = a.reset(seed=4)
    assert not np.array_equal(oc, oa)


def test_every_unmasked_action_is_committed(tiny_path):
    """The masked action is never infeasible: each action the mask allows (other than reject)
    is accepted, in every use case."""
    configs = [
        (tiny_path, {}),
        ("latency-rsa", {"topology": "ring4", "slots": 24, "load": 15, "warmup": 100}),
        ("energy-rmsa", {"topology": "ring4", "slots": 24, "load": 20, "warmup": 100}),
        ("qot-rmbsa", {"topology": "ring4", "slots": 24, "load": 40, "warmup": 100}),
    ]
    rng = np.random.default_rng(0)
    for config, overrides in configs:
        env = eonops.make(config, **overrides)
        env.reset(seed=2)
        reject = env.num_actions - 1
        accepted = 0
        for _ in range(600):
            mask = env.action_masks()
            action = int(rng.choice(np.flatnonzero(mask)))
            _, reward, terminated, truncated, info = env.step(action)
            if action == reject:
                assert not mask[:reject].any()  # reject is offered only when nothing else is
                assert not info["accepted"] and info["block_cause"] != "none"
            else:
                assert info["accepted"], (config, action, info)
                accepted += 1
            if terminated or truncated:
                env.reset()
        assert accepted > 300, config


def test_step_info_describes_the_decision(tiny_path):
    env = eonops.make("qot-rmbsa", topology="ring4", slots=24, load=40, warmup=100, j_blocks=1)
    env.reset(seed=1)
    seen = 0
    for _ in range(200):
        mask = env.action_masks()
        action = int(np.flatnonzero(mask)[0])
        request = env.current_request()
        _, reward, _, _, info = env.step(action)
        assert info["request"] == request
        if not info["accepted"]:
            assert info["decision"] is None and info["block_cause"] in eonops.BLOCK_CAUSES[1:]
            continue
        seen += 1
        d = info["decision"]
        assert d["path"][0] == request["src"] and d["path"][-1] == request["dst"]
        assert d["band"] in env.band_names and d["format"] in env.modulation_names
        # action = (path * B + band) * J + block
        assert action // (env.num_bands * env.j_blocks) == d["path_index"]
        assert (action // env.j_blocks) % env.num_bands == d["band_index"]
        assert d["slots"] >= 1 and d["slot"] >= 0
        assert d["gsnr_margin_db"] >= 0  # GSNR-chosen format: never below its threshold
        assert d["latency_us"] > 0 and d["incremental_power_w"] >= 0
        assert info["block_cause"] == "none"
        assert 1.0 <= reward <= 1.5  # 1 + w * min(margin, cap) / cap with w = 0.5
    assert seen > 100
    status = env.network_status()
    assert status["active_lightpaths"] > 0 and len(status["band_utilisation"]) == 3


def test_ksp_ff_heuristic_action_is_the_first_feasible_action(tiny_path):
    """Actions are ordered path, band, block: KSP-FF's choice is the lowest feasible index."""
    env = eonops.make(tiny_path)
    env.reset(seed=9)
    for _ in range(300):
        mask = env.action_masks()
        action = env.heuristic_action("ksp-ff")
        assert action == int(np.flatnonzero(mask)[0])
        env.step(action)
    for name in eonops.heuristic_names():
        assert env.action_masks()[env.heuristic_action(name)], name


def test_episodes_end_truncated_and_step_needs_reset(short_episodes):
    env = eonops.make(short_episodes)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    with pytest.raises(RuntimeError, match="reset"):
        env.action_masks()
    env.reset(seed=1)
    for t in range(40):
        _, _, terminated, truncated, info = env.step(env.heuristic_action())
        assert not terminated
        assert truncated == (t == 39)
    assert info["episode"]["l"] == 40 and 0 <= info["episode"]["blocking"] <= 1
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset()
    env.step(0)


def test_a_request_the_agent_blocks_needlessly_says_so(tiny_path):
    env = eonops.make(tiny_path)
    env.reset(seed=1)
    vec = eonops.VecEnv(tiny_path, num_envs=4)
    vec.reset(seed=1)
    reject = env.num_actions - 1
    assert env.action_masks()[:reject].any() and not env.action_masks()[reject]
    _, reward, _, _, info = env.step(reject)  # masked: blocks although something was feasible
    assert not info["accepted"] and reward == -1.0 and info["block_cause"] == "agent"
    offered = vec.action_masks()[:, reject].copy()  # reject is feasible only when nothing else is
    infos = vec.step(np.full(4, reject))[-1]
    causes = [eonops.BLOCK_CAUSES[c] for c in infos["block_cause"]]
    assert [c == "agent" for c in causes] == [not o for o in offered]


def test_vec_env_arrays_are_zero_copy_views_unless_copy(tiny_path):
    vec = eonops.VecEnv(tiny_path, num_envs=8)
    obs, infos = vec.reset(seed=1)
    assert obs.shape == (8, vec.observation_size) and obs.dtype == np.float32
    assert not obs.flags.writeable and not obs.flags.owndata
    before = obs.copy()
    out = vec.step(vec.sample_actions())
    assert out[0] is obs or np.shares_memory(out[0], obs)  # the same buffer, overwritten
    assert not np.array_equal(before, obs)
    with pytest.raises(ValueError):
        obs[0, 0] = 1.0
    copied = eonops.VecEnv(tiny_path, num_envs=8, copy=True)
    o1, _ = copied.reset(seed=1)
    o2 = copied.step(copied.sample_actions())[0]
    assert o1.flags.writeable and not np.shares_memory(o1, o2)
    np.testing.assert_array_equal(o1, before)
    # a view outlives its VecEnv safely
    del vec, out
    assert np.isfinite(obs).all()


def test_vec_env_infos_and_spaces(tiny_path):
    vec = eonops.make_vec(tiny_path, num_envs=16, threads=2)
    assert vec.single_action_space.n == vec.num_actions
    assert vec.observation_space.shape == (16, vec.observation_size)
    vec.reset(seed=3)
    for _ in range(50):
        actions = vec.sample_actions()
        masks = vec.action_masks()
        assert masks[np.arange(16), actions].all()
        obs, rewards, terminated, truncated, masks, infos = vec.step(actions)
        acc = infos["accepted"]
        assert (infos["path_index"][acc] >= 0).all() and (infos["path_index"][~acc] == -1).all()
        assert (infos["block_cause"][acc] == 0).all() and (infos["block_cause"][~acc] > 0).all()
        assert np.isnan(infos["latency_us"][~acc]).all() and (infos["latency_us"][acc] > 0).all()
        assert (infos["src"] != infos["dst"]).all()
        np.testing.assert_array_equal(rewards[acc], 1.0)
        np.testing.assert_array_equal(rewards[~acc], -1.0)


def test_gymnasium_check_env(tiny_path):
    gymnasium = pytest.importorskip("gymnasium")  # Debian 12 does not package it
    from gymnasium.utils.env_checker import check_env

    env = eonops.make(tiny_path)
    assert isinstance(env, gymnasium.Env)
    check_env(env, skip_render_check=True)


def test_dict_config_and_overrides():
    cfg = tiny_config(j_blocks=1)
    env = eonops.make(cfg, k=1, load=5)
    assert env.num_actions == 1 * 1 * 1 + 1
    assert env.config["traffic"]["load_erlang"] == 5
    assert env.canonical_config["network"]["k_paths"] == 1


def test_heuristic_actions_are_feasible_with_or_without_their_block_on_offer(tiny_path):
    """With block_rules the action set holds best and last fit's exact choices; without, a
    heuristic's action is the nearest offered block on its path and band: feasible either way,
    and accepted whenever the heuristic would accept."""
    exact = eonops.make(tiny_path, block_rules=["first-fit", "best-fit", "last-fit"], j_blocks=3)
    plain = eonops.make(tiny_path)
    for env in (exact, plain):
        env.reset(seed=4)
        reject = env.num_actions - 1
        for t in range(300):
            name = ("ksp-ff", "ksp-bf", "ksp-lf", "mscl-ksp")[t % 4]
            action = env.heuristic_action(name)
            mask = env.action_masks()
            assert mask[action], (name, action, mask)
            _, _, _, _, info = env.step(action)
            assert info["accepted"] == (action != reject)


def test_gymnasium_api_contract(tiny_path):
    """What gymnasium.utils.env_checker.check_env asserts about reset and step, checked here
    too because Debian 12 has no gymnasium (test_gymnasium_check_env runs the real one where
    it is installed)."""
    import inspect

    env = eonops.make(tiny_path)
    params = inspect.signature(env.reset).parameters
    assert params["seed"].default is None and params["options"].default is None
    obs, info = env.reset()
    assert isinstance(info, dict) and obs in env.observation_space
    obs1, _ = env.reset(seed=123)
    state = env.np_random.bit_generator.state
    obs2, _ = env.reset(seed=123)
    np.testing.assert_array_equal(obs1, obs2)
    assert env.np_random.bit_generator.state == state  # same seed, same generator
    env.reset(seed=456)
    assert env.np_random.bit_generator.state != state
    env.reset(options={})
    out = env.step(env.action_space.sample())
    assert isinstance(out, tuple) and len(out) == 5
    obs, reward, terminated, truncated, info = out
    assert obs.dtype == env.observation_space.dtype and obs in env.observation_space
    assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
    assert isinstance(info, dict)
    assert env.action_space.contains(int(env.action_masks().argmax()))
    assert not env.action_space.contains(env.num_actions) and not env.action_space.contains(0.5)
