"""``scaling-theory passk estimate|fit|predict|backtest``: exit codes, one-line errors, JSON shapes and values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scaling_theory.cli import main
from scaling_theory.passk import DEFAULT_METHOD, METHODS, pass_at_k

TOY_K = [3, 5, 0, 2, 8, 1, 4, 0, 6, 2]


@pytest.fixture()
def counts_csv(tmp_path):
    rows = [
        {"model": m, "problem": i, "n": 100, "k": k + (j if k else 0)}
        for j, m in enumerate(("A", "B"))
        for i, k in enumerate(TOY_K)
    ]
    path = tmp_path / "counts.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture()
def attempts_jsonl(tmp_path):
    rng = np.random.default_rng(0)
    rows = [
        {"problem": p, "attempt": a, "correct": int(rng.random() < 0.05 * (p % 4))}
        for p in range(12)
        for a in range(40)
    ]
    path = tmp_path / "attempts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_estimate_json_matches_library(capsys, counts_csv):
    code, out, err = run(
        capsys, "passk", "estimate", str(counts_csv), "--k", "1", "10", "--group-by", "model", "--json"
    )
    assert code == 0 and err == ""
    rows = json.loads(out)
    assert len(rows) == 4 and rows[0]["group"] == {"model": "A"} and rows[0]["k"] == 1
    expect = np.mean(np.asarray(pass_at_k(100, np.array(TOY_K), 10)))
    assert rows[1]["pass_at_k"] == pytest.approx(expect, rel=1e-12)
    assert set(rows[0]) == {"group", "k", "pass_at_k", "plugin", "problems", "n_min"}


def test_fit_json_spec_7c_values(capsys, counts_csv):
    code, out, _ = run(capsys, "passk", "fit", str(counts_csv), "--group-by", "model", "--json")
    assert code == 0
    a = json.loads(out)[0]
    assert a["group"] == {"model": "A"} and a["alpha"] == pytest.approx(2.0152, abs=5e-5)
    assert a["asr_at_n"] == pytest.approx(0.8) and a["problems"] == 10 and a["converged"] is True


def test_predict_json_schema_and_default_method(capsys, counts_csv):
    code, out, _ = run(
        capsys, "passk", "predict", str(counts_csv), "--budget", "1000", "10000", "--group-by", "model", "--json"
    )
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 4
    for r in rows:
        assert set(r) == {
            "group",
            "method",
            "budget",
            "asr",
            "lower",
            "upper",
            "alpha",
            "beta",
            "flag",
            "internal_rmse",
            "weights",
            "internal_mae",
        }
        assert DEFAULT_METHOD == "auto" and r["flag"] == ""
        # auto:<candidate>, or auto:<a>+<b>+... for a stack of candidates
        assert r["method"].split(":")[0] == "auto" and set(r["method"].split(":")[1].split("+")) <= set(METHODS)
        # the stack's weights: the label's candidates are those with weight > 0, the weights sum to 1 and are
        # ∝ 1/MAE² of the reported internal MAEs (recomputed here from the reported numbers)
        w, mae = r["weights"], r["internal_mae"]
        assert set(w) == set(mae) and {c for c, v in w.items() if v > 0} == set(r["method"].split(":")[1].split("+"))
        assert sum(w.values()) == pytest.approx(1.0, abs=1e-12)
        inv = {c: 1.0 / max(mae[c], 1e-6) ** 2 for c in w if mae[c] is not None}
        assert {c: w[c] for c in inv} == pytest.approx({c: v / sum(inv.values()) for c, v in inv.items()}, rel=1e-9)
        assert 0 <= r["lower"] <= r["asr"] <= r["upper"] <= 1
    assert rows[0]["budget"] == 1000 and isinstance(rows[0]["budget"], int)


def test_predict_anchored_value_and_null_params_for_naive(capsys, counts_csv):
    code, out, _ = run(
        capsys,
        "passk",
        "predict",
        str(counts_csv),
        "--budget",
        "1000",
        "--group-by",
        "model",
        "--method",
        "anchored",
        "--json",
    )
    assert code == 0 and json.loads(out)[0]["asr"] == pytest.approx(0.9981, abs=5e-5)
    code, out, _ = run(
        capsys,
        "passk",
        "predict",
        str(counts_csv),
        "--budget",
        "1000",
        "--group-by",
        "model",
        "--method",
        "naive",
        "--json",
    )
    row = json.loads(out)[0]
    assert row["alpha"] is None and row["beta"] is None and row["asr"] == pytest.approx(0.8, abs=5e-5)


def test_attempts_table_and_text_output(capsys, attempts_jsonl):
    code, out, _ = run(capsys, "passk", "predict", str(attempts_jsonl), "--budget", "100", "--method", "anchored")
    assert code == 0 and "anchored" in out and "asr" in out.splitlines()[0]


def test_backtest_json(capsys, tmp_path):
    rng = np.random.default_rng(3)
    theta = rng.beta(0.4, 4.0, 60)
    pd.DataFrame({"problem": range(60), "n": 500, "k": rng.binomial(500, theta)}).to_csv(
        tmp_path / "c.csv", index=False
    )
    code, out, _ = run(
        capsys,
        "passk",
        "backtest",
        str(tmp_path / "c.csv"),
        "--observe",
        "50",
        "--budget",
        "400",
        "--repeats",
        "2",
        "--method",
        "naive",
        "--json",
    )
    assert code == 0
    obj = json.loads(out)
    assert obj["observe"] == 50 and obj["budgets"] == [400] and obj["repeats"] == 2
    row = obj["rows"][0]
    assert (
        row["method"] == "naive"
        and row["group"] == {}
        and row["error"] == pytest.approx(100 * abs(row["truth"] - row["prediction"]))
    )
    assert obj["mae"][0]["mae"] == pytest.approx(row["error"])


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["predict", "{csv}", "--budget", "0"], "budget must be a finite number ≥ 1, got 0"),
        (["predict", "{csv}", "--budget", "1000", "--method", "combinatorial"], "exceeds the smallest n"),
        (["estimate", "{csv}", "--k", "500"], "k=500"),
        (["predict", "{missing}", "--budget", "10"], "no such file"),
        (["backtest", "{csv}", "--observe", "500", "--budget", "10"], "observe must be between"),
        (["predict", "{bad}", "--budget", "10"], "k=7 exceeds n=5"),
    ],
)
def test_bad_input_one_line_exit_2(capsys, tmp_path, counts_csv, argv, fragment):
    bad = tmp_path / "bad.csv"
    bad.write_text("problem,n,k\n1,5,2\n2,5,7\n")
    fill = {"csv": str(counts_csv), "missing": str(tmp_path / "nope.csv"), "bad": str(bad)}
    args = ["passk"] + [a.format(**fill) for a in argv]
    if "--group-by" not in args and "counts.csv" in " ".join(args):
        args += ["--group-by", "model"]
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0]


def test_unknown_method_is_a_usage_error(capsys, counts_csv):
    with pytest.raises(SystemExit) as exc:
        main(["passk", "predict", str(counts_csv), "--budget", "10", "--method", "magic"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_fit_degenerate_groups_do_not_abort_the_others(capsys, tmp_path):
    """A group with no success and one with only successes: flagged with the bound, the others fitted as alone."""
    from scaling_theory.passk import mle

    rng = np.random.default_rng(5)
    normal = {name: rng.binomial(64, rng.beta(a, b, 60)) for name, a, b in (("A", 0.3, 3.0), ("B", 0.5, 2.0))}
    rows = [{"model": m, "problem": i, "n": 64, "k": int(c[i])} for m, c in normal.items() for i in range(60)]
    rows += [{"model": "C", "problem": i, "n": 8, "k": 0} for i in range(60)]
    rows += [{"model": "D", "problem": i, "n": 4, "k": 4} for i in range(30)]
    pd.DataFrame(rows).to_csv(tmp_path / "all.csv", index=False)
    pd.DataFrame([r for r in rows if r["model"] in normal]).to_csv(tmp_path / "normal.csv", index=False)

    code, out, err = run(capsys, "passk", "fit", str(tmp_path / "all.csv"), "--group-by", "model", "--json")
    assert code == 0
    warnings = err.strip().splitlines()
    assert len(warnings) == 2 and all(w.startswith("warning:") for w in warnings)
    assert "model=C" in warnings[0] and "no_success" in warnings[0] and "model=D" in warnings[1]
    by = {r["group"]["model"]: r for r in json.loads(out)}
    code, out_alone, err_alone = run(
        capsys, "passk", "fit", str(tmp_path / "normal.csv"), "--group-by", "model", "--json"
    )
    assert code == 0 and err_alone == ""
    alone = {r["group"]["model"]: r for r in json.loads(out_alone)}
    for m, c in normal.items():
        assert by[m]["flag"] == "" and by[m]["mean_bound"] is None
        for f in ("alpha", "beta", "se_alpha", "se_beta", "loglik"):
            assert by[m][f] == pytest.approx(alone[m][f], rel=1e-9)
        single = mle.fit(64, c)  # the group fitted on its own, outside any batch
        assert by[m]["alpha"] == pytest.approx(float(single.alpha), rel=1e-7)
        assert by[m]["beta"] == pytest.approx(float(single.beta), rel=1e-7)
    # The distribution-free bound of passk.degenerate: P(no success) ≤ exp(−n_min K θ̄) = 1 − 0.9.
    assert by["C"]["flag"] == "no_success" and by["C"]["alpha"] is None and by["C"]["loglik"] is None
    assert by["C"]["mean_bound"] == pytest.approx(np.log(10.0) / (8 * 60), rel=1e-12)
    assert by["C"]["asr_at_n"] == 0.0 and by["C"]["problems"] == 60
    assert by["D"]["flag"] == "all_success" and by["D"]["beta"] is None
    assert by["D"]["mean_bound"] == pytest.approx(1 - np.log(10.0) / (4 * 30), rel=1e-12)
    code, text, _ = run(capsys, "passk", "fit", str(tmp_path / "all.csv"), "--group-by", "model")
    assert code == 0 and "no_success" in text and "mean_bound" in text.splitlines()[0]
