#!/usr/bin/env python3
"""Masked PPO in plain PyTorch on eonops.VecEnv, exported so the C++ side can serve it.

    PYTHONPATH=build/python python3 examples/python/ppo_masked.py \
        --config configs/experiments/tiny-test.json --steps 200000 --out out/python-ppo

What it does: CleanRL-style PPO (clipped objective, GAE, value clipping, advantage
normalisation, annealed learning rate) over a batch of twin environments, with infeasible
actions masked out of the categorical (eonops.nn.masked_categorical) and observations
normalised by the same running normaliser the C++ trainer uses (eonops.ObservationNormalizer).
Episodes end truncated (the network goes on), so the value of the final observation is
bootstrapped. At the end it compares the greedy policy with KSP-FF and with uniformly random
feasible actions on the same seeds, writes the policy artifact (manifest.json + weights.pt) to
--out, and checks it with the twin's simulator beside KSP-FF.

Serve the result with:
    build/tools/eonops pce serve --config <pce config of the same network> --policy-dir out/python-ppo
"""

import argparse
import time

import numpy as np
import torch

import eonops
from eonops import nn as enn


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="configs/experiments/tiny-test.json")
    p.add_argument("--steps", type=int, default=200_000, help="environment steps, all environments together")
    p.add_argument("--envs", type=int, default=16)
    p.add_argument("--rollout", type=int, default=64, help="steps per environment between updates")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--minibatches", type=int, default=4)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--clip", type=float, default=0.2)
    p.add_argument("--entropy", type=float, default=0.0)
    p.add_argument("--hidden", type=int, nargs="+", default=[32, 32])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-steps", type=int, default=20_000, help="decisions per policy in the comparison")
    p.add_argument("--out", default="out/python-ppo", help="policy artifact directory")
    return p.parse_args()


def evaluate(config, act, steps, seed, num_envs=16):
    """Blocking of `act(vec, obs) -> actions` over `steps` decisions (fresh envs, fixed seed)."""
    vec = eonops.VecEnv(config, num_envs=num_envs)
    obs, _ = vec.reset(seed=seed)
    accepted = 0
    rounds = steps // num_envs
    for _ in range(rounds):
        obs, _, _, _, _, infos = vec.step(act(vec, obs))
        accepted += int(infos["accepted"].sum())
    return 1.0 - accepted / (rounds * num_envs)


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    vec = eonops.VecEnv(args.config, num_envs=args.envs, copy=True)
    n, d, a = vec.num_envs, vec.observation_size, vec.num_actions
    net = enn.ActorCritic(d, a, hidden_sizes=args.hidden)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, eps=1e-5)
    norm = eonops.ObservationNormalizer(d)

    T = args.rollout
    obs_buf = np.zeros((T, n, d), np.float32)
    mask_buf = np.zeros((T, n, a), bool)
    act_buf = np.zeros((T, n), np.int64)
    logp_buf = np.zeros((T, n), np.float32)
    val_buf = np.zeros((T, n), np.float32)
    rew_buf = np.zeros((T, n), np.float32)
    end_buf = np.zeros((T, n), bool)

    obs, _ = vec.reset(seed=args.seed)
    masks = vec.action_masks()
    updates = max(1, args.steps // (T * n))
    start, done_steps, recent = time.time(), 0, []
    for update in range(updates):
        for g in opt.param_groups:  # linear annealing to 0
            g["lr"] = args.lr * (1.0 - update / updates)
        for t in range(T):
            norm.update(obs)
            x = norm.normalize(obs)
            with torch.no_grad():
                logits, value = net(torch.as_tensor(x))
                dist = enn.masked_categorical(logits, masks)
                action = dist.sample()
            obs_buf[t], mask_buf[t] = x, masks
            act_buf[t], logp_buf[t], val_buf[t] = action.numpy(), dist.log_prob(action).numpy(), value.numpy()
            obs, rewards, terminated, truncated, masks, infos = vec.step(action.numpy().astype(np.int32))
            rew_buf[t] = rewards
            end_buf[t] = terminated | truncated
            if truncated.any():
                # The episode was cut, not finished: bootstrap from its final observation.
                final = norm.normalize(infos["final_observation"][truncated])
                with torch.no_grad():
                    rew_buf[t, truncated] += args.gamma * net(torch.as_tensor(final))[1].numpy()
            if infos["_episode"].any():
                recent.extend(infos["episode"]["blocking"][infos["_episode"]].tolist())
        done_steps += T * n

        with torch.no_grad():
            next_value = net(torch.as_tensor(norm.normalize(obs)))[1].numpy()
        adv = np.zeros((T, n), np.float32)
        last = np.zeros(n, np.float32)
        for t in reversed(range(T)):
            nv = next_value if t == T - 1 else val_buf[t + 1]
            live = 1.0 - end_buf[t]
            delta = rew_buf[t] + args.gamma * nv * live - val_buf[t]
            last = delta + args.gamma * args.gae_lambda * live * last
            adv[t] = last
        ret = adv + val_buf

        b_obs = torch.as_tensor(obs_buf.reshape(T * n, d))
        b_mask = torch.as_tensor(mask_buf.reshape(T * n, a))
        b_act = torch.as_tensor(act_buf.reshape(-1))
        b_logp = torch.as_tensor(logp_buf.reshape(-1))
        b_adv = torch.as_tensor(adv.reshape(-1))
        b_ret = torch.as_tensor(ret.reshape(-1))
        b_val = torch.as_tensor(val_buf.reshape(-1))
        size = T * n // args.minibatches
        for _ in range(args.epochs):
            order = torch.as_tensor(rng.permutation(T * n))
            for k in range(args.minibatches):
                idx = order[k * size:(k + 1) * size]
                logits, value = net(b_obs[idx])
                dist = enn.masked_categorical(logits, b_mask[idx])
                ratio = (dist.log_prob(b_act[idx]) - b_logp[idx]).exp()
                mb_adv = (b_adv[idx] - b_adv[idx].mean()) / (b_adv[idx].std() + 1e-8)
                pg = torch.max(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - args.clip, 1 + args.clip)).mean()
                v_clipped = b_val[idx] + (value - b_val[idx]).clamp(-args.clip, args.clip)
                v_loss = 0.5 * torch.max((value - b_ret[idx]) ** 2, (v_clipped - b_ret[idx]) ** 2).mean()
                loss = pg + 0.5 * v_loss - args.entropy * dist.entropy().mean()
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
                opt.step()
        if update % max(1, updates // 10) == 0 or update == updates - 1:
            window = recent[-50:]
            print(f"{done_steps:>9} steps  {done_steps / (time.time() - start):>7.0f} steps/s  "
                  f"episode blocking {np.mean(window) if window else float('nan'):.4f}", flush=True)
    train_s = time.time() - start

    policy = eonops.export_policy(net, args.out, vec, normalizer=norm, steps=done_steps, seed=args.seed,
                                  experiment="examples/python/ppo_masked.py")
    print(f"trained {done_steps} steps in {train_s:.1f} s; policy written to {args.out}")

    # The same decisions counted for three policies on the same seeds.
    eval_seed = 10_000 + args.seed
    ppo = evaluate(args.config, lambda v, o: policy.act(o, v.action_masks()), args.eval_steps, eval_seed)
    ksp = evaluate(args.config, lambda v, o: v.heuristic_actions("ksp-ff"), args.eval_steps, eval_seed)
    rnd_rng = np.random.default_rng(eval_seed)
    rnd = evaluate(args.config, lambda v, o: v.sample_actions(rnd_rng), args.eval_steps, eval_seed)
    print(f"blocking over {args.eval_steps} decisions: PPO {ppo:.4f}  KSP-FF {ksp:.4f}  random feasible {rnd:.4f}")
    # And through the twin's simulator, as `eonops evaluate` measures it.
    sim = eonops.simulate(policies=[policy, "ksp-ff"], seeds=3, threads=2)
    for row in sim["results"]:
        print(f"simulator: {row['policy']:>7} blocking {row['blocking_probability']:.4f} "
              f"+- {row['blocking_ci95']:.4f}")


if __name__ == "__main__":
    main()
