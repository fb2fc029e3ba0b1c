"""Compute-optimal test-time compute from logs: where the next sample, and the next FLOP, should go.

Across problems (spec difficulty_and_allocation.md §4): per-problem posteriors (``posteriors``: Beta from the
pilot counts via ``passk.mle``, or any grid posterior ``(theta_J, log_post_GxKxJ)``), marginal-gain tables for
coverage / pass / estimation objectives (``gains``), policies (``policies``: uniform, Snell et al.'s binned rule,
greedy, Lagrangian; ``sequential``: rounds with stopping), and exact back-tests on logs (``backtest``).
Across models (§5): cost models (``costs``: dense 2·params·tokens, Kinetics' memory-aware eFLOPs, Pythia shapes)
and the coverage-vs-compute frontier with bootstrap intervals (``frontier``). docs/allocation.md has the tour.
"""

from __future__ import annotations

from scaling_theory._lazy import attach

_EXPORTS = {
    "BetaPosterior": "posteriors",
    "GridPosterior": "posteriors",
    "beta_posterior": "posteriors",
    "grid_posterior": "posteriors",
    "beta_posteriors": "posteriors",
    "mixing_posteriors": "posteriors",
    "difficulty_posteriors": "posteriors",
    "discretise_beta": "posteriors",
    "GainTable": "gains",
    "gain_table": "gains",
    "values": "gains",
    "Allocation": "policies",
    "uniform": "policies",
    "greedy": "policies",
    "lagrangian": "policies",
    "binned": "policies",
    "posterior_first_success": "sequential",
    "AllocationBacktest": "backtest",
    "allocate": "api",
    "allocate_grid": "api",
    "Frontier": "frontier",
    "dense_flops": "costs",
    "kinetics_eflops": "costs",
    "pythia_shapes": "costs",
    "stack_counts": "tables",
    "plan_records": "tables",
    "frontier_budgets": "tables",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = attach(__name__, _EXPORTS, ())
