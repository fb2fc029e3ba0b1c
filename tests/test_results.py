"""The one result container (scaling_theory.results.Result): its row rule against rows written by hand, and
the contract that the result types of allocation, saturation, judge, testbed, passk and fitting are frozen, NumPy-only
dataclasses with JSON-able rows (a table over the public functions that return them)."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import pkgutil
from dataclasses import dataclass
from statistics import NormalDist

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scaling_theory import fitting, passk
from scaling_theory.allocation import api, backtest, frontier, gains, policies, posteriors, sequential
from scaling_theory.fitting import bayes
from scaling_theory.fitting.intervals import linearisation
from scaling_theory.judge import analysis
from scaling_theory.judge.model import BLRJudge
from scaling_theory.passk import backtesting, grouping, mixing, mle, predictors
from scaling_theory.passk import simulate as passk_simulate
from scaling_theory.results import Result
from scaling_theory.saturation import budget, consistency, estimation, heterogeneous, selection, simulate, verifiers
from scaling_theory.testbed import analysis as testbed_analysis
from scaling_theory.testbed import task


# ----------------------------------------------------------------------------- the rule, by hand
@dataclass(frozen=True)
class _Toy(Result):
    _index = ("group", "budgets", "problem")
    _axes = {"spend": ("group", "budgets"), "pilot": ("group", "problem")}
    _columns = {"budgets": "budget"}

    name: str
    budgets: np.ndarray  # (B,) labels the budget axis
    extra: np.ndarray  # (G, B, K)
    spend: np.ndarray  # (G, B)
    pilot: np.ndarray  # (G, K)
    note: None = None


def test_rule_against_rows_written_by_hand():
    toy = _Toy(
        "x",
        np.array([1.0, 3.0]),
        np.array([[[1, 0], [2, 1]]]),  # G = 1, B = 2, K = 2
        np.array([[1.0, 3.0]]),
        np.array([[5, 7]]),
    )
    expected = [
        {"group": 0, "budget": 1.0, "problem": 0, "name": "x", "extra": 1, "spend": 1.0, "pilot": 5, "note": None},
        {"group": 0, "budget": 1.0, "problem": 1, "name": "x", "extra": 0, "spend": 1.0, "pilot": 7, "note": None},
        {"group": 0, "budget": 3.0, "problem": 0, "name": "x", "extra": 2, "spend": 3.0, "pilot": 5, "note": None},
        {"group": 0, "budget": 3.0, "problem": 1, "name": "x", "extra": 1, "spend": 3.0, "pilot": 7, "note": None},
    ]
    assert toy.rows() == expected
    assert all(type(r["extra"]) is int and type(r["budget"]) is float for r in toy.rows())
    frame = toy.to_frame()
    assert list(frame.columns) == list(expected[0])
    assert frame["extra"].tolist() == [1, 0, 2, 1]


def test_rule_rejects_fields_that_do_not_broadcast():
    @dataclass(frozen=True)
    class Bad(Result):
        a: np.ndarray
        b: np.ndarray

    with pytest.raises(TypeError, match=r"Bad: row fields do not broadcast \(a \(2,\), b \(3,\)\)"):
        Bad(np.zeros(2), np.zeros(3)).rows()


def test_jax_arrays_become_numpy_and_results_are_frozen():
    mc = simulate.MCCurve(jax.numpy.arange(3.0), jax.numpy.ones(3), 2)
    assert type(mc.mean) is np.ndarray and type(mc.se) is np.ndarray
    with pytest.raises(dataclasses.FrozenInstanceError):
        mc.trials = 3  # type: ignore[misc]


# ----------------------------------------------------------------------------- converted results, by hand
def test_mc_curve_rows_are_the_arrays():
    curve = simulate.simulate_parallel(jax.random.key(0), 0.3, 4, 10)
    frame = curve.to_frame()
    assert list(frame.columns) == ["budget", "mean", "se", "trials"]
    expected = [{"budget": n, "mean": float(curve.mean[n]), "se": float(curve.se[n]), "trials": 10} for n in range(5)]
    assert curve.rows() == expected
    assert frame["mean"].iloc[0] == 0.0  # no attempt, no hit


def test_allocation_rows_spend_each_budget_exactly():
    post = posteriors.beta_posterior(np.array([[1.0, 2.0, 0.5], [3.0, 1.0, 1.0]]), np.array([[4.0, 2.0, 9.0]]))
    table = gains.gain_table(post, "coverage", max_extra=8)
    alloc = policies.greedy(table, [0.0, 2.0, 5.0])
    rows = alloc.rows()
    assert len(rows) == 2 * 3 * 3  # (group, budget, problem)
    assert [r["budget"] for r in rows[:9]] == [0.0] * 3 + [2.0] * 3 + [5.0] * 3
    for g in range(2):
        for budget_value in (0.0, 2.0, 5.0):
            mine = [r for r in rows if r["group"] == g and r["budget"] == budget_value]
            assert [r["problem"] for r in mine] == [0, 1, 2]
            assert sum(r["extra"] for r in mine) == budget_value  # unit cost: the attempts column sums to the budget
            assert {r["spend"] for r in mine} == {budget_value}
    # the value column is the expected coverage of the allocation, computed independently from the gains
    frame = alloc.to_frame()
    for g in range(2):
        extra = alloc.extra[g, 2]
        direct = np.mean(table.base[g] + [table.gains[g, i, : int(m)].sum() for i, m in enumerate(extra)])
        assert frame[(frame.group == g) & (frame.budget == 5.0)]["value"].iloc[0] == pytest.approx(direct, rel=1e-12)


def test_verifier_model_rows_by_hand():
    m = verifiers.make_model([0.87, 0.13], 0.75, [0.58, 0.42])
    assert m.rows() == [
        {"type": 0, "r": 0.87, "s": 0.75, "p": 0.58, "c": 1.0},
        {"type": 1, "r": 0.13, "s": 0.75, "p": 0.42, "c": 1.0},
    ]


def test_selection_curve_rows_are_long_by_rule():
    t = selection.make_answer_task(jax.random.key(0), 5, 3)
    curve = selection.selection_accuracy(jax.random.key(1), t, [1, 2], 3, rules=("best_of_n", "majority"))
    rows = curve.rows()
    assert [(r["rule"], r["n"]) for r in rows] == [("best_of_n", 1), ("best_of_n", 2), ("majority", 1), ("majority", 2)]
    assert [r["mean"] for r in rows] == [*curve.mean["best_of_n"].tolist(), *curve.mean["majority"].tolist()]
    task_rows = t.rows()
    assert len(task_rows) == 15 and {r["correct"] for r in task_rows} == {0}
    assert sum(r["probs"] for r in task_rows) == pytest.approx(5.0, rel=1e-12)  # each question's law sums to 1


def test_empirical_bayes_posteriors_carry_their_fit_and_rows_by_hand():
    """beta_posteriors: Beta(α̂ + k, β̂ + n − k) with the fit it carries (the fit's own rows stay out of the
    posterior's); the Beta-binomial MLE (α̂, β̂) is checked against SciPy's optimiser of the same likelihood."""
    from scipy import optimize, stats

    n, k = np.full((1, 5), 10.0), np.array([[0.0, 2.0, 5.0, 9.0, 3.0]])
    post = posteriors.beta_posteriors(n, k)
    res = optimize.minimize(
        lambda u: -stats.betabinom.logpmf(k[0], n[0], *np.exp(u)).sum(),
        np.zeros(2),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
    )
    a_hat, b_hat = np.exp(res.x)
    np.testing.assert_allclose([post.fit.alpha[0], post.fit.beta[0]], [a_hat, b_hat], rtol=1e-4)
    assert post.rows() == [
        {"group": 0, "problem": i, "a": float(post.fit.alpha[0] + k[0, i]), "b": float(post.fit.beta[0] + 10 - k[0, i])}
        for i in range(5)
    ]
    grid = posteriors.mixing_posteriors(n, k, family="beta")
    assert grid.fit is not None and grid.fit.family == "beta"
    assert list(grid.rows()[0]) == ["group", "problem", "theta", "log_post"]
    assert posteriors.observe_failures(post, np.ones((1, 5))).rows()[0]["b"] == post.rows()[0]["b"] + 1


@functools.cache
def _pilot_plan() -> api.Plan:
    """One back-test-mode plan (every policy is run and scored on the held-out attempts), shared by two tests."""
    n = np.full((1, 6), 20.0)
    k = np.random.default_rng(3).integers(0, 8, size=(1, 6)).astype(float)
    return api.allocate(jax.random.key(0), n, k, [2.0, 4.0], pilot=4, policy="uniform")


def test_plan_backtest_rows_carry_realised_columns():
    plan = _pilot_plan()
    row = plan.rows()[0]
    assert {"group", "budget", "problem", "extra", "pilot_n", "pilot_k", "realised_uniform", "realised_greedy"} <= set(
        row
    )
    assert row["posterior_sd"] is None  # not computed for the coverage objective: a None column, same schema
    assert len(plan.rows()) == 1 * 2 * 6


# ----------------------------------------------------------------------------- the contract, over the areas
def _counts():
    rng = np.random.default_rng(0)
    k = rng.integers(0, 6, size=(2, 8)).astype(float)
    return np.full((2, 8), 10.0), k


def _judge():
    return BLRJudge(d=2, n=20, sigma=0.5, gamma=1.0, teacher_scale=1.0, c=0.5, n_gh=8)


def _allocation_cases():
    n, k = _counts()
    post = posteriors.beta_posteriors(n, k)
    table = gains.gain_table(post, "coverage", max_extra=6)
    theta = np.linspace(0.01, 0.99, 7)
    return [
        ("allocation.beta_posteriors", lambda: post),
        ("allocation.mixing_posteriors", lambda: posteriors.mixing_posteriors(n, k, family="npmle", max_iter=5)),
        ("allocation.discretise_beta", lambda: posteriors.discretise_beta(post.a, post.b, theta)),
        ("allocation.gain_table", lambda: table),
        ("allocation.greedy", lambda: policies.greedy(table, [2.0, 6.0])),
        ("allocation.lagrangian", lambda: policies.lagrangian(table, [2.0, 6.0])),
        ("allocation.uniform", lambda: policies.uniform(table, [2.0, 6.0])),
        ("allocation.binned", lambda: policies.binned(table, [2.0, 6.0], score=post.mean())),
        (
            "allocation.sequential",
            lambda: sequential.sequential(
                post, [2.0], sequential.posterior_first_success(jax.random.key(0), post, 2), rounds=2
            ),
        ),
        ("allocation.allocate", lambda: api.allocate(jax.random.key(0), n, k, [4.0])),
        ("allocation.allocate(pilot)", _pilot_plan),
        (
            "allocation.frontier",
            lambda: frontier.frontier(
                jax.random.key(0), n, k, None, ["a", "b"], [1.0, 4.0], cost_per_attempt=np.ones((2, 8)), bootstrap=8
            ),
        ),
        (
            "allocation.backtest",
            lambda: backtest.backtest(
                jax.random.key(0), n, k, 3, [2.0], repeats=2, bootstrap=8, policies_=("uniform", "binned")
            ),
        ),
    ]


def _saturation_cases():
    key = jax.random.key(0)
    t = selection.make_answer_task(key, 4, 3)
    return [
        ("saturation.simulate_parallel", lambda: simulate.simulate_parallel(key, 0.2, 3, 4)),
        ("saturation.simulate_chain", lambda: simulate.simulate_chain(key, 0.2, 0.3, 0.1, 3, 4)),
        ("saturation.simulate_beta_parallel", lambda: simulate.simulate_beta_parallel(key, 1.0, 2.0, 3, 4)),
        ("saturation.make_answer_task", lambda: t),
        ("saturation.selection_accuracy", lambda: selection.selection_accuracy(key, t, [1, 2], 2)),
        ("saturation.fit_truncnorm", lambda: budget.fit_truncnorm([0.2, 0.5, 0.6, 0.9], steps=5)),
        ("saturation.homogeneous_gap", lambda: heterogeneous.homogeneous_gap([0.5, 1.0], 2.0, 1e-3)),
        (
            "saturation.fit_error_power_law",
            lambda: consistency.fit_error_power_law([1, 2, 4, 8], [0.5, 0.3, 0.2, 0.15]),
        ),
        ("saturation.make_model", lambda: verifiers.make_model([0.8, 0.2], 0.7, [0.5, 0.5])),
        (
            "saturation.optimal_sample_count",
            lambda: verifiers.optimal_sample_count(verifiers.make_model([0.8], 0.7), [-1.0, -2.0], 20),
        ),
        (
            "saturation.per_question_p",
            lambda: estimation.per_question_p(
                __import__("pandas").DataFrame({"model": ["a", "b"], "problem": [0, 0], "n": [4, 5], "k": [1, 5]})
            ),
        ),
        (
            "saturation.sequential_estimates",
            lambda: estimation.sequential_estimates(
                _verifier_attempts().rename(columns={"attempt": "round"}).assign(attempt=0), ["model"]
            ),
        ),
        ("saturation.task_rates", lambda: verifiers.task_rates(_verifier_attempts(), ["model"])),
        ("saturation.estimate_verifier", lambda: verifiers.estimate_verifier(_verifier_attempts(), ["model"])),
        (
            "saturation.predicted_vs_observed",
            lambda: estimation.predicted_vs_observed(
                key,
                np.full((2, 5), 10.0),
                np.array([[0, 2, 5, 9, 10], [1, 1, 3, 4, 8]]),
                [1e-2, 1e-3],
                4,
                prior=(1.0, 2.0),
            ),
        ),
    ]


def _verifier_attempts():
    """Two models × three problems × four attempts with ``correct`` and ``accepted`` columns."""
    rng = np.random.default_rng(1)
    idx = np.indices((2, 3, 4)).reshape(3, -1)
    return __import__("pandas").DataFrame(
        {
            "model": np.array(["a", "b"])[idx[0]],
            "problem": idx[1],
            "attempt": idx[2],
            "correct": rng.integers(0, 2, idx.shape[1]),
            "accepted": rng.integers(0, 2, idx.shape[1]),
        }
    )


def _judge_cases():
    j = _judge()
    return [
        ("judge.expansion_coefficients", lambda: analysis.expansion_coefficients(j)),
        ("judge.de", lambda: j.de),
        ("judge.inputs", lambda: j.inputs()),
        ("judge.refine_log_minimum", lambda: analysis.refine_log_minimum([1.0, 2.0, 4.0], [3.0, 1.0, 2.0])),
    ]


def _testbed_cases():
    cfg = task.TaskConfig()
    tokens = np.array([[task.N_SPECIAL + 3, task.EOS, 0], [0, 0, 0]])
    return [
        ("testbed.random_problems", lambda: task.random_problems(cfg, np.random.default_rng(0), 4)),
        ("testbed.parse_completions", lambda: task.parse_completions(cfg, tokens)),
        ("testbed.fit_hte", lambda: testbed_analysis.fit_hte([1.0, 2.0, 4.0, 8.0], [1.0, 0.8, 0.7, 0.65])),
        (
            "testbed.fit_hte_temperature",
            lambda: testbed_analysis.fit_hte_temperature(
                [1.0, 2.0, 4.0], [1.0, 2.0], [[1.0, 0.8, 0.7], [1.0, 0.9, 0.85]]
            ),
        ),
    ]


CASES = _allocation_cases() + _saturation_cases() + _judge_cases() + _testbed_cases()


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


@pytest.mark.parametrize("name,make", CASES, ids=[c[0] for c in CASES])
def test_public_results_are_frozen_numpy_with_tidy_rows(name, make):
    res = make()
    assert isinstance(res, Result), f"{name} returned {type(res).__name__}, not a Result"
    assert type(res).__dataclass_params__.frozen, f"{type(res).__name__} is not frozen"  # type: ignore[attr-defined]
    for f in dataclasses.fields(res):
        for leaf in _leaves(getattr(res, f.name)):
            assert not isinstance(leaf, jax.Array), f"{name}: field {f.name} holds a JAX array"
            if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
                assert leaf.dtype == np.float64, f"{name}: field {f.name} is {leaf.dtype}, not float64"
    rows = res.rows()
    assert rows and all(isinstance(r, dict) for r in rows)
    json.dumps(rows)  # plain Python values only
    assert all(list(r) == list(rows[0]) for r in rows), f"{name}: rows of different columns"
    frame = res.to_frame()
    assert len(frame) == len(rows) and list(frame.columns) == list(rows[0])


def test_marginal_from_curve_returns_numpy():
    d, se = simulate.marginal_from_curve(simulate.simulate_parallel(jax.random.key(0), 0.2, 3, 4))
    assert type(d) is np.ndarray and type(se) is np.ndarray and d.dtype == se.dtype == np.float64


AREAS = ("allocation", "saturation", "judge", "testbed")


def test_no_namedtuple_or_mutable_result_types_in_the_converted_areas():
    offenders = []
    for area in AREAS:
        pkg = importlib.import_module(f"scaling_theory.{area}")
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name.startswith("_") or info.name == "cli":
                continue
            mod = importlib.import_module(f"scaling_theory.{area}.{info.name}")
            for name, obj in vars(mod).items():
                if name.startswith("_") or not isinstance(obj, type) or obj.__module__ != mod.__name__:
                    continue
                if issubclass(obj, tuple):
                    offenders.append(f"{mod.__name__}.{name} is a NamedTuple")
                if issubclass(obj, Result) and not obj.__dataclass_params__.frozen:  # type: ignore[attr-defined]
                    offenders.append(f"{mod.__name__}.{name} is a mutable Result")
    assert not offenders, offenders


# ============================================================================= passk and fitting (appended)
# Rows written by hand from closed forms, then the same contract table over the passk and fitting results.
_N4 = 4.0
_K12 = np.array([1.0, 2.0])  # one group: 1 and 2 successes of 4 attempts


def test_prediction_naive_rows_by_hand():
    """naive = mean_i 1 − (1 − k_i/n)^N (SABER Eq. 15); the bootstrap mean of two problems stays in [min, max]."""
    p = predictors.predict(jax.random.key(0), _N4, _K12, [1, 3], "naive", bootstrap=50)
    per = {1: (0.25, 0.5), 3: (1 - 0.75**3, 1 - 0.5**3)}
    rows = p.rows({"model": "x"})
    assert [{k: r[k] for k in ("group", "method", "budget", "alpha", "beta")} for r in rows] == [
        {"group": {"model": "x"}, "method": "naive", "budget": 1, "alpha": None, "beta": None},
        {"group": {"model": "x"}, "method": "naive", "budget": 3, "alpha": None, "beta": None},
    ]
    assert type(rows[0]["budget"]) is int
    for r in rows:
        lo, hi = per[r["budget"]]
        assert r["asr"] == pytest.approx((lo + hi) / 2, rel=1e-14)
        assert lo - 1e-15 <= r["lower"] and r["upper"] <= hi + 1e-15
    assert p.to_frame()["asr"].tolist() == [r["asr"] for r in p.rows()]


def _uniform_prior_fit() -> mle.BetaBinomialFit:
    """A Beta(1, 1) 'fit' with no parameter uncertainty (cov_u = 0): eb's interval is the θ-posterior part only."""
    zero, one = np.array(0.0), np.array(1.0)
    return mle.BetaBinomialFit(
        alpha=one,
        beta=one,
        pi=zero,
        se_alpha=zero,
        se_beta=zero,
        se_pi=zero,
        cov_u=np.zeros((2, 2)),
        loglik=zero,
        n_problems=np.array(2.0),
        iterations=np.array(0),
        converged=np.array(True),
        at_bound=np.array(False),
    )


def test_prediction_eb_rows_by_hand():
    """eb under Beta(1, 1): problem i's posterior is Beta(1 + k_i, 1 + n − k_i), so E[(1−θ)^N] = Π_{j<N} (b+j)/(a+b+j)
    (Laplace's rule at N = 1); the interval is logit(asr) ± z·sd, sd² = (1/K²) Σ Var_i[(1−θ)^N] / (asr(1−asr))²."""
    p = predictors.predict(jax.random.key(0), _N4, _K12, [1, 2], "eb", fit_result=_uniform_prior_fit())

    def moment(a, b, power):  # E[(1 − θ)^power] under Beta(a, b)
        return float(np.prod([(b + j) / (a + b + j) for j in range(power)]))

    z = NormalDist().inv_cdf(0.95)
    expected = []
    for budget_value, asr in ((1, 5 / 12), (2, 13 / 21)):  # 1 − mean(2/3, 1/2); 1 − mean(10/21, 2/7)
        post = [(1 + k, 1 + _N4 - k) for k in _K12]
        assert 1 - np.mean([moment(a, b, budget_value) for a, b in post]) == pytest.approx(asr, rel=1e-15)
        var = sum(moment(a, b, 2 * budget_value) - moment(a, b, budget_value) ** 2 for a, b in post) / 4
        sd = np.sqrt(var) / (asr * (1 - asr))
        logit = np.log(asr / (1 - asr))
        lo, hi = (1 / (1 + np.exp(-(logit + s * z * sd))) for s in (-1, 1))
        expected.append({"budget": budget_value, "asr": asr, "lower": lo, "upper": hi})
    rows = p.rows()
    assert [r["group"] for r in rows] == [{}, {}] and {r["alpha"] for r in rows} == {1.0} == {r["beta"] for r in rows}
    for r, e in zip(rows, expected):
        assert r["budget"] == e["budget"]
        for col in ("asr", "lower", "upper"):
            assert r[col] == pytest.approx(e[col], rel=1e-12), col


def test_batched_prediction_rows_are_group_major():
    k = np.array([[1.0, 2.0], [0.0, 4.0]])
    p = predictors.predict(jax.random.key(0), _N4, k, [1, 3], "naive", bootstrap=20)
    rows = p.rows()
    assert [(r["group"], r["budget"]) for r in rows] == [({"group": g}, b) for g in (0, 1) for b in (1, 3)]
    assert rows[2]["asr"] == pytest.approx(0.5 * (0.0 + 1.0), rel=1e-15)  # group 1: k/n = 0 and 1, N = 1
    with pytest.raises(ValueError, match="single group"):
        p.rows({"model": "x"})


def test_beta_binomial_fit_rows_one_per_group():
    res = mle.fit(20.0, np.array([[1.0, 5.0, 0.0, 9.0, 2.0], [3.0, 3.0, 4.0, 0.0, 1.0]]))
    rows = res.rows()
    assert [r["group"] for r in rows] == [0, 1]
    assert [r["alpha"] for r in rows] == res.alpha.tolist() and [r["n_problems"] for r in rows] == [5.0, 5.0]
    assert "cov_u" not in rows[0] and type(rows[0]["converged"]) is bool
    one = mle.take(res, 1)
    assert one.rows() == [{k: v for k, v in rows[1].items() if k != "group"}]  # unbatched: no group column
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.alpha = res.beta  # type: ignore[misc]


def test_mixing_fit_rows_by_hand():
    p = {"weights": np.array([[0.3, 0.7]]), "alpha": np.array([[1.0, 2.0]]), "beta": np.array([[3.0, 4.0]])}
    theta = np.array([0.0, 0.5, 1.0])
    f = mixing.MixingFit("beta_mix2", p, np.array([-5.0]), 5, np.ones(1, bool), theta, np.zeros((1, 3)))
    assert f.rows() == [
        {
            "group": 0,
            "family": "beta_mix2",
            "loglik": -5.0,
            "n_params": 5,
            "converged": True,
            "degenerate": False,
            "weights_1": 0.3,
            "weights_2": 0.7,
            "alpha_1": 1.0,
            "alpha_2": 2.0,
            "beta_1": 3.0,
            "beta_2": 4.0,
        }
    ]
    frame = f.to_frame()
    assert frame["converged"].dtype == bool and frame["n_params"].dtype == np.int64 and frame["loglik"].dtype == float


def test_stacked_and_synthetic_counts_rows():
    import pandas as pd

    counts = pd.DataFrame({"model": ["a", "a", "b"], "problem": [0, 1, 0], "n": [4, 4, 5], "k": [1, 0, 5]})
    st = grouping.stack_groups(counts, ["model"])
    assert st.rows() == [
        {"group": 0, "problem": 0, "n": 4.0, "k": 1.0, "mask": 1.0},
        {"group": 0, "problem": 1, "n": 4.0, "k": 0.0, "mask": 1.0},
        {"group": 1, "problem": 0, "n": 5.0, "k": 5.0, "mask": 1.0},
        {"group": 1, "problem": 1, "n": 1.0, "k": 0.0, "mask": 0.0},  # padding
    ]
    assert st.groups == [{"model": "a"}, {"model": "b"}] and st.sizes.tolist() == [2, 1]
    sim = passk_simulate.simulate_counts(jax.random.key(0), np.array([1.0, 2.0]), 3.0, 3, 7)
    rows = sim.rows()
    assert [(r["group"], r["problem"]) for r in rows] == [(g, i) for g in (0, 1) for i in range(3)]
    assert all(r["n"] == 7 and r["log1m_theta"] == pytest.approx(np.log1p(-r["theta"]), rel=1e-9) for r in rows)


def test_fit_result_rows_of_a_noiseless_power_law():
    x = np.logspace(0.0, 3.0, 12)
    res = fitting.fit("power_law", {"x": x}, 3.0 * x**-0.4, loss="mse")
    (row,) = res.rows()
    assert list(row) == [
        "law",
        "params_a",
        "params_b",
        "objective",
        "n_points",
        "method",
        "grid_best",
        "n_starts",
        "converged",
    ]
    assert row["law"] == "power_law" and row["method"] == "multistart" and row["grid_best"] is None
    assert row["params_a"] == pytest.approx(3.0, rel=1e-7) and row["params_b"] == pytest.approx(0.4, rel=1e-7)
    assert row["objective"] < 1e-12 and row["n_points"] == 12 and row["converged"] is True
    draws = fitting.t_draws(jax.random.key(0), res, 4)  # power_law coordinates are (log a, b)
    assert [r["draw"] for r in draws.rows()] == [0, 1, 2, 3]
    np.testing.assert_allclose([r["params_a"] for r in draws.rows()], np.exp(draws.theta[:, 0]), rtol=1e-14)
    assert [r["params_b"] for r in draws.rows()] == draws.theta[:, 1].tolist()


def test_approach2_rows_by_hand():
    """Exact parabolas L = p0_c + 0.3 (log N − log N*_c)² around N*_c = 0.1·C^0.5: the rows are the vertices."""
    budgets = np.array([1e18, 1e19, 1e20])
    n_star = 0.1 * budgets**0.5
    offsets = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    N = (n_star[:, None] * np.exp(offsets)).ravel()
    C = np.repeat(budgets, offsets.size)
    L = (np.array([2.0, 2.1, 2.2])[:, None] + 0.3 * offsets**2).ravel()
    rows = fitting.approach2(N, C, L).rows()
    assert [r["budget"] for r in rows] == budgets.tolist()
    for r, c, n, p0 in zip(rows, budgets, n_star, (2.0, 2.1, 2.2)):
        want = {"n_opt": n, "d_opt": c / (6 * n), "loss_opt": p0, "curvature": 0.3, "a": 0.5, "b": 0.5}
        want |= {"log_g_n": np.log(0.1), "log_g_d": -np.log(6 * 0.1)}
        assert list(r) == ["budget", *want]
        for col, v in want.items():
            assert r[col] == pytest.approx(v, rel=1e-8, abs=1e-10), col


def _passk_cases():
    n, k = _counts()
    fit0 = mle.fit(n, k)
    return [
        ("passk.fit", lambda: fit0),
        ("passk.bootstrap_fit", lambda: mle.bootstrap(jax.random.key(0), n[0], k[0], 3)),
        ("passk.predict(naive)", lambda: passk.predict(jax.random.key(0), n, k, [2, 50], "naive", bootstrap=10)),
        ("passk.predict(eb)", lambda: passk.predict(jax.random.key(0), n, k, [2, 50], "eb", fit_result=fit0)),
        ("passk.fit_mixing", lambda: mixing.fit_mixing(n, k, family="beta")),
        (
            "passk.predict_mixing",
            lambda: mixing.predict_mixing(jax.random.key(0), n, k, None, [2.0, 50.0], family="beta", replicates=2),
        ),
        (
            "passk.backtest",
            lambda: backtesting.backtest(
                jax.random.key(0), n, k, 5, [8], ["naive"], repeats=2, groups=[{"model": "a"}, {"model": "b"}]
            ),
        ),
        (
            "passk.stack_groups",
            lambda: grouping.stack_groups(
                __import__("pandas").DataFrame({"problem": [0, 1], "n": [3, 3], "k": [1, 2]}), []
            ),
        ),
        ("passk.simulate_counts", lambda: passk_simulate.simulate_counts(jax.random.key(0), 1.0, 2.0, 4, 5)),
    ]


def _square(x, shared, batched):
    return jnp.sum((x - batched["c"]) ** 2)


_CHIN = {"A": 406.4, "B": 410.7, "E": 1.69, "alpha": 0.34, "beta": 0.28}


def _chinchilla_draws():
    """Stand-in draws of the Chinchilla parameters (``allocation_table`` reads only ``draws.params``)."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    return SimpleNamespace(params={k: v * np.exp(0.05 * rng.standard_normal(16)) for k, v in _CHIN.items()})


def _fitting_cases():
    x = np.logspace(0.0, 3.0, 12)
    y = 3.0 * x**-0.4 * np.exp(0.01 * np.sin(np.arange(12.0)))
    res = fitting.fit("power_law", {"x": x}, y, loss="mse")
    budgets = np.repeat([1e18, 1e19, 1e20], 4)
    N = 0.1 * budgets**0.5 * np.exp(np.tile([-1.0, -0.3, 0.4, 1.0], 3))
    L = 2.0 + 0.3 * np.log(N / (0.1 * budgets**0.5)) ** 2
    return [
        ("fitting.fit", lambda: res),
        ("fitting.bootstrap", lambda: fitting.bootstrap(jax.random.key(0), res, 3, n_starts=1)),
        ("fitting.t_draws", lambda: fitting.t_draws(jax.random.key(0), res, 3)),
        (
            "fitting.backtest",
            lambda: fitting.backtest(jax.random.key(0), "power_law", {"x": x}, y, scale="x", threshold=100.0),
        ),
        ("fitting.approach2", lambda: fitting.approach2(N, budgets, L)),
        ("fitting.allocation_table", lambda: fitting.allocation_table(_CHIN, None, [1e20, 1e22])),
        (
            "fitting.allocation_table(draws)",
            lambda: fitting.allocation_table(_CHIN, _chinchilla_draws(), [1e20, 1e22], 0.9),
        ),
        ("fitting.bayes.prior_box", lambda: bayes.prior_box(res)),
        (
            "fitting.compute_optimal",
            lambda: fitting.compute_optimal(_CHIN, np.array([1e20, 1e22])),
        ),
        ("fitting.t_intervals", lambda: fitting.t_intervals(res, 0.9)),
        ("fitting.intervals.linearisation", lambda: linearisation(res)),
        (
            "fitting.minimize_batched",
            lambda: fitting.minimize_batched(_square, np.zeros((2, 1)), None, {"c": np.array([[1.0], [2.0]])}),
        ),
        ("fitting.Draws.intervals", lambda: fitting.t_draws(jax.random.key(0), res, 5).intervals(0.9)),
        ("fitting.t_prediction_interval", lambda: fitting.t_prediction_interval(res, {"x": x[:3]}, 0.9)),
        (
            "fitting.Draws.predict_interval",
            lambda: fitting.t_draws(jax.random.key(0), res, 5).predict_interval({"x": x[:3]}),
        ),
    ]


CASES_PASSK_FITTING = _passk_cases() + _fitting_cases()


@pytest.mark.parametrize("name,make", CASES_PASSK_FITTING, ids=[c[0] for c in CASES_PASSK_FITTING])
def test_passk_and_fitting_results_are_frozen_numpy_with_tidy_rows(name, make):
    test_public_results_are_frozen_numpy_with_tidy_rows(name, make)


def test_no_namedtuple_or_mutable_result_types_in_passk_and_fitting():
    """As for the other areas; fitting's optimiser options and traced-state tuples (``LBFGSOptions``, ``Loss``,
    ``Separable``) are inputs or internal NamedTuples of compiled code, not results."""
    internal = {"LBFGSOptions", "Loss", "Separable"}
    offenders = []
    for area in ("passk", "fitting"):
        pkg = importlib.import_module(f"scaling_theory.{area}")
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name.startswith("_") or info.name == "cli":
                continue
            mod = importlib.import_module(f"scaling_theory.{area}.{info.name}")
            for name, obj in vars(mod).items():
                if name.startswith("_") or not isinstance(obj, type) or obj.__module__ != mod.__name__:
                    continue
                if issubclass(obj, tuple) and name not in internal:
                    offenders.append(f"{mod.__name__}.{name} is a NamedTuple")
                if dataclasses.is_dataclass(obj) and name.endswith(("Result", "Fit", "Prediction", "Counts", "Draws")):
                    if not (issubclass(obj, Result) and obj.__dataclass_params__.frozen):  # type: ignore[attr-defined]
                        offenders.append(f"{mod.__name__}.{name} is not a frozen Result")
    assert not offenders, offenders
