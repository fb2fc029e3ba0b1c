"""Scaling-curve fitting: named laws, robust batched multi-start optimisation, honest uncertainty.

>>> from scaling_theory.fitting import fit, bootstrap
>>> res = fit("chinchilla", {"N": N, "D": D}, loss)     # Hoffmann et al.'s recipe, 4,500 starts
>>> draws = bootstrap(res, 200); draws.intervals(0.95)

Modules: :mod:`laws` (named and user-defined laws), :mod:`objectives` (Huber / squared / absolute
losses on log or linear residuals), :mod:`optimize` (batched multi-start L-BFGS), :mod:`fit`,
:mod:`uncertainty` (bootstrap, prediction intervals), :mod:`bayes` (NumPyro posterior),
:mod:`backtest`, :mod:`allocation` (compute-optimal N*, D*), :mod:`data` (curve tables),
:mod:`vpnls` (variable projection), :mod:`approach2` (IsoFLOP parabolas), :mod:`intervals` (residual and
block bootstrap, Student-t intervals), :mod:`speedup` (effective speed-up between pinned-asymptote curves).
"""

from scaling_theory.fitting.allocation import compute_optimal
from scaling_theory.fitting.approach2 import Approach2Result, approach2
from scaling_theory.fitting.backtest import Backtest, backtest, backtest_many
from scaling_theory.fitting.fit import FitResult, fit, fit_many
from scaling_theory.fitting.intervals import (
    block_bootstrap,
    residual_bootstrap,
    t_draws,
    t_intervals,
    t_prediction_interval,
)
from scaling_theory.fitting.laws import LAWS, Law, chinchilla_grid, custom_law, get_law, pinned_power_law
from scaling_theory.fitting.objectives import Loss
from scaling_theory.fitting.optimize import LBFGSOptions, minimize_batched
from scaling_theory.fitting.speedup import effective_speedup
from scaling_theory.fitting.uncertainty import Draws, bootstrap, bootstrap_many
from scaling_theory.fitting.vpnls import vpnls, vpnls_many

__all__ = [
    "LAWS",
    "Backtest",
    "Draws",
    "FitResult",
    "LBFGSOptions",
    "Law",
    "Loss",
    "backtest",
    "backtest_many",
    "bootstrap",
    "bootstrap_many",
    "chinchilla_grid",
    "compute_optimal",
    "custom_law",
    "fit",
    "fit_many",
    "get_law",
    "minimize_batched",
    "Approach2Result",
    "approach2",
    "block_bootstrap",
    "effective_speedup",
    "pinned_power_law",
    "residual_bootstrap",
    "t_draws",
    "t_intervals",
    "t_prediction_interval",
    "vpnls",
    "vpnls_many",
]
