"""auto (passk.auto), tail-aware extrapolation (passk.tail), stopped logs and degenerate groups.

Expected values come from closed forms (power laws, geometric stopping times, the exp-bound), simulations
with known θ_i (truth computed from the θ_i, not by the code under test) and Monte Carlo tolerances from a
standard error computed here.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scaling_theory.numerics import x64
from scaling_theory.passk import tail
from scaling_theory.passk.auto import predict_auto
from scaling_theory.passk.backtesting import prefix, stopped_curve
from scaling_theory.passk.degenerate import bound_prediction, degenerate_flags
from scaling_theory.passk.simulate import finite_truth, simulate_counts
from scaling_theory.stats import subsample

BETA_FAMILY = {"eb", "eb_zi", "anchored", "tail_eb", "plugin"}
TAIL_FAMILY = {"tail_power", "tail_hughes", "fit", "tail_eb"}


# ----------------------------------------------------------------------------------------- tail


@x64
def test_curve_extrapolate_exact_on_power_laws():
    """An exact survival power law C·m^(−a) (resp. −log pass = A·m^(−b)) is continued exactly."""
    grid = np.round(np.geomspace(10, 100, 12))
    budgets = np.array([1000.0, 10_000.0])
    s = 0.7 * grid**-0.4
    pred, rate = tail.curve_extrapolate(jnp.asarray(1 - s), jnp.asarray(grid), jnp.asarray(budgets), "power")
    np.testing.assert_allclose(rate, 0.4, rtol=1e-10)
    np.testing.assert_allclose(pred, 1 - 0.7 * budgets**-0.4, rtol=1e-10)
    lg = 3.0 * grid**-0.6
    pred, rate = tail.curve_extrapolate(jnp.asarray(np.exp(-lg)), jnp.asarray(grid), jnp.asarray(budgets), "hughes")
    np.testing.assert_allclose(rate, 0.6, rtol=1e-10)
    np.testing.assert_allclose(pred, np.exp(-3.0 * budgets**-0.6), rtol=1e-10)


# ------------------------------------------------------------------------------------- stopped


def _stopped_log(seed, k_problems, cap, a=0.3, b=30.0):
    """θ_i ~ Beta(a, b); t_i = first success (geometric), stored as (t_i, 1) if t_i ≤ cap else (cap, 0)."""
    rng = np.random.default_rng(seed)
    theta = rng.beta(a, b, k_problems)
    t = rng.geometric(np.maximum(theta, 1e-300))
    solved = t <= cap
    return theta, np.where(solved, t, cap).astype(float), solved.astype(float)


def test_stopped_prefix_unbiased_hypergeometric_biased():
    """Observed coverage after m attempts: the prefix is unbiased for mean_i 1 − (1−θ_i)^m, a hypergeometric
    draw from the stopped rows (Chen's formula) is biased upwards (spec §3)."""
    theta, n, k = _stopped_log(0, 20_000, cap=1000)
    m = 50
    expected = np.mean(1 - (1 - theta) ** m)
    n_p, k_p = prefix(n, k, m)
    prefix_cov = k_p.mean()
    se = np.sqrt(expected * (1 - expected) / theta.size)
    assert abs(prefix_cov - expected) < 4 * se
    hyper = subsample(jax.random.key(1), n, k, np.minimum(m, n), 1)[0].mean()
    assert hyper - expected > 10 * se  # m/t_i overstates: E[1/t] > θ
    # the exact stopped curve equals the prefix coverage at m, and is 1(t ≤ m) averaged
    np.testing.assert_allclose(stopped_curve(n[None], k[None], np.ones((1, n.size)), [m])[0, 0], prefix_cov)


def test_stopped_backtest_and_predictors_unbiased_on_known_theta():
    """Stopped-log eb (continued campaign) from the first 100 attempts predicts pass@1000 of the same problems."""
    from scaling_theory.passk.predictors import predict

    theta, n, k = _stopped_log(2, 4000, cap=1000)
    n_p, k_p = prefix(n, k, 100)
    p = predict(jax.random.key(0), n_p, k_p, [1000.0], "eb", stopped=True)
    truth = np.mean(1 - (1 - theta) ** 1000)
    se = np.sqrt(truth * (1 - truth) / theta.size)
    assert abs(float(p.asr[0]) - truth) < 5 * se + 0.01
    # The exact curve below the cap: 1(t_i ≤ 50) averaged (Chen's formula would give min(1, 50/t_i)).
    exact = predict(jax.random.key(0), n_p, k_p, [50.0], "combinatorial", stopped=True)
    assert float(exact.asr[0]) == pytest.approx(np.mean((k_p > 0) & (n_p <= 50)))


# ----------------------------------------------------------------------------------- degenerate


def test_bound_prediction_closed_form():
    n = np.full((2, 50), 8.0)
    k = np.zeros((2, 50))
    k[1] = 8.0
    m = np.ones((2, 50))
    flags = degenerate_flags(n, k, m)
    assert list(flags) == ["no_success", "all_success"]
    asr, lo, hi = bound_prediction(n, k, m, [10.0, 1000.0], level=0.9)
    eps = np.log(10.0) / (8 * 50)  # P(no success) ≤ exp(−n K θ̄) = 0.1
    np.testing.assert_allclose(hi[0], np.minimum(1.0, np.array([10.0, 1000.0]) * eps))
    np.testing.assert_allclose(asr[0], 0.0)
    np.testing.assert_allclose(lo[1], 1 - eps)


def test_bound_is_valid_by_simulation():
    """The no-success bound holds: when θ̄ > bound, a zero-success table is rarer than 1 − level."""
    rng = np.random.default_rng(3)
    n_att, kk = 8, 50
    eps = np.log(10.0) / (n_att * kk)
    theta = rng.dirichlet(np.ones(kk) * 0.2, 20_000) * kk * eps * 1.05  # mean θ just above the bound, skewed
    theta = np.clip(theta, 0, 1)
    p0 = np.exp(np.sum(n_att * np.log1p(-theta), axis=1))  # P(no success)
    assert p0.max() <= 0.1 + 1e-12


def test_cli_degenerate_group_does_not_abort(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["problem,n,k,model"]
    for name, a, b in (("A", 0.3, 3.0), ("B", 0.5, 2.0)):
        kk = rng.binomial(64, rng.beta(a, b, 60))
        rows += [f"{i},64,{kk[i]},{name}" for i in range(60)]
    rows += [f"{i},8,0,C" for i in range(60)]
    path = tmp_path / "counts.csv"
    path.write_text("\n".join(rows) + "\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "scaling_theory.cli",
            "passk",
            "predict",
            str(path),
            "--group-by",
            "model",
            "--budget",
            "640",
            "--method",
            "eb",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    by = {r["group"]["model"]: r for r in res}
    assert by["C"]["flag"] == "no_success" and by["C"]["method"] == "bound"
    assert by["C"]["upper"] == pytest.approx(min(1.0, 640 * np.log(10.0) / (8 * 60)))
    assert by["A"]["flag"] == "" and 0 < by["A"]["asr"] < 1 and by["A"]["method"] == "eb"
    warnings = [line for line in out.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "model=C" in warnings[0]


def test_cli_detects_stopped_attempts_table(tmp_path):
    from scaling_theory.io import read_table
    from scaling_theory.passk.grouping import detect_stopped

    rows = ["problem,attempt,correct"]
    for p, t in enumerate([3, 10, 10, 1]):  # problems 1 and 2 never solved within the cap of 10
        solved = p in (0, 3)
        rows += [f"{p},{a},{int(solved and a == t - 1)}" for a in range(t)]
    path = tmp_path / "att.csv"
    path.write_text("\n".join(rows) + "\n")
    assert detect_stopped(read_table(path))
    fixed = ["problem,attempt,correct"] + [f"{p},{a},{int(a in (2, 5))}" for p in range(3) for a in range(10)]
    path2 = tmp_path / "fixed.csv"
    path2.write_text("\n".join(fixed) + "\n")
    assert not detect_stopped(read_table(path2))


# ----------------------------------------------------------------------------------------- auto


@pytest.fixture(scope="module")
def beta_groups():
    """16 groups of K = 128 problems from Beta laws, n = 64 observed, truth at N = 640 from the θ_i."""
    rng = np.random.default_rng(11)
    alpha = rng.uniform(0.2, 0.8, 16)
    beta = rng.uniform(2.0, 20.0, 16)
    sim = simulate_counts(jax.random.key(12), alpha, beta, 128, 64)
    pred = predict_auto(jax.random.key(1), 64.0, sim.k, [640.0])
    truth = finite_truth(sim.log1m_theta, [640.0])
    return sim, pred, truth


@pytest.mark.xfail(
    strict=True,
    reason="issue 10 open: on Beta-law data auto's stack puts less than 3/4 of its weight on the Beta-law "
    "candidates (tail_hughes is as good internally from 64 attempts)",
)
def test_auto_prefers_beta_family_on_beta_data(beta_groups):
    _, pred, _ = beta_groups
    cands = list(pred.extra["candidates"])
    beta_cols = [i for i, c in enumerate(cands) if c in BETA_FAMILY]
    share = pred.extra["weights"][:, beta_cols, 0].sum(axis=1).mean()  # weight on Beta-law candidates
    # 2 of the 4 default candidates (eb, tail_eb) are Beta-law based; equal weights would give 1/2.
    assert share >= 0.75, (cands, pred.extra["weights"][:, :, 0])


def test_auto_interval_coverage_on_simulated_data(beta_groups):
    _, pred, truth = beta_groups
    cover = (pred.lower[:, 0] <= truth[:, 0]) & (truth[:, 0] <= pred.upper[:, 0])
    se = np.sqrt(0.9 * 0.1 / cover.size)
    assert cover.mean() >= 0.9 - 3 * se, cover


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue 10 open: auto weights the tail methods here (first assertion holds) but "
    "its error exceeds eb's — the internal test misjudges the tail",
)
def test_auto_prefers_tail_methods_on_a_two_population_tail():
    """Easy problems plus a heavy, non-Beta population of very hard ones (θ log-uniform on [1e-5, 1e-2]):
    the Beta law misjudges the tail, the local curve does not; auto must pick a tail method and beat eb."""
    rng = np.random.default_rng(5)
    g, kk, n = 8, 128, 64
    hard = rng.random((g, kk)) < 0.6
    theta = np.where(hard, 10 ** rng.uniform(-5, -2, (g, kk)), rng.beta(2.0, 2.0, (g, kk)))
    k = rng.binomial(n, theta).astype(float)
    budget = 640.0
    truth = np.mean(1 - (1 - theta) ** budget, axis=1)
    pred = predict_auto(jax.random.key(2), float(n), k, [budget])
    from scaling_theory.passk.predictors import predict

    eb = predict(jax.random.key(0), float(n), k, [budget], "eb")
    cands = list(pred.extra["candidates"])
    tail_cols = [i for i, c in enumerate(cands) if c in TAIL_FAMILY]
    assert pred.extra["weights"][:, tail_cols, 0].sum(axis=1).mean() >= 0.5, pred.extra["weights"][:, :, 0]
    assert np.mean(np.abs(pred.asr[:, 0] - truth)) < np.mean(np.abs(eb.asr[:, 0] - truth))


def test_auto_weights_hand_computed():
    """The combination rules on internal MAEs with known values (hand computations)."""
    from scaling_theory.passk.auto import TOP2_TIE, _weights

    assert TOP2_TIE == 0.25
    ok = np.array([[True, True, False], [True, True, True]])
    err = np.array([[1.0, 2.0, 0.1], [2.0, 3.0, 1.0]])  # the 0.1 could not run: weight 0
    np.testing.assert_allclose(_weights(err, ok, "select", "group"), [[1, 0, 0], [0, 0, 1]])
    # 1/MAE²: (1, 1/4) → (4/5, 1/5); (1/4, 1/9, 1) / (49/36) = (9/49, 4/49, 36/49)
    np.testing.assert_allclose(_weights(err, ok, "stack", "group"), [[0.8, 0.2, 0], [9 / 49, 4 / 49, 36 / 49]])
    # top2: 2.4 ≤ 1.25 × 2 → the two best averaged; 2 > 1.25 × 1 → the best alone
    err2 = np.array([[2.0, 2.4, 9.0], [2.0, 3.0, 1.0]])
    np.testing.assert_allclose(_weights(err2, np.ones((2, 3), bool), "top2", "group"), [[0.5, 0.5, 0], [0, 0, 1]])
    # pool="all": sums (4, 6) for both groups → 1/16 : 1/36 = 9/13 : 4/13
    err3 = np.array([[1.0, 4.0], [3.0, 2.0]])
    np.testing.assert_allclose(_weights(err3, np.ones((2, 2), bool), "stack", "all"), [[9 / 13, 4 / 13]] * 2)
    np.testing.assert_allclose(_weights(err3, np.ones((2, 2), bool), "select", "all"), [[1, 0]] * 2)


def test_auto_stack_is_the_weighted_mean_of_the_candidates(beta_groups):
    """mode="stack": the reported weights are ∝ 1/(reported internal MAE)², and the estimate is exactly the
    weighted mean of each candidate's own prediction from all the data (computed here by `predict`)."""
    from scaling_theory.passk.predictors import predict

    sim = beta_groups[0]
    key = jax.random.key(1)
    pred = predict_auto(key, 64.0, sim.k, [640.0], mode="stack")
    w, mae = pred.extra["weights"][:, :, 0], pred.extra["internal_mae"][:, :, 0]
    cands = pred.extra["candidates"]
    inv = np.where(np.isfinite(mae), 1.0 / mae**2, 0.0)
    np.testing.assert_allclose(w, inv / inv.sum(axis=1, keepdims=True), rtol=1e-12)
    used = [ci for ci in range(len(cands)) if w[:, ci].max() > 0]  # fit needs ≥ 7 kept attempts (m = 4 here)
    assert len(used) >= 2
    single = np.stack([np.asarray(predict(key, 64.0, sim.k, [640.0], cands[ci]).asr)[:, 0] for ci in used], axis=1)
    np.testing.assert_allclose(pred.asr[:, 0], np.sum(w[:, used] * single, axis=1), rtol=1e-9, atol=1e-12)


def test_auto_rejects_unknown_mode():
    from scaling_theory.errors import InputError

    with pytest.raises(InputError, match="mode"):
        predict_auto(jax.random.key(0), 8.0, np.ones((1, 20)), [80.0], mode="median")


def test_auto_threads_give_the_sequential_result(beta_groups, monkeypatch):
    """Candidates run on threads (auto.WORKERS, 2 by default, as in the fixture): one thread gives the same
    result bit for bit (same keys, each result matched to its candidate)."""
    import scaling_theory.passk.auto as auto

    assert auto.WORKERS == 2
    sim, two, _ = beta_groups
    monkeypatch.setattr(auto, "WORKERS", 1)
    one = predict_auto(jax.random.key(1), 64.0, sim.k, [640.0])
    for name in ("asr", "lower", "upper"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    for name in ("weights", "internal_mae", "internal_rmse"):
        np.testing.assert_array_equal(one.extra[name], two.extra[name])


def test_auto_runs_in_order_on_one_thread_across_processes(monkeypatch):
    """With several processes (jax.distributed) every process must launch its programs in the same order, so
    the thunks run one after the other on the calling thread; in one process they run on worker threads."""
    import threading

    import scaling_theory.passk.auto as auto

    def thunk(i):
        return i, threading.current_thread() is threading.main_thread()

    tasks = [functools.partial(thunk, i) for i in range(4)]
    assert [i for i, _ in auto._concurrently(tasks)] == [0, 1, 2, 3]
    assert not any(main for _, main in auto._concurrently(tasks))
    monkeypatch.setattr(jax, "process_count", lambda: 2)
    assert auto._concurrently(tasks) == [(0, True), (1, True), (2, True), (3, True)]
