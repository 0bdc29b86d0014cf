"""The Python environments against the C++ ones (python_env_trace, which runs twin::RsaEnv and
twin::VecEnv directly): the same seed and actions give the same observations, masks, rewards,
episode ends and acceptances, step by step, including automatic resets."""

import subprocess

import numpy as np

import eonops


def rule_action(t, i, mask):
    feasible = np.flatnonzero(mask)
    return int(feasible[(7 * t + 3 * i + 3) % len(feasible)])


def read_trace(prefix, steps, n, d, a):
    rows = steps + 1
    return {
        "obs": np.fromfile(prefix + ".obs", dtype=np.float32).reshape(rows, n, d),
        "mask": np.fromfile(prefix + ".mask", dtype=np.uint8).reshape(rows, n, a).astype(bool),
        "reward": np.fromfile(prefix + ".reward", dtype=np.float32).reshape(steps, n),
        "done": np.fromfile(prefix + ".done", dtype=np.uint8).reshape(steps, n).astype(bool),
        "accepted": np.fromfile(prefix + ".accepted", dtype=np.uint8).reshape(steps, n).astype(bool),
        "action": np.fromfile(prefix + ".action", dtype=np.int32).reshape(steps, n),
    }


def test_env_matches_cpp_step_by_step(short_episodes, env_trace, tmp_path):
    steps, seed = 130, 7
    prefix = str(tmp_path / "single")
    subprocess.run([env_trace, short_episodes, str(seed), str(steps), prefix], check=True)
    env = eonops.make(short_episodes)
    d, a = env.observation_size, env.num_actions
    ref = read_trace(prefix, steps, 1, d, a)

    obs, info = env.reset(seed=seed)
    assert info["seed"] == seed
    np.testing.assert_array_equal(obs, ref["obs"][0, 0])
    np.testing.assert_array_equal(env.action_masks(), ref["mask"][0, 0])
    episode_seed, ends = seed, 0
    for t in range(steps):
        action = rule_action(t, 0, env.action_masks())
        assert action == ref["action"][t, 0]
        obs, reward, terminated, truncated, info = env.step(action)
        np.testing.assert_array_equal(obs, ref["obs"][t + 1, 0], err_msg=f"step {t}")
        np.testing.assert_array_equal(env.action_masks(), ref["mask"][t + 1, 0], err_msg=f"step {t}")
        assert np.float32(reward) == ref["reward"][t, 0], t
        assert (terminated or truncated) == ref["done"][t, 0], t
        assert info["accepted"] == ref["accepted"][t, 0], t
        if terminated or truncated:
            ends += 1
            assert truncated and not terminated  # the network goes on: a step-count end
            assert info["episode"]["l"] == env.episode_length
            episode_seed += 1
            env.reset(seed=episode_seed)
    assert ends == steps // 40


def test_vec_env_matches_cpp_with_autoreset(short_episodes, env_trace, tmp_path):
    steps, seed, n = 100, 11, 5
    prefix = str(tmp_path / "vec")
    subprocess.run([env_trace, short_episodes, str(seed), str(steps), prefix, str(n)], check=True)
    for threads in (1, 2):  # worker threads change nothing
        vec = eonops.VecEnv(short_episodes, num_envs=n, threads=threads)
        d, a = vec.observation_size, vec.num_actions
        ref = read_trace(prefix, steps, n, d, a)
        obs, infos = vec.reset(seed=seed)
        np.testing.assert_array_equal(obs, ref["obs"][0])
        np.testing.assert_array_equal(vec.action_masks(), ref["mask"][0])
        for t in range(steps):
            masks = vec.action_masks()
            actions = np.array([rule_action(t, i, masks[i]) for i in range(n)], dtype=np.int32)
            np.testing.assert_array_equal(actions, ref["action"][t])
            obs, rewards, terminated, truncated, masks, infos = vec.step(actions)
            np.testing.assert_array_equal(obs, ref["obs"][t + 1], err_msg=f"step {t}")
            np.testing.assert_array_equal(masks, ref["mask"][t + 1], err_msg=f"step {t}")
            np.testing.assert_array_equal(rewards, ref["reward"][t])
            np.testing.assert_array_equal(truncated, ref["done"][t])
            assert not terminated.any()
            np.testing.assert_array_equal(infos["accepted"], ref["accepted"][t])
            np.testing.assert_array_equal(infos["_final_observation"], ref["done"][t])
            np.testing.assert_array_equal(infos["_episode"], ref["done"][t])
        assert ref["done"].sum() == n * (steps // 40)


def test_vec_env_final_observation_is_the_ended_episodes(short_episodes):
    """The row of an environment whose episode ended holds the next episode's first
    observation; infos["final_observation"] holds what the ended episode saw last, which is
    what a single environment stepped the same way returns."""
    n, seed = 3, 5
    vec = eonops.VecEnv(short_episodes, num_envs=n, copy=True)
    singles = [eonops.make(short_episodes) for _ in range(n)]
    vec.reset(seed=seed)
    for i, env in enumerate(singles):
        env.reset(seed=seed + i)
    for t in range(40):
        actions = np.array([env.heuristic_action("ksp-ff") for env in singles], dtype=np.int32)
        np.testing.assert_array_equal(actions, vec.heuristic_actions("ksp-ff"))
        obs, rewards, terminated, truncated, masks, infos = vec.step(actions)
        outs = [env.step(int(x)) for env, x in zip(singles, actions)]
        for i, out in enumerate(outs):
            assert np.float32(out[1]) == rewards[i]
            if t < 39:
                np.testing.assert_array_equal(obs[i], out[0])
            else:
                assert out[3] and truncated[i]
                np.testing.assert_array_equal(infos["final_observation"][i], out[0])
                assert infos["episode"]["l"][i] == 40
                assert infos["episode"]["r"][i] == out[4]["episode"]["r"]
                assert infos["episode"]["blocking"][i] == out[4]["episode"]["blocking"]
                # the new episode (seed + i + n) starts where a fresh reset with that seed does
                first, _ = singles[i].reset(seed=seed + i + n)
                np.testing.assert_array_equal(obs[i], first)
