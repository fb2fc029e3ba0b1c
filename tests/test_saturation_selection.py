"""Selection rules (best-of-N, majority vote, Best-of-Majority): hand cases, exact forms vs Monte Carlo."""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from scaling_theory.errors import InputError
from scaling_theory.saturation import selection as S

ANS = np.array([[0, 1, 1, 2], [2, 2, 0, 0], [3, 3, 3, 1]])
SC = np.array([[0.9, 0.1, 0.2, 0.95], [0.1, 0.2, 0.5, 0.6], [0.3, 0.2, 0.1, 0.8]])


def test_hand_examples():
    np.testing.assert_array_equal(np.asarray(S.best_of_n(ANS, SC, 4)), [[2], [0], [1]])
    # counts: row 0 → {1: 2}; row 1 → tie {0, 2} → smaller id without a key; row 2 → {3: 3}
    np.testing.assert_array_equal(np.asarray(S.majority_vote(ANS, 4)), [[1], [0], [3]])
    # BoM with α = 0.5: row 0 keeps {1} (2/4); row 1 keeps {0, 2}, best mean score 0 (0.55 vs 0.15);
    # row 2 keeps {3} (3/4) although answer 1 has the best single score
    np.testing.assert_array_equal(np.asarray(S.best_of_majority(ANS, SC, 4, min_freq=0.5)), [[1], [0], [3]])
    # top-k submissions, −1 for empty slots
    np.testing.assert_array_equal(
        np.asarray(S.best_of_majority(ANS, SC, 4, k=2, min_freq=0.5)), [[1, -1], [0, 2], [3, -1]]
    )
    np.testing.assert_array_equal(np.asarray(S.majority_vote(ANS, 4, k=2))[:, 0], [1, 0, 3])
    np.testing.assert_array_equal(
        np.asarray(S.success(S.best_of_n(ANS, SC, 4, k=2), np.array([0, 2, 3]))), [True, True, True]
    )


def test_mask_drops_attempts_and_fallback_to_modes():
    mask = np.array([[True, True, False, False], [True] * 4, [False, False, True, True]])
    np.testing.assert_array_equal(np.asarray(S.best_of_n(ANS, SC, 4, mask=mask)), [[0], [0], [1]])
    # no answer reaches α = 0.9: the modal answers survive (row 0: {0, 1} tie at 1/2 → best mean score 0)
    np.testing.assert_array_equal(np.asarray(S.best_of_majority(ANS, SC, 4, min_freq=0.9, mask=mask))[0], [0])


def test_random_tie_breaking_is_uniform():
    # two answers, one vote each: with a key each wins about half of the time (binomial SE)
    reps = 4000
    ans = jnp.tile(jnp.array([[0, 1]]), (reps, 1))
    win = np.asarray(S.majority_vote(ans, 2, key=jax.random.key(0)))[:, 0]
    assert abs(win.mean() - 0.5) <= 4 * 0.5 / math.sqrt(reps)


@pytest.fixture(scope="module")
def tail_task():
    """40 questions, 30 answers with a long tail of rare wrong ones, reward model with per-answer errors."""
    task = S.make_answer_task(jax.random.key(0), 40, 30, reward_noise=0.6, sample_noise=0.0)
    curve = S.selection_accuracy(jax.random.key(1), task, [1, 4, 16, 64, 256], 100)
    return task, curve


def test_bom_limits(tail_task):
    task, _ = tail_task
    big_ans, big_sc = S.sample_attempts(jax.random.key(4), task, 4000)
    ans, sc = big_ans[:, :32], big_sc[:, :32]
    m = task.probs.shape[1]
    # α = 0 keeps every sampled answer: with σ_s = 0 the mean score is the answer's reward, so BoM = BoN
    np.testing.assert_array_equal(
        np.asarray(S.best_of_majority(ans, sc, m, min_freq=0.0)), np.asarray(S.best_of_n(ans, sc, m))
    )
    # α = 1 keeps only the modes: BoM is a majority vote with ties broken by reward
    mv = np.asarray(S.majority_vote(ans, m))[:, 0]
    bom = np.asarray(S.best_of_majority(ans, sc, m, min_freq=1.0))[:, 0]
    counts = np.stack([(np.asarray(ans) == j).sum(1) for j in range(m)], 1)
    unique_mode = (counts == counts.max(1, keepdims=True)).sum(1) == 1
    assert unique_mode.sum() > 20
    np.testing.assert_array_equal(bom[unique_mode], mv[unique_mode])
    # sampled answers follow the task's distribution: answer 0's frequency vs π(correct), binomial SE
    freq = (np.asarray(big_ans) == 0).mean(1)
    pc = np.asarray(task.probs[:, 0])
    assert np.all(np.abs(freq - pc) <= 4.5 * np.sqrt(pc * (1 - pc) / 4000) + 1e-12)


def test_best_of_n_exact_vs_monte_carlo_and_limits(tail_task):
    task, curve = tail_task
    grid = np.asarray(curve.n)
    exact = np.asarray(S.best_of_n_exact(task.probs, task.reward, task.correct, jnp.asarray(grid))).mean(-1)
    # each trial's accuracy is a mean over the same 40 questions, so the MC mean estimates `exact`;
    # 4.5 SE over 5 budgets (false alarm < 4e-5)
    assert np.all(np.abs(np.asarray(curve.mean["best_of_n"]) - exact) <= 4.5 * np.asarray(curve.se["best_of_n"]))
    # N = 1: the submission is one sample, correct with probability π(correct)
    np.testing.assert_allclose(
        np.asarray(S.best_of_n_exact(task.probs, task.reward, task.correct, 1)),
        np.asarray(task.probs[:, 0]),
        rtol=1e-12,
    )
    # N → ∞: correct iff the correct answer has the highest reward among answers with π > 0
    limit = np.asarray(S.best_of_n_exact(task.probs, task.reward, task.correct, 10**7))
    best = np.argmax(np.where(np.asarray(task.probs) > 1e-6, np.asarray(task.reward), -np.inf), axis=1)
    np.testing.assert_allclose(
        limit[np.asarray(task.probs).min(1) > 1e-6], (best == 0)[np.asarray(task.probs).min(1) > 1e-6], atol=1e-6
    )


def test_selection_on_a_noisy_reward_task_behaves_as_the_theory_says(tail_task):
    # long tail of rare wrong answers + per-answer reward errors: BoN's exact accuracy falls at large N
    # (it finds a rare wrong answer with a spuriously high reward); BoM filters them out.
    task, curve = tail_task
    exact = np.asarray(S.best_of_n_exact(task.probs, task.reward, task.correct, jnp.asarray([16, 256]))).mean(-1)
    assert exact[1] < exact[0]
    m, se = curve.mean, curve.se
    gap = float(m["best_of_majority"][-1] - m["best_of_n"][-1])
    assert gap > 4 * math.hypot(float(se["best_of_majority"][-1]), float(se["best_of_n"][-1]))
    assert float(m["majority"][-1]) >= float(m["majority"][1])


def _majority_exact_enumeration(pi, n):
    """Exact majority-vote accuracy (answer 0 correct, ties split uniformly) by enumerating all count vectors."""
    total = 0.0
    for counts in itertools.product(range(n + 1), repeat=len(pi)):
        if sum(counts) != n:
            continue
        top = max(counts)
        if counts[0] == top:
            total += stats.multinomial.pmf(counts, n, pi) / sum(c == top for c in counts)
    return total


def test_majority_vote_exact_forms_vs_monte_carlo():
    # 30 questions: 20 with two answers (third probability 0), 10 with three; one simulator call
    p = np.linspace(0.2, 0.8, 20)
    probs = np.concatenate([np.stack([p, 1 - p, 0 * p], 1), np.tile([0.45, 0.35, 0.2], (10, 1))])
    task = S.AnswerTask(jnp.asarray(probs), jnp.zeros(30, jnp.int32), jnp.zeros((30, 3)), 0.0)
    grid = [1, 2, 5, 6, 11]
    mc = S.selection_accuracy(jax.random.key(2), task, grid, 400, rules=("majority",))
    exact = np.array([[_majority_exact_enumeration(pi, n) for pi in probs] for n in grid])  # (grid, questions)
    # each trial's accuracy is a mean over the same 30 questions; 4.5 SE over 5 budgets
    assert np.all(np.abs(np.asarray(mc.mean["majority"]) - exact.mean(1)) <= 4.5 * np.asarray(mc.se["majority"]))
    # the binary closed form equals the enumeration, and SciPy's binomial tail for odd N (no ties)
    binary = np.asarray(S.majority_vote_exact_binary(p[None, :], np.array(grid)[:, None]))
    np.testing.assert_allclose(binary, exact[:, :20], rtol=1e-10)
    assert float(S.majority_vote_exact_binary(0.6, 31)) == pytest.approx(stats.binom.sf(15, 31, 0.6), rel=1e-12)
    assert float(S.majority_vote_exact_binary(0.6, 2)) == pytest.approx(0.36 + 0.5 * 0.48, rel=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: S.best_of_n(np.array([[0, 5]]), np.zeros((1, 2)), 3), r"answers must be ids in \[0, 3\), got 5"),
        (lambda: S.best_of_n(np.array([[0, 1]]), np.zeros((1, 3)), 3), r"scores must have the shape of answers"),
        (lambda: S.best_of_n(np.array([0, 1]), np.zeros(2), 3), r"answers must be a 2-D array"),
        (lambda: S.best_of_majority(ANS, SC, 4, min_freq=1.5), r"min_freq must be in \[0, 1\], got 1.5"),
        (lambda: S.select("argmax", ANS, SC, 4), r"rule must be one of best_of_n, majority, best_of_majority"),
        (lambda: S.best_of_n(ANS, SC, 4, k=0), r"k must be an integer >= 1"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(InputError, match=match):
        call()
