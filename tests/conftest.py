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

# The suite compiles hundreds of programs and runs most of them once on small inputs, so XLA's compilation was
# most of its time. Three XLA options compile several times faster: LLVM at optimisation level 0 without its
# expensive passes, and XLA's elemental emitters instead of its MLIR fusion emitters (`auto` on the Pythia table:
# about 3 s of XLA compilation instead of 13-18 s at the defaults and 8 s at level 0 alone). They change the
# generated code, not the operations (no fast-math): results agree with XLA's defaults to rounding, max
# |Δ|/max(|v|, 1) ≤ 3e-14 on the float64 cores checked by experiments/benchmarks/bench_test_flags.py (which prints
# both measurements). Set for this process and the
# commands the tests start (read by the backend at its first use). `make test-slow-only` and `make test-parity`
# (CI) set SCALING_THEORY_TEST_FULL_OPT=1: they run at XLA's defaults, as users' programs do. `make test-py312`
# compiles like `make test`, so that it loads the programs `make test` left in .jax_cache/
# (scaling_theory.compilation_cache: what the cache key holds).
FAST_COMPILE_FLAGS = (
    "--xla_backend_optimization_level=0",
    "--xla_llvm_disable_expensive_passes=true",
    "--xla_cpu_use_fusion_emitters=false",
)
if os.environ.get("SCALING_THEORY_TEST_FULL_OPT", "") in ("", "0"):
    _flags = os.environ.get("XLA_FLAGS", "").split()
    os.environ["XLA_FLAGS"] = " ".join(_flags + [f for f in FAST_COMPILE_FLAGS if f not in _flags])


def _share_compiled_programs() -> None:
    """The tests in this process use the same cache folder, with the same settings as the commands (size limit
    and file lock: ``compilation_cache.enable``), set through ``jax.config`` so that nothing leaks into the
    environment of the commands the tests start: the xdist workers compile many of the same programs, and a
    program one worker compiled is loaded by the other. Programs that compile in under 0.2 s are not kept."""
    import jax  # noqa: F401  (imported first: enable() then configures jax.config, not the environment)

    from scaling_theory.compilation_cache import enable

    enable(0.2, executables=False)


_share_compiled_programs()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def pythia_counts_path() -> Path:
    from scaling_theory.io import data_path

    return data_path("pythia_math_counts.csv")
