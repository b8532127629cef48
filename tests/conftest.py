"""Shared fixtures: real run files in temp dirs, the shared public data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PATHSCOPE_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
MATH_COT_100 = SHARED_DATA / "math_cot_samples" / "math_cot_100.jsonl"
BENCHMARKS = SHARED_DATA / "benchmarks"


def require_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared public data not found at {path} (tests that check real data need ../shared beside the checkout)")
    return path


@pytest.fixture
def run_path(tmp_path) -> Path:
    return tmp_path / "run.duckdb"


@pytest.fixture
def new_run(run_path):
    from pathscope import open_run

    run = open_run(run_path)
    yield run
    run.close()


# -- sampling: a tiny random model built once per session (tests/tiny_model.py) --------


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-llama")
