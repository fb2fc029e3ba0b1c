"""Analyses of testbed output shared by the experiments: cached runs, attempt matrices, selection
error of a judge, and the high-temperature-expansion (H.T.E.) curve shapes of the BLR judge theory.

Selection error (Halder & Pehlevan's δ, on a discrete task): from k attempts with scores ``s_i``
and correctness ``c_i``, a softmax judge at temperature T picks attempt i with probability
``w_i = exp(s_i/T)/Σ_j exp(s_j/T)``; ``δ(k, T) = 1 − E[Σ_i w_i c_i]``, the expectation over k
attempts drawn without replacement from a problem's logged ones, averaged over problems.
``T = 0`` is best-of-k (ties split evenly), ``T = ∞`` picks uniformly (δ = 1 − pass@1).

H.T.E. shape (judge spec §3): ``δ₂(k) = D − (1 − 1/k) a + (1 − 1/k)(1 − 2/k) b`` with
``a = C₁/t``, ``b = C₂/t²``. It is linear in (D, a, b), so it is fitted by least squares. Its large-k
end improves with k iff ``a > 3b``; with b > 0 and a < 3b it has a finite optimum
``k* = 4b/(3b − a)`` (spec §5.2, derived; :func:`fit_hte` classifies every case). Over temperatures (``t ∝ T``) the optimum is ``T* = 2(1 − 2/k) C₂/C₁`` (spec §5.3).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.judge.analysis import hte_optimal_temperature
from scaling_theory.results import Result


def cache_folder(key: jax.Array, out: str | Path, profile: str) -> Path:
    """``out.parent/_testbed_<profile>_<seed>_<hash>``: the shared run's folder, where ``<seed>`` is the key's
    integer (``seed`` for ``jax.random.key(seed)``: the folders of runs made when they took a seed) and ``<hash>``
    identifies the configuration and key, so a changed profile gets a fresh folder instead of clashing with an
    old run's checkpoints.

    Args:
      key: JAX PRNG key of the run.
      out: an experiment's output folder (the run lives next to it).
      profile: the testbed profile.
    Returns:
      The folder.
    """
    import hashlib
    import json

    from scaling_theory.testbed.config import profile_config
    from scaling_theory.testbed.run import config_fingerprint
    from scaling_theory.testbed.task import key_seed

    fp = json.dumps(config_fingerprint(key, profile_config(profile)), sort_keys=True)
    return Path(out).parent / f"_testbed_{profile}_{key_seed(key)}_{hashlib.sha256(fp.encode()).hexdigest()[:8]}"


def cached_run(key: jax.Array, out: str | Path, profile: str) -> tuple[Path, pd.DataFrame, pd.DataFrame, dict]:
    """The testbed run of ``(key, profile)`` that experiments share, in :func:`cache_folder`.

    Trained and sampled once (the first experiment to need it), reused afterwards when complete.

    Args:
      key: JAX PRNG key of the run (``jax.random.key(seed)`` for an experiment's ``seed``).
      out: the experiment's output folder.
      profile: the testbed profile.
    Returns:
      The folder, the attempts and counts tables and the metrics.
    """
    import fcntl

    from scaling_theory.testbed.run import load_or_run, read_run

    cache = cache_folder(key, out, profile)
    cache.parent.mkdir(parents=True, exist_ok=True)
    # Experiments may run in parallel processes (`reproduce --jobs`): one trains, the others wait.
    with open(cache.parent / f"{cache.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            folder, _ = load_or_run(key, cache, profile)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    att, counts, metrics = read_run(folder)
    return folder, att, counts, metrics


def main_temperature_counts(counts: pd.DataFrame, metrics: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-problem ``(n, k)`` (float64, sorted by problem) at the run's main sampling temperature."""
    main_t = metrics["fingerprint"]["config"]["temperature"]
    c = counts[np.isclose(counts["temperature"], main_t)].sort_values("problem")
    return c["n"].to_numpy(np.float64), c["k"].to_numpy(np.float64)


def attempt_matrix(attempts: pd.DataFrame, column: str, temperature: float | None = None) -> np.ndarray:
    """``(problems, attempts)`` matrix of ``column`` at one temperature (rows sorted by problem id)."""
    df = attempts if temperature is None else attempts[np.isclose(attempts["temperature"], temperature)]
    if df.empty:
        raise InputError(f"no attempts at temperature {temperature}")
    wide = df.pivot(index="problem", columns="attempt", values=column).sort_index()
    if wide.isna().any().any():
        raise InputError(f"problems have different numbers of attempts in column {column!r}")
    return wide.to_numpy()


def _max_combine(x, y):
    """Associative merge of (running max, #attempts at the max, #correct among them)."""
    (m1, n1, c1), (m2, n2, c2) = x, y
    return (
        jnp.maximum(m1, m2),
        jnp.where(m1 > m2, n1, jnp.where(m2 > m1, n2, n1 + n2)),
        jnp.where(m1 > m2, c1, jnp.where(m2 > m1, c2, c1 + c2)),
    )


def _softmax_combine(x, y):
    """Associative merge of (running max z, Σ e^{z−max}, Σ c e^{z−max}): an online softmax."""
    (m1, w1, c1), (m2, w2, c2) = x, y
    m = jnp.maximum(m1, m2)
    e1, e2 = jnp.exp(m1 - m), jnp.exp(m2 - m)
    return m, w1 * e1 + w2 * e2, c1 * e1 + c2 * e2


@functools.partial(jax.jit, static_argnames=("repeats",))
def _selection_curves(key, correct_PxN, scores_PxN, inv_temps_T, hard_T, repeats: int):
    P, N = correct_PxN.shape

    def one(k):
        order = jnp.argsort(jax.random.uniform(k, (P, N)), axis=1)  # a random order of each problem's attempts
        c = jnp.take_along_axis(correct_PxN, order, axis=1)
        s = jnp.take_along_axis(scores_PxN, order, axis=1)

        def soft(beta):  # T > 0: softmax-weighted correctness of the first k attempts
            _, w, wc = jax.lax.associative_scan(_softmax_combine, (beta * s, jnp.ones_like(s), c), axis=1)
            return (wc / w).mean(0)

        # T = 0: the share of correct attempts among those tying the running maximum score
        _, n_at, c_at = jax.lax.associative_scan(_max_combine, (s, jnp.ones_like(s), c), axis=1)
        hard = (c_at / n_at).mean(0)
        return jnp.where(hard_T[:, None], hard[None, :], jax.lax.map(soft, inv_temps_T))  # (T, N)

    return jax.lax.map(one, jax.random.split(key, repeats))  # (R, T, N)


def empirical_selection_error(
    key: jax.Array, correct: Any, scores: Any, temperatures: Sequence[float], *, repeats: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """``δ(k, T)`` for every k = 1..n and temperature: mean and Monte Carlo standard error, shape ``(T, n)``.

    ``correct`` and ``scores`` are ``(problems, n)`` matrices of logged attempts; each of ``repeats``
    random orders of every problem's attempts gives nested subsets of sizes 1..n (common random
    numbers across k; ``key`` drives the orders). Use ``T = 0`` for best-of-k and ``T = inf`` for a uniform pick. Float32 (an
    analysis of logged data; the online softmax keeps every weight ≤ 1, so nothing overflows).
    """
    c = np.asarray(correct, np.float32)
    s = np.asarray(scores, np.float32)
    if c.ndim != 2 or c.shape != s.shape or c.shape[1] < 1:
        raise InputError(f"correct and scores must be equal (problems, n) matrices, got {c.shape} and {s.shape}")
    if not np.all((c == 0) | (c == 1)):
        raise InputError("correct must be 0/1")
    if not np.all(np.isfinite(s)):
        raise InputError("scores must be finite")
    temps = np.asarray(temperatures, np.float64)
    if temps.ndim != 1 or np.any(temps < 0) or np.any(np.isnan(temps)):
        raise InputError(f"temperatures must be ≥ 0, got {temperatures}")
    if repeats < 2:
        raise InputError(f"repeats must be ≥ 2, got {repeats}")
    hard = temps == 0
    inv = np.where(hard | np.isinf(temps), 0.0, 1.0 / np.where(hard, 1.0, temps))  # 1/T; T = ∞ → uniform
    acc = np.asarray(
        _selection_curves(key, jnp.asarray(c), jnp.asarray(s), jnp.asarray(inv), jnp.asarray(hard), repeats)
    )
    return 1.0 - acc.mean(0), acc.std(0, ddof=1) / np.sqrt(repeats)


# ------------------------------------------------------------------------- H.T.E. curve shapes


def hte_basis(k: Any) -> np.ndarray:
    """Columns ``[1, −(1 − 1/k), (1 − 1/k)(1 − 2/k)]`` so that ``δ₂ = basis @ (D, a, b)``."""
    u = 1.0 / np.asarray(k, np.float64)
    return np.stack([np.ones_like(u), -(1 - u), (1 - u) * (1 - 2 * u)], axis=-1)


@dataclass(frozen=True)
class HTEFit(Result):
    """δ₂(k) = D − (1 − 1/k) a + (1 − 1/k)(1 − 2/k) b fitted by :func:`fit_hte`: the coefficients, the
    ``regime`` and the minimiser ``k_star`` over k ≥ 1 (``inf`` when best as k → ∞). Rows: one."""

    D: float
    a: float
    b: float
    regime: str
    k_star: float


def fit_hte(k: Any, delta: Any, weights: Any = None) -> HTEFit:
    """Least-squares fit of ``δ₂(k) = D − (1 − 1/k) a + (1 − 1/k)(1 − 2/k) b``, its minimiser and regime.

    With u = 1/k ∈ (0, 1], ``dδ₂/du = a + b(4u − 3)``. Regimes: ``"monotone"`` — δ₂ decreases in k
    for every k (``a − 3b > 0`` and ``a + b > 0``); ``"finite k*"`` — an interior minimum
    ``k* = 4b/(3b − a)`` (b > 0, spec §5.2); ``"k* = 1"`` — selection never helps;
    ``"k* = ∞"`` — not monotone but best as k → ∞. ``k_star`` is the minimiser over k ≥ 1.

    Args:
      k: selection sizes (≥ 1), at least 3.
      delta: selection errors at ``k`` (same shape).
      weights: optional least-squares weights (same shape).
    Returns:
      :class:`HTEFit`.
    """
    k, d = np.asarray(k, np.float64), np.asarray(delta, np.float64)
    if k.shape != d.shape or k.size < 3 or np.any(k < 1):
        raise InputError("fit_hte needs ≥ 3 points with k ≥ 1 and matching shapes")
    w = np.ones_like(k) if weights is None else np.asarray(weights, np.float64)
    X = hte_basis(k) * np.sqrt(w)[:, None]
    (D, a, b), *_ = np.linalg.lstsq(X, d * np.sqrt(w), rcond=None)
    tiny = 1e-10 * (abs(D) + abs(a) + abs(b) + 1e-300)
    a, b = (0.0 if abs(x) < tiny else float(x) for x in (a, b))  # round-off of an exactly flat term
    u_cand = [0.0, 1.0] + ([(3 * b - a) / (4 * b)] if b > 0 and 0 < (3 * b - a) / (4 * b) < 1 else [])
    val = lambda u: D - (1 - u) * a + (1 - u) * (1 - 2 * u) * b  # noqa: E731
    u_min = min(u_cand, key=val)
    k_star = np.inf if u_min == 0 else 1.0 / u_min
    if a - 3 * b > 0 and a + b > 0:
        regime = "monotone"
    elif 0 < u_min < 1:
        regime = "finite k*"
    else:
        regime = "k* = 1" if u_min == 1 else "k* = ∞"
    return HTEFit(float(D), float(a), float(b), regime, float(k_star))


def hte_curve(k: Any, D: float, a: float, b: float) -> np.ndarray:
    """δ₂(k) = D − (1 − 1/k) a + (1 − 1/k)(1 − 2/k) b (e.g. the fields of an :class:`HTEFit`).

    Args:
      k: selection sizes.
      D, a, b: the coefficients.
    Returns:
      Float64 array of the shape of ``k``.
    """
    return hte_basis(k) @ np.array([D, a, b], np.float64)


@dataclass(frozen=True)
class HTETemperatureFit(Result):
    """δ₂(k, T) = D − (1 − 1/k) C₁/T + (1 − 1/k)(1 − 2/k) C₂/T² fitted by :func:`fit_hte_temperature`. Rows: one."""

    D: float
    C1: float
    C2: float


def fit_hte_temperature(k: Any, temps: Any, delta: Any) -> HTETemperatureFit:
    """Fit ``δ₂(k, T) = D − (1 − 1/k) C₁/T + (1 − 1/k)(1 − 2/k) C₂/T²`` over a (T, k) grid (T > 0).

    Linear least squares in ``(D, C1, C2)`` (the optimal temperature of the fitted surface,
    ``T*(k) = 2(1 − 2/k) C₂/C₁``, is :func:`hte_t_star`).

    Args:
      k: selection sizes (K,).
      temps: temperatures (T,), finite and > 0.
      delta: selection errors of shape (T, K).
    Returns:
      :class:`HTETemperatureFit`.
    """
    k, temps, d = np.asarray(k, np.float64), np.asarray(temps, np.float64), np.asarray(delta, np.float64)
    if d.shape != (temps.size, k.size) or np.any(temps <= 0) or not np.all(np.isfinite(temps)):
        raise InputError("fit_hte_temperature needs finite T > 0 and delta of shape (len(T), len(k))")
    B, t = hte_basis(k), temps[:, None]
    X = np.stack(np.broadcast_arrays(B[:, 0], B[:, 1] / t, B[:, 2] / t**2), -1)  # (T, k, 3)
    (D, C1, C2), *_ = np.linalg.lstsq(X.reshape(-1, 3), d.ravel(), rcond=None)
    return HTETemperatureFit(float(D), float(C1), float(C2))


def hte_t_star(k: Any, C1: float, C2: float) -> np.ndarray:
    """Optimal temperature of the surface at k (``2(1 − 2/k) C₂/C₁``; NaN unless C₁, C₂ > 0, k > 2).

    Args:
      k: selection sizes.
      C1, C2: the surface's coefficients (e.g. of an :class:`HTETemperatureFit`).
    Returns:
      Float64 array of the shape of ``k``.
    """
    k = np.asarray(k, np.float64)
    ok = (C1 > 0) & (C2 > 0) & (k > 2)
    return np.where(ok, hte_optimal_temperature(k, C1, C2), np.nan)


def hte_surface(k: Any, temps: Any, D: float, C1: float, C2: float) -> np.ndarray:
    """δ₂(k, T) on a (T, K) grid for the coefficients ``D, C1, C2``.

    Args:
      k: selection sizes (K,).
      temps: temperatures (T,).
      D, C1, C2: the coefficients.
    Returns:
      Float64 array (T, K).
    """
    k, t = np.asarray(k, np.float64), np.asarray(temps, np.float64)[:, None]
    B = hte_basis(k)
    return D + B[None, :, 1] * C1 / t + B[None, :, 2] * C2 / t**2
