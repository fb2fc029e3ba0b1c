"""allocation under the richer difficulty models of ``passk.mixing`` (``allocate --difficulty``): the grid path with
the Beta family against the closed-form Beta path, an NPMLE allocation through the CLI against exhaustive search,
and the one-line error for an unknown model."""

from __future__ import annotations

import itertools
import json

import jax
import numpy as np
import pandas as pd
import pytest

from scaling_theory.allocation import gains as G
from scaling_theory.allocation.api import allocate, allocate_grid
from scaling_theory.allocation.posteriors import beta_posteriors, mixing_posteriors
from scaling_theory.cli import main
from scaling_theory.passk import mixing


def _counts(seed, groups=2, problems=40):
    rng = np.random.default_rng(seed)
    n = rng.integers(4, 30, (groups, problems)).astype(float)
    c = rng.binomial(n.astype(int), rng.beta(0.4, 3.0, (groups, problems))).astype(float)
    return n, c


def test_grid_path_with_the_beta_family_agrees_with_the_closed_form_beta_path():
    n, c = _counts(3)
    grid = mixing_posteriors(n, c, family="beta")  # passk.mixing's discretised Beta law on its logit grid
    closed = beta_posteriors(n, c)
    tg = G.gain_table(grid, "coverage", max_extra=64, pilot_c=c)
    tb = G.gain_table(closed, "coverage", max_extra=64, pilot_c=c)
    # The grid replaces ∫ θ^a (1−θ)^b dG by cell masses at logit-spaced nodes (step h = 0.128): a midpoint rule
    # in logit θ, relative error ≈ h²/24 · (d/dz log integrand)² with the log-slope ≤ a few units here, < h²/8.
    h = 0.128
    live = tb.gains > 0
    np.testing.assert_array_equal(tg.gains > 0, live)
    assert np.max(np.abs(tg.gains[live] / tb.gains[live] - 1)) < h**2 / 8
    budgets = [0, 5, 20, 100, 400]
    beta_plan = allocate(jax.random.key(0), n, c, budgets)  # the default difficulty model: closed-form Beta posteriors
    grid_plan = allocate_grid(jax.random.key(0), grid.theta, grid.log_post, budgets, pilot_c=c)
    np.testing.assert_array_equal(grid_plan.extra, beta_plan.extra)
    np.testing.assert_allclose(grid_plan.expected_coverage, beta_plan.expected_coverage, rtol=h**2 / 8)


@pytest.fixture()
def tiny_csv(tmp_path):
    df = pd.DataFrame({"problem": list("abcdef"), "n": [6, 10, 8, 12, 20, 16], "k": [0, 0, 1, 0, 7, 2]})
    p = tmp_path / "tiny.csv"
    df.to_csv(p, index=False)
    return p, df


def test_npmle_allocation_through_the_cli_equals_exhaustive_search(tiny_csv, capsys):
    p, df = tiny_csv
    budgets = list(range(0, 8))
    argv = ["allocate", str(p), "--difficulty", "npmle", "--json", "--budget", *map(str, budgets)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["budget"] for o in out] == budgets
    # Independent route: the NPMLE posterior from passk.mixing, S_i(m) = Σ_j w_ij (1 − θ_j)^m in NumPy, and every
    # allocation of at most 7 extra attempts over the 3 unsolved problems (solved ones gain nothing).
    n, c = df["n"].to_numpy(float)[None], df["k"].to_numpy(float)[None]
    fit = mixing.fit_mixing(n, c, family="npmle")
    theta, log_post = mixing.posterior_grid(fit, n, c, None)
    w = np.exp(log_post[0])  # (K, J)
    surv = w @ (1.0 - theta[:, None]) ** np.arange(8)[None, :]  # (K, m = 0..7)
    solved = c[0] > 0
    K = len(df)

    def coverage(extra):
        return np.mean([1.0 if solved[i] else 1.0 - surv[i, extra[i]] for i in range(K)])

    open_ = np.flatnonzero(~solved)
    combos = []
    for sub in itertools.product(range(8), repeat=open_.size):
        e = np.zeros(K, np.int64)
        e[open_] = sub
        combos.append(e)
    prev_extra, prev_value, prev_gain = None, None, np.inf
    for obj, budget in zip(out, budgets):
        extra = [a["extra"] for a in obj["allocation"]]
        assert [a["problem"] for a in obj["allocation"]] == list("abcdef")
        assert sum(extra) == budget  # every attempt spent (the unsolved problems always gain something)
        best = max(coverage(e) for e in combos if sum(e) <= budget)
        assert obj["expected_coverage"] == pytest.approx(best, abs=1e-12)
        assert coverage(extra) == pytest.approx(best, abs=1e-12)
        if prev_extra is not None:  # greedy allocations are nested and their marginal gains do not increase
            assert all(e >= q for e, q in zip(extra, prev_extra))
            gain = obj["expected_coverage"] - prev_value
            assert 0 < gain <= prev_gain + 1e-15
            prev_gain = gain
        prev_extra, prev_value = extra, obj["expected_coverage"]


def test_unknown_difficulty_model_is_one_line_exit_2(tiny_csv, capsys):
    p, _ = tiny_csv
    assert main(["allocate", str(p), "--budget", "4", "--difficulty", "gaussian"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "difficulty" in err[0] and "npmle" in err[0]
