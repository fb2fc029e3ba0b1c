"""Monte Carlo simulators of the saturation models (explicit PRNG keys; trials sharded over devices).

Each simulator draws raw Bernoulli attempts / Markov transitions (it never uses the closed forms it
is meant to check) and returns the per-budget mean and its standard error over independent trials.
Trial ``t`` uses ``jax.random.fold_in(key, t)``, so results do not depend on the device count
(the trial axis is split over :func:`scaling_theory.numerics.batch_mesh`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from scaling_theory.numerics import pad_to_multiple, shard_batch, x64
from scaling_theory.results import Result
from scaling_theory.saturation import _validate as v


@dataclass(frozen=True)
class MCCurve(Result):
    """A Monte Carlo estimate for budgets N = 0..n_max: ``mean[N]`` and its standard error ``se[N]`` (NumPy).

    Rows: one per budget N (the ``budget`` column) with ``mean``, ``se`` and ``trials``.
    """

    _index = ("budget",)

    mean: np.ndarray
    se: np.ndarray
    trials: int


def _trial_keys(key: jax.Array, trials: int) -> jax.Array:
    return shard_batch(_fold_keys(key, pad_to_multiple(trials, jax.device_count())))


@functools.partial(jax.jit, static_argnames="count")
def _fold_keys(key: jax.Array, count: int) -> jax.Array:
    """Trial t gets fold_in(key, t): independent of how the trials are later split over devices."""
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(count))


def _summarise(x_TxN: jnp.ndarray, trials: int) -> MCCurve:
    mean, se = _mean_se(x_TxN, trials)
    return MCCurve(np.asarray(mean), np.asarray(se), trials)


@functools.partial(jax.jit, static_argnames="trials")
def _mean_se(x_TxN: jnp.ndarray, trials: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    x = x_TxN[:trials].astype(jnp.float64)
    return x.mean(axis=0), x.std(axis=0, ddof=1) / jnp.sqrt(float(trials))


@x64
def simulate_parallel(key: jax.Array, p: ArrayLike, n_max: int, trials: int) -> MCCurve:
    """Hit@N for N = 0..n_max from ``trials`` runs of n_max i.i.d. Bernoulli(p) samples (running OR)."""
    p = v.probability("p", p)
    n_max = v.int_arg("n_max", n_max, minimum=1)
    trials = v.int_arg("trials", trials, minimum=2)

    return _summarise(_parallel_paths(_trial_keys(key, trials), p, n_max), trials)


@functools.partial(jax.jit, static_argnames="n_max")
def _parallel_paths(keys: jax.Array, p: jnp.ndarray, n_max: int) -> jnp.ndarray:
    def one(k: jax.Array) -> jnp.ndarray:
        hits = jax.random.uniform(k, (n_max,), dtype=jnp.float64) < p
        return jnp.concatenate([jnp.zeros(1, bool), jnp.cumsum(hits) > 0])

    return jax.vmap(one)(keys)


@x64
def simulate_chain(key: jax.Array, p0: ArrayLike, p_rethink: float, p_flip: float, n_max: int, trials: int) -> MCCurve:
    """Accuracy after N = 0..n_max rounds of the two-state chain, stepped with ``lax.scan``.

    Round 0 is correct with probability p₀; a wrong answer becomes correct with p_rethink; a correct
    one becomes wrong with p_flip (p_flip = 0: the absorbing TTSPM chain, whose accuracy is F_seq).
    """
    p0 = v.probability("p0", p0)
    a = v.probability("p_rethink", p_rethink)
    b = v.probability("p_flip", p_flip)
    n_max = v.int_arg("n_max", n_max, minimum=1)
    trials = v.int_arg("trials", trials, minimum=2)

    return _summarise(_chain_paths(_trial_keys(key, trials), p0, a, b, n_max), trials)


@functools.partial(jax.jit, static_argnames="n_max")
def _chain_paths(keys: jax.Array, p0: jnp.ndarray, a: jnp.ndarray, b: jnp.ndarray, n_max: int) -> jnp.ndarray:
    def one(k: jax.Array) -> jnp.ndarray:
        k0, k1 = jax.random.split(k)
        s0 = jax.random.uniform(k0, dtype=jnp.float64) < p0
        u = jax.random.uniform(k1, (n_max,), dtype=jnp.float64)

        def step(s: jnp.ndarray, u_t: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
            nxt = jnp.where(s, u_t >= b, u_t < a)
            return nxt, nxt

        _, path = jax.lax.scan(step, s0, u)
        return jnp.concatenate([s0[None], path])

    return jax.vmap(one)(keys)


@x64
def simulate_beta_parallel(key: jax.Array, alpha: float, beta: float, n_max: int, questions: int) -> MCCurve:
    """Aggregate Hit@N over ``questions`` questions with p ~ Beta(α, β), each with n_max Bernoulli(p) samples.

    The standard error is over questions (each question is one independent trial of the mixture). The
    questions' p are drawn on the host by NumPy from a generator seeded with the key's data (deterministic
    in the key; avoids compiling JAX's rejection gamma sampler, ~5 s on CPU); the attempts use JAX keys.
    """
    a = v.positive("alpha", alpha)
    b = v.positive("beta", beta)
    n_max = v.int_arg("n_max", n_max, minimum=1)
    questions = v.int_arg("questions", questions, minimum=2)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())
    p = rng.beta(float(a), float(b), questions)
    keys = _trial_keys(jax.random.fold_in(key, 1), questions)
    p_pad = shard_batch(jnp.concatenate([jnp.asarray(p), jnp.zeros(keys.shape[0] - questions)]))
    return _summarise(_beta_paths(keys, p_pad, n_max), questions)


@functools.partial(jax.jit, static_argnames="n_max")
def _beta_paths(keys: jax.Array, p: jnp.ndarray, n_max: int) -> jnp.ndarray:
    def one(k: jax.Array, p_q: jnp.ndarray) -> jnp.ndarray:
        hits = jax.random.uniform(k, (n_max,), dtype=jnp.float64) < p_q
        return jnp.concatenate([jnp.zeros(1, bool), jnp.cumsum(hits) > 0])

    return jax.vmap(one)(keys, p)


def marginal_from_curve(curve: MCCurve) -> tuple[np.ndarray, np.ndarray]:
    """Empirical ΔF(N) = F̂(N+1) − F̂(N) for N = 0..n_max−1 and a conservative SE (√(se_N² + se_{N+1}²)).

    Args:
      curve: a Monte Carlo curve from one of the simulators.
    Returns:
      (ΔF, SE), float64 NumPy arrays of length n_max.
    """
    with jax.enable_x64(True):
        d = jnp.diff(jnp.asarray(curve.mean))
        se = jnp.sqrt(jnp.asarray(curve.se)[1:] ** 2 + jnp.asarray(curve.se)[:-1] ** 2)
    return np.asarray(d), np.asarray(se)
