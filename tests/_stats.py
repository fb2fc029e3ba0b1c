"""Monte Carlo comparisons with a tolerance computed from the samples (docs/CONTRIBUTING.md, "Standards").

Every test that compares a Monte Carlo estimate with an exact value goes through
:func:`assert_within_se`: the standard error is computed from the samples (or passed in, computed by the
test from its samples), never claimed in a comment.

False-failure probability of a two-sided normal test at z standard errors:
z = 3: 2.7e-3, z = 4: 6.3e-5, z = 5: 5.7e-7. The default z = 5 keeps a suite of a few hundred Monte Carlo
checks below one spurious failure in ~10⁴ runs, while a bias of a few standard errors still fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Z_DEFAULT = 5.0  # two-sided normal tail 5.7e-7 per scalar comparison


def standard_error(samples: Any, axis: int = 0) -> np.ndarray:
    """Standard error of the mean of ``samples`` along ``axis``: sd (ddof = 1) / sqrt(count)."""
    x = np.asarray(samples, dtype=np.float64)
    n = x.shape[axis]
    if n < 2:
        raise ValueError(f"need at least two samples for a standard error, got {n}")
    return np.std(x, axis=axis, ddof=1) / np.sqrt(n)


def binomial_se(p: Any, n: Any) -> np.ndarray:
    """Standard error of a proportion of ``n`` Bernoulli(p) draws: sqrt(p(1 − p)/n)."""
    p = np.asarray(p, dtype=np.float64)
    return np.sqrt(p * (1.0 - p) / np.asarray(n, dtype=np.float64))


def assert_within_se(
    estimate: Any = None,
    exact: Any = None,
    se: Any = None,
    *,
    samples: Any = None,
    axis: int = 0,
    z: float = Z_DEFAULT,
    bias: Any = 0.0,
    what: str = "",
) -> None:
    """Assert |estimate − exact| ≤ z·SE + bias elementwise.

    Args:
        estimate: the Monte Carlo estimate (scalar or array); ``None`` with ``samples`` → their mean.
        exact: the value computed independently (closed form, quadrature, brute force).
        se: its standard error, computed by the caller from the samples; ``None`` with ``samples`` →
            :func:`standard_error` of the samples along ``axis``.
        samples: the Monte Carlo samples (optional; see above).
        axis: the sample axis of ``samples``.
        z: number of standard errors allowed (see the module docstring for false-failure rates).
        bias: a known, stated deterministic allowance (e.g. an O(1/K) bias of an estimator) added to
            the tolerance; 0 by default.
        what: a label printed in the failure message.
    """
    if samples is not None:
        x = np.asarray(samples, dtype=np.float64)
        if estimate is None:
            estimate = np.mean(x, axis=axis)
        if se is None:
            se = standard_error(x, axis=axis)
    if estimate is None or se is None or exact is None:
        raise ValueError("pass exact, and estimate with se or samples")
    est = np.asarray(estimate, dtype=np.float64)
    ex = np.asarray(exact, dtype=np.float64)
    se_a = np.asarray(se, dtype=np.float64)
    if not np.all(np.isfinite(se_a)) or np.any(se_a < 0):
        raise AssertionError(f"{what}: standard error must be finite and ≥ 0, got {se_a}")
    tol = z * se_a + np.asarray(bias, dtype=np.float64)
    dev = np.abs(est - ex)
    bad = ~(dev <= tol)
    if np.any(bad):
        with np.printoptions(precision=6, threshold=20):
            raise AssertionError(
                f"{what or 'Monte Carlo estimate'} off by more than {z} SE"
                + (f" + bias {bias}" if np.any(np.asarray(bias) != 0) else "")
                + f": estimate {est}, exact {ex}, SE {se_a}, |dev|/SE {dev / np.where(se_a > 0, se_a, np.nan)}"
            )


def variance_se(samples: Any, axis: int = 0) -> np.ndarray:
    """Asymptotic standard error of the sample variance of iid ``samples``: sqrt((m₄ − s⁴)/n), with the
    fourth central moment m₄ and the variance s² estimated from the samples themselves."""
    x = np.asarray(samples, dtype=np.float64)
    n = x.shape[axis]
    d = x - np.mean(x, axis=axis, keepdims=True)
    m4 = np.mean(d**4, axis=axis)
    s2 = np.mean(d**2, axis=axis)
    return np.sqrt(np.maximum(m4 - s2**2, 0.0) / n)
