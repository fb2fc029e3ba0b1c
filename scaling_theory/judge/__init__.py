"""LLM-as-a-judge theory: Bayesian linear regression with a reward-weighted (softmax) sampler.

Halder & Pehlevan, "Demystifying LLM-as-a-Judge: Analytically Tractable Model for Inference-Time
Scaling" (arXiv 2512.19905). Modules:

* ``selection``   pointwise error of softmax selection: ``selection_error`` (exact / hte / limit / mc)
* ``expansion``   high-temperature expansion with exact finite-k coefficients
* ``deterministic`` renormalised ridge R, A_R, B_R, the deterministic equivalent
* ``inputs``      quadrature over test inputs of (μ_T, m, s, μ_R)
* ``model``       ``BLRJudge``: error curves and the sharded finite-d simulation (``simulation``)
* ``analysis``    optimal temperature / k, best reward, inference-vs-data slopes, task difficulty
"""

from __future__ import annotations

from scaling_theory._lazy import attach

_SUBMODULES = (
    "selection",
    "expansion",
    "deterministic",
    "inputs",
    "model",
    "simulation",
    "sampling",
    "analysis",
    "quadrature",
    "rng",
    "curves",
)
# name -> module of this package; imported on first use (PEP 562): `scaling-theory --help` must not import JAX
_EXPORTS: dict[str, str] = {
    "BLRJudge": "model",
    "selection_error": "selection",
    "selection_error_mc": "selection",
    "ErrorCurve": "curves",
    "error_curve": "curves",
    "simulated_error_curve": "curves",
}

__all__ = [*_SUBMODULES, *_EXPORTS]


__getattr__, __dir__ = attach(__name__, _EXPORTS, _SUBMODULES)
