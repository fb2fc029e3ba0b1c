"""scaling_theory: analytic and simulated scaling laws of inference-time compute, in JAX.

Areas (each a subpackage, importable on its own):
  passk       pass@k / ASR@N estimation and Beta-binomial extrapolation
  judge       Bayesian linear regression with a reward-weighted sampler (LLM-as-a-judge)
  saturation  saturation of parallel / sequential test-time scaling, verifiers, selection rules
  fitting     scaling-curve fitting with batched multi-start optimisation and uncertainty
  testbed     a small Flax NNX transformer whose sampled curves test the theory
  allocation  compute-optimal test-time compute from logs (across problems and across models)
  report      evaluation logs -> one static HTML report

Everything is imported on first use (PEP 562): ``import scaling_theory`` and ``scaling-theory --help``
do not import JAX.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_AREAS = ("passk", "judge", "saturation", "fitting", "testbed", "allocation", "report")
_FOUNDATION = ("errors", "numerics", "io", "tables", "plotting", "stats", "special", "distributed", "compilation_cache")

__all__ = ["__version__", *_AREAS, *_FOUNDATION]


def __getattr__(name: str) -> Any:
    if name in _AREAS or name in _FOUNDATION:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
