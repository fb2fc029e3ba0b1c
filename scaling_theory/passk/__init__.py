"""pass@k and attack-success-rate (ASR@N) estimation and Beta-binomial extrapolation (SABER and beyond).

Public entry points (docs/passk.md), imported lazily so that ``scaling-theory --help`` stays fast:

* :func:`pass_at_k`, :func:`pass_at_k_curve`, :func:`plugin_pass_at_k`, :func:`coverage`,
  :func:`plugin_curve_variance` — estimators;
* :func:`asr_exact`, :func:`asr_leading`, :func:`asr_corrected`, :func:`asr_zero_inflated`,
  :func:`budget_exact` — the Beta law (``beta_law``);
* :func:`fit` (→ :class:`BetaBinomialFit`), :func:`bootstrap_fit` — batched Beta-binomial MLE (``mle``);
* :func:`predict` (→ :class:`Prediction`) — every predictor of :data:`METHODS` behind one call;
  ``method=None`` is :data:`DEFAULT_METHOD` (``predictors``);
* :func:`backtest` (→ :class:`BacktestResult`) — observe n, predict pass@N, compare (``backtesting``);
* :func:`least_squares_exponent`, :func:`distributional_exponent` — exponents of −log pass@k (``exponent``);
* :func:`simulate_counts` — synthetic Beta-binomial counts (``simulate``);
* :func:`read_grouped`, :func:`estimate_table`, :func:`fit_table`, :func:`predict_groups` (→
  :class:`GroupPredictions`) — per-group tables of a log, what the ``passk`` commands print (``summaries``).
"""

from __future__ import annotations

from scaling_theory._lazy import attach
from scaling_theory.passk.methods import DEFAULT_METHOD, METHODS

_EXPORTS: dict[str, str | tuple[str, str]] = {
    "pass_at_k": "estimators",
    "pass_at_k_curve": "estimators",
    "plugin_pass_at_k": "estimators",
    "coverage": "estimators",
    "plugin_curve_variance": "estimators",
    "asr_exact": "beta_law",
    "asr_leading": "beta_law",
    "asr_corrected": "beta_law",
    "asr_zero_inflated": "beta_law",
    "budget_exact": "beta_law",
    "BetaBinomialFit": "mle",
    "fit": "mle",
    "bootstrap_fit": ("mle", "bootstrap"),
    "Prediction": "predictors",
    "predict": "predictors",
    "BacktestResult": "backtesting",
    "backtest": "backtesting",
    "least_squares_exponent": "exponent",
    "distributional_exponent": "exponent",
    "simulate_counts": "simulate",
    "read_grouped": "summaries",
    "estimate_table": "summaries",
    "fit_table": "summaries",
    "GroupPredictions": "summaries",
    "predict_groups": "summaries",
}

__all__ = ["DEFAULT_METHOD", "METHODS", *_EXPORTS]


__getattr__, __dir__ = attach(__name__, _EXPORTS, ())
