"""Estimation from logged attempts: p̂, sequential chains, curve fits, observed saturation, predicted vs observed."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

from scaling_theory.errors import InputError
from scaling_theory.passk.estimators import pass_at_k
from scaling_theory.saturation import estimation as E
from scaling_theory.saturation import ttspm
from scaling_theory.stats import subsample
from tests._stats import assert_within_se, variance_se


def test_per_question_p():
    t = E.per_question_p(pd.DataFrame({"problem": [1, 2], "n": [10, 4], "k": [3, 0]}))
    np.testing.assert_allclose(t.p_hat, [0.3, 0.0])
    np.testing.assert_allclose(t.se, [np.sqrt(0.3 * 0.7 / 10), 0.0])
    assert t.rows()[1] == {"problem": 2, "n": 4.0, "k": 0.0, "p_hat": 0.0, "se": 0.0}


# ------------------------------------------------------------------------------- sequential logs


def _chain_log(rng, problems, chains, rounds, p0, a, b):
    """Simulate rethinking chains in NumPy (independent of the library) as an attempts table."""
    s = rng.random((problems, chains)) < p0
    states = [s]
    for _ in range(rounds):
        u = rng.random(s.shape)
        s = np.where(s, u >= b, u < a)
        states.append(s)
    st_ = np.stack(states, axis=-1)  # problem × chain × round
    pi, ci, ri = np.meshgrid(np.arange(problems), np.arange(chains), np.arange(rounds + 1), indexing="ij")
    return pd.DataFrame(
        {"problem": pi.ravel(), "attempt": ci.ravel(), "round": ri.ravel(), "correct": st_.ravel().astype(int)}
    )


def test_sequential_estimates_recover_the_chain():
    rng = np.random.default_rng(0)
    p0, a, b = 0.35, 0.2, 0.05
    df = _chain_log(rng, 200, 10, 6, p0, a, b).sample(frac=1.0, random_state=1)  # row order must not matter
    (est,) = E.sequential_estimates(df).rows()
    assert est["chains"] == 2000
    # binomial standard errors of each rate; 4 SE
    assert abs(est["p0"] - p0) <= 4 * np.sqrt(p0 * (1 - p0) / est["chains"])
    assert abs(est["p_rethink"] - a) <= 4 * np.sqrt(a * (1 - a) / est["n_from_wrong"])
    assert abs(est["p_flip"] - b) <= 4 * np.sqrt(b * (1 - b) / est["n_from_correct"])
    # exact counts on a tiny hand-made log: chain 0 = 0,1,1 ; chain 1 = 1,0,0
    tiny = pd.DataFrame(
        {"problem": [7] * 6, "attempt": [0, 0, 0, 1, 1, 1], "round": [0, 1, 2, 0, 1, 2], "correct": [0, 1, 1, 1, 0, 0]}
    )
    (r,) = E.sequential_estimates(tiny).rows()
    assert (r["chains"], r["p0"], r["n_from_wrong"], r["p_rethink"], r["n_from_correct"], r["p_flip"]) == (
        2,
        0.5,
        2,
        0.5,
        2,
        0.5,
    )
    per = E.sequential_estimates(pd.concat([tiny, tiny.assign(problem=8)]), per_problem=True).to_frame()
    assert list(per["problem"]) == [7, 8]


def _py(value):
    return value.item() if isinstance(value, np.generic) else value


def _chain_rates_by_hand(log, keys):
    """The sequential-estimates table counted chain by chain in plain Python/NumPy: per key tuple, the chains,
    p₀, and the wrong → correct / correct → wrong transitions over consecutive rounds (NaN without any)."""
    out = {}
    for (*key, _problem, _attempt), chain in log.groupby(["model", "problem", "attempt"]):
        seq = chain.sort_values("round")["correct"].to_numpy()
        label = tuple(key) + ((_problem,) if "problem" in keys else ())
        t = out.setdefault(label, np.zeros(6, np.int64))  # chains, initial correct, from-wrong, w→c, from-correct, c→w
        prev, cur = seq[:-1], seq[1:]
        t += [1, seq[0], np.sum(prev == 0), np.sum((prev == 0) & (cur == 1)), np.sum(prev == 1), np.sum(prev & ~cur)]
    rows = []
    for label, (chains, init, w, w2c, c, c2w) in sorted(out.items()):
        rows.append(
            {
                **dict(zip(keys, label)),
                "chains": chains,
                "p0": init / chains,
                "n_from_wrong": w,
                "p_rethink": w2c / w if w else np.nan,
                "n_from_correct": c,
                "p_flip": c2w / c if c else np.nan,
            }
        )
    return rows


def test_sequential_estimates_rows_match_a_chain_by_chain_count():
    rng = np.random.default_rng(5)
    a_log = _chain_log(rng, 3, 4, 3, 0.4, 0.3, 0.2).assign(model="a")
    b_log = _chain_log(rng, 2, 3, 2, 1.0, 0.3, 0.0).assign(model="b")  # always correct: p_rethink has no transition
    log = pd.concat([b_log, a_log]).sample(frac=1.0, random_state=2)
    for keys, per_problem in ((["model"], False), (["model", "problem"], True)):
        est = E.sequential_estimates(log, ["model"], per_problem=per_problem)
        want = _chain_rates_by_hand(log.assign(correct=log["correct"].astype(bool)), keys)
        got = est.rows()
        assert [list(r) for r in got] == [list(w) for w in want]
        for g, w in zip(got, want):
            for col, value in w.items():
                if isinstance(value, float) and np.isnan(value):
                    assert np.isnan(g[col]), col
                else:
                    assert g[col] == value and type(g[col]) is type(_py(value)), col  # same ratios of integers
        assert est.to_frame()["chains"].dtype == np.int64
    assert np.isnan(E.sequential_estimates(log, ["model"]).p_rethink[1])  # model b


def test_sequential_estimates_reject_bad_logs():
    base = pd.DataFrame({"problem": [1, 1, 1], "attempt": [0, 0, 0], "round": [0, 1, 3], "correct": [0, 0, 1]})
    with pytest.raises(InputError, match="skips from round 1 to 3"):
        E.sequential_estimates(base)
    with pytest.raises(InputError, match="does not start at round 0"):
        E.sequential_estimates(base.assign(round=[1, 2, 3]))
    with pytest.raises(InputError, match="missing column 'round'"):
        E.sequential_estimates(base.drop(columns="round"))
    with pytest.raises(InputError, match="duplicate attempt"):
        E.sequential_estimates(base.assign(round=[0, 1, 1]))


# ------------------------------------------------------------------------------- curve fit


def test_fit_p_curve_recovers_and_matches_scipy():
    n = np.array([1, 2, 4, 8, 16, 32])
    for p in (0.003, 0.07, 0.6):
        assert float(E.fit_p_curve(n, 1 - (1 - p) ** n)) == pytest.approx(p, rel=1e-8)
    rng = np.random.default_rng(3)
    acc = np.clip(1 - (1 - 0.05) ** n + rng.normal(0, 0.02, n.size), 0, 1)
    ref = optimize.curve_fit(lambda x, p: 1 - (1 - p) ** x, n, acc, p0=[0.1], bounds=(1e-9, 1 - 1e-9))[0][0]
    assert float(E.fit_p_curve(n, acc)) == pytest.approx(ref, rel=1e-6)
    batch = np.asarray(E.fit_p_curve(np.stack([n, n]), np.stack([1 - 0.9**n, 1 - 0.5**n])))
    np.testing.assert_allclose(batch, [0.1, 0.5], rtol=1e-8)


# -------------------------------------------------------------------------- observed saturation


def test_observed_gain_is_the_difference_of_chens_estimator():
    n, c = 500, 23
    N = np.arange(0, 200)
    chen = np.asarray(pass_at_k(n, c, N + 1)) - np.asarray(pass_at_k(n, c, N))  # passk: independent code
    np.testing.assert_allclose(np.asarray(E.observed_marginal_gain(n, c, N)), chen, rtol=1e-9, atol=1e-15)


def test_observed_gain_is_unbiased():
    # E_c[ΔF̂(N)] over c ~ Binomial(n, p) equals p(1 − p)^N exactly (N < n)
    n, p = 60, 0.08
    c = np.arange(n + 1)
    w = stats.binom.pmf(c, n, p)
    for N in (0, 3, 20, 59):
        mean = np.sum(w * np.asarray(E.observed_marginal_gain(n, c, N)))
        assert mean == pytest.approx(p * (1 - p) ** N, rel=1e-10)


def test_observed_saturation_point_brute_force():
    n = 400
    for c, eps in [(37, 1e-3), (3, 2e-3), (200, 1e-4), (0, 1e-3), (1, 1e-3), (400, 0.5)]:
        got = float(E.observed_saturation_point(n, c, eps))
        gains = np.asarray(E.observed_marginal_gain(n, c, np.arange(n)))
        below = np.flatnonzero(gains < eps)
        assert got == (float(below[0]) if below.size else np.inf)
    # c = 1 of 10,000: the observed gain is flat at 1/n and never drops below 1e-5 within the data
    assert float(E.observed_saturation_point(10_000, 1, 1e-5)) == np.inf


def _exact_gains(n: int, c: int):
    """ΔF̂(N) = c/(n − N) · C(n − c, N)/C(n, N) for N = 0, …, n − 1 in exact rational arithmetic (the ratio of
    binomials by its recurrence: ×(n − c − N)/(n − N) from N to N + 1)."""
    from fractions import Fraction

    ratio = Fraction(1)
    for budget in range(n):
        yield Fraction(c, n - budget) * ratio
        ratio *= Fraction(n - c - budget, n - budget)


@pytest.mark.parametrize("threshold", ["lt", "le"])
def test_observed_point_decides_exact_ties_by_the_tie_rule(threshold):
    # ε C equal to the exact gain up to float rounding: c = 1 has ΔF̂ = 1/n at every N (flat); c = 2 of 400 starts
    # at exactly 2/400. The reference, in exact fractions, is the first N with ΔF̂(N) < ε(1 − TIE) ("lt") or
    # ≤ ε(1 + TIE) ("le"); plain float comparison decided these ties by rounding (1/n = 1e-4 came out "below"
    # 1e-4 at N = 0 before, although the float 1e-4 is within 1e-20 of it). The last case is no tie (1e-7 apart).
    from fractions import Fraction

    tie = Fraction(E.TIE)
    for n, c, eps in [(10_000, 1, 1e-4), (400, 2, 2 / 400), (1000, 1, 1e-3), (400, 2, 5e-3 * 1.0000001)]:
        e = Fraction(eps)
        below = (g < e * (1 - tie) if threshold == "lt" else g <= e * (1 + tie) for g in _exact_gains(n, c))
        want = next((float(b) for b, ok in enumerate(below) if ok), np.inf)
        assert float(E.observed_saturation_point(n, c, eps, threshold=threshold)) == want, (n, c, eps)
    # the flat tie by hand: 1/n equals ε at every N, so "lt" never saturates and "le" does at once
    assert float(E.observed_saturation_point(10_000, 1, 1e-4, threshold=threshold)) == (
        np.inf if threshold == "lt" else 0.0
    )


def test_aggregate_observed_point_brute_force():
    n = np.array([300, 300, 300])
    c = np.array([5, 60, 0])
    got = float(E.observed_aggregate_saturation_point(n, c, 1e-3))
    g = np.asarray(E.observed_aggregate_gain(n, c, np.arange(299)))
    assert got == float(np.flatnonzero(g < 1e-3)[0])


# ----------------------------------------------------------------------- predicted vs observed


def test_subsample_counts_is_hypergeometric():
    n, c, m, reps = 500, 70, 50, 2000
    k = np.asarray(subsample(jax.random.key(0), np.full(reps, n), np.full(reps, c), m))
    hyper = stats.hypergeom(n, c, m)
    assert_within_se(exact=hyper.mean(), samples=k, z=4, what="hypergeometric mean")
    assert_within_se(k.var(), hyper.var(), variance_se(k), what="hypergeometric variance")  # SE from the draws
    assert k.min() >= 0 and k.max() <= m
    np.testing.assert_array_equal(np.asarray(subsample(jax.random.key(1), [10, 10], [0, 10], 4)), [0, 4])


def test_pearson_r_matches_scipy():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 50))
    y = y + x
    assert E.pearson_r(x, y) == pytest.approx(stats.pearsonr(x, y)[0], rel=1e-12)
    assert np.isnan(E.pearson_r([1, 1, 1], [1, 2, 3]))


def test_posterior_point_tends_to_the_plugin_point():
    # a posterior concentrated at k/m gives the homogeneous N*(k/m)
    k, m = 3_000_000, 30_000_000
    assert float(E.posterior_saturation_point(m, k, 1.0, 1.0, 1e-3)) == float(ttspm.saturation_point(k / m, 1e-3))


def test_predicted_vs_observed_wiring_and_large_n_limit():
    rng = np.random.default_rng(2)
    p = rng.beta(0.8, 20, 150)
    n = np.full(150, 2000)
    c = rng.binomial(n, p)
    out = E.predicted_vs_observed(jax.random.key(0), n, c, [1e-3, 1e-4], n_obs=2000)  # m = n: no sub-sampling
    np.testing.assert_array_equal(out.k_m, c)
    for i, eps in enumerate([1e-3, 1e-4]):
        np.testing.assert_array_equal(out.predicted[i], np.asarray(ttspm.saturation_point(c / 2000, eps)))
        np.testing.assert_array_equal(out.observed[i], np.asarray(E.observed_saturation_point(n, c, eps)))
        used = out.used[i]
        np.testing.assert_array_equal(used, np.isfinite(out.observed[i]) & (c > 0))
        assert out.r[i] == pytest.approx(stats.pearsonr(out.predicted[i][used], out.observed[i][used])[0], rel=1e-12)
        assert out.problems[i] == used.sum()
    # with n ≫ N* the unbiased curve's gain c/(n − N)·C(n − c, N)/C(n, N) → p(1 − p)^N: identical N*
    big_n = np.full(5, 10**9)
    big_c = np.array([10**7, 5 * 10**7, 10**8, 3 * 10**8, 6 * 10**8])
    np.testing.assert_array_equal(
        np.asarray(E.observed_saturation_point(big_n, big_c, 1e-4)),
        np.asarray(ttspm.saturation_point(big_c / big_n, 1e-4)),
    )
    # the posterior rule is wired in when a prior is given
    post = E.predicted_vs_observed(jax.random.key(0), n, c, [1e-3], n_obs=2000, prior=(0.8, 20.0))
    np.testing.assert_array_equal(post.predicted[0], np.asarray(E.posterior_saturation_point(2000, c, 0.8, 20.0, 1e-3)))


def test_bad_inputs():
    with pytest.raises(InputError, match="n_obs must be <= every n"):
        subsample(jax.random.key(0), [10], [3], 20)
    with pytest.raises(InputError, match="budget must be < n"):
        E.observed_marginal_gain(10, 3, 10)
    with pytest.raises(InputError, match="c must be <= n"):
        E.observed_saturation_point(10, 11, 1e-3)
    with pytest.raises(InputError, match=r"acc must be in \[0, 1\]"):
        E.fit_p_curve([1, 2], [0.5, 1.5])


def _posterior_point_brute_force(n, c, a, b, eps, n_max=20_000):
    """First N with E_post[p(1 − p)^N] = B(a + c + 1, b + n − c + N)/B(a + c, b + n − c) < ε, by scanning N with
    SciPy's betaln (independent of the library's log-Γ ratios and integer bisection)."""
    N = np.arange(n_max)
    log_gain = special.betaln(a + c + 1, b + n - c + N) - special.betaln(a + c, b + n - c)
    below = np.flatnonzero(log_gain < np.log(eps))
    return float(below[0]) if below.size else np.inf


def test_predicted_vs_observed_per_row_priors_against_brute_force():
    """Per-model priors (one (α, β) per row of c) and the fitted ones ("fit"): the predicted N* of each problem is
    its own posterior's first N below ε (SciPy scan), with its row's prior; fitted priors maximise the
    Beta-binomial likelihood of the sub-sampled counts (SciPy Nelder–Mead on the log-likelihood)."""
    rng = np.random.default_rng(8)
    n = np.full((2, 12), 60.0)
    c = np.stack([rng.binomial(60, rng.beta(0.6, 3.0, 12)), rng.binomial(60, rng.beta(2.0, 2.0, 12))]).astype(float)
    alpha, beta = np.array([0.6, 2.0]), np.array([3.0, 2.0])
    out = E.predicted_vs_observed(jax.random.key(1), n, c, [1e-2, 2e-3], 60, prior=(alpha, beta))  # n_obs = n: k_m = c
    np.testing.assert_array_equal(out.k_m, c)
    for i, eps in enumerate([1e-2, 2e-3]):
        want = [
            [_posterior_point_brute_force(60, c[g, j], alpha[g], beta[g], eps) for j in range(12)] for g in range(2)
        ]
        np.testing.assert_array_equal(out.predicted[i], want)
    assert out.method == "posterior" and out.alpha.tolist() == alpha.tolist()
    assert [r["eps"] for r in out.rows()] == [1e-2, 2e-3]

    fitted = E.predicted_vs_observed(jax.random.key(2), n, c, [1e-2], 20, prior="fit")
    for g in range(2):
        k = fitted.k_m[g]

        def nll(log_ab, k=k):
            a, b = np.exp(log_ab)
            return -np.sum(special.betaln(a + k, b + 20 - k) - special.betaln(a, b))

        best = optimize.minimize(
            nll, np.log([1.0, 1.0]), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12}
        )
        np.testing.assert_allclose([fitted.alpha[g], fitted.beta[g]], np.exp(best.x), rtol=2e-4)
        want = [_posterior_point_brute_force(20, k[j], fitted.alpha[g], fitted.beta[g], 1e-2) for j in range(12)]
        np.testing.assert_array_equal(fitted.predicted[0][g], want)
    with pytest.raises(InputError, match=r"prior alpha must be a scalar or one value per row of c \(shape \(2,\)\)"):
        E.predicted_vs_observed(jax.random.key(0), n, c, [1e-2], 20, prior=(np.ones(3), 1.0))
    with pytest.raises(InputError, match="prior must be None, 'fit' or"):
        E.predicted_vs_observed(jax.random.key(0), n, c, [1e-2], 20, prior="fitted")
