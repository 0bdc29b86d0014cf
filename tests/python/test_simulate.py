"""eonops.simulate returns what `eonops simulate --json` prints for the same arguments."""

import json
import subprocess

import eonops

# Wall-clock figures differ from run to run; everything else must be identical.
TIMING = {"wall_seconds", "steps_per_second"}


def strip_timing(doc):
    doc = json.loads(json.dumps(doc))
    for row in doc.get("results", [doc]):
        for key in TIMING:
            row.pop(key, None)
    return doc


def cli(eonops_cli, *args):
    out = subprocess.run([eonops_cli, "simulate", *args, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_sweep_equals_cli(eonops_cli, tiny_path):
    args = ["--config", tiny_path, "--policies", "sp-ff,ksp-ff", "--loads", "8,14", "--seeds", "2",
            "--requests", "3000", "--warmup", "300", "--batch", "1000", "--threads", "2"]
    expected = cli(eonops_cli, *args)
    got = eonops.simulate(tiny_path, policies=["sp-ff", "ksp-ff"], loads=[8, 14], seeds=2, requests=3000,
                          warmup=300, batch_size=1000, threads=2)
    assert len(got["results"]) == 4
    assert strip_timing(got) == strip_timing(expected)
    assert [r["policy"] for r in got["results"]] == ["sp-ff", "sp-ff", "ksp-ff", "ksp-ff"]


def test_single_point_with_overrides_equals_cli(eonops_cli, tiny_path):
    expected = cli(eonops_cli, "--config", tiny_path, "--policy", "ksp-bf", "--k", "1", "--load", "12",
                   "--requests", "2000", "--seed", "4")
    got = eonops.simulate(tiny_path, policy="ksp-bf", k=1, load=12, requests=2000, seed=4)
    assert "results" not in got
    assert strip_timing(got) == strip_timing(expected)
    assert got["blocking_probability"] > 0 and got["scenario"]["network"]["k_paths"] == 1
