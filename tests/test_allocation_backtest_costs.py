"""allocation: exact back-test scoring vs direct counting, held-out first-success sampler, cost models vs hand-computed
FLOPs, the shipped Pythia shapes, the frontier vs Chen's estimator, and one-line errors of the commands."""

from __future__ import annotations

import itertools
from math import comb

import jax
import numpy as np
import pandas as pd
import pytest

from scaling_theory.allocation import backtest as bt
from scaling_theory.allocation import costs
from scaling_theory.allocation.frontier import frontier
from scaling_theory.cli import main
from scaling_theory.stats import subsample
from tests._stats import assert_within_se


@pytest.mark.parametrize("n,c,n0", [(7, 3, 2), (8, 1, 3), (6, 4, 1)])
def test_heldout_scoring_equals_direct_counting(n, c, n0):
    attempts = [1] * c + [0] * (n - c)
    for k0 in range(0, min(c, n0) + 1):
        for m in range(0, n - n0 + 1):
            hits = total = 0
            for pilot in itertools.combinations(range(n), n0):
                if sum(attempts[i] for i in pilot) != k0:
                    continue
                rest = [i for i in range(n) if i not in pilot]
                for extra in itertools.combinations(rest, m):
                    total += 1
                    hits += any(attempts[i] for i in extra)
            if total:
                got = bt.heldout_hit_probability(n, c, n0, k0, m)
                assert float(got) == pytest.approx(hits / total, abs=1e-12)


def test_heldout_first_success_distribution():
    # N = 30 held out with s = 3 successes: P(T ≤ t) = 1 − C(27, t)/C(30, t)
    draws = 20_000
    T = bt.heldout_first_success(jax.random.key(3), np.full(draws, 40.0), np.full(draws, 5.0), 10, np.full(draws, 2.0))
    for t in (1, 3, 8, 15):
        exact = 1 - comb(27, t) / comb(30, t)
        assert_within_se(exact=exact, samples=(T <= t).astype(float), z=4.5, what=f"P(T ≤ {t})")
    assert np.all(T <= 28) and np.all(T >= 1)
    none = bt.heldout_first_success(jax.random.key(0), np.array([20.0]), np.array([2.0]), 5, np.array([2.0]))
    assert np.isinf(none[0])


def test_backtest_uniform_matches_direct_formula_and_policy_beats_uniform():
    rng = np.random.default_rng(0)
    theta = rng.beta(0.3, 3.0, 60)
    n = np.full(60, 400.0)
    k = rng.binomial(400, theta).astype(float)
    res = bt.backtest(jax.random.key(0), n, k, 8, [4, 16], repeats=2, policies_=("uniform", "lagrangian"), bootstrap=50)
    k0 = subsample(jax.random.key(0), n, k, 8, 2)
    for j, b in enumerate([4, 16]):
        direct = np.mean(
            [
                np.mean(
                    np.where(
                        k0[r] > 0,
                        1.0,
                        1 - np.array([comb(int(400 - 8 - (k[i] - k0[r, i])), b) / comb(392, b) for i in range(60)]),
                    )
                )
                for r in range(2)
            ]
        )
        assert res.realised["uniform"][:, 0, j].mean() == pytest.approx(direct, abs=1e-10)
        assert res.multiplier["uniform"][0, j] == pytest.approx(1.0, abs=1e-9)
    assert np.all(res.realised["lagrangian"].mean(0) >= res.realised["uniform"].mean(0) - 1e-3)


def test_pythia_shapes_table_is_consistent_with_the_gpt_neox_parameter_count():
    s = costs.pythia_shapes()
    L, d = s["layers"].to_numpy(np.int64), s["d_model"].to_numpy(np.int64)
    # GPT-NeoX block: QKV 3d²+3d, out d²+d, MLP 8d²+5d, two LayerNorms 4d; final LayerNorm 2d
    np.testing.assert_array_equal(s["params_nonembedding"].to_numpy(np.int64), L * (12 * d * d + 13 * d) + 2 * d)
    np.testing.assert_array_equal(s["heads"] * s["d_head"], s["d_model"])
    np.testing.assert_array_equal(s["params_total"] - s["params_nonembedding"], 2 * s["vocab"] * s["d_model"])
    assert s.loc["70M", "params_nonembedding"] == 18_915_328  # Pythia paper, Table 1


def test_cost_models_against_hand_computed_flops_for_pythia_70m():
    row = costs.pythia_shapes().loc["70M"].to_dict()
    # matmul parameters: 18,915,328 non-embedding + 512 × 50,304 unembedding = 44,670,976
    dense = costs.dense_flops(row, 512, 256)
    assert dense.per_sample == 2 * 44_670_976 * 256 == 22_871_539_712
    assert dense(3) == 3 * 22_871_539_712
    # + Kaplan attention: 2 · 6 layers · 512 · (512·256 + 256·257/2)
    att = costs.dense_flops(row, 512, 256, attention=True)
    assert att.per_sample == 22_871_539_712 + 2 * 6 * 512 * (512 * 256 + 256 * 257 // 2)
    # Kinetics: compute 2P·L_out + 2(2·512 + 256)·256·8 heads·(64·6); memory I·2·256²·8·384 per sample,
    # I·2·2·512·256·8·384 shared by the samples of a problem, I = 562.5
    kin = costs.kinetics_eflops(row, 512, 256)
    comp = 22_871_539_712 + 2 * 1280 * 256 * 8 * 384
    assert kin.per_sample == pytest.approx(comp + 562.5 * 2 * 256 * 256 * 8 * 384, rel=1e-15)
    assert kin.shared == pytest.approx(562.5 * 4 * 512 * 256 * 8 * 384, rel=1e-15)
    assert kin.samples_within(kin(7)) == 7 and kin.samples_within(kin(7) - 1) == 6
    assert costs.pythia_size("Pythia_1.4B_200B") == "1.4B" and costs.pythia_size("Pythia 12B") == "12B"


def test_frontier_coverage_is_chen_within_the_logs():
    rng = np.random.default_rng(1)
    K = 50
    n = np.full((2, K), 100.0)
    k = np.stack([rng.binomial(100, rng.beta(0.3, 3, K)), rng.binomial(100, rng.beta(1.0, 2, K))]).astype(float)
    cost = np.stack([np.full(K, 1.0), np.full(K, 4.0)])
    fr = frontier(
        jax.random.key(0), n, k, None, ["small", "big"], [8.0, 40.0, 400.0], cost_per_attempt=cost, bootstrap=100
    )
    for j, per in enumerate([1.0, 4.0]):
        for c, C in enumerate([8.0, 40.0, 400.0]):
            m = int(C // per)
            chen = np.mean([1 - comb(int(100 - kk), m) / comb(100, m) if m <= 100 else np.nan for kk in k[j]])
            if m <= 100:
                assert fr.coverage[j, c] == pytest.approx(chen, abs=1e-12)
    for c in range(3):
        j = fr.best[c]
        assert fr.coverage[j, c] == np.nanmax(fr.coverage[:, c])
        assert fr.lower[c] <= fr.coverage[j, c] <= fr.upper[c]


@pytest.fixture()
def counts_csv(tmp_path):
    df = pd.DataFrame(
        {
            "model": ["a"] * 4 + ["b"] * 4,
            "problem": [1, 2, 3, 4] * 2,
            "n": [20] * 8,
            "k": [0, 1, 5, 0, 2, 0, 9, 1],
            "cost": [1.0, 2, 1, 1, 3, 3, 3, 3],
        }
    )
    p = tmp_path / "c.csv"
    df.to_csv(p, index=False)
    return p, df


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["allocate", "{p}", "--budget", "-3"], "budget"),
        (["allocate", "{p}", "--budget", "10", "--pilot", "20"], "pilot"),
        (["allocate", "{z}", "--budget", "10", "--cost-column", "cost"], "cost"),
        (["frontier", "{one}", "--model-column", "model", "--cost-column", "cost"], "two models"),
    ],
)
def test_bad_input_one_line_exit_2(counts_csv, tmp_path, capsys, argv, needle):
    p, df = counts_csv
    z = tmp_path / "z.csv"
    df.assign(cost=[1.0, 0.0, 1, 1, 1, 1, 1, 1]).to_csv(z, index=False)
    one = tmp_path / "one.csv"
    df[df.model == "a"].to_csv(one, index=False)
    args = [a.format(p=p, z=z, one=one) for a in argv]
    assert main(args + ["--group-by", "model"] if args[0] == "allocate" else args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and needle in err[0]


def test_allocate_json_shape(counts_csv, capsys):
    import json

    p, _ = counts_csv
    assert main(["allocate", str(p), "--group-by", "model", "--budget", "6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out) == 2
    obj = out[0]
    assert set(obj) >= {"group", "budget", "policy", "expected_coverage", "uniform_expected_coverage", "allocation"}
    alloc = obj["allocation"]
    assert {a["problem"] for a in alloc} == {1, 2, 3, 4}
    assert sum(a["extra"] for a in alloc) <= 6
    solved = [a for a in alloc if a["pilot_k"] > 0]
    assert all(a["extra"] == 0 for a in solved)  # coverage: solved problems get nothing under greedy
    assert obj["expected_coverage"] >= obj["uniform_expected_coverage"]
