"""Beta-binomial likelihood, derivatives and the batched MLE (spec §2.2, §7(c), §8.2, §8.9)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scaling_theory.errors import InputError
from scaling_theory.passk import beta_binomial as bb
from scaling_theory.passk import mle
from scaling_theory.passk.simulate import simulate_counts
from tests._stats import assert_within_se, variance_se

TOY_K = np.array([3, 5, 0, 2, 8, 1, 4, 0, 6, 2])  # SABER README toy data, n = 100


def scipy_mle(n, k, x0=(0.5, 2.0), pi=False):
    """Independent reference: SciPy L-BFGS-B on scipy.stats.betabinom with tight tolerances (log parameters)."""
    from scipy import optimize, stats

    def nll(par):
        a, b = np.exp(par[:2])
        lp = stats.betabinom.logpmf(k, n, a, b)
        return -np.sum(lp)

    res = optimize.minimize(nll, np.log(x0), method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 5000})
    res = optimize.minimize(
        nll, res.x, method="Nelder-Mead", options={"xatol": 1e-11, "fatol": 1e-13, "maxiter": 20000}
    )
    return np.exp(res.x), -res.fun


def test_logpmf_matches_scipy_and_zero_inflation_normalises():
    from scipy import stats

    k = np.arange(0, 51)
    np.testing.assert_allclose(
        np.asarray(bb.logpmf(k, 50, 0.3, 7.0)), stats.betabinom.logpmf(k, 50, 0.3, 7.0), rtol=1e-12
    )
    total = np.exp(np.asarray(bb.logpmf_zero_inflated(k, 50, 0.3, 7.0, 0.25))).sum()
    assert total == pytest.approx(1.0, abs=1e-12)


def _scipy_loglik(a, b, n, k):
    """Eq. 9 with SciPy's betaln (an independent implementation)."""
    from scipy.special import betaln

    return float(np.sum(betaln(k + a, n - k + b) - betaln(a, b)))


def test_score_and_hessian_match_finite_differences():
    rng = np.random.default_rng(0)
    n = rng.integers(20, 200, 40).astype(float)
    k = np.minimum(rng.binomial(n.astype(int), 0.1), n).astype(float)
    a, b, h = 0.7, 5.0, 1e-5
    assert float(bb.loglik(a, b, n, k)) == pytest.approx(_scipy_loglik(a, b, n, k), rel=1e-12)
    g = np.asarray(bb.score(a, b, n, k))
    fd = [
        (_scipy_loglik(a + h, b, n, k) - _scipy_loglik(a - h, b, n, k)) / (2 * h),
        (_scipy_loglik(a, b + h, n, k) - _scipy_loglik(a, b - h, n, k)) / (2 * h),
    ]
    np.testing.assert_allclose(g, fd, rtol=1e-6)  # central differences: O(h²) + rounding/h ≈ 1e-8 relative
    hess = np.asarray(bb.hessian(a, b, n, k))
    fd_h = np.stack(
        [
            (np.asarray(bb.score(a + h, b, n, k)) - np.asarray(bb.score(a - h, b, n, k))) / (2 * h),
            (np.asarray(bb.score(a, b + h, n, k)) - np.asarray(bb.score(a, b - h, n, k))) / (2 * h),
        ]
    )
    np.testing.assert_allclose(hess, fd_h, rtol=1e-5)


def test_closed_form_newton_derivatives_match_finite_differences():
    # The fit's closed-form (value, gradient, Hessian) in u = (log α, log β[, logit π]) vs central differences
    # of the value (a SciPy log-pmf) and of the closed-form gradient.
    from scipy import stats

    n = np.full(32, 60.0)
    k = (np.arange(32) % 7).astype(float)
    m = np.ones(32)
    m[-4:] = 0.0
    live = m > 0

    def ref(u, zi):
        a, b = np.exp(u[0]), np.exp(u[1])
        lp = stats.betabinom.logpmf(k, n, a, b)
        if zi:
            pi = 1 / (1 + np.exp(-u[2]))
            lp = np.logaddexp(np.where(k == 0, np.log(pi), -np.inf), np.log1p(-pi) + lp)
        return -np.sum(lp[live])

    closed_fn = jax.jit(mle._nll_grad_hess, static_argnames=("zero_inflated",))

    def closed(u, zi):
        with jax.enable_x64(True):
            nn, kk, mm = jnp.asarray(n), jnp.asarray(k), jnp.asarray(m)
            out = closed_fn(jnp.asarray(u), nn, kk, mm, bb.log_binom(nn, kk), zero_inflated=zi)
        return [np.asarray(x) for x in out]

    h = 1e-5
    for zi, u in ((False, np.array([-0.3, 1.2])), (True, np.array([-0.3, 1.2, -1.5]))):
        f, g, hess = closed(u, zi)
        assert f == pytest.approx(ref(u, zi), rel=1e-12)
        eye = np.eye(u.size) * h
        fd_g = [(ref(u + e, zi) - ref(u - e, zi)) / (2 * h) for e in eye]
        np.testing.assert_allclose(g, fd_g, rtol=1e-6, atol=1e-7)
        fd_h = np.stack([(closed(u + e, zi)[1] - closed(u - e, zi)[1]) / (2 * h) for e in eye])
        np.testing.assert_allclose(hess, fd_h, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_fisher_information_matches_monte_carlo():
    # Expected information (exact sum over k) vs the average observed information of simulated problems.
    alpha, beta, n, draws = 0.4, 4.0, 30, 20000
    info = np.asarray(bb.fisher_information(alpha, beta, n))
    sim = simulate_counts(jax.random.key(3), alpha, beta, draws, n)
    per = -np.asarray(bb.hessian(alpha, beta, float(n), sim.k)) / draws
    # per-problem observed information (k as a trailing axis of length 1): its mean is `per`, its SE computed
    per_problem = -np.asarray(bb.hessian(alpha, beta, float(n), np.asarray(sim.k)[..., None])).reshape(draws, 4)
    np.testing.assert_allclose(per_problem.mean(axis=0), per.ravel(), rtol=1e-10)
    # the off-diagonal ψ'(a+b) − ψ'(n+a+b) does not depend on k (SE 0): there only rounding (1e-10 relative)
    assert_within_se(
        exact=info.ravel(), samples=per_problem, bias=1e-10 * np.abs(info.ravel()), what="mean observed information"
    )


def test_saber_readme_toy_fit_spec_7c():
    res = mle.fit(100, TOY_K)
    assert float(res.alpha) == pytest.approx(2.0152, abs=5e-5)
    assert float(res.beta) == pytest.approx(63.0765, abs=2e-3)  # the package's L-BFGS-B stops 5e-4 short
    assert -float(res.loglik) == pytest.approx(22.3028, abs=5e-5)
    assert bool(res.converged) and not bool(res.at_bound)


def test_matches_independent_scipy_optimum_heterogeneous_n():
    rng = np.random.default_rng(7)
    theta = rng.beta(0.3, 6.0, 120)
    n = rng.integers(5, 400, 120)
    k = rng.binomial(n, theta)
    (a_ref, b_ref), ll_ref = scipy_mle(n, k)
    res = mle.fit(n, k)
    assert float(res.loglik) >= ll_ref - 1e-9
    assert float(res.alpha) == pytest.approx(a_ref, rel=1e-5)
    assert float(res.beta) == pytest.approx(b_ref, rel=1e-5)


def test_pythia_70m_small_alpha_large_beta(pythia_counts_path):
    from scaling_theory.io import read_counts

    df = read_counts(pythia_counts_path, ["model"])
    sub = df[df.model == "Pythia 70M"]
    res = mle.fit(sub.n.to_numpy(), sub.k.to_numpy())
    (a_ref, b_ref), ll_ref = scipy_mle(sub.n.to_numpy(), sub.k.to_numpy(), x0=(0.1, 50.0))
    assert float(res.loglik) >= ll_ref - 1e-8
    assert float(res.alpha) == pytest.approx(a_ref, rel=1e-4) and float(res.alpha) == pytest.approx(0.065, abs=2e-3)
    assert float(res.beta) == pytest.approx(b_ref, rel=1e-3) and 90 < float(res.beta) < 115
    assert bool(res.converged) and not bool(res.at_bound)


def test_recovery_and_standard_errors_on_simulated_data():
    # Spec §8.2 / §8.9: Beta(0.4, 4), K = 159, n = 1000, R = 64 replicates in one batched call.
    r = 64
    small = simulate_counts(jax.random.key(11), np.full(r, 0.4), np.full(r, 4.0), 159, 1000)
    big = simulate_counts(jax.random.key(12), np.full(r, 0.4), np.full(r, 4.0), 4 * 159, 1000)
    fs, fb = mle.fit(1000, small.k), mle.fit(1000, big.k)
    sd_small, sd_big = fs.alpha.std(ddof=1), fb.alpha.std(ddof=1)
    # Mean within 4 MC standard errors of the truth, plus 0.01 for the O(1/K) MLE bias (~0.005 here).
    assert_within_se(exact=0.4, samples=fs.alpha, bias=0.01, z=4, what="mean α̂")
    # Observed-information SE ≈ the Monte Carlo spread; SE of a sample sd = SE(variance)/(2 sd), from the draws.
    se_sd_small, se_sd_big = variance_se(fs.alpha) / (2 * sd_small), variance_se(fb.alpha) / (2 * sd_big)
    assert_within_se(sd_small, np.median(fs.se_alpha), se_sd_small, what="MC sd of α̂ vs observed-information SE")
    # Var ∝ 1/K: four times the problems halves the spread (delta-method SE of the ratio of two sds).
    ratio = sd_small / sd_big
    assert_within_se(ratio, 2.0, ratio * np.hypot(se_sd_small / sd_small, se_sd_big / sd_big), what="sd ratio")


def test_zero_inflated_recovers_pi():
    # 16 replicates of K = 159 (the shape the predictor tests reuse): mean π̂ within 4 SE of the truth.
    sim = simulate_counts(jax.random.key(5), np.full(16, 0.6), np.full(16, 3.0), 159, 100, pi=0.3)
    res = mle.fit(100, sim.k, zero_inflated=True)
    assert_within_se(exact=0.3, samples=res.pi, bias=0.01, z=4, what="mean π̂")  # + 0.01: O(1/K) MLE bias
    sd = res.pi.std(ddof=1)  # observed-information SE ≈ MC spread (SE of the sd from the 16 draws)
    assert_within_se(sd, np.median(res.se_pi), variance_se(res.pi) / (2 * sd), what="MC sd of π̂ vs SE")
    plain = mle.fit(100, sim.k)
    assert np.mean(res.loglik > plain.loglik + 2) > 0.75  # the spike is supported in most replicates


def test_batched_padded_and_single_fits_agree():
    sim = simulate_counts(jax.random.key(2), np.array([0.2, 1.0, 0.5]), np.array([10.0, 1.0, 3.0]), 50, 40)
    k = sim.k.copy()
    mask = np.ones_like(k)
    mask[1, 30:] = 0  # group 1 has only 30 problems
    k[1, 30:] = 999  # garbage under the mask must be ignored
    batch = mle.fit(40, k, mask)
    single = mle.fit(40, sim.k[1, :30])
    assert float(batch.alpha[1]) == pytest.approx(float(single.alpha), rel=1e-7)
    assert float(batch.beta[1]) == pytest.approx(float(single.beta), rel=1e-7)
    assert batch.alpha.shape == (3,) and batch.cov_u.shape == (3, 2, 2)


def test_degenerate_data_stop_at_the_box_without_nan():
    res = mle.fit(20, np.zeros((2, 50)))
    assert np.all(res.at_bound) and np.all(np.isfinite(res.alpha)) and np.all(np.isfinite(res.loglik))


def test_bootstrap_shape_and_spread():
    sim = simulate_counts(jax.random.key(9), 0.5, 5.0, 159, 100)
    boot = mle.bootstrap(jax.random.PRNGKey(0), 100, sim.k[:], 64)
    point = mle.fit(100, sim.k)
    assert boot.alpha.shape == (64,)
    # Bootstrap sd vs observed-information SE: same quantity; 64 replicates give the sd to ~9%.
    assert 0.65 < boot.alpha.std(ddof=1) / float(point.se_alpha) < 1.5


@pytest.mark.parametrize(
    "n,k,match",
    [
        (10, [1, 11], "c must be ≤ n"),
        (10, [-1, 2], "c must be ≥ 0"),
        (0, [0, 0], "n must be ≥ 1"),
        (10, [1.5, 2], "c must be an integer"),
        ([10, 10, 10], [1, 2], "does not broadcast"),
    ],
)
def test_bad_input(n, k, match):
    with pytest.raises(InputError, match=match):
        mle.fit(n, k)


@pytest.mark.slow
def test_one_and_four_devices_agree():
    from tests.multidevice import run_with_devices

    code = """
import json, jax, numpy as np
from scaling_theory.passk import mle
from scaling_theory.passk.simulate import simulate_counts
sim = simulate_counts(jax.random.key(0), np.full(8, 0.3), np.full(8, 5.0), 64, 100)
r = mle.fit(100, sim.k)
print(json.dumps({"alpha": r.alpha.tolist(), "beta": r.beta.tolist()}))
"""
    one, four = run_with_devices(code, 1), run_with_devices(code, 4)
    # Same estimates up to the optimiser's stopping tolerance (reduction orders differ between layouts).
    np.testing.assert_allclose(one["alpha"], four["alpha"], rtol=1e-8)
    np.testing.assert_allclose(one["beta"], four["beta"], rtol=1e-7)
