"""Shared fixtures of the Python package's tests. ctest sets the paths (tests/python/
CMakeLists.txt); run by hand from the repository root they default to build/."""

import json
import os
import pathlib

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("EONOPS_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = SOURCE_DIR / "build"
TINY = SOURCE_DIR / "configs" / "experiments" / "tiny-test.json"


@pytest.fixture(scope="session")
def source_dir():
    return SOURCE_DIR


@pytest.fixture(scope="session")
def tiny_path():
    return str(TINY)


@pytest.fixture(scope="session")
def eonops_cli():
    path = os.environ.get("EONOPS_CLI", str(BUILD_DIR / "tools" / "eonops"))
    if not os.path.exists(path):
        pytest.fail(f"the eonops CLI is not built at {path}")
    return path


@pytest.fixture(scope="session")
def env_trace():
    path = os.environ.get("EONOPS_ENV_TRACE", str(BUILD_DIR / "tests" / "python" / "python_env_trace"))
    if not os.path.exists(path):
        pytest.fail(f"python_env_trace is not built at {path}")
    return path


def tiny_config(**env):
    """tiny-test.json with some env fields changed (short episodes so that tests see resets)."""
    with open(TINY, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["env"].update(env)
    return cfg


@pytest.fixture
def short_episodes(tmp_path):
    """A tiny-test config file with 40-step episodes and a 50-request warm-up."""
    path = tmp_path / "short.json"
    path.write_text(json.dumps(tiny_config(episode_length=40, warmup=50)))
    return str(path)
