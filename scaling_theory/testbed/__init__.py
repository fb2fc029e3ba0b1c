"""A small Flax NNX transformer on a synthetic verifiable task: empirical curves to test the theory."""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
