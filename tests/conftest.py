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
# ~/.cache (SCALING_THEORY_NO_CACHE=1 turns it off). `main([...])` called in-process never enables it itself;
# the tests in this process share the folder too (below).
os.environ.setdefault("SCALING_THEORY_JAX_CACHE", str(ROOT / ".jax_cache"))


def _share_compiled_programs() -> None:
    """The tests in this process use the same cache folder (through ``jax.config``, so nothing leaks into the
    environment of the commands the tests start): the xdist workers compile many of the same programs, and
    a program one worker compiled is loaded by the other. Programs that compile in under 0.2 s are not kept."""
    if os.environ.get("SCALING_THEORY_NO_CACHE", "") not in ("", "0"):
        return
    import jax

    if jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir", os.environ["SCALING_THEORY_JAX_CACHE"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


_share_compiled_programs()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def pythia_counts_path() -> Path:
    from scaling_theory.io import data_path

    return data_path("pythia_math_counts.csv")
