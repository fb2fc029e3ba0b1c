"""Imperfect verifiers (spec §B): toy-parameter reference numbers, identities, Monte Carlo, estimation."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest

from scaling_theory.errors import InputError
from scaling_theory.saturation import verifiers as V

TOY = V.make_model([0.87, 0.13], 0.75, [0.58, 0.42])


# ------------------------------------------------------------------------ spec reference values


@pytest.mark.parametrize(
    "v_fluke, k_opt, u_code, u_exact",
    [(-0.7, 3, 0.554, 0.525), (-1.0, 2, 0.488, 0.472), (-2.0, 1, 0.339, 0.339)],
)
def test_toy_parameters_reproduce_the_spec_table(v_fluke, k_opt, u_code, u_exact):
    ex = V.optimal_sample_count(TOY, v_fluke, 800, "exact")
    co = V.optimal_sample_count(TOY, v_fluke, 800, "code")
    assert float(ex.k_opt) == k_opt and float(co.k_opt) == k_opt
    assert round(float(ex.utility), 3) == u_exact
    assert round(float(co.utility), 3) == u_code


def test_toy_limits():
    # spec §B.2: lim U = Σ p_i (p_c + V_f p_f)/(1 − β) = 0.716 (V_f = 0), 0.432 (V_f = −1)
    lim = np.asarray(V.utility_limit(TOY, [0.0, -1.0]))
    np.testing.assert_allclose(np.round(lim, 3), [0.716, 0.432])
    np.testing.assert_allclose(np.asarray(V.utility_exact(TOY, 5000, [0.0, -1.0])), lim, rtol=1e-12)
    assert float(V.mixture_ceiling(TOY)) == pytest.approx(float(lim[0]), rel=1e-14)


def test_llama_8b_parameters_are_consistent_with_one_soundness():
    # spec §B.2 (official notebook, Llama-3.1-8B): p_correct = (0.874, 0.138), p_fluke = (0.0313, 0.2141),
    # β = (0.0948, 0.6477). One s explains all of them: s = 1 − p_fluke,1/(1 − r_1).
    r = np.array([0.874, 0.138])
    s = 1 - 0.0313 / (1 - r[0])
    beta, pc, pf = (np.asarray(x) for x in V.attempt_probabilities(V.make_model(r, s)))
    np.testing.assert_allclose(pc, [0.874, 0.138], atol=5e-5)
    np.testing.assert_allclose(pf, [0.0313, 0.2141], atol=5e-4)  # the inputs are rounded to 3–4 digits
    np.testing.assert_allclose(beta, [0.0948, 0.6477], atol=5e-4)


# ------------------------------------------------------------------------------ identities


def test_ceiling_formula_and_limits():
    assert float(V.accuracy_ceiling(0.5, 0.75)) == pytest.approx(0.5 / (0.5 + 0.25 * 0.5))
    assert float(V.accuracy_ceiling(0.3, 1.0)) == 1.0  # a sound verifier: every accept is correct
    assert float(V.accuracy_ceiling(0.3, 0.0)) == pytest.approx(0.3)  # accepts everything: no gain
    assert float(V.accuracy_ceiling(0.4, 0.5, completeness=0.5)) == pytest.approx(0.2 / (0.2 + 0.3))
    with pytest.raises(InputError, match="no sample is ever accepted"):
        V.accuracy_ceiling(0.0, 1.0)


def test_exact_utility_is_the_sum_of_per_attempt_terms():
    beta, pc, pf = (np.asarray(x) for x in V.attempt_probabilities(TOY))
    k = np.arange(1, 40)
    per = (np.asarray(TOY.p) * beta ** (k[:, None] - 1) * (pc - 1.0 * pf)).sum(1)
    np.testing.assert_allclose(np.asarray(V.utility_exact(TOY, k, -1.0)), np.cumsum(per), rtol=1e-12)
    assert float(V.utility_exact(TOY, 0, -1.0)) == 0.0


def test_code_form_equals_exact_form_for_a_single_task_type():
    one = V.make_model([0.4], 0.8)
    np.testing.assert_allclose(
        np.asarray(V.utility_code(one, 60, -1.3)), np.asarray(V.utility_exact(one, np.arange(1, 61), -1.3)), rtol=1e-12
    )


def test_abstain_when_every_budget_loses():
    m = V.make_model([0.05], 0.5)
    res = V.optimal_sample_count(m, -10.0, 50)
    assert float(res.k_opt) == 0 and float(res.utility) == 0.0
    assert float(np.max(np.asarray(res.curve))) < 0


# ------------------------------------------------------------------------------ Monte Carlo


def test_exact_utility_matches_simulation_of_the_resampling_policy():
    # NumPy simulation (independent of the library): draw a task type, then attempts until the first
    # accept or K rejections; utility 1 / V_f / 0. SE of a mean of utilities in [V_f, 1]: sd/√T.
    rng = np.random.default_rng(0)
    T, K, vf = 200_000, 4, -1.0
    r = np.where(rng.random(T) < 0.58, 0.87, 0.13)
    correct = rng.random((T, K)) < r[:, None]
    accept = correct | (rng.random((T, K)) < 1 - 0.75)  # c = 1, false-positive rate 1 − s
    first = np.argmax(accept, axis=1)
    got = accept.any(axis=1)
    util = np.where(got, np.where(correct[np.arange(T), first], 1.0, vf), 0.0)
    exact = float(V.utility_exact(TOY, K, vf))
    assert abs(util.mean() - exact) <= 4 * util.std() / np.sqrt(T)
    # and the accuracy among accepted answers approaches the ceiling as K grows (K = 4 is close for easy tasks)
    easy = r == 0.87
    acc_easy = correct[np.arange(T), first][got & easy].mean()
    assert abs(acc_easy - float(V.accuracy_ceiling(0.87, 0.75))) <= 4 * np.sqrt(0.25 / (got & easy).sum())


def test_permutation_experiment_exact_vs_monte_carlo():
    rng = np.random.default_rng(1)
    T, S = 30, 40
    correct = (rng.random((T, S)) < rng.uniform(0, 0.6, (T, 1))).astype(float)
    accepted = np.maximum(correct, rng.random((T, S)) < 0.2).astype(float)
    accepted[0] = 0.0  # a task without any accepted sample
    ks = np.array([1, 2, 5, 10, 40])
    exact = np.asarray(
        V.resampling_reward(S, accepted.sum(1)[:, None], (accepted * correct).sum(1)[:, None], ks[None, :], -2.0)
    ).mean(0)
    mc, se = V.simulate_resampling(jax.random.key(0), accepted, correct, ks, -2.0, 400)
    assert np.all(np.abs(np.asarray(mc) - exact) <= 4.5 * np.asarray(se) + 1e-12)  # 4.5 SE over 5 budgets
    # at K = S every task with an accept submits: the mean of (t + V_f(a − t))/a
    a, t = accepted.sum(1), (accepted * correct).sum(1)
    full = np.where(a > 0, (t - 2.0 * (a - t)) / np.maximum(a, 1), 0.0).mean()
    assert exact[-1] == pytest.approx(full, rel=1e-12)


# ------------------------------------------------------------------------------ estimation


def _verifier_log(rng, tasks, samples, r_easy, r_hard, frac_easy, s, c):
    easy = rng.random(tasks) < frac_easy
    r = np.where(easy, r_easy, r_hard)
    correct = rng.random((tasks, samples)) < r[:, None]
    accepted = np.where(correct, rng.random((tasks, samples)) < c, rng.random((tasks, samples)) >= s)
    ti, si = np.meshgrid(np.arange(tasks), np.arange(samples), indexing="ij")
    return pd.DataFrame(
        {
            "problem": ti.ravel(),
            "attempt": si.ravel(),
            "correct": correct.ravel().astype(int),
            "accepted": accepted.ravel().astype(int),
        }
    )


def test_estimate_verifier_recovers_parameters():
    rng = np.random.default_rng(4)
    df = _verifier_log(rng, 400, 50, 0.85, 0.1, 0.6, s=0.7, c=0.9)
    g = V.estimate_verifier(df)
    wrong = (1 - df["correct"]).sum()
    assert abs(g.soundness[0] - 0.7) <= 4 * np.sqrt(0.7 * 0.3 / wrong)  # binomial SE over wrong samples
    assert abs(g.completeness[0] - 0.9) <= 4 * np.sqrt(0.9 * 0.1 / df["correct"].sum())
    # the split at r̂ = 0.5 classifies every task correctly here (50 samples, r ∈ {0.85, 0.1})
    assert abs(g.easy["weight"][0] - 0.6) <= 4 * np.sqrt(0.24 / 400)
    assert abs(g.easy["r"][0] - 0.85) < 0.02 and abs(g.hard["r"][0] - 0.1) < 0.02
    assert abs(g.hard["soundness"][0] - 0.7) < 0.03
    # The official estimator replaces E[plus|base · base] by mean(plus|base)·mean(base): with tasks of one
    # difficulty (and c = 1) it agrees with the pooled estimate ...
    homog = V.estimate_verifier(_verifier_log(rng, 400, 50, 0.4, 0.4, 1.0, s=0.7, c=1.0))
    assert homog.soundness_official[0] == pytest.approx(homog.soundness[0], abs=0.02)
    # ... but with easy and hard tasks it is biased low; its population value here is
    # (1 − B − P + G·B)/(1 − P) with B, P, G the type-weighted base, plus and plus|base rates.
    df1 = _verifier_log(rng, 400, 50, 0.85, 0.1, 0.6, s=0.7, c=1.0)
    g1 = V.estimate_verifier(df1)
    w, r_, s_ = np.array([0.6, 0.4]), np.array([0.85, 0.1]), 0.7
    base = r_ + (1 - r_) * (1 - s_)
    B, P, G = w @ base, w @ r_, w @ (r_ / base)
    assert g1.soundness_official[0] == pytest.approx((1 - B - P + G * B) / (1 - P), abs=0.03)
    assert g1.soundness[0] == pytest.approx(0.7, abs=0.02) and g1.soundness_official[0] < 0.6
    assert g1.ceiling_worst[0] <= g1.ceiling[0] <= g1.ceiling_best[0]
    m = V.model_from_estimate(g1)
    assert float(V.mixture_ceiling(m)) == pytest.approx(g1.ceiling[0], abs=0.03)
    # a group without easy tasks (r = 0.05, 20 samples: P(r̂ > 0.5) < 1e-9 per task): 0 tasks, NaN rates
    hard = V.estimate_verifier(_verifier_log(np.random.default_rng(7), 50, 20, 0.05, 0.05, 1.0, s=0.7, c=1.0))
    assert hard.easy["tasks"][0] == 0 and np.isnan(hard.easy["r"][0]) and hard.hard["weight"][0] == 1.0
    assert V.model_from_estimate(hard).r.tolist() == [hard.hard["r"][0]]


def test_estimate_verifier_groups_and_errors():
    rng = np.random.default_rng(5)
    df = pd.concat([_verifier_log(rng, 50, 10, 0.9, 0.2, 0.5, 0.6, 1.0).assign(model=m) for m in ("a", "b")])
    res = V.estimate_verifier(df, group_by=["model"])
    assert res.labels["model"].tolist() == ["a", "b"]
    assert [r["model"] for r in res.rows()] == ["a", "b"] and res.rows()[1]["tasks"] == 50.0
    with pytest.raises(InputError, match="group must be < 2"):
        V.model_from_estimate(res, group=2)
    with pytest.raises(InputError, match="missing column 'accepted'"):
        V.estimate_verifier(df.drop(columns="accepted"))
    with pytest.raises(InputError, match="column 'accepted': 2 is not 0 or 1"):
        V.estimate_verifier(df.assign(accepted=2), group_by=["model"])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: V.make_model([0.5], 1.2), r"soundness must be in \[0, 1\], got 1.2"),
        (lambda: V.make_model([0.5, 1.1], 0.5), r"r must be in \[0, 1\], got 1.1"),
        (lambda: V.make_model([0.5, 0.2], 0.5, [0.5, 0.6]), r"weights must sum to 1, got 1.1"),
        (lambda: V.make_model([0.5, 0.2], 0.5, [1.0]), r"weights must have one entry per r"),
        (lambda: V.optimal_sample_count(TOY, 0.5), r"v_fluke must be a finite number <= 0, got 0.5"),
        (lambda: V.optimal_sample_count(TOY, -1.0, 0), r"k_max must be an integer >= 1"),
        (lambda: V.optimal_sample_count(TOY, -1.0, form="approx"), r"form must be 'exact' or 'code'"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_tolerance_turns_k_opt_into_a_saturation_point():
    # V_f = 0: U rises monotonically to 0.716, so the tol = 0 argmax is only where float64 stops resolving
    # the increments; with tol, K_opt is the first K within tol of the limit: Σ p_i g_i β_i^K/(1 − β_i) ≤ tol
    beta, pc, _ = (np.asarray(x) for x in V.attempt_probabilities(TOY))
    p = np.asarray(TOY.p)
    k = np.arange(1, 801)
    gap = (p * pc / (1 - beta) * beta ** k[:, None]).sum(1)  # U(∞) − U(K)
    for tol in (1e-2, 1e-4):
        assert float(V.optimal_sample_count(TOY, 0.0, 800, tol=tol).k_opt) == k[np.argmax(gap <= tol)]
