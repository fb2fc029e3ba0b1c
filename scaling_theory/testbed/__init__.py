"""A small Flax NNX transformer on a synthetic verifiable task: empirical curves to test the theory."""

from __future__ import annotations

from scaling_theory._lazy import attach

_SUBMODULES = ("config", "task", "model", "train", "sample", "judge", "flops", "run", "analysis")
# name -> module of this package; everything is imported on first use (PEP 562), so that importing the
# package (or its ``cli``) stays light: ``scaling-theory --help`` must not import JAX.
_EXPORTS: dict[str, str] = {
    "RunConfig": "config",
    "profile_config": "config",
    "run_testbed": "run",
    "load_or_run": "run",
    "read_run": "run",
    "enable_compilation_cache": "run",
}

__all__ = [*_SUBMODULES, *_EXPORTS]


__getattr__, __dir__ = attach(__name__, _EXPORTS, _SUBMODULES)
