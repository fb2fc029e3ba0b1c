"""Scaling-curve fitting: named laws, robust batched multi-start optimisation, honest uncertainty.

>>> from scaling_theory.fitting import fit, bootstrap
>>> res = fit("chinchilla", {"N": N, "D": D}, loss)     # Hoffmann et al.'s recipe, 4,500 starts
>>> draws = bootstrap(jax.random.key(0), res, 200); draws.intervals(0.95)

Modules: :mod:`laws` (named and user-defined laws), :mod:`objectives` (Huber / squared / absolute
losses on log or linear residuals), :mod:`optimize` (batched multi-start L-BFGS), :mod:`fit`,
:mod:`uncertainty` (bootstrap, prediction intervals), :mod:`bayes` (NumPyro posterior),
:mod:`backtest`, :mod:`allocation` (compute-optimal N*, D*), :mod:`data` (curve tables),
:mod:`vpnls` (variable projection), :mod:`approach2` (IsoFLOP parabolas), :mod:`intervals` (residual and
block bootstrap, Student-t intervals), :mod:`speedup` (effective speed-up between pinned-asymptote curves).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from scaling_theory._lazy import attach

# name -> module of this package; imported on first use (PEP 562) so that the CLI's --help stays light
_EXPORTS = {
    "LAWS": "laws",
    "Backtest": "backtest",
    "Band": "uncertainty",
    "ParameterIntervals": "uncertainty",
    "Draws": "uncertainty",
    "FitResult": "fit",
    "LBFGSOptions": "optimize",
    "Law": "laws",
    "Loss": "objectives",
    "backtest": "backtest",
    "backtest_many": "backtest",
    "bootstrap": "uncertainty",
    "bootstrap_many": "uncertainty",
    "chinchilla_grid": "laws",
    "ComputeOptimal": "allocation",
    "compute_optimal": "allocation",
    "custom_law": "laws",
    "fit": "fit",
    "fit_many": "fit",
    "get_law": "laws",
    "minimize_batched": "optimize",
    "Approach2Result": "approach2",
    "approach2": "approach2",
    "block_bootstrap": "intervals",
    "effective_speedup": "speedup",
    "pinned_power_law": "laws",
    "residual_bootstrap": "intervals",
    "t_draws": "intervals",
    "t_intervals": "intervals",
    "t_prediction_interval": "intervals",
    "vpnls": "vpnls",
    "vpnls_many": "vpnls",
    "AllocationTable": "summaries",
    "allocation_table": "summaries",
    "isoflop_budgets": "summaries",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = attach(__name__, _EXPORTS, ())


class _Package(types.ModuleType):
    """Keeps ``fitting.fit`` (and ``backtest``, ``approach2``, ``vpnls``) the function, not its module.

    Importing a submodule binds it on the package; where an exported function has the submodule's name,
    that binding is dropped so the name resolves (through ``__getattr__``) to the function, as when
    this package imported everything eagerly.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
