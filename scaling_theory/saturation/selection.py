"""Selection rules over sampled attempts with reward scores: best-of-N, majority vote, Best-of-Majority.

Attempts are given as ``answers_QxN`` (integer answer ids in [0, M)), ``scores_QxN`` (reward-model
scores) and an optional ``mask_QxN`` (False = attempt absent, for ragged logs). Each rule turns the
attempts of a question into a priority per distinct answer and submits the top k (spec §F):

* best-of-N (BoN): priority = the best score among the answer's attempts (k = 1: the answer of the
  highest-scored attempt);
* majority vote (MV): priority = the answer's count (ties broken uniformly at random with a key,
  else towards the smaller id);
* Best-of-Majority (BoM, arXiv 2510.03199): keep answers with empirical frequency π̂(y) ≥ α, rank
  the survivors by their mean score (= r̂(y) when the reward model is a function of the answer) and
  submit the top k (fewer if fewer survive). The threshold α is [unconfirmed] in the paper
  ("of order 1/C*"); it is a parameter here. If no answer reaches α the modal answer(s) survive.

A submission is a ``Q × k`` array of answer ids (−1 = empty slot); :func:`success` scores it against
the correct answer (pass@k of the submitted set). All rules are vectorised over questions
(``jax.ops.segment_*`` per row under ``vmap``) and traceable.

Synthetic tasks (:func:`make_answer_task`) have a known answer distribution per question and a noisy
reward model r̂(y) = 1{y correct} + σ_a ζ_y (a fixed per-answer error: the reward model is a function
of the response) plus σ_s ξ per sample. :func:`best_of_n_exact` gives BoN's exact accuracy when σ_s = 0,
:func:`majority_vote_exact_binary` MV's for two answers; :func:`selection_accuracy` estimates every
rule's accuracy vs N by Monte Carlo (standard errors over independent trials).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.stats
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.numerics import host, x64
from scaling_theory.results import Result
from scaling_theory.saturation import _validate as v

ArrayLike = Any
RULES = ("best_of_n", "majority", "best_of_majority")


def _answer_stats(answers_N: jnp.ndarray, scores_N: jnp.ndarray, mask_N: jnp.ndarray, m: int):
    """Per answer of one question: count, score sum and best score (−inf when unsampled)."""
    ids = jnp.where(mask_N, answers_N, m)  # masked attempts go to a dropped extra segment
    cnt = jax.ops.segment_sum(mask_N.astype(jnp.float64), ids, num_segments=m + 1)[:m]
    ssum = jax.ops.segment_sum(jnp.where(mask_N, scores_N, 0.0), ids, num_segments=m + 1)[:m]
    smax = jax.ops.segment_max(jnp.where(mask_N, scores_N, -jnp.inf), ids, num_segments=m + 1)[:m]
    return cnt, ssum, jnp.where(cnt > 0, smax, -jnp.inf)


def _prepare(answers: ArrayLike, scores: ArrayLike | None, mask: ArrayLike | None, num_answers: int):
    m = v.int_arg("num_answers", num_answers, minimum=1)
    a = jnp.asarray(answers)
    if a.ndim != 2:
        raise InputError(f"answers must be a 2-D array (questions × attempts), got shape {tuple(a.shape)}")
    if not jnp.issubdtype(a.dtype, jnp.integer):
        raise InputError("answers must be integer answer ids")
    s = jnp.zeros(a.shape, jnp.float64) if scores is None else jnp.asarray(scores, jnp.float64)
    if s.shape != a.shape:
        raise InputError(f"scores must have the shape of answers {tuple(a.shape)}, got {tuple(s.shape)}")
    mk = jnp.ones(a.shape, bool) if mask is None else jnp.asarray(mask, bool)
    if mk.shape != a.shape:
        raise InputError(f"mask must have the shape of answers {tuple(a.shape)}, got {tuple(mk.shape)}")
    from scaling_theory.numerics import is_concrete

    if is_concrete(a, mk):
        ah, mh = np.asarray(a), np.asarray(mk)
        bad = mh & ((ah < 0) | (ah >= m))
        if bad.any():
            raise InputError(f"answers must be ids in [0, {m}), got {int(ah[bad][0])}")
    return a.astype(jnp.int32), s, mk, m


def _topk(priority_QxM: jnp.ndarray, k: int) -> jnp.ndarray:
    """Top-k answer ids per row; −1 where the priority is −inf (nothing to submit)."""
    vals, idx = jax.lax.top_k(priority_QxM, min(k, priority_QxM.shape[-1]))
    return jnp.where(jnp.isfinite(vals), idx, -1)


@x64
def best_of_n(
    answers: ArrayLike, scores: ArrayLike, num_answers: int, k: int = 1, mask: ArrayLike | None = None
) -> np.ndarray:
    """BoN: submit the k distinct answers with the highest best-attempt score (Q × k ids)."""
    a, s, mk, m = _prepare(answers, scores, mask, num_answers)
    return host(_bon_core(a, s, mk, m, v.int_arg("k", k, minimum=1)))


@functools.partial(jax.jit, static_argnames=("m", "k"))
def _bon_core(a: jnp.ndarray, s: jnp.ndarray, mk: jnp.ndarray, m: int, k: int) -> jnp.ndarray:
    smax = jax.vmap(lambda x, y, z: _answer_stats(x, y, z, m)[2])(a, s, mk)
    return _topk(smax, k)


@x64
def majority_vote(
    answers: ArrayLike, num_answers: int, k: int = 1, mask: ArrayLike | None = None, key: jax.Array | None = None
) -> np.ndarray:
    """MV: submit the k most frequent answers; ties at random with ``key``, else to the smaller id."""
    a, s, mk, m = _prepare(answers, None, mask, num_answers)
    k = v.int_arg("k", k, minimum=1)
    if key is None:
        return host(_mv_core(a, mk, -jnp.arange(m, dtype=jnp.float64) / (2.0 * m), m, k))
    return host(_mv_core(a, mk, 0.5 * jax.random.uniform(key, (a.shape[0], m), dtype=jnp.float64), m, k))


@functools.partial(jax.jit, static_argnames=("m", "k"))
def _mv_core(a: jnp.ndarray, mk: jnp.ndarray, jitter: jnp.ndarray, m: int, k: int) -> jnp.ndarray:
    """Counts plus a tie-breaking jitter in [0, 1/2) (never reorders different counts)."""
    cnt = jax.vmap(lambda x, z: _answer_stats(x, jnp.zeros(x.shape, jnp.float64), z, m)[0])(a, mk)
    return _topk(jnp.where(cnt > 0, cnt + jitter, -jnp.inf), k)


@x64
def best_of_majority(
    answers: ArrayLike,
    scores: ArrayLike,
    num_answers: int,
    k: int = 1,
    min_freq: float = 0.1,
    mask: ArrayLike | None = None,
) -> np.ndarray:
    """BoM: among answers with frequency π̂(y) ≥ ``min_freq`` (the modes if none), submit the k best by mean score."""
    a, s, mk, m = _prepare(answers, scores, mask, num_answers)
    alpha = v.probability("min_freq", min_freq)
    return host(_bom_core(a, s, mk, alpha, m, v.int_arg("k", k, minimum=1)))


@functools.partial(jax.jit, static_argnames=("m", "k"))
def _bom_core(a: jnp.ndarray, s: jnp.ndarray, mk: jnp.ndarray, alpha: jnp.ndarray, m: int, k: int) -> jnp.ndarray:
    cnt, ssum, _ = jax.vmap(lambda x, y, z: _answer_stats(x, y, z, m))(a, s, mk)
    total = jnp.maximum(cnt.sum(axis=1, keepdims=True), 1.0)
    keep = (cnt > 0) & (cnt / total >= alpha)
    modes = (cnt > 0) & (cnt == cnt.max(axis=1, keepdims=True))
    keep = jnp.where(keep.any(axis=1, keepdims=True), keep, modes)
    mean = ssum / jnp.maximum(cnt, 1.0)
    return _topk(jnp.where(keep, mean, -jnp.inf), k)


def _select_core(
    rule: str, a: jnp.ndarray, s: jnp.ndarray, mk: jnp.ndarray, m: int, k: int, alpha: Any, jitter: jnp.ndarray
) -> jnp.ndarray:
    if rule == "best_of_n":
        return _bon_core(a, s, mk, m, k)
    if rule == "majority":
        return _mv_core(a, mk, jitter, m, k)
    return _bom_core(a, s, mk, alpha, m, k)


def select(rule: str, answers: ArrayLike, scores: ArrayLike, num_answers: int, k: int = 1, **kw: Any) -> np.ndarray:
    """Dispatch by name: ``best_of_n``, ``majority`` or ``best_of_majority``."""
    if rule == "best_of_n":
        return best_of_n(answers, scores, num_answers, k, mask=kw.get("mask"))
    if rule == "majority":
        return majority_vote(answers, num_answers, k, mask=kw.get("mask"), key=kw.get("key"))
    if rule == "best_of_majority":
        return best_of_majority(answers, scores, num_answers, k, min_freq=kw.get("min_freq", 0.1), mask=kw.get("mask"))
    raise InputError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")


def success(selected_QxK: ArrayLike, correct_Q: ArrayLike) -> np.ndarray:
    """1 where any submitted answer is the correct one (pass@k of the submission), per question (bool)."""
    return host(_success(jnp.asarray(selected_QxK), jnp.asarray(correct_Q)))


def _success(sel: jnp.ndarray, correct: jnp.ndarray) -> jnp.ndarray:
    """Traceable core of :func:`success`."""
    return jnp.any(sel == correct[:, None], axis=1)


# ------------------------------------------------------------------------------- synthetic tasks


@dataclass(frozen=True)
class AnswerTask(Result):
    """Q questions with M candidate answers: ``probs`` (Q × M), ``correct`` id (Q), reward-model
    value per answer ``reward`` (Q × M, = 1{correct} + σ_a ζ), per-sample score noise ``sample_noise``.

    Rows: one per (question, answer) with ``probs``, ``reward``, the question's ``correct`` answer id and
    ``sample_noise``.
    """

    _index = ("question", "answer")
    _axes = {"correct": ("question",)}

    probs: np.ndarray
    correct: np.ndarray
    reward: np.ndarray
    sample_noise: float


@x64
def make_answer_task(
    key: jax.Array,
    questions: int,
    num_answers: int,
    *,
    p_correct: tuple[float, float] = (2.0, 3.0),
    tail_concentration: float = 0.3,
    reward_noise: float = 0.5,
    sample_noise: float = 0.1,
) -> AnswerTask:
    """A synthetic task: π(correct) ~ Beta(p_correct); the wrong mass split by Dirichlet(tail_concentration)
    over M − 1 wrong answers (small concentration = a long tail of rare wrong answers); answer 0 is correct."""
    q = v.int_arg("questions", questions, minimum=1)
    m = v.int_arg("num_answers", num_answers, minimum=2)
    a, b = v.positive("p_correct alpha", p_correct[0]), v.positive("p_correct beta", p_correct[1])
    conc = v.positive("tail_concentration", tail_concentration)
    rn = v.nonnegative("reward_noise", reward_noise)
    sn = v.nonnegative("sample_noise", sample_noise)
    # The task is a small fixed table (not a Monte Carlo batch), drawn on the host from a NumPy generator
    # seeded by the key's data: deterministic in the key, and free of the slow-to-compile JAX gamma samplers.
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())
    pc = rng.beta(float(a), float(b), q)
    tail = rng.dirichlet(np.full(m - 1, float(conc)), q)
    probs = np.concatenate([pc[:, None], (1.0 - pc)[:, None] * tail], axis=1)
    reward = np.zeros((q, m))
    reward[:, 0] = 1.0
    reward = reward + float(rn) * rng.standard_normal((q, m))
    return AnswerTask(probs, np.zeros(q, np.int32), reward, float(sn))


@x64
def sample_attempts(key: jax.Array, task: AnswerTask, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n attempts per question: answers ~ probs, scores = reward[answer] + sample_noise · N(0, 1)."""
    n = v.int_arg("n", n, minimum=1)
    return host(_sample_core(key, task.probs, task.reward, jnp.float64(task.sample_noise), n))


@functools.partial(jax.jit, static_argnames="n")
def _sample_core(key, probs, reward, noise, n: int):
    ka, ks = jax.random.split(key)
    # inverse-CDF sampling: answer = #{j : u > cdf_j} (clipped to the last answer against rounding)
    cdf = jnp.cumsum(probs, axis=1)
    u = jax.random.uniform(ka, (probs.shape[0], n), dtype=jnp.float64) * cdf[:, -1:]
    ans = jnp.minimum(jnp.sum(u[:, :, None] >= cdf[:, None, :], axis=-1), probs.shape[1] - 1)
    sc = jnp.take_along_axis(reward, ans, axis=1) + noise * jax.random.normal(ks, ans.shape, dtype=jnp.float64)
    return ans.astype(jnp.int32), sc


@dataclass(frozen=True)
class SelectionCurve(Result):
    """Accuracy per selection rule at each budget ``n`` (grid,): ``mean[rule]`` and its standard error ``se[rule]``
    over the trials (NumPy).

    Rows (an override of the :class:`~scaling_theory.results.Result` rule, long by rule): one per (rule, n).
    """

    n: np.ndarray
    mean: dict[str, np.ndarray]
    se: dict[str, np.ndarray]

    def rows(self) -> list[dict]:
        """One row per (rule, n): ``rule``, ``n``, ``mean``, ``se``."""
        return [
            {"rule": r, "n": int(n), "mean": float(m), "se": float(s)}
            for r in self.mean
            for n, m, s in zip(np.asarray(self.n), np.asarray(self.mean[r]), np.asarray(self.se[r]))
        ]


@x64
def selection_accuracy(
    key: jax.Array,
    task: AnswerTask,
    n_grid: Sequence[int],
    trials: int,
    *,
    k: int = 1,
    min_freq: float = 0.1,
    rules: Sequence[str] = RULES,
) -> SelectionCurve:
    """Accuracy (fraction of questions whose submission contains the correct answer) vs N, per rule.

    Each trial draws max(n_grid) attempts per question and evaluates every N as the prefix of length N
    (nested budgets, as when sampling incrementally); the standard error is over the trials.
    """
    grid = jnp.asarray([v.int_arg("n_grid", x, minimum=1) for x in n_grid])
    trials = v.int_arg("trials", trials, minimum=2)
    for r in rules:
        if r not in RULES:
            raise InputError(f"rule must be one of {', '.join(RULES)}, got {r!r}")
    alpha = v.probability("min_freq", min_freq)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(trials))
    acc = _selection_trials(
        keys,
        task.probs,
        task.reward,
        task.correct,
        jnp.float64(task.sample_noise),
        grid,
        alpha,
        tuple(rules),
        v.int_arg("k", k, minimum=1),
        int(grid.max()),
    )  # (trials, grid, rules)
    mean = np.asarray(acc.mean(axis=0))
    se = np.asarray(acc.std(axis=0, ddof=1) / jnp.sqrt(trials))
    return SelectionCurve(
        np.asarray(grid), {r: mean[:, i] for i, r in enumerate(rules)}, {r: se[:, i] for i, r in enumerate(rules)}
    )


@functools.partial(jax.jit, static_argnames=("rules", "k", "n_max"))
def _selection_trials(keys, probs, reward, correct, noise, grid, alpha, rules, k, n_max):
    q, m = probs.shape

    def one(kt: jax.Array) -> jnp.ndarray:
        ks, kv = jax.random.split(kt)
        ans, sc = _sample_core(ks, probs, reward, noise, n_max)

        def at(nn: jnp.ndarray) -> jnp.ndarray:
            mask = jnp.broadcast_to(jnp.arange(n_max) < nn, ans.shape)
            jitter = 0.5 * jax.random.uniform(jax.random.fold_in(kv, nn), (q, m), dtype=jnp.float64)
            # float64 mean of the 0/1 successes (JAX's mean of a bool array is float32 even under x64)
            hit = [_success(_select_core(r, ans, sc, mask, m, k, alpha, jitter), correct) for r in rules]
            out = [h.mean(dtype=jnp.float64) for h in hit]
            return jnp.stack(out)

        return jax.lax.map(at, grid)  # (len(grid), rules), one budget at a time (bounded memory)

    return jax.lax.map(one, keys)


# ------------------------------------------------------------------------------- closed forms


@x64
def best_of_n_exact(probs: ArrayLike, reward: ArrayLike, correct: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Exact BoN accuracy per question for a deterministic reward per answer (σ_s = 0), k = 1.

    Rank answers by reward; the submitted answer is the best-ranked one sampled, so
    P(submit j) = (1 − S_{>j})^N − (1 − S_{≥j})^N with S the probability mass ranked above (incl.) j.
    Returns P(submit correct) (Q,) broadcast against N (leading axes of ``n``).
    """
    pr = jnp.asarray(probs, jnp.float64)
    rw = jnp.asarray(reward, jnp.float64)
    n = v.count("n", n)
    return host(_bon_exact_core(pr, rw, jnp.asarray(correct), n))


@jax.jit
def _bon_exact_core(pr: jnp.ndarray, rw: jnp.ndarray, correct: jnp.ndarray, n: jnp.ndarray) -> jnp.ndarray:
    order = jnp.argsort(-rw, axis=-1)
    p_sorted = jnp.take_along_axis(pr, order, axis=-1)
    incl = jnp.clip(jnp.cumsum(p_sorted, axis=-1), 0.0, 1.0)
    excl = incl - p_sorted
    nn = n[..., None, None]
    pw = lambda x: jnp.where(nn == 0, 1.0, jnp.exp(nn * jnp.log1p(-jnp.minimum(x, 1.0))))  # noqa: E731
    p_sel = pw(excl) - pw(incl)  # (..., Q, M) in sorted order
    is_c = jnp.take_along_axis(jnp.arange(pr.shape[-1])[None, :] == correct[:, None], order, axis=-1)
    return jnp.sum(p_sel * is_c, axis=-1)


@x64
def majority_vote_exact_binary(p_correct: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Exact MV accuracy with two answers and random tie-breaking: P(X > N/2) + ½ P(X = N/2), X ~ Bin(N, p)."""
    p = v.probability("p_correct", p_correct)
    n = v.count("n", n, minimum=1)
    p, n = jnp.broadcast_arrays(p, n)
    return host(_mv_binary_core(p, n, int(jnp.max(n))))


@functools.partial(jax.jit, static_argnames="n_max")
def _mv_binary_core(p: jnp.ndarray, n: jnp.ndarray, n_max: int) -> jnp.ndarray:
    x = jnp.arange(n_max + 1, dtype=jnp.float64)
    nn, pp = n[..., None], p[..., None]
    pmf = jax.scipy.stats.binom.pmf(x, nn, pp)  # 0 for x > n
    w = jnp.where(2 * x > nn, 1.0, jnp.where(2 * x == nn, 0.5, 0.0))
    return jnp.sum(pmf * w, axis=-1)
