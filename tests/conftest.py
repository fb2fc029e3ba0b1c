"""Shared pytest fixtures, the `parity` marker and the reference-implementation import."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]

# `make test-parity` (and .ci/run) set this: a missing reference implementation is then a failure,
# so the parity tests cannot be skipped silently where they are meant to run.
REQUIRE_REFERENCES = os.environ.get("SCALING_THEORY_REQUIRE_REFERENCES", "") not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "parity: compares with a reference implementation from the bench extra (run by `make test-parity`)",
    )


def reference(name: str) -> ModuleType:
    """Import the reference implementation ``name`` (bench extra): skip the test where it is not
    installed, fail where SCALING_THEORY_REQUIRE_REFERENCES is set."""
    if REQUIRE_REFERENCES:
        return importlib.import_module(name)
    return pytest.importorskip(name)


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
