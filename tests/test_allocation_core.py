"""allocation: gains vs closed forms / Monte Carlo, greedy vs brute force, Lagrangian vs greedy, grid vs Beta path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import betaln as sp_betaln

from scaling_theory.allocation import gains as G
from scaling_theory.allocation import policies as P
from scaling_theory.allocation.posteriors import beta_posterior, discretise_beta, grid_posterior
from tests._stats import assert_within_se


def _instance(seed, groups=2, problems=4):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.1, 2.0, (groups, problems))
    b = rng.uniform(1.0, 30.0, (groups, problems))
    k = (rng.random((groups, problems)) < 0.3).astype(float)
    return beta_posterior(a, b), k


def test_coverage_gains_match_betaln_closed_form():
    post, _ = _instance(0)
    t = G.gain_table(post, "pass", max_extra=40)
    m = np.arange(1, 41)
    a, b = post.a[..., None], post.b[..., None]
    # E[θ(1−θ)^{m−1}] = B(a+1, b+m−1)/B(a, b) (spec §4), by SciPy
    ref = np.exp(sp_betaln(a + 1, b + m - 1) - sp_betaln(a, b))
    np.testing.assert_allclose(t.gains, ref, rtol=1e-12)


def test_expected_gain_matches_monte_carlo_of_the_posterior():
    a, b, m = 0.7, 6.0, 5
    post = beta_posterior([[a]], [[b]])
    t = G.gain_table(post, "pass", max_extra=m)
    rng = np.random.default_rng(1)
    theta = rng.beta(a, b, 400_000)
    hit = rng.random((400_000, m)) < theta[:, None]
    assert_within_se(exact=t.gains[0, 0].sum(), samples=hit.any(axis=1).astype(float), z=4, what="pass@m gain")


def test_solved_problems_gain_nothing_under_coverage_and_caps_apply():
    post, k = _instance(2)
    t = G.gain_table(post, "coverage", max_extra=10, pilot_c=k, cap=np.full(k.shape, 3))
    assert np.all(t.gains[k > 0] == 0)
    assert np.all(t.gains[..., 3:] == 0) and np.all(t.gains[k == 0][:, :3] > 0)


def test_grid_posterior_path_matches_the_beta_closed_form():
    post, k = _instance(3)
    theta = np.linspace(0.0, 1.0, 20001)
    grid = discretise_beta(post.a, post.b, theta)
    tb = G.gain_table(post, "coverage", max_extra=30, pilot_c=k)
    tg = G.gain_table(grid, "coverage", max_extra=30, pilot_c=k)
    # discretisation error of a 20,001-point grid on the smooth integrand ~1e-7
    np.testing.assert_allclose(tg.gains, tb.gains, atol=2e-6)
    for budget in (3, 11, 40):
        ab = P.lagrangian(tb, [budget]).value
        ag = P.lagrangian(tg, [budget]).value
        np.testing.assert_allclose(ag, ab, atol=1e-5)


def test_estimation_preposterior_variance_grid_matches_beta_and_mc():
    a, b, N, m = 1.3, 4.0, 3.0, 4
    vb = np.asarray(G.beta_preposterior_variance(np.array([a]), np.array([b]), N, m))[0]
    grid = discretise_beta([[a]], [[b]], np.linspace(0, 1, 20001))
    vg = np.asarray(G.grid_preposterior_variance(grid.theta, grid.log_post[0], N, m))[0]
    np.testing.assert_allclose(vg, vb, atol=1e-6)
    # V(0) = Var[(1−θ)^N] by SciPy moments
    ef = np.exp(sp_betaln(a, b + N) - sp_betaln(a, b))
    ef2 = np.exp(sp_betaln(a, b + 2 * N) - sp_betaln(a, b))
    assert vb[0] == pytest.approx(ef2 - ef**2, rel=1e-12)
    # V(m) = E_y Var(f | y): Monte Carlo over θ, y, then the closed-form conditional variance
    rng = np.random.default_rng(4)
    th = rng.beta(a, b, 200_000)
    y = rng.binomial(m, th)
    ap, bp = a + y, b + m - y
    cv = np.exp(sp_betaln(ap, bp + 2 * N) - sp_betaln(ap, bp)) - np.exp(2 * (sp_betaln(ap, bp + N) - sp_betaln(ap, bp)))
    assert_within_se(exact=vb[m], samples=cv, z=4, what="E_y Var(f | y)")
    assert np.all(np.diff(vb) < 0)  # more attempts, less posterior variance


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_equals_exhaustive_search(seed):
    post, k = _instance(seed, groups=1, problems=4)
    t = G.gain_table(post, "coverage", max_extra=7, pilot_c=k)
    budgets = [0, 1, 2, 5, 9, 14]
    g = P.greedy(t, budgets)
    combos = np.array(list(itertools.product(range(8), repeat=4)))
    vals = G.values(t, combos[None, None])[0, 0]
    for j, B in enumerate(budgets):
        best = vals[combos.sum(1) <= B].max()
        assert g.value[0, j] == pytest.approx(best, abs=1e-13)
        assert g.spend[0, j] <= B


@pytest.mark.parametrize("seed", [0, 5])
def test_lagrangian_equals_greedy_on_concave_instances(seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.05, 3.0, (3, 60))
    b = rng.uniform(1.0, 200.0, (3, 60))
    k = (rng.random((3, 60)) < 0.4).astype(float)
    cost = rng.uniform(0.5, 3.0, (3, 60))
    t = G.gain_table(beta_posterior(a, b), "coverage", max_extra=128, pilot_c=k)
    budgets = [0, 7.5, 60, 333, 2000]
    for c in (None, cost):
        lg, gr = P.lagrangian(t, budgets, c), P.greedy(t, budgets, c)
        np.testing.assert_array_equal(lg.extra, gr.extra)
        spend_cap = np.asarray(budgets)[None]
        assert np.all(lg.spend <= spend_cap + 1e-9)


def test_ties_are_filled_to_the_budget():
    # identical unsolved problems (all ties): the Lagrangian must still spend the whole budget, one unit each in order
    post = beta_posterior(np.full((1, 5), 0.5), np.full((1, 5), 10.0))
    t = G.gain_table(post, "coverage", max_extra=16)
    lg = P.lagrangian(t, [7])
    np.testing.assert_array_equal(lg.extra[0, 0], [2, 2, 1, 1, 1])


def test_uniform_and_binned_respect_the_budget_and_binned_is_between():
    post, k = _instance(7, groups=2, problems=40)
    t = G.gain_table(post, "coverage", max_extra=256, pilot_c=k)
    budgets = [10, 40, 400]
    u, bn, lg = P.uniform(t, budgets), P.binned(t, budgets, score=post.mean()), P.lagrangian(t, budgets)
    for alloc in (u, bn, lg):
        assert np.all(alloc.spend <= np.asarray(budgets)[None] + 1e-9)
    assert np.all(lg.value >= bn.value - 1e-12) and np.all(lg.value >= u.value - 1e-12)
    np.testing.assert_array_equal(u.extra[:, 1], np.ones((2, 40)))


def test_grid_posterior_rejects_bad_input():
    from scaling_theory.errors import InputError

    with pytest.raises(InputError):
        grid_posterior(np.array([0.1, 1.5]), np.zeros((1, 1, 2)))
    with pytest.raises(InputError):
        grid_posterior(np.array([0.1, 0.5]), np.full((1, 1, 2), -np.inf))


def test_fused_beta_coverage_kernel_equals_the_table_path():
    rng = np.random.default_rng(11)
    a = rng.uniform(0.1, 2.0, (3, 50))
    b = rng.uniform(1.0, 60.0, (3, 50))
    k = (rng.random((3, 50)) < 0.3).astype(float)
    cost = rng.uniform(0.5, 2.0, (3, 50))
    cap = rng.integers(3, 40, (3, 50)).astype(float)
    post = beta_posterior(a, b)
    budgets = [0, 5, 50, 400]
    t = G.gain_table(post, "coverage", max_extra=64, pilot_c=k, cap=cap)
    ref = P.lagrangian(t, budgets, cost).extra
    fused = P.lagrangian_beta_coverage(post, budgets, pilot_c=k, cost=cost, cap=cap, max_extra=64, chunk=2)
    np.testing.assert_array_equal(fused, ref)


def test_fused_kernel_with_shared_posteriors_equals_the_table_path():
    # equal pilots: every unsolved problem of a group shares its posterior (one distinct row), and costs and caps
    # take a few values, so the kernel's deduplicated rows each stand for many problems; ties are filled in order
    rng = np.random.default_rng(12)
    n_groups, K = 3, 60
    k = (rng.random((n_groups, K)) < 0.5).astype(float)
    a = np.broadcast_to(rng.uniform(0.2, 1.0, (n_groups, 1)), (n_groups, K)) + k
    b = np.broadcast_to(rng.uniform(2.0, 10.0, (n_groups, 1)), (n_groups, K)) + 16 - k
    cost = rng.choice([1.0, 2.0, 3.5], (n_groups, K))
    cap = rng.choice([4.0, 40.0], (n_groups, K))
    mask = (rng.random((n_groups, K)) < 0.9).astype(float)
    post = beta_posterior(a, b)
    budgets = [0, 3, 17.5, 60, 250, 2000]
    t = G.gain_table(post, "coverage", max_extra=64, pilot_c=k, mask=mask, cap=cap)
    for c in (None, cost):
        ref = P.lagrangian(t, budgets, c).extra
        np.testing.assert_array_equal(ref, P.greedy(t, budgets, c).extra)
        fused = P.lagrangian_beta_coverage(post, budgets, pilot_c=k, mask=mask, cost=c, cap=cap, max_extra=64, chunk=2)
        np.testing.assert_array_equal(fused, ref)
