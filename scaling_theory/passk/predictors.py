"""Predictors of ASR@N / pass@N at budgets N (often N ≫ n) from per-problem counts, with 90% intervals.

One entry point, :func:`predict` (``method=None`` → :data:`DEFAULT_METHOD`). Every method returns
``asr, lower, upper`` per budget and, where it has them, the fitted ``alpha, beta`` (and ``pi``).
The prediction target is the pass@N of the *observed* problems (what a back-test compares with);
``plugin*`` methods estimate the population law instead (see the per-method notes).

Methods (spec §2.3; notation: problem i has k_i successes in n_i attempts, K problems, α̂, β̂, π̂ the
Beta-binomial MLE of :mod:`.mle`, S(a, b, N) = B(a, b+N)/B(a, b)):

=================  ==========================================================================  =======================
method             point estimate                                                               90% interval
=================  ==========================================================================  =======================
naive              SABER Eq. 15: mean_i 1 − (1 − k_i/n_i)^N                                      bootstrap over problems
combinatorial      Chen: mean_i 1 − C(n_i−k_i, N)/C(n_i, N) (N ≤ min n_i)                       bootstrap over problems
fit                SABER-Fit / Hughes: exp(−a N^{−b}) from a weighted log-log fit of Chen       bootstrap over problems
                   ASR@m, m = 5, 5+gap, … < min n_i (SABER's grid and 1/m weights)
anchored           SABER Eq. 12: 1 − mean_i 1(k_i = 0)(n_i/N)^α̂ (= 1 − (1−ASR@n)(n/N)^α̂       SABER Eq. 14: Wald α̂ ± z·SE
                   for equal n_i)                                                                through Eq. 12
plugin             exact Beta law 1 − S(α̂, β̂, N) (population ASR@N)                             delta method, logit scale
plugin_leading     SABER Eq. 11 / 8: 1 − Γ(α̂+β̂)/Γ(β̂) N^{−α̂}, clipped to [0, 1]                delta method, logit scale
plugin_corrected   SABER Eq. 56: N → N + β̂ + (α̂−1)/2, clipped to [0, 1]                         delta method, logit scale
plugin_zi          zero-inflated law (1 − π̂)(1 − S(α̂, β̂, N))                                   delta method, logit scale
eb                 empirical-Bayes posterior predictive of the observed problems:               delta method ⊕ posterior
                   1 − mean_i S(α̂+k_i, β̂+n_i−k_i, N) — the exact-Beta version of anchored       variance of the θ_i
eb_zi              as eb under the zero-inflated fit (a zero-success problem is "never" with    as eb
                   posterior probability π̂/(π̂ + (1−π̂)S(α̂, β̂, n_i)))
bayes              NumPyro NUTS posterior of (α, β), posterior predictive of the observed       posterior quantiles
                   problems (:mod:`.bayes`)
=================  ==========================================================================  =======================

How ``eb`` relates to anchored: both estimate E[ASR@N of the observed problems | data]. A problem
with no success in n attempts has posterior Beta(α, β+n) and E[(1−θ)^N | k = 0] = S(α, β+n, N); anchored
replaces the whole zero-success part by (1 − ASR@n)·(n/N)^α (the leading-order ratio of population
survivals, biased when β is not ≪ n) and counts every solved problem as solved at N. ``eb`` is the
exact-Beta conditional expectation (the Bayes posterior mean given α̂, β̂). ``anchored`` at N = n
returns the observed coverage ASR@n exactly; ``eb`` at N = n does not (a problem unsolved in n
attempts still has a positive chance of being solved in n fresh ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from scaling_theory.compilation_cache import persistent_jit
from scaling_theory.errors import InputError
from scaling_theory.numerics import check, pad_to_multiple, x64
from scaling_theory.passk import mle
from scaling_theory.passk.beta_law import log_leading_constant
from scaling_theory.passk.estimators import _pass_at_k, log_no_success_upto
from scaling_theory.passk.methods import (
    BOOTSTRAP_METHODS,
    DEFAULT_METHOD,
    METHODS,
    MIXING_METHODS,
    TAIL_METHODS,
    ZI_METHODS,
)
from scaling_theory.results import Result
from scaling_theory.special import log_beta_ratio
from scaling_theory.stats import bootstrap_means, weighted_loglog_fit

__all__ = [
    "BOOTSTRAP_METHODS",
    "DEFAULT_METHOD",
    "METHODS",
    "MIXING_METHODS",
    "TAIL_METHODS",
    "ZI_METHODS",
    "Prediction",
    "predict",
]


@dataclass(frozen=True)
class Prediction(Result):
    """Predicted ASR@N per budget: arrays of shape ``batch + (len(budgets),)``; ``level`` is the interval's coverage.

    ``alpha``/``beta``/``pi`` (batch shape) are None for methods without a Beta law.
    """

    method: str
    budgets: np.ndarray
    asr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    alpha: np.ndarray | None = None
    beta: np.ndarray | None = None
    pi: np.ndarray | None = None
    level: float = 0.9
    extra: dict = field(default_factory=dict)

    def rows(self, group: dict | None = None) -> list[dict[str, Any]]:
        """One dict per (group, budget): the CLI's ``predict --json`` objects.

        Args:
          group: the labels of a single group (1-D ``asr``), copied into every row's ``group``; for a batch of
            groups (``asr`` of shape ``batch + (B,)``) each row's ``group`` is ``{"group": i}``, i the flat
            position of the group over the batch axes (C order).
        Returns:
          A list of dicts ``group, method, budget, asr, lower, upper, alpha, beta`` (group-major).
        """
        asr = np.asarray(self.asr)
        if asr.ndim != 1 and group is not None:
            raise ValueError("rows(group) needs a single group (1-D asr)")
        nb = np.shape(self.budgets)[0]
        flat = [np.reshape(x, (-1, nb)) for x in (asr, self.lower, self.upper)]
        pars = [None if p is None else np.reshape(p, (-1,)) for p in (self.alpha, self.beta)]
        out = []
        for g in range(flat[0].shape[0]):
            labels = dict(group or {}) if asr.ndim == 1 else {"group": g}
            for j, budget in enumerate(self.budgets):
                out.append(
                    {
                        "group": dict(labels),
                        "method": self.method,
                        "budget": _int_or_float(budget),
                        "asr": float(flat[0][g, j]),
                        "lower": float(flat[1][g, j]),
                        "upper": float(flat[2][g, j]),
                        "alpha": None if pars[0] is None else float(pars[0][g]),
                        "beta": None if pars[1] is None else float(pars[1][g]),
                    }
                )
        return out


def _int_or_float(x: Any) -> int | float:
    x = float(x)
    return int(x) if x.is_integer() else x


def z_value(level: float) -> float:
    """Two-sided normal quantile: z with P(|Z| ≤ z) = level (1.6449 for 90%)."""
    from statistics import NormalDist

    return float(NormalDist().inv_cdf(0.5 + level / 2.0))


# ------------------------------------------------------------------------------ model-free


def _masked_mean(x, m):
    """Mean over the problem axis (-2 of x when x has a budget axis last) with mask m (..., K)."""
    return jnp.sum(x * m[..., :, None], axis=-2) / jnp.sum(m, axis=-1)[..., None]


def naive_per_problem_surv(n, c, budgets):
    """(1 − k_i/n_i)^N per problem and budget: (G, K) → (G, K, B)."""
    p = (c / n)[..., None]
    surv = jnp.where(p >= 1.0, 0.0, jnp.exp(budgets * jnp.log1p(-jnp.where(p >= 1.0, 0.0, p))))
    return jnp.where(budgets == 0, 1.0, surv)


def saber_fit_grid(n_goal: int) -> np.ndarray:
    """SABER-Fit's budgets m = 5, 5+gap, …, < n_goal with gap = max(1, (n_goal − 5)//30)."""
    gap = max(1, (int(n_goal) - 5) // 30)
    return np.arange(5, int(n_goal), gap, dtype=np.float64)


def _fit_curve_params(curves, grid, gmask=None):
    """Hughes fit of curves (..., M) = ASR@m on grid (M,): ``log(−log ASR) = log a − b log m``, residual weights 1/m.

    ``gmask`` (M,) marks the grid points in use (padding has 0)."""
    y = jnp.log(-jnp.log(jnp.clip(curves, 1e-300, 1.0)))
    ok = jnp.isfinite(y) if gmask is None else jnp.isfinite(y) & (gmask > 0)
    w = jnp.where(ok, 1.0 / grid**2, 0.0)  # numpy.polyfit(w=1/m) weights residuals: Σ (r/m)²
    x = jnp.log(grid)
    slope, c = weighted_loglog_fit(x, jnp.where(ok, y, 0.0), w)
    return -slope, jnp.exp(c), jnp.sum(ok, axis=-1)


def _fit_predict(b, a, npts, coverage, budgets):
    """exp(−a N^{−b}); with < 2 usable points fall back to the observed coverage (0 or 1 everywhere)."""
    pred = jnp.exp(-a[..., None] * budgets ** (-b[..., None]))
    return jnp.where((npts >= 2)[..., None], pred, coverage[..., None] + 0.0 * budgets)


# --------------------------------------------------------------------------- Beta-law based


def _log_mean_exp(logs, m):
    """log of the masked mean over the problem axis (-2) of exp(logs) (..., K, B)."""
    logs = jnp.where(m[..., :, None] > 0, logs, -jnp.inf)
    return jax.scipy.special.logsumexp(logs, axis=-2) - jnp.log(jnp.sum(m, axis=-1))[..., None]


def _logit_from_log_surv(log_s):
    """logit(ASR) from log(1 − ASR), accurate near both ends."""
    return jnp.log(-jnp.expm1(jnp.minimum(log_s, -1e-300))) - log_s


def log_surv_anchored(u, n, c, mask, budgets):
    """log(1 − anchored ASR@N) = log mean_i 1(k_i = 0)(n_i/N)^α (−inf when every problem was solved)."""
    alpha = jnp.exp(u[..., 0])[..., None, None]
    logs = jnp.where((c == 0)[..., None], alpha * (jnp.log(n)[..., None] - jnp.log(budgets)), -jnp.inf)
    return _log_mean_exp(logs, mask)


def log_surv_plugin(u, budgets, kind: str = "exact"):
    """log(1 − ASR@N) of the fitted population law: exact Beta, leading order or corrected (SABER)."""
    alpha, beta = jnp.exp(u[..., 0])[..., None], jnp.exp(u[..., 1])[..., None]
    if kind == "exact":
        return log_beta_ratio(alpha, beta, budgets)
    shift = budgets if kind == "leading" else budgets + beta + (alpha - 1.0) / 2.0
    log_s = log_leading_constant(alpha, beta) - alpha * jnp.log(jnp.maximum(shift, 1e-300))
    return jnp.minimum(log_s, 0.0)  # clip ASR to [0, 1] as SABER does


def log_surv_plugin_zi(u, budgets):
    """log(1 − (1−π)(1 − S(α, β, N))) = log(π + (1−π) S)."""
    pi = jax.nn.sigmoid(u[..., 2])[..., None]
    log_s = log_surv_plugin(u, budgets, "exact")
    return jnp.logaddexp(jnp.log(pi), jnp.log1p(-pi) + log_s)


def _eb_terms(u, n, k, budgets, zero_inflated: bool, stopped: bool = False):
    """Per-problem log posterior-predictive survival log E[(1−θ_i)^N | k_i] and log E[(1−θ_i)^{2N} | k_i].

    ``stopped``: the log stops at the first success, and the target is the continued campaign of N attempts
    in all: a solved problem (k_i = 1 after t_i = n_i attempts) is solved (survival 0), an unsolved one
    survives the N − n_i further attempts with probability E[(1−θ_i)^{N−n_i} | 0 of n_i].
    """
    if stopped:
        budgets = jnp.maximum(budgets - n[..., None], 0.0)
    alpha, beta = jnp.exp(u[..., 0])[..., None, None], jnp.exp(u[..., 1])[..., None, None]
    a = alpha + k[..., None]
    b = beta + (n - k)[..., None]
    log_s1 = log_beta_ratio(a, b, budgets)
    log_s2 = log_beta_ratio(a, b, 2.0 * budgets)
    if zero_inflated:
        pi = jax.nn.sigmoid(u[..., 2])[..., None, None]
        # P(slab | k = 0) = (1−π) S(α, β, n) / (π + (1−π) S(α, β, n)); "never" problems survive with probability 1.
        log_sn = log_beta_ratio(alpha, beta, n[..., None])
        log_w = jnp.log1p(-pi) + log_sn - jnp.logaddexp(jnp.log(pi), jnp.log1p(-pi) + log_sn)
        log_v = jnp.log(pi) - jnp.logaddexp(jnp.log(pi), jnp.log1p(-pi) + log_sn)
        zero = (k == 0)[..., None]
        log_s1 = jnp.where(zero, jnp.logaddexp(log_v, log_w + log_s1), log_s1)
        log_s2 = jnp.where(zero, jnp.logaddexp(log_v, log_w + log_s2), log_s2)
    if stopped:
        solved = (k > 0)[..., None]
        log_s1 = jnp.where(solved, -jnp.inf, log_s1)
        log_s2 = jnp.where(solved, -jnp.inf, log_s2)
    return log_s1, log_s2


def log_surv_eb(u, n, c, mask, budgets, zero_inflated: bool = False, stopped: bool = False):
    """log(1 − eb ASR@N) = log mean_i E[(1−θ_i)^N | k_i, α̂, β̂(, π̂)] (stopped: see :func:`_eb_terms`)."""
    log_s1, _ = _eb_terms(u, n, c, budgets, zero_inflated, stopped)
    return _log_mean_exp(log_s1, mask)


def eb_theta_variance(u, n, c, mask, budgets, zero_inflated: bool = False, stopped: bool = False):
    """Posterior variance of the observed problems' mean survival given (α̂, β̂): (1/K²) Σ_i Var_i."""
    log_s1, log_s2 = _eb_terms(u, n, c, budgets, zero_inflated, stopped)
    var_i = jnp.maximum(jnp.exp(log_s2) - jnp.exp(2.0 * log_s1), 0.0)
    cnt = jnp.sum(mask, axis=-1)[..., None]
    return jnp.sum(var_i * mask[..., :, None], axis=-2) / cnt**2


def _delta_interval(log_surv_fn, u, cov_u, z, extra_var=None):
    """Point estimate and delta-method interval on the logit scale for a function u ↦ log(1 − ASR) per group.

    ``u`` (G, P), ``cov_u`` (G, P, P); the function maps one group's u (P,) to (B,). ``extra_var`` (G, B)
    is a variance on the ASR scale added (converted to the logit scale) — the θ-posterior part of eb.
    """

    def logit_fn(uu, idx):
        return _logit_from_log_surv(log_surv_fn(uu, idx))

    idx = jnp.arange(u.shape[0])
    log_s = jax.vmap(log_surv_fn)(u, idx)
    lg = jax.vmap(logit_fn)(u, idx)
    jac = jax.vmap(jax.jacfwd(logit_fn))(u, idx)  # (G, B, P)
    finite_cov = jnp.all(jnp.isfinite(cov_u), axis=(-2, -1))
    var = jnp.einsum("gbp,gpq,gbq->gb", jac, jnp.where(finite_cov[:, None, None], cov_u, 0.0), jac)
    var = jnp.where(finite_cov[:, None], var, jnp.inf)
    asr = -jnp.expm1(log_s)
    if extra_var is not None:
        dens = jnp.maximum(asr * (1.0 - asr), 1e-300)
        var = var + extra_var / dens**2
    sd = jnp.sqrt(jnp.maximum(var, 0.0))
    lower = jax.nn.sigmoid(lg - z * sd)
    upper = jax.nn.sigmoid(lg + z * sd)
    # Degenerate ends (ASR exactly 0 or 1): the interval is the point.
    lower = jnp.where(jnp.isfinite(lg), lower, asr)
    upper = jnp.where(jnp.isfinite(lg), upper, asr)
    return asr, jnp.minimum(lower, asr), jnp.maximum(upper, asr)


def _anchored_interval(u, se_alpha, n, k, m, budgets, z):
    """SABER Eq. 14: Wald interval α̂ ± z·SE pushed through Eq. 12 (α_lo clamped at 1e-6), endpoints ordered."""
    alpha = jnp.exp(u[:, 0])
    se = jnp.where(jnp.isfinite(se_alpha), se_alpha, 1e6)
    lo_a = jnp.maximum(alpha - z * se, 1e-6)
    hi_a = alpha + z * se
    pt = -jnp.expm1(log_surv_anchored(u, n, k, m, budgets))
    a1 = -jnp.expm1(log_surv_anchored(jnp.log(lo_a)[:, None], n, k, m, budgets))
    a2 = -jnp.expm1(log_surv_anchored(jnp.log(hi_a)[:, None], n, k, m, budgets))
    return pt, jnp.minimum(a1, a2), jnp.maximum(a1, a2)


def _flat_fit(res: mle.BetaBinomialFit) -> mle.BetaBinomialFit:
    """The fit with its batch axes flattened to one group axis."""
    nb = np.ndim(res.alpha)
    return res.map(lambda v: v.reshape((-1,) + v.shape[nb:]))


def _u_of(res: mle.BetaBinomialFit) -> np.ndarray:
    cols = [np.log(res.alpha), np.log(res.beta)]
    if res.zero_inflated:
        pi = np.clip(res.pi, 1e-300, 1 - 1e-16)
        cols.append(np.log(pi) - np.log1p(-pi))
    return np.stack(cols, axis=-1)


def _quantiles(boot, level):
    """Equal-tailed (1 − level)/2, (1 + level)/2 quantiles over the replicate axis 0."""
    q = jnp.quantile(boot, jnp.array([(1 - level) / 2, (1 + level) / 2]), axis=0)
    return q[0], q[1]


# --------------------------------------------------------------------------------- dispatcher


def _validate(n, k, budgets, method, level, mask, stopped: bool = False):
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    check(0 < level < 1, f"level must be in (0, 1), got {level}")
    b = np.atleast_1d(np.asarray(budgets, dtype=np.float64))
    check(b.ndim == 1 and b.size >= 1, "budgets must be a non-empty list of numbers")
    bad = ~np.isfinite(b) | (b < 1)
    if bad.any():
        raise InputError(f"budget must be a finite number ≥ 1, got {b[bad][0]:g}")
    n_, k_, m_ = mle._prepare(n, k, mask)
    if stopped:
        check_stopped(k_, m_)
    if method == "combinatorial":
        nmin = np.max(np.where(m_ > 0, n_, 0.0), axis=-1) if stopped else np.min(np.where(m_ > 0, n_, np.inf), axis=-1)
        if np.any(b.max() > nmin):
            raise InputError(
                f"budget {b.max():g} exceeds the smallest n ({nmin.min():g}): the combinatorial (Chen) estimator "
                "needs N ≤ n; use an extrapolating method"
            )
        if np.any(b != np.round(b)):
            raise InputError("budget must be an integer for the combinatorial estimator")
    if method == "fit":
        nmin = np.max(np.where(m_ > 0, n_, 0.0), axis=-1) if stopped else np.min(np.where(m_ > 0, n_, np.inf), axis=-1)
        if np.any(nmin < 7):
            raise InputError(
                f"method 'fit' needs at least 7 attempts per problem (SABER's grid starts at m = 5), "
                f"got n = {nmin.min():g}"
            )
    return n_, k_, m_, b


def check_stopped(c, mask) -> None:
    """A log that stops at the first success has k_i ∈ {0, 1} (n_i = attempts made, the last one the success)."""
    live = np.asarray(mask) > 0
    bad = live & (np.asarray(c) > 1)
    if bad.any():
        raise InputError(
            f"a log that stops at the first success has k ≤ 1 per problem, got k={np.asarray(c)[bad][0]:g}"
            " (drop --stopped for a fixed-n log)"
        )


@x64
def predict(
    key: jax.Array,
    n,
    c,
    budgets: ArrayLike | Sequence[float],
    method: str | None = None,
    *,
    level: float = 0.9,
    mask=None,
    fit_result: mle.BetaBinomialFit | None = None,
    bootstrap: int = 200,
    bayes_options: dict | None = None,
    stopped: bool = False,
    window: float | None = None,
    auto_options: dict | None = None,
) -> Prediction:
    """Predict ASR@N (pass@N) at each budget from counts ``k`` of ``n`` attempts per problem.

    ``n, k`` have shape ``(..., K)`` (leading axes are independent groups; ``n`` broadcasts), ``budgets``
    a list of N ≥ 1. ``method`` is one of :data:`METHODS`; ``None`` means :data:`DEFAULT_METHOD`.
    ``fit_result`` reuses a Beta-binomial fit of the same data (plain or zero-inflated as the method
    needs). ``key`` (a ``jax.random`` key, required) drives the bootstrap (naive, combinatorial, fit, tail), NUTS
    (bayes) and auto's sub-samples; deterministic methods ignore it.
    ``stopped``: the log stops at each problem's first success (n_i = attempts made, k_i ∈ {0, 1}); the target
    is then the pass@N of the continued campaign and curves use the exact 1(t_i ≤ m) (spec §3).
    ``window`` is the tail methods' fit window W (default :data:`tail.DEFAULT_WINDOW`); ``auto_options`` go
    to :func:`scaling_theory.passk.auto.predict_auto` (method ``auto``).
    Returns a :class:`Prediction` with arrays of shape ``batch + (len(budgets),)``.
    """
    method = DEFAULT_METHOD if method is None else method
    if method == "auto":
        from scaling_theory.passk.auto import predict_auto

        return predict_auto(key, n, c, budgets, mask=mask, level=level, stopped=stopped, **(auto_options or {}))
    n_, k_, m_, b = _validate(n, c, budgets, method, level, mask, stopped)
    batch = k_.shape[:-1]
    kk = k_.shape[-1]
    # Host (NumPy) arrays go into the jitted kernels as they are: jnp.asarray of a NumPy array runs an eager op
    # that compiles a small program per shape in every new process (10–20 ms each at start-up).
    n2, k2, m2 = (np.asarray(a.reshape(-1, kk)) for a in (n_, k_, m_))
    z = z_value(level)
    bud = np.asarray(b)
    alpha = beta = pi = None
    extra: dict = {}

    g = n2.shape[0]
    if method in TAIL_METHODS or method in MIXING_METHODS:
        asr, lower, upper, extra, pars = _predict_tail_or_mixing(
            method, n2, k2, m2, b, key, level, int(bootstrap), stopped, window, fit_result
        )
        alpha, beta = pars
    elif method in BOOTSTRAP_METHODS:
        if method == "fit":
            grid_n = int(np.max(np.where(m_ > 0, n_, 0.0)) if stopped else np.min(np.where(m_ > 0, n_, np.inf)))
        else:
            grid_n = 0
        (pn, pk, pm), pb = _pad_groups(n2, k2, m2), _pad_budgets(bud)
        grid, gmask, contiguous = _padded_fit_grid(grid_n)
        asr, lower, upper, extra = _predict_model_free(
            method, pn, pk, pm, pb, key, int(bootstrap), level, grid, gmask, bool(stopped), contiguous
        )
        asr, lower, upper = (np.asarray(x)[:g, : b.size] for x in (asr, lower, upper))  # host slices: no eager ops
        extra = {kk: np.asarray(v)[:g] for kk, v in extra.items()}
    elif method == "bayes":
        from scaling_theory.passk import bayes

        post = bayes.predict_bayes(key, n2, k2, m2, bud, level=level, **(bayes_options or {}))
        asr, lower, upper = post["asr"], post["lower"], post["upper"]
        alpha, beta = post["alpha"], post["beta"]
        extra = {"divergences": post["divergences"], "r_hat_max": post["r_hat_max"]}
    else:
        zi = method in ZI_METHODS
        res = fit_result if fit_result is not None else mle.fit(n2, k2, m2, zero_inflated=zi)
        if res.zero_inflated != zi:
            raise InputError(f"method {method!r} needs a {'zero-inflated' if zi else 'plain'} Beta-binomial fit")
        res = _flat_fit(res)
        check(res.alpha.shape[0] == g, f"fit_result has {res.alpha.shape[0]} groups, the counts have {g}")
        u, cov, se = _u_of(res), np.asarray(res.cov_u), np.asarray(res.se_alpha)
        (pn, pk, pm, pu, pc, ps), pb = _pad_groups(n2, k2, m2, u, cov, se), _pad_budgets(bud)
        asr, lower, upper = _predict_beta(
            method, pu, pc, ps, pn, pk, pm, pb, z, bool(stopped) and method in ("eb", "eb_zi")
        )
        asr, lower, upper = (np.asarray(x)[:g, : b.size] for x in (asr, lower, upper))
        alpha, beta = res.alpha, res.beta
        pi = res.pi if zi else None
        extra = {"se_alpha": res.se_alpha, "se_beta": res.se_beta, "converged": res.converged, "at_bound": res.at_bound}

    def shaped(x):
        return np.asarray(x).reshape(batch + (b.size,))

    def shaped_param(x):
        return None if x is None else np.asarray(x).reshape(batch)

    return Prediction(
        method=method,
        budgets=b,
        asr=shaped(asr),
        lower=shaped(lower),
        upper=shaped(upper),
        alpha=shaped_param(alpha),
        beta=shaped_param(beta),
        pi=shaped_param(pi),
        level=level,
        extra={kk2: shaped_param(v) for kk2, v in extra.items()},
    )


def _predict_tail_or_mixing(method, n2, k2, m2, b, key, level, replicates, stopped, window, fit_result=None):
    """Tail methods (passk.tail) and the mixing families (passk.mixing): (asr, lower, upper, extra, (α, β))."""
    from scaling_theory.passk import tail

    g = n2.shape[0]
    pn, pk, pm = _pad_groups(n2, k2, m2)
    window = tail.DEFAULT_WINDOW if window is None else float(window)
    if method in ("tail_power", "tail_hughes"):
        asr, lo, hi, rate = tail.predict_tail(
            pn,
            pk,
            pm,
            b,
            kind=method.split("_")[1],
            key=key,
            level=level,
            replicates=replicates,
            window=window,
            stopped=stopped,
        )
        return asr[:g], lo[:g], hi[:g], {"exponent": rate[:g]}, (None, None)
    if method == "tail_eb":
        res = fit_result if fit_result is not None and not fit_result.zero_inflated else mle.fit(n2, k2, m2)
        res = _flat_fit(res)
        u = _u_of(res)
        n_ref = tail.reference_n(n2, k2, m2, stopped)
        gp = pn.shape[0]  # padded shapes: one compiled program for similar sizes
        u = np.concatenate([u, np.repeat(u[:1], gp - g, axis=0)])
        n_ref_p = np.concatenate([n_ref, np.repeat(n_ref[:1], gp - g)])
        log_sb = np.asarray(_log_surv_eb_batch(u, pn, pk, pm, _pad_budgets(b), bool(stopped)))[:g, : b.size]
        log_sn = np.asarray(_log_surv_eb_batch(u, pn, pk, pm, n_ref_p[:, None, None], bool(stopped)))[:g, 0]
        asr, lo, hi = tail.predict_tail_model(
            n2, k2, m2, b, log_sn, log_sb, key=key, level=level, replicates=replicates, stopped=stopped
        )
        return asr, lo, hi, {}, (res.alpha, res.beta)
    from scaling_theory.passk import mixing

    family = method[len("mix_") :]
    if family not in mixing.FAMILIES:
        raise InputError(f"mixing family {family!r} is not available (have {', '.join(mixing.FAMILIES)})")
    budgets = np.asarray(b, np.float64)
    p = mixing.predict_mixing(key, n2, k2, m2, budgets, family=family, replicates=replicates, level=level)
    asr, lo, hi = (np.asarray(x) for x in (p.asr, p.lower, p.upper))
    if stopped:
        # Continued campaign: a solved problem is solved; an unsolved one (n_i = the cap) survives the N − n_i
        # further attempts with its posterior-predictive probability. The interval keeps the bootstrap's
        # half-widths around this point.
        cap = tail.reference_n(n2, k2, m2, True)
        unsolved_n = np.where((k2 == 0) & (m2 > 0), n2, cap[:, None])
        check(
            np.all(unsolved_n == cap[:, None]) and np.all(cap == cap[0]),
            "the mixing families on a stopped log need every unsolved problem at one common cap",
        )
        ls = np.asarray(mixing.log_survival(p.fit, n2, k2, m2, np.maximum(budgets - cap[0], 0.0)))  # (G, K, B)
        surv = np.where((k2 > 0)[..., None], 0.0, np.exp(ls))
        pt = 1.0 - np.sum(surv * m2[..., None], axis=1) / np.sum(m2, axis=1)[:, None]
        lo, hi = np.clip(pt - (asr - lo), 0, 1), np.clip(pt + (hi - asr), 0, 1)
        asr = pt
    return asr, np.minimum(lo, asr), np.maximum(hi, asr), {}, (None, None)


@persistent_jit(static_argnames=("stopped",))
def _log_surv_eb_batch(u, n, k, m, budgets, stopped):
    """log S_eb per group and budget (budgets (B,) or per group (G, 1, 1))."""
    return log_surv_eb(u, n, k, m, budgets, False, stopped)


def _pad_groups(n, k, m, *per_group):
    """Pad counts (G, K) to (G', K') — G' a power of two ≥ 16, K' = ``mle.bucket(K)`` — so that calls of
    similar sizes share one compiled kernel. Padded problems are masked; padded groups copy group 0.
    ``per_group`` arrays (leading axis G) are padded alike."""
    g, kk = n.shape
    kp = mle.bucket(kk)
    gp = max(16, 1 << (g - 1).bit_length())
    cols = [(0, 0), (0, kp - kk)]
    n = np.pad(np.asarray(n), cols, constant_values=1.0)
    k = np.pad(np.asarray(k), cols)
    m = np.pad(np.asarray(m), cols)
    idx = np.concatenate([np.arange(g), np.zeros(gp - g, dtype=int)])
    return tuple(np.asarray(a)[idx] for a in (n, k, m, *per_group))


def _pad_budgets(budgets):
    """Pad the budget axis to a multiple of 8 (repeating the last budget)."""
    b = np.asarray(budgets)
    bp = pad_to_multiple(b.size, 8)
    return np.concatenate([b, np.full(bp - b.size, b[-1])])


@persistent_jit(static_argnames=("method", "stopped"))
def _predict_beta(method, u, cov, se_alpha, n, k, m, budgets, z, stopped=False):
    if method == "anchored":
        return _anchored_interval(u, se_alpha, n, k, m, budgets, z)
    if method in ("plugin", "plugin_leading", "plugin_corrected"):
        kind = {"plugin": "exact", "plugin_leading": "leading", "plugin_corrected": "corrected"}[method]
        return _delta_interval(lambda uu, i: log_surv_plugin(uu, budgets, kind), u, cov, z)
    if method == "plugin_zi":
        return _delta_interval(lambda uu, i: log_surv_plugin_zi(uu, budgets), u, cov, z)
    zi = method == "eb_zi"
    extra = eb_theta_variance(u, n, k, m, budgets, zi, stopped)
    return _delta_interval(
        lambda uu, i: log_surv_eb(uu[None], n[i][None], k[i][None], m[i][None], budgets, zi, stopped)[0],
        u,
        cov,
        z,
        extra_var=extra,
    )


# SABER's grid has at most 59 points (n = 64, m = 5, …, 63); it is padded to 32 points when it has at most 32
# (every n ≥ 455, and most n), else to 64, so that two programs serve all n.
FIT_GRID_SIZE = 64
FIT_GRID_SMALL = 32


def _padded_fit_grid(grid_n: int):
    """SABER-Fit's grid for ``grid_n`` padded to :data:`FIT_GRID_SMALL` or :data:`FIT_GRID_SIZE` points (padding
    repeats m = 5, weight 0), its mask, and whether it is the contiguous grid 5, 6, …, < 64 (``grid_n`` ≤ 64)."""
    g = saber_fit_grid(grid_n) if grid_n >= 7 else np.array([5.0])
    size = FIT_GRID_SMALL if g.size <= FIT_GRID_SMALL else FIT_GRID_SIZE
    mask = np.zeros(size)
    mask[: g.size] = 1.0 if grid_n >= 7 else 0.0
    contiguous = bool(g[-1] < FIT_GRID_SIZE and np.all(np.diff(g) == 1.0))
    return np.concatenate([g, np.full(size - g.size, g[0])]), mask, contiguous


@persistent_jit(static_argnames=("method", "replicates", "stopped", "contiguous"))
def _predict_model_free(method, n, k, m, budgets, key, replicates, level, grid, gmask, stopped=False, contiguous=False):
    from scaling_theory.passk.tail import per_problem_curve

    if method in ("naive", "combinatorial"):
        if method == "naive":
            per = 1.0 - naive_per_problem_surv(n, k, budgets)
        elif stopped:  # exact: 1(t_i ≤ N) (spec §3; Chen's formula is biased on stopped logs)
            per = per_problem_curve(n, k, jnp.broadcast_to(budgets, n.shape[:-1] + budgets.shape), True)
        else:
            per = _pass_at_k(n[..., None], k[..., None], jnp.minimum(budgets, n[..., None]))
        asr = _masked_mean(per, m)
        lo, hi = _quantiles(bootstrap_means(key, per, m, replicates), level)
        return asr, jnp.minimum(lo, asr), jnp.maximum(hi, asr), {}
    # SABER-Fit (Hughes): one grid for all groups, up to the smallest n of the batch (padded, gmask = real points).
    if stopped:
        per = per_problem_curve(n, k, jnp.broadcast_to(grid, n.shape[:-1] + grid.shape), True)
    elif contiguous:  # m = 5, 6, …: one running sum per problem gives the whole curve
        log_r = log_no_success_upto(n, k, FIT_GRID_SIZE)  # (G, K, 65)
        per = -jnp.expm1(jnp.take(log_r, grid.astype(jnp.int32), axis=-1))
    else:
        per = _pass_at_k(n[..., None], k[..., None], grid)  # (G, K, M)
    per = jnp.concatenate([per, (k > 0)[..., None] * 1.0], axis=-1)  # last column: coverage indicator
    stats = _masked_mean(per, m)
    b_hat, a_hat, npts = _fit_curve_params(stats[..., :-1], grid, gmask)
    asr = _fit_predict(b_hat, a_hat, npts, stats[..., -1], budgets)
    boot = bootstrap_means(key, per, m, replicates)  # (R, G, M + 1)
    bb_, ba_, bn_ = _fit_curve_params(boot[..., :-1], grid, gmask)
    lo, hi = _quantiles(_fit_predict(bb_, ba_, bn_, boot[..., -1], budgets), level)
    return asr, jnp.minimum(lo, asr), jnp.maximum(hi, asr), {"a": a_hat, "b": b_hat}
