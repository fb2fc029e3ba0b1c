"""Saturation of parallel and sequential test-time scaling, imperfect verifiers and selection rules.

Modules (one concern each; see docs/saturation.md):

* ``ttspm``         — TTSPM Hit@N, sequential chains (absorbing, with p₀, non-absorbing), marginal gain, N*;
* ``heterogeneous`` — questions with p ~ Beta(α, β): aggregate curve, gain, N*_agg, homogeneous gap;
* ``estimation``    — p̂ and sequential rates from logs, curve fits, observed N*, predicted vs observed;
* ``verifiers``     — imperfect-verifier ceiling, U(K) (exact and notebook form), K_opt, estimation, permutation runs;
* ``budget``        — minimal N for coverage targets (with confidence), doubling gains, OptScale TN budgets;
* ``selection``     — best-of-N, majority vote, Best-of-Majority over attempts with scores; synthetic tasks;
* ``consistency``   — self-consistency error bound and the margin power law;
* ``simulate``      — Monte Carlo of the models (explicit keys, trials sharded over devices);
* ``report``        — the summaries printed by ``scaling-theory saturation fit``;
* ``tables``        — the numbers of ``saturation point | verifier | budget``; ``cli`` — the commands.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = (
    "ttspm",
    "heterogeneous",
    "estimation",
    "verifiers",
    "budget",
    "selection",
    "consistency",
    "simulate",
    "report",
    "tables",
)
# name -> module of this package; everything is imported on first use (PEP 562), so that importing the
# package (or its ``cli``) stays light: ``scaling-theory --help`` must not import JAX.
_EXPORTS: dict[str, str] = {
    "summarise_file": "report",
    "SaturationPoints": "tables",
    "saturation_points": "tables",
    "VerifierSummary": "tables",
    "verifier_summary": "tables",
    "CoverageBudget": "tables",
    "coverage_budget": "tables",
    "as_count": "tables",
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
