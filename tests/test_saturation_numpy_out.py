"""NumPy out (docs/CONTRIBUTING.md, "The library contract"): every public plain-array function of saturation's
closed forms and of the judge's ``selection``/``expansion`` helpers returns NumPy arrays (float64 for real
values; bool/int arrays where the value is a flag or an id), never a JAX array — a float64 JAX array silently
becomes float32 in later arithmetic outside x64. One table over the functions, and a check that the table
covers every public function of those modules (those that return a Result, a table or a model are listed
apart, with what they return)."""

from __future__ import annotations

import inspect

import jax
import numpy as np
import pytest

from scaling_theory.judge import expansion as X
from scaling_theory.judge import selection as JS
from scaling_theory.saturation import budget as B
from scaling_theory.saturation import consistency as C
from scaling_theory.saturation import estimation as E
from scaling_theory.saturation import heterogeneous as H
from scaling_theory.saturation import selection as S
from scaling_theory.saturation import ttspm as T
from scaling_theory.saturation import verifiers as V

_KEY = jax.random.key(0)
_ANS = np.array([[0, 1, 1, 2], [2, 2, 0, 1]])
_SC = np.array([[0.1, 0.5, 0.4, 0.9], [0.3, 0.2, 0.8, 0.1]])


def _task():
    return S.make_answer_task(_KEY, 3, 4)


def _model():
    return V.make_model([0.8, 0.2], 0.7, [0.5, 0.5])


_STD = {"mean": 0.0, "std": 1.0, "teacher": 0.0, "reward": 0.5}

# (module, function name, call)
CASES = [
    (T, "geometric_saturation_point", lambda: T.geometric_saturation_point(0.5, 0.9, 1e-3)),
    (T, "hit_at_n", lambda: T.hit_at_n(0.3, [1, 2, 5])),
    (T, "sequential_success", lambda: T.sequential_success(0.3, [1, 2], p0=0.1)),
    (T, "marginal_gain", lambda: T.marginal_gain(0.3, [0, 3])),
    (T, "headroom", lambda: T.headroom(0.3, [0, 3])),
    (T, "saturation_point", lambda: T.saturation_point([0.1, 0.3], 0.01)),
    (T, "saturation_point_formula", lambda: T.saturation_point_formula(0.1, 0.01)),
    (T, "markov_accuracy", lambda: T.markov_accuracy([0, 3], 0.2, 0.3, 0.1)),
    (T, "markov_marginal_gain", lambda: T.markov_marginal_gain([0, 3], 0.2, 0.3, 0.1)),
    (T, "markov_limit", lambda: T.markov_limit(0.2, 0.3, 0.1)),
    (T, "markov_improves", lambda: T.markov_improves(0.2, 0.3, 0.1)),
    (T, "markov_saturation_point", lambda: T.markov_saturation_point(0.2, 0.3, 0.1, 1e-3)),
    (H, "beta_hit_at_n", lambda: H.beta_hit_at_n(1.0, 2.0, [1, 4])),
    (H, "beta_marginal_gain", lambda: H.beta_marginal_gain(1.0, 2.0, [1, 4])),
    (H, "beta_gain_ratio", lambda: H.beta_gain_ratio(1.0, 2.0, [1, 4])),
    (H, "beta_marginal_gain_asymptotic", lambda: H.beta_marginal_gain_asymptotic(1.0, 2.0, [1, 4])),
    (H, "beta_saturation_point", lambda: H.beta_saturation_point(1.0, 2.0, 1e-3)),
    (H, "beta_saturation_point_approx", lambda: H.beta_saturation_point_approx(1.0, 2.0, 1e-3)),
    (H, "beta_samples_for_coverage", lambda: H.beta_samples_for_coverage(1.0, 2.0, 0.9)),
    (B, "samples_for_coverage", lambda: B.samples_for_coverage(0.2, 0.9)),
    (B, "gain_from_doubling", lambda: B.gain_from_doubling(0.2, [1, 4])),
    (B, "beta_gain_from_doubling", lambda: B.beta_gain_from_doubling(1.0, 2.0, [1, 4])),
    (B, "beta_quantile", lambda: B.beta_quantile(0.1, 2.0, 3.0)),
    (B, "samples_for_coverage_confident", lambda: B.samples_for_coverage_confident(20, 5, 0.9)),
    (B, "truncnorm_cdf", lambda: B.truncnorm_cdf(0.5, 0.4, 0.2)),
    (B, "max_score_cdf", lambda: B.max_score_cdf(0.5, 0.4, 0.2, 4)),
    (B, "optscale_min_n", lambda: B.optscale_min_n(0.9, 0.05)),
    (B, "optscale_min_n_tn", lambda: B.optscale_min_n_tn(0.8, 0.4, 0.2, 0.05)),
    (S, "best_of_n", lambda: S.best_of_n(_ANS, _SC, 3)),
    (S, "majority_vote", lambda: S.majority_vote(_ANS, 3)),
    (S, "best_of_majority", lambda: S.best_of_majority(_ANS, _SC, 3)),
    (S, "select", lambda: S.select("majority", _ANS, _SC, 3, k=2)),
    (S, "success", lambda: S.success(np.array([[0, 1], [2, -1]]), np.array([1, 0]))),
    (S, "sample_attempts", lambda: S.sample_attempts(_KEY, _task(), 3)),
    (S, "best_of_n_exact", lambda: S.best_of_n_exact(_task().probs, _task().reward, _task().correct, [1, 4])),
    (S, "majority_vote_exact_binary", lambda: S.majority_vote_exact_binary(0.6, [1, 3])),
    (V, "attempt_probabilities", lambda: V.attempt_probabilities(_model())),
    (V, "accuracy_ceiling", lambda: V.accuracy_ceiling(0.5, 0.8)),
    (V, "mixture_ceiling", lambda: V.mixture_ceiling(_model())),
    (V, "utility_exact", lambda: V.utility_exact(_model(), [1.0, 2.0], -1.0)),
    (V, "utility_code", lambda: V.utility_code(_model(), 3, -1.0)),
    (V, "utility_limit", lambda: V.utility_limit(_model(), -1.0)),
    (V, "resampling_reward", lambda: V.resampling_reward(10, 4, 2, [1, 3], -1.0)),
    (
        V,
        "simulate_resampling",
        lambda: V.simulate_resampling(_KEY, np.array([[1, 0, 1, 1]]), np.array([[1, 0, 0, 1]]), [1, 2], -1.0, 4),
    ),
    (E, "fit_p_curve", lambda: E.fit_p_curve([1, 2, 4], [0.2, 0.36, 0.59])),
    (E, "observed_marginal_gain", lambda: E.observed_marginal_gain(10, 3, [0, 2])),
    (E, "observed_saturation_point", lambda: E.observed_saturation_point(10, 3, 0.01)),
    (E, "observed_aggregate_gain", lambda: E.observed_aggregate_gain([10, 10], [3, 5], [0, 2])),
    (E, "observed_aggregate_saturation_point", lambda: E.observed_aggregate_saturation_point([10, 10], [3, 5], 0.01)),
    (E, "posterior_saturation_point", lambda: E.posterior_saturation_point(10, 3, 1.0, 1.0, 1e-3)),
    (C, "majority_error_bound", lambda: C.majority_error_bound(0.2, [1, 5])),
    (JS, "hte_standard", lambda: JS.hte_standard(3.0, 1.0, 0.2, 0.1)),
    (JS, "hte_coefficients", lambda: JS.hte_coefficients(0.2, 0.1)),
    (JS, "limit_standard", lambda: JS.limit_standard(3.0, 1.0, 0.2, 0.1)),
    (JS, "exact_grid", lambda: JS.exact_grid([1.0, 3.0], [0.5], [0.2], [0.1])),
    (JS, "exact_elementwise", lambda: JS.exact_elementwise([2.0], [0.5], [0.2], [0.1])),
    (JS, "mc_standard", lambda: JS.mc_standard(_KEY, np.array([2]), [0.5], [0.2], [0.1], 10)),
    (JS, "standardize", lambda: JS.standardize(1.0, 0.0, 1.0, 0.0, 0.5)),
    (JS, "selection_error", lambda: JS.selection_error([1, 3], 1.0, **_STD)),
    (JS, "selection_error_mc", lambda: JS.selection_error_mc([1, 3], 1.0, **_STD, key=_KEY, samples=10)),
    (X, "expansion_coefficients", lambda: X.expansion_coefficients(3.0, 0.2, 0.1)),
    (X, "official_third_order", lambda: X.official_third_order(5.0, 0.2, 0.1)),
    (X, "hte_series", lambda: X.hte_series(3.0, 1.0, 0.2, 0.1)),
]

# Public functions of these modules that return something else than plain arrays (a Result, a table, a model,
# a float): covered by tests/test_results.py or by their own tests.
OTHER_RETURNS = {
    "saturation.budget": {"fit_truncnorm"},  # TNFit
    "saturation.heterogeneous": {"homogeneous_gap"},  # HomogeneousGap
    "saturation.consistency": {"fit_error_power_law", "margin_exponent"},  # PowerLawFit, float
    "saturation.estimation": {"per_question_p", "sequential_estimates", "pearson_r", "predicted_vs_observed"},
    "saturation.selection": {"make_answer_task", "selection_accuracy"},  # AnswerTask, SelectionCurve
    "saturation.verifiers": {
        "make_model",
        "optimal_sample_count",
        "task_rates",
        "estimate_verifier",
        "model_from_estimate",
    },
}


def _leaves(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def assert_numpy_out(name, out):
    """Every leaf of ``out`` is a NumPy array (not JAX), float64 when real-valued, bool/int otherwise."""
    leaves = list(_leaves(out))
    assert leaves, f"{name} returned nothing"
    for leaf in leaves:
        assert type(leaf) is np.ndarray, f"{name} returned {type(leaf).__module__}.{type(leaf).__name__}"
        assert leaf.dtype == np.float64 or leaf.dtype.kind in "biu", f"{name} returned dtype {leaf.dtype}"


@pytest.mark.parametrize("module,name,call", CASES, ids=[f"{m.__name__.split('.', 1)[1]}.{n}" for m, n, _ in CASES])
def test_public_array_functions_return_numpy_float64(module, name, call):
    out = call()
    assert_numpy_out(name, out)
    # and stay float64 in arithmetic outside x64 (where a float64 JAX array would become float32)
    for leaf in _leaves(out):
        if leaf.dtype.kind == "f":
            assert (leaf * 1.5 + 1.0).dtype == np.float64


@pytest.mark.parametrize("module", sorted({m for m, _, _ in CASES}, key=lambda m: m.__name__))
def test_table_covers_every_public_function(module):
    short = module.__name__.split(".", 1)[1]
    public = {
        n
        for n, f in inspect.getmembers(module, inspect.isfunction)
        if not n.startswith("_") and f.__module__ == module.__name__
    }
    listed = {n for m, n, _ in CASES if m is module} | OTHER_RETURNS.get(short, set())
    assert public == listed, f"{short}: not in the table {sorted(public - listed)}; gone {sorted(listed - public)}"


def test_public_functions_still_trace_under_jit():
    """A public function returns NumPy when called eagerly and stays usable inside ``jit`` (traced through)."""
    f = jax.jit(lambda p: T.hit_at_n(p, 3.0) + H.beta_marginal_gain(1.0, 2.0, 2.0) * p)
    assert isinstance(f(0.3), jax.Array)
    np.testing.assert_allclose(
        np.asarray(f(0.3)), (1 - 0.7**3) + float(H.beta_marginal_gain(1.0, 2.0, 2.0)) * 0.3, rtol=1e-6
    )
