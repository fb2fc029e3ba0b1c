"""The one result container (scaling_theory.results.Result): its row rule against rows written by hand, and
the contract that the result types of allocation, saturation, judge and testbed are frozen, NumPy-only
dataclasses with JSON-able rows (a table over the public functions that return them)."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import pkgutil
from dataclasses import dataclass

import jax
import numpy as np
import pytest

from scaling_theory.allocation import api, backtest, frontier, gains, policies, posteriors, sequential
from scaling_theory.judge import analysis
from scaling_theory.judge.model import BLRJudge
from scaling_theory.results import Result
from scaling_theory.saturation import budget, consistency, selection, simulate, verifiers
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


@functools.cache
def _pilot_plan() -> api.Plan:
    """One back-test-mode plan (every policy is run and scored on the held-out attempts), shared by two tests."""
    n = np.full((1, 6), 20.0)
    k = np.random.default_rng(3).integers(0, 8, size=(1, 6)).astype(float)
    return api.allocate(n, k, [2.0, 4.0], pilot=4, policy="uniform")


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
    post, _ = posteriors.beta_posteriors(n, k)
    table = gains.gain_table(post, "coverage", max_extra=6)
    theta = np.linspace(0.01, 0.99, 7)
    return [
        ("allocation.beta_posteriors", lambda: post),
        ("allocation.discretise_beta", lambda: posteriors.discretise_beta(post.a, post.b, theta)),
        ("allocation.gain_table", lambda: table),
        ("allocation.greedy", lambda: policies.greedy(table, [2.0, 6.0])),
        ("allocation.lagrangian", lambda: policies.lagrangian(table, [2.0, 6.0])),
        ("allocation.uniform", lambda: policies.uniform(table, [2.0, 6.0])),
        ("allocation.binned", lambda: policies.binned(table, [2.0, 6.0], score=post.mean())),
        (
            "allocation.sequential",
            lambda: sequential.sequential(post, [2.0], sequential.posterior_first_success(post, 2, 0), rounds=2),
        ),
        ("allocation.allocate", lambda: api.allocate(n, k, [4.0])),
        ("allocation.allocate(pilot)", _pilot_plan),
        (
            "allocation.frontier",
            lambda: frontier.frontier(
                n, k, None, ["a", "b"], [1.0, 4.0], cost_per_attempt=np.ones((2, 8)), bootstrap=8
            ),
        ),
        (
            "allocation.backtest",
            lambda: backtest.backtest(n, k, 3, [2.0], repeats=2, bootstrap=8, policies_=("uniform", "binned")),
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
        (
            "saturation.fit_error_power_law",
            lambda: consistency.fit_error_power_law([1, 2, 4, 8], [0.5, 0.3, 0.2, 0.15]),
        ),
        ("saturation.make_model", lambda: verifiers.make_model([0.8, 0.2], 0.7, [0.5, 0.5])),
        (
            "saturation.optimal_sample_count",
            lambda: verifiers.optimal_sample_count(verifiers.make_model([0.8], 0.7), [-1.0, -2.0], 20),
        ),
    ]


def _judge_cases():
    j = _judge()
    return [
        ("judge.expansion_coefficients", lambda: analysis.expansion_coefficients(j)),
        ("judge.de", lambda: j.de),
        ("judge.inputs", lambda: j.inputs()),
    ]


def _testbed_cases():
    cfg = task.TaskConfig()
    tokens = np.array([[task.N_SPECIAL + 3, task.EOS, 0], [0, 0, 0]])
    return [
        ("testbed.random_problems", lambda: task.random_problems(cfg, np.random.default_rng(0), 4)),
        ("testbed.parse_completions", lambda: task.parse_completions(cfg, tokens)),
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
