"""Verifiers and judges of sampled completions.

* :func:`exact_verifier` — correct iff the parsed final answer equals the true ``v_L``.
* :class:`ImperfectVerifier` — accepts every correct answer (completeness 1) and a wrong but
  well-formed answer ``a`` of problem ``q`` iff ``u(q, a) < fpr``, with ``u`` a seeded hash uniform on
  [0, 1): a *consistent* weak test (the same wrong answer is always accepted or always rejected),
  false-positive rate ``fpr`` over wrong answers, soundness ``s = 1 − fpr`` (saturation spec B).
  Malformed completions are always rejected.
* :class:`LearnedJudge` — a value head: ridge-regularised logistic regression
  ``P(correct | x) = σ(wᵀ φ(x) + b)`` on frozen features of the completion (the generator's final
  hidden state where it wrote the end token, the completion's log-probability, its least likely
  token's log-probability and its length), fitted
  by Newton's method on completions of *training* problems; its score is the logit ``wᵀφ + b``.
* :func:`misspecified_score` — the knob: ``score_c = score + c · z`` with ``z`` a standardised bias
  feature the correctness labels do not reward (verbosity: written steps beyond the chain length; or
  surprisal: ``−log p`` of the completion). ``c = 0`` is the well-specified judge; larger ``c``
  prefers long (or unlikely) completions, a documented failure of LLM judges.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.errors import InputError

BIASES = ("verbosity", "surprisal")


def exact_verifier(answer: Any, truth: Any) -> np.ndarray:
    """1 where the parsed answer equals the truth (malformed answers are ``-1``, never correct)."""
    answer, truth = np.asarray(answer), np.asarray(truth)
    return ((answer == truth) & (answer >= 0)).astype(np.int64)


def _mix32(x: np.ndarray) -> np.ndarray:
    """32-bit integer finaliser (murmur3 fmix32): a bijection that scrambles bits."""
    x = x.astype(np.uint64) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(13)
    x = (x * np.uint64(0xC2B2AE35)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    return x


@dataclass(frozen=True)
class ImperfectVerifier:
    """Consistent verifier with false-positive rate ``fpr`` on wrong, well-formed answers."""

    fpr: float
    seed: int = 0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.fpr) and 0.0 <= self.fpr <= 1.0):
            raise InputError(f"fpr must be in [0, 1], got {self.fpr}")

    def uniform(self, problem_key: Any, answer: Any) -> np.ndarray:
        """``u(q, a) ∈ [0, 1)``: a hash of (problem key, answer, seed)."""
        q = np.asarray(problem_key).astype(np.uint64)
        a = np.asarray(answer).astype(np.int64).astype(np.uint64)
        h = _mix32(_mix32(q ^ np.uint64(self.seed * 0x9E3779B1 & 0xFFFFFFFF)) ^ (a * np.uint64(0x27D4EB2F)))
        return h.astype(np.float64) / 2.0**32

    def accept(self, problem_key: Any, answer: Any, correct: Any) -> np.ndarray:
        """1 if correct, else 1 with (hash-)probability ``fpr`` for a well-formed answer."""
        correct, answer = np.asarray(correct).astype(bool), np.asarray(answer)
        fluke = (answer >= 0) & (self.uniform(problem_key, answer) < self.fpr)
        return (correct | fluke).astype(np.int64)


# ------------------------------------------------------------------------------------ learned judge


def judge_features(hidden: Any, logprob: Any, min_logprob: Any, n_steps: Any, length: Any) -> np.ndarray:
    """Feature matrix φ = [hidden state, log p, log p per token, least token log p, steps − chain length]."""
    hidden = np.asarray(hidden, np.float32)
    logprob = np.asarray(logprob, np.float32)[:, None]
    min_lp = np.asarray(min_logprob, np.float32)[:, None]
    n_steps = np.asarray(n_steps, np.float32)[:, None]
    length = np.asarray(length, np.float32)[:, None]
    return np.concatenate([hidden, logprob, logprob / np.maximum(n_steps + 1, 1), min_lp, n_steps - length], axis=1)


@functools.partial(jax.jit, static_argnames=("iters",))
def _newton_logistic(X: jax.Array, y: jax.Array, ridge: jax.Array, iters: int = 25) -> jax.Array:
    """Ridge logistic regression by Newton's method: minimise ``Σ CE(σ(Xw), y) + ridge/2 |w_{1:}|²``."""
    n, p = X.shape
    pen = jnp.full(p, ridge).at[0].set(0.0)  # no penalty on the intercept

    def body(_, w):
        z = X @ w
        mu = jax.nn.sigmoid(z)
        g = X.T @ (mu - y) + pen * w
        H = (X * (mu * (1 - mu))[:, None]).T @ X + jnp.diag(pen + 1e-6)
        return w - jnp.linalg.solve(H, g)

    return jax.lax.fori_loop(0, iters, body, jnp.zeros(p, X.dtype))


@dataclass(frozen=True)
class LearnedJudge:
    """Fitted value head: standardisation ``(mean, scale)`` and weights ``w`` (intercept first)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray

    @classmethod
    def fit(cls, features: Any, correct: Any, ridge: float = 1.0) -> LearnedJudge:
        """Fit ``P(correct | φ)`` on labelled completions (ridge on standardised features)."""
        X = np.asarray(features, np.float64)
        y = np.asarray(correct, np.float64)
        if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[0] < 2:
            raise InputError(f"features must be (n, p) with n = len(correct) ≥ 2, got {X.shape} and {y.shape}")
        if not np.all((y == 0) | (y == 1)):
            raise InputError("correct must be 0/1 labels")
        if not ridge > 0:
            raise InputError(f"ridge must be > 0, got {ridge}")
        mean, scale = X.mean(0), X.std(0) + 1e-6
        Z = np.concatenate([np.ones((X.shape[0], 1)), (X - mean) / scale], axis=1)
        w = np.asarray(_newton_logistic(jnp.asarray(Z, jnp.float32), jnp.asarray(y, jnp.float32), jnp.float32(ridge)))
        if not np.all(np.isfinite(w)):
            raise InputError("the judge's logistic regression did not converge (non-finite weights)")
        return cls(mean.astype(np.float32), scale.astype(np.float32), w.astype(np.float32))

    def score(self, features: Any) -> np.ndarray:
        """The judge's logit ``wᵀφ + b`` for each completion."""
        X = (np.asarray(features, np.float32) - self.mean) / self.scale
        return X @ self.weights[1:] + self.weights[0]

    def prob(self, features: Any) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.score(features)))


def bias_feature(kind: str, *, n_steps: Any, length: Any, logprob: Any) -> np.ndarray:
    """Raw bias feature: ``verbosity = written steps − chain length``; ``surprisal = −log p``."""
    if kind == "verbosity":
        return np.asarray(n_steps, np.float64) - np.asarray(length, np.float64)
    if kind == "surprisal":
        return -np.asarray(logprob, np.float64)
    raise InputError(f"unknown judge bias {kind!r}; choose one of {', '.join(BIASES)}")


def misspecified_score(score: Any, bias: Any, c: float, scale: float | None = None) -> np.ndarray:
    """``score + c · bias / scale`` (``scale`` defaults to the bias's standard deviation)."""
    if not np.isfinite(c):
        raise InputError(f"misspecification c must be finite, got {c}")
    bias = np.asarray(bias, np.float64)
    s = float(np.std(bias)) if scale is None else float(scale)
    return np.asarray(score, np.float64) + c * bias / (s if s > 0 else 1.0)


def auc(score: Any, label: Any) -> float:
    """Area under the ROC curve (Mann–Whitney U with mid-ranks for ties); NaN with one class."""
    from scipy.stats import rankdata

    score, label = np.asarray(score, np.float64), np.asarray(label).astype(bool)
    n1, n0 = label.sum(), (~label).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[label].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
