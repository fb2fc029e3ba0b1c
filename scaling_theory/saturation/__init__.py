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

from scaling_theory._lazy import attach

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


__getattr__, __dir__ = attach(__name__, _EXPORTS, _SUBMODULES)
