#!/usr/bin/env python3
"""Blocking probability against offered load for the heuristics and (optionally) a trained
policy, with 95% confidence intervals, plotted with matplotlib. Notebook-style: the `# %%`
cells run one by one in VS Code / Jupyter (jupytext percent format), or as a script:

    PYTHONPATH=build/python python3 examples/python/blocking_vs_load.py \
        --config configs/benchmarks/deeprmsa-nsfnet.json --loads 150:350:50 --seeds 3 \
        --out out/blocking_vs_load.png
    PYTHONPATH=build/python python3 examples/python/blocking_vs_load.py \
        --policy-dir out/python-ppo --loads 6:16:2 --out out/tiny_blocking.png

Every point is eonops.simulate (the twin's simulator, the numbers `eonops simulate` prints);
a policy is asked like a heuristic, on the same seeds, on the network it was trained on.
"""

# %% Settings
import argparse
import csv
import os

import matplotlib

matplotlib.use("Agg")  # files, no display needed
import matplotlib.pyplot as plt  # noqa: E402

import eonops  # noqa: E402

p = argparse.ArgumentParser(description="blocking vs load for heuristics and a policy")
p.add_argument("--config", default=None, help="scenario file (default: the policy's, else the DeepRMSA benchmark)")
p.add_argument("--policies", default="sp-ff,ksp-ff,ksp-bf", help="heuristics, comma-separated")
p.add_argument("--policy-dir", default=None, help="a trained policy artifact to plot beside them")
p.add_argument("--loads", default="150:350:50", help="FROM:TO:STEP or a comma list (Erlang)")
p.add_argument("--seeds", type=int, default=3)
p.add_argument("--requests", type=int, default=None, help="counted requests per run (default: the config's)")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--out", default="out/blocking_vs_load.png")
args = p.parse_args()


def parse_loads(text):
    if ":" in text:
        start, stop, step = (float(x) for x in text.split(":"))
        n = int(round((stop - start) / step)) + 1
        return [start + i * step for i in range(n)]
    return [float(x) for x in text.split(",")]


loads = parse_loads(args.loads)
policies = [x for x in args.policies.split(",") if x]
if args.policy_dir:
    policies.append(eonops.Policy.load(args.policy_dir))
config = args.config or (None if args.policy_dir else "configs/benchmarks/deeprmsa-nsfnet.json")

# %% Simulate every (policy, load) on the same seeds
result = eonops.simulate(config, policies=policies, loads=loads, seeds=args.seeds, threads=args.threads,
                         requests=args.requests)
rows = result.get("results", [result])
scenario = result["scenario"]
curves = {}
for row in rows:
    curves.setdefault(row["policy"], []).append(row)

# %% Plot: blocking (log scale) with 95% CIs across seeds
fig, ax = plt.subplots(figsize=(6.4, 4.2))
for name, points in curves.items():
    x = [r["load_erlang"] for r in points]
    y = [r["blocking_probability"] for r in points]
    ci = [r["blocking_ci95"] or 0.0 for r in points]
    ax.errorbar(x, y, yerr=ci, marker="o", capsize=3, label=name)
net = scenario["network"]
ax.set_xlabel("offered load (Erlang)")
ax.set_ylabel("blocking probability")
ax.set_yscale("log")
ax.set_title(f"{net['topology']}, bands {','.join(net['bands'])}, K={net['k_paths']} by {net['path_order']}, "
             f"{args.seeds} seeds", fontsize=9)
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
fig.savefig(args.out, dpi=120)

# %% The numbers behind the plot
table = os.path.splitext(args.out)[0] + ".csv"
with open(table, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["policy", "load_erlang", "blocking_probability", "blocking_ci95", "bit_rate_blocking", "seeds"])
    for row in rows:
        w.writerow([row["policy"], row["load_erlang"], row["blocking_probability"], row["blocking_ci95"],
                    row["bit_rate_blocking"], row["seeds"]])
for row in rows:
    print(f"{row['policy']:>8} {row['load_erlang']:>7.1f} E  blocking {row['blocking_probability']:.4f} "
          f"+- {row['blocking_ci95'] or 0:.4f}")
print(f"wrote {args.out} and {table}")
