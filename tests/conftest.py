"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# JAX's persistent compilation cache (scaling_theory.compilation_cache): commands run by the tests in
# subprocesses, and the testbed, write it into the repository's ignored .jax_cache/, not the user's
# ~/.cache (SCALING_THEORY_NO_CACHE=1 turns it off). `main([...])` called in-process never enables it.
os.environ.setdefault("SCALING_THEORY_JAX_CACHE", str(ROOT / ".jax_cache"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def pythia_counts_path() -> Path:
    from scaling_theory.io import data_path

    return data_path("pythia_math_counts.csv")
