"""Predictors of ASR@N with their 90% intervals (spec §2.3, §7(c), §8.3, §8.4, §8.7)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scaling_theory.errors import InputError
from scaling_theory.passk import DEFAULT_METHOD, METHODS, beta_law, mle, predict
from scaling_theory.passk import predictors as pr
from scaling_theory.passk.simulate import finite_truth, simulate_counts
from tests._stats import assert_within_se
from tests.conftest import reference

TOY_K = np.array([3, 5, 0, 2, 8, 1, 4, 0, 6, 2])  # SABER README toy data, n = 100
NON_BAYES = [m for m in METHODS if m != "bayes"]


@pytest.fixture(scope="module")
def sim16():
    """16 groups of K = 159 problems, θ ~ Beta(0.4, 4), n = 100 (one compiled shape for every method)."""
    return simulate_counts(jax.random.key(21), np.full(16, 0.4), np.full(16, 4.0), 159, 100)


def test_spec_7c_saber_readme_toy_values():
    # anchored 0.9981, plugin (leading order, SABER's) 0.9961, exact-Beta 0.9966, naive 0.8000 at N = 1000.
    got = {
        m: float(predict(jax.random.key(0), 100, TOY_K, [1000], m).asr[0])
        for m in ("anchored", "plugin_leading", "plugin", "naive")
    }
    assert got["anchored"] == pytest.approx(0.9981, abs=5e-5)
    assert got["plugin_leading"] == pytest.approx(0.9961, abs=5e-5)
    assert got["plugin"] == pytest.approx(0.9966, abs=5e-5)
    assert got["naive"] == pytest.approx(0.8000, abs=5e-5)


def test_anchored_identities_spec_8_3_and_8_4():
    n = 100
    budgets = np.array([100, 200, 1000, 1e4, 1e6])
    p = predict(jax.random.key(0), n, TOY_K, budgets, "anchored")
    assert p.asr[0] == np.mean(TOY_K > 0)  # anchored(N = n) = ASR@n exactly
    assert np.all(np.diff(p.asr) > 0)  # increasing in N
    # Inverse budget (Eq. 16): N_τ(anchored(N)) = N.
    n_tau = np.asarray(beta_law.budget_anchored(p.alpha, n, np.mean(TOY_K > 0), p.asr[1:]))
    # ASR@1e6 = 1 − 3e-9: 1 − ASR carries ~1e-16/3e-9 relative rounding, amplified by 1/α ≈ 0.5 in N_τ.
    np.testing.assert_allclose(n_tau, budgets[1:], rtol=1e-7)
    # SABER Eq. 14, recomputed here: the Wald interval α̂ ∓ z·SE(α̂), SE from the inverse observed information
    # of SciPy's Beta-binomial log-likelihood (central finite differences in (α, β)), pushed through Eq. 12
    # 1 − (1 − ASR@n)(n/N)^α — larger α gives the larger ASR@N for N > n.
    from scipy import stats

    a_hat, b_hat = float(p.alpha), float(p.beta)

    def nll(v):
        return -np.sum(stats.betabinom.logpmf(TOY_K, n, v[0], v[1]))

    h = np.array([1e-4 * a_hat, 1e-4 * b_hat])
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            v0 = np.array([a_hat, b_hat])
            hess[i, j] = (nll(v0 + ei + ej) - nll(v0 + ei - ej) - nll(v0 - ei + ej) + nll(v0 - ei - ej)) / (
                4 * h[i] * h[j]
            )
    se_a = np.sqrt(np.linalg.inv(hess)[0, 0])
    z = stats.norm.ppf(0.95)
    miss = 1 - np.mean(TOY_K > 0)
    lo_ref = 1 - miss * (n / budgets) ** max(a_hat - z * se_a, 1e-6)
    hi_ref = 1 - miss * (n / budgets) ** (a_hat + z * se_a)
    # finite-difference Hessian: relative error ~1e-7 in SE, amplified by log(N/n)·(α ± z·SE) at N = 1e6.
    np.testing.assert_allclose(p.lower, lo_ref, rtol=1e-6)
    np.testing.assert_allclose(p.upper, hi_ref, rtol=1e-6)
    assert np.all(p.lower[1:] < p.asr[1:]) and np.all(p.asr[1:] < p.upper[1:])
    with jax.enable_x64(True):
        u_lo, u_hi = jnp.log(jnp.array([[0.3]])), jnp.log(jnp.array([[0.6]]))
        args = (jnp.full((1, 10), 100.0), jnp.asarray(TOY_K[None], jnp.float64), jnp.ones((1, 10)), jnp.array([1e3]))
        assert float(pr.log_surv_anchored(u_hi, *args)[0, 0]) < float(pr.log_surv_anchored(u_lo, *args)[0, 0])


@pytest.mark.parametrize(
    "method",
    [
        pytest.param(m, marks=pytest.mark.slow) if m in ("plugin_zi", "eb_zi", "auto") else m
        for m in NON_BAYES
        if m != "combinatorial" and not m.startswith("mix_")
    ],  # mix_*: tests/test_passk_mixing*.py
)
def test_every_method_returns_proper_intervals_in_the_unit_interval(sim16, method):
    p = predict(jax.random.key(0), 100, sim16.k, [100, 1000, 1e5], method)
    assert p.asr.shape == (16, 3) and p.method == method
    assert np.all(np.isfinite(p.asr)) and np.all((0 < p.asr) & (p.asr < 1))
    # predict clamps lower ≤ asr ≤ upper, so `≤` cannot fail; a raw interval that is empty, reversed or on
    # the wrong side of the estimate collapses onto it, which the strict inequalities catch (N > n, where
    # every method's estimate is uncertain; anchored at N = n is ASR@n exactly, a point).
    lo, pt, hi = p.lower[:, 1:], p.asr[:, 1:], p.upper[:, 1:]
    assert np.all((0 <= lo) & (lo < pt) & (pt < hi) & (hi <= 1))
    if method in ("naive", "fit", "tail_power", "tail_hughes", "auto"):  # no single Beta law
        assert p.alpha is None
    else:
        assert p.alpha.shape == (16,) and np.all(p.alpha > 0)


def test_combinatorial_is_chen_and_refuses_extrapolation(sim16):
    from scaling_theory.passk import pass_at_k_curve

    p = predict(jax.random.key(0), 100, sim16.k[:2], [1, 10, 100], "combinatorial")
    np.testing.assert_allclose(p.asr, np.asarray(pass_at_k_curve(100, sim16.k[:2], [1, 10, 100])), rtol=1e-13)
    with pytest.raises(InputError, match="exceeds the smallest n"):
        predict(jax.random.key(0), 100, sim16.k[:2], [1000], "combinatorial")


def test_naive_underestimates_spec_8_7(sim16):
    truth = finite_truth(sim16.log1m_theta, [1000])[:, 0]
    naive = predict(jax.random.key(0), 100, sim16.k, [1000], "naive").asr[:, 0]
    # Every one of 16 replicates is below the truth (the gap, ~10 points, is ≫ the spread between replicates).
    assert np.all(naive < truth)


def test_eb_is_the_conditional_expectation_of_the_observed_problems():
    # With the true (α, β), eb = E[mean_i 1 − (1−θ_i)^N | k]: unbiased for the observed problems' ASR@N.
    r, alpha, beta = 400, 0.4, 4.0
    sim = simulate_counts(jax.random.key(4), np.full(r, alpha), np.full(r, beta), 159, 100)
    truth = finite_truth(sim.log1m_theta, [1000])[:, 0]
    with jax.enable_x64(True):
        u = jnp.tile(jnp.log(jnp.array([alpha, beta])), (r, 1))
        log_s = pr.log_surv_eb(
            u, jnp.full(sim.k.shape, 100.0), jnp.asarray(sim.k), jnp.ones(sim.k.shape), jnp.array([1000.0])
        )
        var = pr.eb_theta_variance(
            u, jnp.full(sim.k.shape, 100.0), jnp.asarray(sim.k), jnp.ones(sim.k.shape), jnp.array([1000.0])
        )
    pred = -np.expm1(np.asarray(log_s)[:, 0])
    diff = truth - pred
    assert_within_se(exact=0.0, samples=diff, what="E[truth − eb | k]")
    # The closed-form conditional variance: E[(truth − eb)² | k] = Var(truth | k) per replicate, so
    # (truth − eb)² − var has mean 0 over the r replicates; its SE comes from those r values.
    assert_within_se(exact=0.0, samples=diff**2 - np.asarray(var)[:, 0], what="E[(truth − eb)² − Var | k]")


def test_eb_posterior_survival_matches_quadrature():
    from scipy import integrate, stats

    alpha, beta, n, k, big_n = 0.3, 8.0, 50, 0, 700
    surv, _ = integrate.quad(
        lambda t: (1 - t) ** big_n * stats.beta.pdf(t, alpha + k, beta + n - k), 0, 1, limit=400, points=[1e-8, 1e-4]
    )
    with jax.enable_x64(True):
        u = jnp.log(jnp.array([[alpha, beta]]))
        log_s = pr.log_surv_eb(
            u, jnp.full((1, 1), float(n)), jnp.full((1, 1), float(k)), jnp.ones((1, 1)), jnp.array([float(big_n)])
        )
    assert float(jnp.exp(log_s)[0, 0]) == pytest.approx(surv, rel=1e-8)


def test_delta_method_matches_finite_difference_gradient(sim16):
    k = sim16.k[:1]
    res = mle.fit(100, k)
    p = predict(jax.random.key(0), 100, k, [1000.0], "plugin", fit_result=res)
    u = np.array([np.log(res.alpha[0]), np.log(res.beta[0])])
    cov = res.cov_u[0]

    def logit(uu):
        s = float(beta_law.asr_exact(np.exp(uu[0]), np.exp(uu[1]), 1000.0))
        return np.log(s / (1 - s))

    h = 1e-6
    g = np.array([(logit(u + e) - logit(u - e)) / (2 * h) for e in np.eye(2) * h])
    sd = np.sqrt(g @ cov @ g)
    z = pr.z_value(0.9)
    lg = logit(u)
    assert p.lower[0, 0] == pytest.approx(1 / (1 + np.exp(-(lg - z * sd))), rel=1e-6)
    assert p.upper[0, 0] == pytest.approx(1 / (1 + np.exp(-(lg + z * sd))), rel=1e-6)


@pytest.mark.parity
def test_saber_fit_matches_saber_risk():
    saber = reference("saber")
    a, b = saber.fit_log_linear_curve(TOY_K, 100)
    p = predict(jax.random.key(0), 100, TOY_K, [1000], "fit")
    assert p.extra["a"] == pytest.approx(a, rel=1e-9) and p.extra["b"] == pytest.approx(b, rel=1e-9)
    assert p.asr[0] == pytest.approx(saber.predict_log_linear_curve(1000, a, b), rel=1e-9)


@pytest.mark.parity
def test_anchored_and_plugin_identical_to_saber_risk_given_alpha():
    saber = reference("saber")
    res = mle.fit(100, TOY_K)
    budgets = [150, 1000, 10_000]
    anch = predict(jax.random.key(0), 100, TOY_K, budgets, "anchored", fit_result=res).asr
    lead = predict(jax.random.key(0), 100, TOY_K, budgets, "plugin_leading", fit_result=res).asr
    corr = predict(jax.random.key(0), 100, TOY_K, budgets, "plugin_corrected", fit_result=res).asr
    a, b = float(res.alpha), float(res.beta)
    for j, big_n in enumerate(budgets):
        assert anch[j] == pytest.approx(saber.predict_anchored(big_n, 100, 0.8, a), abs=1e-12)
        assert lead[j] == pytest.approx(saber.predict_plugin(big_n, a, b), abs=1e-12)
        assert corr[j] == pytest.approx(saber.predict_plugin(big_n, a, b, correction=True), abs=1e-12)


def test_zero_inflated_methods_reach_one_minus_pi():
    sim = simulate_counts(jax.random.key(8), np.full(16, 0.8), np.full(16, 2.0), 159, 100, pi=0.4)
    p = predict(jax.random.key(0), 100, sim.k, [1e8], "plugin_zi")
    np.testing.assert_allclose(p.asr[:, 0], 1 - p.pi, atol=2e-3)
    # π̂ over the 16 simulated groups: unbiased for π = 0.4 within the SE of their mean (16 values).
    assert_within_se(exact=0.4, samples=p.pi, what="mean π̂")


def test_default_method_and_mask(sim16):
    assert DEFAULT_METHOD == "auto"
    p = predict(jax.random.key(0), 100, sim16.k[0], [1000], "eb")
    padded = np.concatenate([sim16.k[0], np.zeros(20)])
    mask = np.concatenate([np.ones(159), np.zeros(20)])
    q = predict(jax.random.key(0), 100, padded, [1000], "eb", mask=mask)
    assert q.asr[0] == pytest.approx(p.asr[0], rel=1e-7)
    rows = p.rows({"model": "x"})
    assert set(rows[0]) == {"group", "method", "budget", "asr", "lower", "upper", "alpha", "beta"}


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(method="magic"), "method must be one of"),
        (dict(budgets=[0]), "budget must be a finite number ≥ 1"),
        (dict(level=1.5), "level must be in"),
        (dict(budgets=[float("nan")]), "budget must be a finite number"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(n=100, c=TOY_K, budgets=[1000])
    args.update(kwargs)
    with pytest.raises(InputError, match=match):
        predict(jax.random.key(0), **args)


@pytest.mark.slow
def test_bayes_posterior_predictive_small():
    # NUTS with few samples, one chain per group (small on purpose: NUTS on CPU is slow).
    from scaling_theory.passk import bayes

    p = predict(
        jax.random.key(0), 100, TOY_K, [100, 1000], "bayes", bayes_options=dict(num_warmup=150, num_samples=150)
    )
    assert np.all((p.lower <= p.asr) & (p.asr <= p.upper))
    assert int(p.extra["divergences"]) == 0 and float(p.extra["r_hat_max"]) < 1.1
    # Posterior mean of α with only K = 10 problems: within 2 observed-information SEs of the MLE.
    res = mle.fit(100, TOY_K)
    assert abs(float(p.alpha) - float(res.alpha)) < 2 * float(res.se_alpha)
    # The NumPyro model's log density equals the sampler's potential (up to the binomial coefficients).
    from numpyro.infer.util import log_density

    u = np.array([0.2, 3.5])
    with jax.enable_x64(True):
        ld, _ = log_density(
            bayes.model,
            (jnp.float64(100.0), jnp.asarray(TOY_K, jnp.float64)),
            {},
            {"log_alpha": jnp.float64(u[0]), "log_beta": jnp.float64(u[1])},
        )
        lp = bayes.log_posterior(jnp.asarray(u), jnp.full(10, 100.0), jnp.asarray(TOY_K, jnp.float64), jnp.ones(10))
    from scipy.special import gammaln

    log_binom = float(np.sum(gammaln(101) - gammaln(TOY_K + 1) - gammaln(101 - TOY_K)))
    # NumPyro's BetaBinomial uses jax.scipy.special.betaln, whose error reaches ~1e-7 absolute here.
    assert float(ld) == pytest.approx(float(lp) + log_binom, abs=1e-6)


@pytest.mark.parity
def test_fit_interval_naive_and_budget_match_saber_risk():
    saber = reference("saber")
    res = mle.fit(100, TOY_K)
    # saber's L-BFGS-B stops short of the optimum: ours has at least its log-likelihood, and the same α to 1e-3.
    a_ref, b_ref = saber.fit_beta_binomial_MLE(TOY_K, 100)
    from scipy import stats

    ll_ref = np.sum(stats.betabinom.logpmf(TOY_K, 100, a_ref, b_ref))
    assert float(res.loglik) >= ll_ref - 1e-9 and float(res.alpha) == pytest.approx(a_ref, rel=1e-3)
    p = predict(jax.random.key(0), 100, TOY_K, [1000], "anchored", fit_result=res)
    lo, hi = saber.confidence_interval_anchored(1000, 100, 0.8, float(res.alpha), float(res.se_alpha), confidence=0.9)
    assert p.lower[0] == pytest.approx(lo, rel=1e-9) and p.upper[0] == pytest.approx(hi, rel=1e-9)
    naive = predict(jax.random.key(0), 100, TOY_K, [150, 1000], "naive").asr
    np.testing.assert_allclose(naive, [saber.predict_naive(big_n, TOY_K, 100) for big_n in (150, 1000)], rtol=1e-12)
    n_tau = float(beta_law.budget_anchored(res.alpha, 100, 0.8, 0.95))
    assert n_tau == pytest.approx(saber.estimate_budget(0.95, 100, 0.8, float(res.alpha)), rel=1e-9)


@pytest.mark.parametrize("n_obs", [8, 40, 64, 65, 100, 1000])
def test_fit_grid_paths_agree(n_obs):
    # SABER-Fit's per-problem curve: the running-sum path (contiguous grid m = 5, 6, …, n ≤ 64) and the grid
    # padded to 32 points must give what Chen's product form gives on the 64-point grid (the path every n used).
    rng = np.random.default_rng(n_obs)
    n = np.full((3, 50), float(n_obs))
    c = np.floor(rng.random((3, 50)) ** 3 * (n_obs + 1))
    grid, gmask, contiguous = pr._padded_fit_grid(n_obs)
    assert contiguous == (n_obs <= 64)
    assert grid.shape[0] == (32 if pr.saber_fit_grid(n_obs).size <= 32 else 64)
    g = pr.saber_fit_grid(n_obs)
    wide = jnp.asarray(np.concatenate([g, np.full(64 - g.size, g[0])]))
    wmask = jnp.asarray((np.arange(64) < g.size).astype(float))
    key = jax.random.key(0)
    with jax.enable_x64(True):
        (pn, pk, pm), pb = pr._pad_groups(n, c, np.ones_like(n)), pr._pad_budgets(np.array([10.0, 100.0]) * n_obs)
        wide, wmask = jnp.asarray(wide, jnp.float64), jnp.asarray(wmask, jnp.float64)
        grid, gmask = jnp.asarray(grid, jnp.float64), jnp.asarray(gmask, jnp.float64)
        new = pr._predict_model_free("fit", pn, pk, pm, pb, key, 20, 0.9, grid, gmask, False, contiguous)
        old = pr._predict_model_free("fit", pn, pk, pm, pb, key, 20, 0.9, wide, wmask, False, False)
    for a, b in zip(new[:3], old[:3]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)
