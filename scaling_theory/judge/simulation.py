"""The finite-d experiment of the paper, vectorised and sharded: train a Bayesian linear regression on
teacher data, then at each test input draw k posterior-predictive samples and select one by the
reward-weighted softmax (spec §1.2, §2; the official ``BLR_*_T.py`` scripts).

* One training set and teacher per call (from the key); the teacher has |wᵢ| = √v with random
  signs in the eigenbasis of Σ = diag(λ), so |w_T|²/d = v exactly (the DE's teacher).
* Posterior: w̄ = (XᵀX + λ_r I)⁻¹ Xᵀy, A⁻¹ = σ²(XᵀX + λ_r I)⁻¹, λ_r = σ²/γ² (rows of X are x/√d);
  μ(x) = w̄·x/√d, s²(x) = σ² + (x/√d)ᵀA⁻¹(x/√d). ``posterior="de"`` uses the DE m(x), s²(x) instead.
* Reward (linear judge): μ_R = w_R·x/√d with w_R = (I + c B_R) w_T, i.e. μ_R = μ_T − c Δ_DE(x).

Estimators of δ(k) = E_x δ_x(k), both averaging over ``n_test`` sampled test inputs:

* ``mc`` (the paper's literal Monte Carlo): ``trials`` sets of K = max k draws per input; prefix k of
  a set gives one sample of the selected squared error for every k ≤ K. In units of s(x): U = α + z,
  z ~ N(0, 1) (float32, as the paper samples), weight exp(−U²/(2t)), t = T/(2s²), error (U + ρ)²;
  the prefix sums Σw, Σw(U + ρ)² run in float32 over k (``lax.scan``), trial means and the sums over
  inputs in float64. The weights are taken relative to the largest weight any draw can have
  (|z| ≤ 5.5 for these float32 draws), which is exact and overflow-free; a chunk of inputs whose
  weights could underflow (small t with a distant reward target) switches, by ``lax.cond``, to the
  online softmax with a running maximum (two exps per draw instead of one). T = 0 keeps the prefix
  argmin of |U| (best-of-k).
* ``conditional`` (Rao–Blackwellised): the same inputs, but each input's selection error is computed
  by quadrature from its posterior mean and std, so there is no trial noise: the fixed-node rule of
  ``_fast.py`` where it is accurate (≲ 1.5e-5 relative), else (per chunk, ``lax.cond``; always at
  T = 0) the ``_exact.exact_grid`` quadrature. The input noise is reduced by the control variate
  δ_x(1) = b² + s², whose mean over inputs is known in closed form (:func:`control_mean`):
  δ̂(k) = mean δ_x(k) − β_k(mean δ_x(1) − E δ_x(1)) with the sample slope β_k (bias O(1/n_test));
  the standard error is that of the regression residual over inputs (0 at k = 1).

Randomness: the training set from ``fast_key(key)``; test inputs and draws from Threefry counters of
global indices (``rng.py``), so results are identical for any device count or number of processes.
Test inputs are split over ``numerics.global_mesh()`` (all devices of all processes) with
``shard_map``; each device runs its inputs in chunks (``lax.map``) and the sums are ``psum``-ed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from scaling_theory.errors import InputError
from scaling_theory.judge import _exact, _fast
from scaling_theory.judge.deterministic import DeterministicEquivalent
from scaling_theory.judge.rng import Z_MAX_F32, fast_key, key_words, normal_f32, normal_f64, threefry_bits
from scaling_theory.numerics import BATCH_AXIS, global_array, global_mesh, pad_to_multiple
from scaling_theory.results import Result

ESTIMATORS = ("mc", "conditional")
# weights exp(lw − lw_max) ≥ e^−80 stay normal float32 numbers (smallest normal ≈ e^−87.3)
_LOG_W_RANGE = 80.0
_STEP_ELEMENTS = 1 << 17  # trials × inputs per scan step of the Monte Carlo kernel


@dataclass(frozen=True)
class SimulationResult(Result):
    """δ(k) averaged over test inputs (and trials), with its standard error over test inputs (NumPy).

    Rows: one per k with ``delta``, ``stderr``, ``n_test``, ``trials``, ``estimator`` (:meth:`as_rows` is the
    CLI's table, with δ/σ²).
    """

    _index = ("k",)

    k: np.ndarray
    delta: np.ndarray
    stderr: np.ndarray
    n_test: int
    trials: int
    estimator: str = "mc"

    def as_rows(self, sigma2: float | None = None) -> list[dict[str, float]]:
        """Rows ``k``, ``delta``, ``stderr`` (and ``delta_over_sigma2`` given ``sigma2``), as the CLI prints them."""
        rows = []
        for k, d, se in zip(self.k, self.delta, self.stderr):
            row = {"k": int(k), "delta": float(d), "stderr": float(se)}
            if sigma2:
                row["delta_over_sigma2"] = float(d) / sigma2
            rows.append(row)
        return rows


def _posterior(de: DeterministicEquivalent, c: float, key: jax.Array, posterior: str) -> dict[str, jax.Array]:
    """Per-test-input linear maps: b = x̃·dw, a = x̃·da, s² = σ² + ‖F x̃‖² (x̃ = x/√d), and √λ."""
    args = (
        jnp.asarray(de.spectrum),
        jnp.asarray(de.b_diag),
        key,
        *(jnp.asarray(v, jnp.float64) for v in (de.sigma, de.gamma, de.teacher_scale, c)),
    )
    return _posterior_jit(*args, n=de.n, posterior=posterior)


@functools.partial(jax.jit, static_argnames=("n", "posterior"))
def _posterior_jit(
    lam: jax.Array,
    bvec: jax.Array,
    key: jax.Array,
    sigma: jax.Array,
    gamma: jax.Array,
    v: jax.Array,
    c: jax.Array,
    *,
    n: int,
    posterior: str,
) -> dict[str, jax.Array]:
    d = lam.shape[0]
    k_sign, k_x, k_noise = (jax.random.fold_in(key, i) for i in range(3))
    w = jnp.sqrt(v) * jax.random.rademacher(k_sign, (d,), jnp.float64)
    if posterior == "finite":
        X = jnp.sqrt(lam) * jax.random.normal(k_x, (n, d), jnp.float64) / jnp.sqrt(d)
        y = X @ w + sigma * jax.random.normal(k_noise, (n,), jnp.float64)
        gram = X.T @ X + (sigma**2 / gamma**2) * jnp.eye(d)
        chol = jnp.linalg.cholesky(gram)
        wbar = jax.scipy.linalg.cho_solve((chol, True), X.T @ y)
        dw = wbar - w
        # s² − σ² = σ² x̃ᵀ gram⁻¹ x̃ = ‖σ L⁻¹ x̃‖²: F = σ L⁻¹ (lower triangular)
        F = sigma * jax.scipy.linalg.solve_triangular(chol, jnp.eye(d), lower=True)
    else:
        dw = -bvec * w
        F = jnp.diag(gamma * jnp.sqrt(bvec))
    da = dw - c * bvec * w
    return {"w": w, "dw": dw, "da": da, "F": F, "sqrt_lam": jnp.sqrt(lam)}


def test_inputs(
    ids: jax.Array, post: dict[str, jax.Array], sigma: jax.Array, words: jax.Array
) -> tuple[jax.Array, ...]:
    """(b, a, s) = (m − μ_T, m − μ_R, predictive std) at the test inputs with global indices ``ids``.

    x = √λ ⊙ ξ with ξ ~ N(0, I_d) from Threefry counters (input index, j): input i's draw does not
    depend on which other inputs are computed with it.
    """
    d = post["sqrt_lam"].shape[0]
    half = (d + 1) // 2
    c0 = ids.astype(jnp.uint32)[:, None]
    c1 = jnp.arange(half, dtype=jnp.uint32)[None, :]
    o0, o1 = threefry_bits(words, c0, c1)
    xi = normal_f64(jnp.concatenate([o0, o1], axis=1))[:, :d]
    xt = post["sqrt_lam"] * xi / jnp.sqrt(d)
    b = xt @ post["dw"]
    a = xt @ post["da"]
    s = jnp.sqrt(sigma**2 + jnp.sum((xt @ post["F"].T) ** 2, axis=1))
    return b, a, s


def _mc_chunk(
    ids: jax.Array,
    alpha: jax.Array,
    rho: jax.Array,
    inv2t: jax.Array,
    words: jax.Array,
    k_idx: jax.Array,
    *,
    trials: int,
    k_max: int,
    mode: str,
) -> jax.Array:
    """Trial means of the selected error /s² for the inputs ``ids`` (C,): an array (n_k, C) float64.

    Draw z for (input i, trial r, k) is Threefry word r // h of the counter (i, (r mod h)·K + k − 1),
    h = ⌈trials/2⌉. Arrays are laid out (trial, input) so the trial mean is a sum over rows.
    """
    C = ids.shape[0]
    half = (trials + 1) // 2
    c0 = jnp.broadcast_to(ids.astype(jnp.uint32)[None, :], (half, C))
    base = jnp.arange(half, dtype=jnp.uint32)[:, None] * np.uint32(k_max)
    row_w = (jnp.arange(2 * half) < trials).astype(jnp.float32)[:, None]  # odd trials: drop the last row
    al = alpha.astype(jnp.float32)[None, :]
    rh = rho.astype(jnp.float32)[None, :]
    i2 = inv2t.astype(jnp.float32)[None, :]
    shape = (2 * half, C)

    def draws(k: jax.Array) -> jax.Array:
        o0, o1 = threefry_bits(words, c0, jnp.broadcast_to(base + k.astype(jnp.uint32), (half, C)))
        return al + normal_f32(jnp.concatenate([o0, o1], axis=0))  # U = α + z, (2h, C)

    def trial_mean(num: jax.Array, den: jax.Array | None = None) -> jax.Array:
        r = num if den is None else num / den
        return jnp.sum(r * row_w, axis=0)

    zeros = jnp.zeros(shape, jnp.float32)
    if mode == "zero":  # best-of-k: the prefix argmin of |U|

        def step_zero(
            carry: tuple[jax.Array, jax.Array], k: jax.Array
        ) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
            best, best_e = carry
            U = draws(k)
            closer = jnp.abs(U) < best
            best, best_e = jnp.where(closer, jnp.abs(U), best), jnp.where(closer, (U + rh) ** 2, best_e)
            return (best, best_e), trial_mean(best_e)

        _, out = jax.lax.scan(step_zero, (jnp.full(shape, jnp.inf, jnp.float32), zeros), jnp.arange(k_max))
    else:
        # the largest weight any draw can have: U² ≥ max(|α| − z_max, 0)²
        u_ref = jnp.maximum(jnp.abs(al) - Z_MAX_F32, 0.0)
        lw_ref = -(u_ref * u_ref) * i2
        u_far = jnp.abs(al) + Z_MAX_F32
        safe = jnp.all((u_far * u_far - u_ref * u_ref) * i2 < _LOG_W_RANGE)

        def fixed(_: Any) -> jax.Array:
            def step(carry: tuple[jax.Array, jax.Array], k: jax.Array) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
                sw, swe = carry
                U = draws(k)
                w = jnp.exp(lw_ref - (U * U) * i2)  # ≤ 1, ≥ e^-80
                sw, swe = sw + w, swe + w * (U + rh) ** 2
                return (sw, swe), trial_mean(swe, sw)

            return jax.lax.scan(step, (zeros, zeros), jnp.arange(k_max))[1]

        def online(_: Any) -> jax.Array:
            def step(carry: Any, k: jax.Array) -> tuple[Any, jax.Array]:
                m, sw, swe = carry
                U = draws(k)
                lw = -(U * U) * i2
                m_new = jnp.maximum(m, lw)
                scale, w = jnp.exp(m - m_new), jnp.exp(lw - m_new)
                sw, swe = sw * scale + w, swe * scale + w * (U + rh) ** 2
                return (m_new, sw, swe), trial_mean(swe, sw)

            init = (jnp.full(shape, -jnp.inf, jnp.float32), zeros, zeros)
            return jax.lax.scan(step, init, jnp.arange(k_max))[1]

        out = jax.lax.cond(safe, fixed, online, None)
    return out[k_idx].astype(jnp.float64) / trials


@functools.partial(jax.jit, static_argnames=("chunk", "k_max", "trials", "mode", "estimator", "panels", "n_k_pad"))
def _simulate_moments(
    idx: jax.Array,
    post: dict[str, jax.Array],
    sigma: jax.Array,
    T: jax.Array,
    words_x: jax.Array,
    words_z: jax.Array,
    ks: jax.Array,
    n_test: jax.Array,
    *,
    chunk: int,
    k_max: int,
    trials: int,
    mode: str,
    estimator: str,
    panels: int,
    n_k_pad: int,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Mean over the n_test inputs of δ̂_x(k) (rows k, then the control b² + s²), the sums of squared
    deviations and of co-deviations with the control row (float64).

    Each chunk's (count, sum, centred sum of squares) is merged with Chan et al.'s pairwise update,
    over the chunks of a device and then over devices (``psum``), so the spread never suffers the
    cancellation of Σx² − (Σx)²/n (it is tiny against the mean for ``conditional``).
    """
    mesh = global_mesh()
    n_k = ks.shape[0]
    k_idx = ks.astype(jnp.int32) - 1
    k_pad = jnp.concatenate([ks.astype(jnp.float64), jnp.broadcast_to(ks[-1:].astype(jnp.float64), (n_k_pad - n_k,))])

    def per_chunk(ids: jax.Array) -> jax.Array:
        b, a, s = test_inputs(ids, post, sigma, words_x)
        alpha, rho = a / s, (b - a) / s
        if estimator == "mc":
            inv2t = jnp.zeros_like(s) if mode == "zero" else s * s / T  # 1/(2t), t = T/(2s²)
            vals = _mc_chunk(ids, alpha, rho, inv2t, words_z, k_idx, trials=trials, k_max=k_max, mode=mode)
        else:
            t = T / (2.0 * s * s)
            slow = lambda: _exact.exact_grid(k_pad, t, alpha, rho, mode=mode, panels=panels)  # noqa: E731
            if mode == "soft":  # the fixed-node rule where it is accurate, else the full quadrature
                quick = lambda: _fast.fast_grid(k_pad, t, alpha, rho)  # noqa: E731
                grid = jax.lax.cond(jnp.all(_fast.fast_ok(t, alpha)), quick, slow)
            else:
                grid = slow()
            vals = grid[:, :n_k].T
        # the last row is the control variate δ_x(1) = b² + s², whose mean over x is known in closed form
        return jnp.concatenate([vals * (s * s)[None, :], (b * b + s * s)[None, :]], axis=0)  # (n_k + 1, C)

    def merge(cnt: jax.Array, tot: jax.Array, m2: jax.Array, cy: jax.Array, psum: bool) -> tuple[jax.Array, ...]:
        """Merge groups (leading axis, or devices when ``psum``) of (count, sum, centred M2, centred
        co-moment with the last row)."""
        red = (lambda v: jax.lax.psum(v, BATCH_AXIS)) if psum else (lambda v: v.sum(0))
        n_all, t_all = red(cnt), red(tot)
        mean = t_all / jnp.maximum(n_all, 1.0)
        dev = tot / jnp.maximum(cnt, 1.0) - mean
        return n_all, t_all, red(m2 + cnt * dev**2), red(cy + cnt * dev * dev[..., -1:])

    def shard(idx: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        def one_chunk(ids: jax.Array) -> tuple[jax.Array, ...]:
            vals = per_chunk(ids)
            mask = (ids < n_test)[None, :]
            cnt = jnp.sum(mask, axis=1).astype(jnp.float64)
            tot = jnp.sum(jnp.where(mask, vals, 0.0), axis=1)
            dev = jnp.where(mask, vals - tot[:, None] / jnp.maximum(cnt, 1.0)[:, None], 0.0)
            return cnt, tot, jnp.sum(dev * dev, axis=1), jnp.sum(dev * dev[-1:], axis=1)

        cnt_, tot_, m2_, cy_ = jax.lax.map(one_chunk, idx.reshape(-1, chunk))
        cnt_, tot_, m2_, cy_ = merge(cnt_, tot_, m2_, cy_, psum=False)
        n_all, t_all, m2_all, cy_all = merge(cnt_, tot_, m2_, cy_, psum=True)
        return t_all / n_all, m2_all, cy_all

    return jax.shard_map(shard, mesh=mesh, in_specs=P(BATCH_AXIS), out_specs=(P(), P(), P()), check_vma=False)(idx)


def default_chunk(estimator: str, trials: int) -> int:
    """Inputs per chunk: ~2¹⁷ draws per scan step (``mc``), 128 quadrature points (``conditional``)."""
    if estimator == "conditional":
        return 4 * _exact.CHUNK
    return int(max(8, min(2048, (_STEP_ELEMENTS // max(1, trials)) // 8 * 8)))


def simulate(
    de: DeterministicEquivalent,
    c: float,
    k: Any,
    T: float,
    key: jax.Array,
    trials: int = 100,
    n_test: int = 10_000,
    posterior: str = "finite",
    chunk: int | None = None,
    estimator: str = "mc",
    control: bool = True,
) -> SimulationResult:
    """δ(k, T) of the finite-d (or DE) model by ``estimator`` ("mc" or "conditional"); see the module
    docstring. ``trials`` is ignored by "conditional"; ``control`` (conditional only) subtracts the
    control variate β_k(mean_x δ_x(1) − E_x δ_x(1)), whose mean is known in closed form."""
    if estimator not in ESTIMATORS:
        raise InputError(f"estimator={estimator!r}: choose one of {', '.join(ESTIMATORS)}")
    ks = np.asarray(k, dtype=np.int64).ravel()
    k_max = int(ks.max())
    half = (int(trials) + 1) // 2
    if estimator == "mc" and half * k_max >= 2**32:
        raise InputError(f"trials={trials}, k={k_max}: ⌈trials/2⌉·max k must be < 2³² (Threefry counter)")
    if n_test >= 2**31:
        raise InputError(f"n_test={n_test}: must be < 2³¹")
    n_dev = jax.device_count()  # all processes
    if chunk is None:
        chunk = default_chunk(estimator, int(trials))
    if estimator == "conditional":
        chunk = pad_to_multiple(int(chunk), _exact.CHUNK)
    chunk = int(min(chunk, pad_to_multiple(-(-int(n_test) // n_dev), 8 if estimator == "mc" else _exact.CHUNK)))
    n_pad = pad_to_multiple(int(n_test), n_dev * chunk)
    key = fast_key(key)
    k_data = jax.random.fold_in(key, 0)
    words_x, words_z = key_words(key, 1), key_words(key, 2)
    post = _posterior(de, float(c), k_data, posterior)
    idx = global_array(np.arange(n_pad, dtype=np.int32))  # test-input indices split over all devices
    mode = "zero" if T == 0 else "soft"
    from scaling_theory.judge.selection import _bucket  # padded k (few compiled shapes)

    mean, m2, cy = _simulate_moments(
        idx,
        post,
        jnp.asarray(de.sigma, jnp.float64),
        jnp.asarray(T, jnp.float64),
        words_x,
        words_z,
        jnp.asarray(ks),
        jnp.asarray(n_test),
        chunk=chunk,
        k_max=k_max,
        trials=int(trials),
        mode=mode,
        estimator=estimator,
        panels=_exact.bulk_panels(float(ks.min()), float(k_max)),
        n_k_pad=_bucket(len(ks)),
    )
    mean, m2, cy = (np.asarray(v, dtype=np.float64) for v in (mean, m2, cy))
    if estimator == "conditional" and control and m2[-1] > 0 and n_test > 2:
        mu_y = control_mean(post, float(de.sigma))
        beta = cy[:-1] / m2[-1]
        delta = mean[:-1] - beta * (mean[-1] - mu_y)
        var = np.maximum(m2[:-1] - cy[:-1] * beta, 0.0) / (n_test - 2)
    else:
        delta, var = mean[:-1], m2[:-1] / max(n_test - 1, 1)
    return SimulationResult(ks, delta, np.sqrt(var / n_test), int(n_test), int(trials), estimator)


def control_mean(post: dict[str, jax.Array], sigma: float) -> float:
    """E_x[b(x)² + s(x)²] = Σλᵢdwᵢ²/d + σ² + Σᵢⱼ Fᵢⱼ²λⱼ/d over the test-input law x = √λ ⊙ ξ (= E_x δ_x(1))."""
    lam = np.asarray(post["sqrt_lam"], dtype=np.float64) ** 2
    dw, F = (np.asarray(post[k], dtype=np.float64) for k in ("dw", "F"))
    d = lam.shape[0]
    return float(np.sum(lam * dw**2) / d + sigma**2 + np.sum(F**2 * lam[None, :]) / d)
