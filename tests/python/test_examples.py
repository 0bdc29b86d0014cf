"""The examples in examples/python run (short settings): the masked PPO trains, exports a policy
the C++ loader takes, and the plotting script writes its figure."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")


def run(source_dir, *args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, *args], cwd=source_dir, env=env, capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_ppo_example_trains_and_exports(source_dir, tmp_path):
    out = run(source_dir, "examples/python/ppo_masked.py", "--steps", "4096", "--eval-steps", "1024",
              "--out", str(tmp_path / "policy"))
    assert "policy written to" in out and "simulator:" in out
    assert (tmp_path / "policy" / "manifest.json").exists()


def test_plot_example_writes_a_figure(source_dir, tmp_path):
    png = tmp_path / "fig.png"
    out = run(source_dir, "examples/python/blocking_vs_load.py", "--config", "configs/experiments/tiny-test.json",
              "--loads", "8,12", "--seeds", "2", "--requests", "2000", "--out", str(png))
    assert png.stat().st_size > 10_000 and (tmp_path / "fig.csv").exists()
    assert "ksp-ff" in out
