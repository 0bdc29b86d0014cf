#!/usr/bin/env python3
"""Steps per second of the eonops Python API (README, "Python API" figures).

    PYTHONPATH=build/python python3 bench/python/bench_python.py [--seconds 3] [--config deeprmsa]

Measures, by default on bench_twin's environment (the DeepRMSA NSFNET benchmark network, K = 5,
J = 1, reach-based modulation, episodes of 100000 steps, so resets and their 3000 warm-up
requests do not count; --config deeprmsa gives the training config's 1000-step episodes):
  - VecEnv(64), uniformly random feasible actions drawn in NumPy each step (vec.sample_actions),
    one thread and two;
  - a single env.step loop (a feasible action from the mask; and with action_space.sample(mask));
  - eonops.simulate (KSP-FF, one seed of the DeepRMSA benchmark).
Single-threaded figures are per CPU second of this process (time.process_time), so other jobs
on a shared machine do not deflate them; the two-thread figure is per wall-clock second.
Compare with the C++ figures of build/bench/bench_twin --benchmark_filter='EnvStep|VecEnv|Simulate'.
"""

import argparse
import time

import numpy as np

import eonops


def rate(run, seconds, clock):
    """Calls run() (which returns the steps it made) until `seconds` of `clock` have passed."""
    run()  # warm caches
    steps, start = 0, clock()
    while clock() - start < seconds:
        steps += run()
    return steps / (clock() - start)


def bench_twin_config():
    """What bench/twin/env_bench.cc steps (BenchConfig(false))."""
    cfg, _ = eonops.config.load_file("benchmarks/deeprmsa-nsfnet.json")
    return {"network": cfg["network"], "traffic": cfg["traffic"],
            "env": {"use_case": "deeprmsa", "j_blocks": 1, "episode_length": 100000, "warmup": 3000}}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", default=None, help="an experiment file or use case (default: bench_twin's)")
    p.add_argument("--seconds", type=float, default=3.0)
    args = p.parse_args()
    cpu, wall = time.process_time, time.perf_counter
    config = args.config or bench_twin_config()

    for threads, clock, unit in ((1, cpu, "CPU s"), (2, wall, "wall s")):
        vec = eonops.VecEnv(config, num_envs=64, threads=threads)
        vec.reset(seed=1)
        rng = np.random.default_rng(1)

        def batch(vec=vec, rng=rng):
            vec.step(vec.sample_actions(rng))
            return vec.num_envs

        print(f"VecEnv(64), {threads} thread(s), random masked actions: {rate(batch, args.seconds, clock):,.0f} steps/{unit}")

    env = eonops.make(config)
    env.reset(seed=1)

    def single(env=env):
        for _ in range(1000):
            _, _, terminated, truncated, _ = env.step(int(env.action_masks().argmax()))
            if terminated or truncated:
                env.reset()
        return 1000

    print(f"Env.step loop, first feasible action from action_masks(): {rate(single, args.seconds, cpu):,.0f} steps/CPU s")

    def sampled(env=env):
        for _ in range(1000):
            mask = env.action_masks().astype(np.int8)
            _, _, terminated, truncated, _ = env.step(env.action_space.sample(mask=mask))
            if terminated or truncated:
                env.reset()
        return 1000

    print(f"Env.step loop, action_space.sample(mask): {rate(sampled, args.seconds, cpu):,.0f} steps/CPU s")

    start_cpu, start = cpu(), wall()
    r = eonops.simulate("configs/benchmarks/deeprmsa-nsfnet.json", policy="ksp-ff", seeds=1)
    steps = r["scenario"]["measurement"]["warmup"] + r["requests"]
    print(f"simulate(DeepRMSA benchmark, ksp-ff, 1 seed): {steps / (cpu() - start_cpu):,.0f} steps/CPU s "
          f"({wall() - start:.2f} s wall for {steps} requests; blocking {r['blocking_probability']:.4f})")


if __name__ == "__main__":
    main()
