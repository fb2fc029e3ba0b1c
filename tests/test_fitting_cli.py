"""``scaling-theory fit``: JSON schema and values, text output, groups, and one-line errors (exit 2)."""

from __future__ import annotations

import json

import jax
import numpy as np
import pandas as pd
import pytest

from scaling_theory.cli import main
from scaling_theory.fitting import bootstrap, fit
from tests._stats import assert_within_se

X = np.logspace(0.0, 4.0, 30)


@pytest.fixture(scope="module")
def curve(tmp_path_factory):
    rng = np.random.default_rng(0)
    y = 3.0 * X**-0.4 * np.exp(0.05 * rng.standard_normal(X.size))
    path = tmp_path_factory.mktemp("fit") / "runs.csv"
    pd.DataFrame({"compute": X, "acc_loss": y}).to_csv(path, index=False)
    return path, y


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    rng = np.random.default_rng(1)
    y = {m: c * X**-b * np.exp(0.05 * rng.standard_normal(X.size)) for m, c, b in (("a", 3.0, 0.4), ("b", 5.0, 0.3))}
    path = tmp_path_factory.mktemp("fit") / "grouped.csv"
    rows = [{"model": m, "compute": x, "acc_loss": v} for m in ("a", "b") for x, v in zip(X, y[m])]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path, y


def run(capsys, *argv):
    code = main(["fit", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_schema_and_values(curve, capsys):
    path, y = curve
    code, out, err = run(
        capsys, path, "--law", "power_law", "--x", "x=compute", "--y", "acc_loss", "--loss", "mse", "--json"
    )
    assert code == 0 and err == ""
    got = json.loads(out)
    assert list(got) == ["law", "params", "loss", "n_points", "n_starts"]
    ref = fit("power_law", {"x": X}, y, loss="mse")
    assert got["law"] == "power_law" and got["n_points"] == 30 and got["n_starts"] == ref.n_starts
    assert got["params"] == pytest.approx(ref.params, rel=1e-9)
    assert got["loss"] == pytest.approx(ref.objective, rel=1e-9)


def test_bootstrap_intervals_in_json(curve, capsys):
    path, y = curve
    code, out, _ = run(
        capsys,
        path,
        "--law",
        "power_law",
        "--x",
        "compute",
        "--y",
        "acc_loss",
        "--loss",
        "mse",
        "--bootstrap",
        "40",
        "--seed",
        "3",
        "--level",
        "0.9",
        "--json",
    )
    assert code == 0
    got = json.loads(out)
    assert list(got) == ["law", "params", "intervals", "loss", "n_points", "n_starts"]
    ref = bootstrap(jax.random.key(3), fit("power_law", {"x": X}, y, loss="mse"), 40).intervals(0.9)
    for k in ("a", "b"):
        lo, hi = got["intervals"][k]
        assert lo < got["params"][k] < hi
        assert [lo, hi] == pytest.approx(list(ref.bounds(k)), rel=1e-9)


def test_group_by_gives_one_object_per_group(grouped, capsys):
    path, y = grouped
    code, out, _ = run(
        capsys,
        path,
        "--law",
        "power_law",
        "--x",
        "x=compute",
        "--y",
        "acc_loss",
        "--loss",
        "mse",
        "--group-by",
        "model",
        "--json",
    )
    assert code == 0
    got = json.loads(out)
    assert [g["group"] for g in got] == [{"model": "a"}, {"model": "b"}]
    for g in got:
        assert g["n_points"] == 30
        ref = fit("power_law", {"x": X}, y[g["group"]["model"]], loss="mse")
        assert g["params"] == pytest.approx(ref.params, rel=1e-7)


def test_text_output_and_magnitude_suffixes(tmp_path, capsys):
    n = np.round(np.logspace(7.5, 10.5, 30), -6)  # 32M … 32B parameters, written as "32M", "1.2B", …
    sizes = [f"{v / 1e9:g}B" if v >= 1e9 else f"{v / 1e6:g}M" for v in n]
    path = tmp_path / "sizes.csv"
    pd.DataFrame({"params": sizes, "loss": 2.0 + 400.0 * n**-0.3}).to_csv(path, index=False)
    code, out, _ = run(capsys, path, "--law", "offset_power_law", "--x", "x=params", "--y", "loss", "--loss", "mse")
    assert code == 0
    assert "law offset_power_law: y = E + a * x^(-b)" in out
    assert "near-best spread" in out and "starts reached it" in out
    rows = {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line[:2] in ("E ", "a ", "b ")}
    assert rows["b"] == pytest.approx(0.3, rel=1e-4) and rows["E"] == pytest.approx(2.0, rel=1e-4)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--law", "power_law", "--x", "x=flops", "--y", "acc_loss"], "missing column 'flops'"),
        (["--law", "power_law", "--x", "x=compute", "--y", "nope"], "missing column 'nope'"),
        (["--law", "kaplan", "--x", "x=compute", "--y", "acc_loss"], "unknown law 'kaplan'"),
        (["--law", "chinchilla", "--x", "N=compute", "--y", "acc_loss"], "needs --x D=COLUMN"),
        (["--law", "chinchilla", "--x", "compute", "--y", "acc_loss"], "expected NAME=COLUMN"),
        (["--law", "power_law", "--x", "N=compute", "--y", "acc_loss"], "has no x variable 'N'"),
        (["--law", "power_law", "--x", "x=compute", "--y", "acc_loss", "--starts", "many"], "--starts must be"),
        (["--law", "power_law", "--x", "x=compute", "--y", "acc_loss", "--delta", "-1"], "delta must be a positive"),
        (["--law", "power_law", "--x", "x=compute", "--y", "acc_loss", "--bootstrap", "1"], "--bootstrap must be"),
        (["--law", "power_law", "--x", "x=compute", "--y", "acc_loss", "--level", "2"], r"--level must be in"),
    ],
)
def test_bad_arguments_are_one_line_errors(curve, capsys, argv, message):
    path, _ = curve
    code, out, err = run(capsys, path, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


def test_bad_values_are_one_line_errors(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"x": [1.0, 2.0, -3.0, 4.0], "y": [1.0, 0.5, 0.4, 0.3]}).to_csv(path, index=False)
    code, _, err = run(capsys, path, "--law", "power_law", "--x", "x", "--y", "y")
    assert code == 2 and "row 3 (line 4), column 'x': -3 is not positive" in err and err.count("\n") == 1
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, 0.0, 0.4]}).to_csv(path, index=False)
    code, _, err = run(capsys, path, "--law", "power_law", "--x", "x", "--y", "y")
    assert code == 2 and "column 'y': 0 is not positive" in err
    pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 0.5]}).to_csv(path, index=False)
    code, _, err = run(capsys, path, "--law", "power_law", "--x", "x", "--y", "y")
    assert code == 2 and "needs at least 3 points; got 2" in err
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["1", "abc", "0.4"]}).to_csv(path, index=False)
    code, _, err = run(capsys, path, "--law", "power_law", "--x", "x", "--y", "y")
    assert code == 2 and "column 'y': 'abc' is not a number" in err
    pd.DataFrame({"m": ["a", None, "a"], "x": [1.0, 2.0, 3.0], "y": [1.0, 0.5, 0.4]}).to_csv(path, index=False)
    code, _, err = run(capsys, path, "--law", "power_law", "--x", "x", "--y", "y", "--group-by", "m")
    assert code == 2 and "row 2 (line 3), column 'm': missing value" in err
    code, _, err = run(capsys, tmp_path / "missing.csv", "--law", "power_law", "--x", "x", "--y", "y")
    assert code == 2 and "no such file" in err


# ------------------------------------------------------------------ methods, losses, intervals


@pytest.fixture(scope="module")
def isoflop(tmp_path_factory):
    import jax

    from scaling_theory.fitting.synthetic import BESIROGLU, isoflop_design, simulate_losses

    d = isoflop_design(BESIROGLU, per_budget=9)
    d["loss"] = simulate_losses(BESIROGLU, d["N"], d["D"], 0.02, jax.random.key(0))
    d["w"] = np.sqrt(d["C"] / d["C"].min())  # √compute weights
    d["run"] = np.repeat(np.arange(9), 9)
    path = tmp_path_factory.mktemp("fit") / "iso.csv"
    pd.DataFrame(d).to_csv(path, index=False)
    return path, d


CHIN = ("--law", "chinchilla", "--x", "N=N", "--x", "D=D", "--y", "loss")


def test_vpnls_weights_and_allocation_in_json(isoflop, capsys):
    from scaling_theory.fitting import compute_optimal
    from scaling_theory.fitting.vpnls import vpnls

    path, d = isoflop
    code, out, err = run(
        capsys,
        path,
        *CHIN,
        "--method",
        "vpnls",
        "--weights",
        "w",
        "--loss",
        "asymmetric",
        "--penalty",
        "5",
        "--compute",
        "1e24",
        "--json",
    )
    assert code == 0 and err == ""
    got = json.loads(out)
    assert got["method"] == "vpnls" and list(got)[-1] == "allocation"
    ref = vpnls("chinchilla", {"N": d["N"], "D": d["D"]}, d["loss"], weights=d["w"], loss="asymmetric", penalty=5.0)
    assert got["params"] == pytest.approx(ref.params, rel=1e-9)
    assert got["allocation"][0]["N*"] == pytest.approx(float(compute_optimal(ref.params, 1e24).N), rel=1e-9)


def test_approach2_in_json(isoflop, capsys):
    from scaling_theory.fitting.approach2 import approach2

    path, d = isoflop
    code, out, _ = run(capsys, path, *CHIN, "--method", "approach2", "--budget", "C", "--json")
    assert code == 0
    got = json.loads(out)
    ref = approach2(d["N"], d["C"], d["loss"])
    assert got["a"] == pytest.approx(ref.a, rel=1e-12) and got["N_opt"] == pytest.approx(list(ref.n_opt), rel=1e-12)


def test_t_and_block_intervals_in_json(curve, isoflop, capsys):
    from scaling_theory.fitting.intervals import block_bootstrap, t_intervals
    from scaling_theory.fitting.vpnls import vpnls

    path, y = curve
    code, out, _ = run(
        capsys,
        path,
        "--law",
        "power_law",
        "--x",
        "compute",
        "--y",
        "acc_loss",
        "--loss",
        "mse",
        "--interval",
        "t",
        "--level",
        "0.9",
        "--json",
    )
    got = json.loads(out)
    assert code == 0 and got["interval"] == "t"
    res = fit("power_law", {"x": X}, y, loss="mse")
    exact = t_intervals(res, 0.9)
    # percentiles of 4,000 draws: SE of an empirical p-quantile = sqrt(p(1 − p)/4000)·dq/dp, the slope dq/dp
    # of the exact quantile function from t_intervals at the levels 0.9 ∓ 2h (p = 0.05 ± h, 0.95 ∓ h)
    h = 0.005
    wide, narrow = t_intervals(res, 0.9 + 2 * h), t_intervals(res, 0.9 - 2 * h)
    for k in ("a", "b"):
        slope = np.array([narrow.bounds(k)[0] - wide.bounds(k)[0], wide.bounds(k)[1] - narrow.bounds(k)[1]]) / (2 * h)
        q_se = np.sqrt(0.05 * 0.95 / 4000) * slope
        assert_within_se(got["intervals"][k], exact.bounds(k), q_se, what=f"t interval of {k} from 4,000 draws")
    path, d = isoflop
    code, out, _ = run(
        capsys, path, *CHIN, "--method", "vpnls", "--interval", "block", "--runs", "run", "--bootstrap", "20", "--json"
    )
    got = json.loads(out)
    ref = block_bootstrap(
        jax.random.key(0), vpnls("chinchilla", {"N": d["N"], "D": d["D"]}, d["loss"]), d["run"], 20
    ).intervals(0.95)
    assert got["interval"] == "block" and got["intervals"]["alpha"] == pytest.approx(
        list(ref.bounds("alpha")), rel=1e-6
    )


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--interval", "block"], "--interval block needs --runs"),
        (["--compute", "1e24"], "--compute needs --law chinchilla"),
        (["--method", "approach2"], "--method approach2 needs --law chinchilla"),
        (["--method", "vpnls", "--law", "exp_power_law"], "linear in its scales"),
        (["--weights", "nope"], "missing column 'nope'"),
        (["--loss", "asymmetric", "--penalty", "0"], "--penalty must be positive"),
    ],
)
def test_new_flags_bad_arguments_are_one_line_errors(curve, capsys, argv, message):
    path, _ = curve
    law = [] if "--law" in argv else ["--law", "power_law"]
    code, out, err = run(capsys, path, *law, "--x", "x=compute", "--y", "acc_loss", *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err
