"""``scaling-theory saturation point|fit|verifier|budget``: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from scaling_theory.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


# ------------------------------------------------------------------------------------ point


def test_point_reproduces_the_spec_table(capsys):
    obj = run_json(capsys, "saturation", "point", "--p", "0.1", "0.3", "0.5", "--eps", "0.01")
    assert obj["eps"] == 0.01 and obj["threshold"] == "lt"
    assert [r["n_star"] for r in obj["rows"]] == [22, 10, 6]
    r = obj["rows"][0]
    assert round(r["gain_at_n_star"], 5) == 0.00985 and round(r["gain_before"], 5) == 0.01094
    assert r["F_at_n_star"] == pytest.approx(1 - 0.9**22) and r["headroom"] == pytest.approx(0.9**22)
    code, out, _ = run(capsys, "saturation", "point", "--p", "0.1", "--eps", "0.001")
    assert code == 0 and "44" in out.splitlines()[-1]


def test_point_options(capsys):
    tie = run_json(capsys, "saturation", "point", "--p", "0.5", "--eps", str(2.0**-6), "--threshold", "le")
    assert tie["rows"][0]["n_star"] == 5
    cost = run_json(capsys, "saturation", "point", "--p", "0.1", "--eps", "0.002", "--cost", "5")
    assert cost["rows"][0]["n_star"] == 22
    seq = run_json(capsys, "saturation", "point", "--p", "0.1", "--eps", "0.01", "--p0", "0.5")
    assert seq["rows"][0]["n_star"] == math.ceil(math.log(0.01 / 0.05) / math.log(0.9))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--p", "0.1", "1.5", "--eps", "0.01"], "error: p must be in [0, 1], got 1.5"),
        (["--p", "-0.2", "--eps", "0.01"], "error: p must be in [0, 1], got -0.2"),
        (["--p", "0.1", "--eps", "0"], "error: eps must be a finite number > 0, got 0"),
        (["--p", "0.1", "--eps", "-1"], "error: eps must be a finite number > 0, got -1"),
        (["--p", "0.1", "--eps", "nan"], "error: eps must be a finite number > 0, got nan"),
        (["--p", "0.1", "--eps", "0.01", "--cost", "0"], "error: cost must be a finite number > 0, got 0"),
    ],
)
def test_point_bad_input_is_one_line(capsys, argv, message):
    code, out, err = run(capsys, "saturation", "point", *argv)
    assert code == 2 and out == ""
    assert err.strip() == message and len(err.strip().splitlines()) == 1


def test_usage_errors_exit_2(capsys):
    # argparse usage errors exit through SystemExit(2) with one line (the shared parser's convention)
    for argv, text in [(["--eps", "0.01"], "required: --p"), (["--p", "abc", "--eps", "0.01"], "invalid float value")]:
        with pytest.raises(SystemExit) as exc:
            main(["saturation", "point", *argv])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and text in err and len(err.strip().splitlines()) == 1


# -------------------------------------------------------------------------------------- fit


@pytest.fixture
def counts_csv(tmp_path):
    # two models; model "a" has every problem at p̂ = 0.1 exactly, so its homogeneous N*(ε = 0.01) = 22
    rng = np.random.default_rng(0)
    rows = [{"model": "a", "problem": i, "n": 100, "k": 10} for i in range(30)]
    rows += [
        {"model": "b", "problem": i, "n": 100, "k": int(k)}
        for i, k in enumerate(rng.binomial(100, rng.beta(0.5, 3, 30)))
    ]
    path = tmp_path / "counts.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_fit_counts_json(capsys, counts_csv):
    obj = run_json(capsys, "saturation", "fit", str(counts_csv), "--eps", "0.01", "--group-by", "model")
    assert obj["mode"] == "counts" and obj["eps"] == 0.01
    a, b = obj["groups"]
    assert a["model"] == "a" and b["model"] == "b"
    assert a["problems"] == 30 and a["pass_at_1"] == pytest.approx(0.1)
    assert a["n_star_homogeneous"] == 22 and a["n_star_per_question_median"] == 22
    # identical problems: the data show no overdispersion, the Beta fit is very concentrated and the
    # aggregate point approaches the homogeneous one
    assert abs(a["n_star_aggregate"] - 22) <= 2
    for key in ("alpha", "beta", "n_star_aggregate", "n_star_observed", "unsolved_fraction"):
        assert key in b
    df = pd.read_csv(counts_csv)
    pbar = (df[df.model == "b"].k / 100).mean()
    assert b["n_star_homogeneous"] == math.ceil(math.log(0.01 / pbar) / math.log1p(-pbar))
    assert b["pass_at_1"] == pytest.approx(pbar)


def test_fit_text_output_and_attempts_input(capsys, tmp_path):
    rows = [{"problem": q, "attempt": j, "correct": int(j < 3)} for q in range(4) for j in range(30)]
    path = tmp_path / "attempts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    code, out, err = run(capsys, "saturation", "fit", str(path), "--eps", "0.01")
    assert code == 0, err
    assert "counts log" in out and "n_star_homogeneous" in out


def test_fit_sequential_log(capsys, tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    for q in range(100):
        for c in range(4):
            s = rng.random() < 0.3
            for r in range(6):
                if r:
                    s = (rng.random() >= 0.1) if s else (rng.random() < 0.25)
                rows.append({"problem": q, "attempt": c, "round": r, "correct": int(s)})
    path = tmp_path / "seq.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    obj = run_json(capsys, "saturation", "fit", str(path), "--eps", "0.001")
    assert obj["mode"] == "sequential"
    g = obj["groups"][0]
    assert g["chains"] == 400
    assert abs(g["p_rethink"] - 0.25) <= 4 * math.sqrt(0.25 * 0.75 / g["transitions_from_wrong"])
    assert abs(g["p_flip"] - 0.1) <= 4 * math.sqrt(0.09 / g["transitions_from_correct"])
    assert g["improves"] is True and g["limit"] == pytest.approx(g["p_rethink"] / (g["p_rethink"] + g["p_flip"]))


def test_fit_bad_files_are_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "saturation", "fit", str(tmp_path / "missing.csv"), "--eps", "0.01")
    assert code == 2 and err.startswith("error: ") and "no such file" in err and len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("problem,n,k\n1,10,12\n")
    code, _, err = run(capsys, "saturation", "fit", str(bad), "--eps", "0.01")
    assert code == 2 and "k=12 exceeds n=10" in err
    ok = tmp_path / "ok.csv"
    ok.write_text("problem,n,k\n1,10,2\n2,10,3\n")
    code, _, err = run(capsys, "saturation", "fit", str(ok), "--eps", "-1")
    assert code == 2 and err.strip() == "error: eps must be a finite number > 0, got -1"
    code, _, err = run(capsys, "saturation", "fit", str(ok), "--eps", "0.01", "--group-by", "model")
    assert code == 2 and "missing column 'model'" in err


@pytest.mark.slow
def test_fit_pythia(capsys, pythia_counts_path):
    obj = run_json(capsys, "saturation", "fit", str(pythia_counts_path), "--eps", "0.001", "--group-by", "model")
    assert len(obj["groups"]) == 7
    for g in obj["groups"]:
        assert g["problems"] == 128 and g["samples_per_problem"] == 10000


# --------------------------------------------------------------------------------- verifier


def test_verifier_toy_parameters(capsys):
    base = ["saturation", "verifier", "--r", "0.87", "0.13", "--weights", "0.58", "0.42", "--soundness", "0.75"]
    for cost, k_opt, u_exact, u_code in [("0.7", 3, 0.525, 0.554), ("1", 2, 0.472, 0.488), ("2", 1, 0.339, 0.339)]:
        obj = run_json(capsys, *base, "--fp-cost", cost)
        assert obj["k_opt"] == k_opt and obj["k_opt_code_form"] == k_opt
        assert round(obj["utility_at_k_opt"], 3) == u_exact and round(obj["utility_at_k_opt_code_form"], 3) == u_code
    obj = run_json(capsys, *base, "--fp-cost", "0")
    assert round(obj["ceiling"], 3) == 0.716 and obj["v_fluke"] == 0.0
    assert obj["types"][0]["ceiling"] == pytest.approx(0.87 / (0.87 + 0.25 * 0.13))
    code, out, _ = run(capsys, *base)
    assert code == 0 and "k_opt" in out and "ceiling" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--r", "0.5", "--soundness", "1.2"], "error: soundness must be in [0, 1], got 1.2"),
        (["--r", "0.5", "--soundness", "0.7", "--fp-cost", "-1"], "error: fp-cost must be >= 0 (a cost), got -1"),
        (
            ["--r", "0.5", "0.2", "--soundness", "0.7", "--weights", "0.5", "0.6"],
            "error: weights must sum to 1, got 1.1",
        ),
        (["--r", "0.5", "--soundness", "0.7", "--kmax", "0"], "error: k_max must be an integer >= 1, got 0"),
    ],
)
def test_verifier_bad_input(capsys, argv, message):
    code, out, err = run(capsys, "saturation", "verifier", *argv)
    assert code == 2 and err.strip() == message


# ----------------------------------------------------------------------------------- budget


def test_budget_commands(capsys):
    obj = run_json(capsys, "saturation", "budget", "--p", "0.1", "--target", "0.9")
    assert obj["rows"][0]["n"] == 22
    assert obj["rows"][0]["gain_from_doubling"] == pytest.approx(0.9**22 * (1 - 0.9**22))
    obj = run_json(capsys, "saturation", "budget", "--beta-params", "0.5", "2", "--target", "0.9")
    assert obj["source"] == "beta" and obj["rows"][0]["n"] > 22
    obj = run_json(capsys, "saturation", "budget", "--counts", "3", "30", "--target", "0.9", "--confidence", "0.9")
    assert obj["rows"][0]["n"] > math.ceil(math.log(0.1) / math.log(0.9))  # more than the plug-in p̂ = 0.1 needs
    code, _, err = run(capsys, "saturation", "budget", "--p", "0.1", "--target", "1")
    assert code == 2 and err.strip() == "error: target must be in [0, 1), got 1"
