"""``scaling-theory judge curve``: JSON/text output, values and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scaling_theory.cli import main
from scaling_theory.judge.model import BLRJudge

BASE = ["judge", "curve", "--d", "10", "--n", "10000", "--sigma", "1e-4", "--gamma", "1e-3", "--teacher-scale", "4"]


def test_json_output_matches_the_library(capsys):
    code = main(BASE + ["--c", "10", "--t", "10", "--k", "1", "2", "5", "99", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [r["k"] for r in out] == [1, 2, 5, 99]
    assert all(set(r) == {"k", "delta", "delta_over_sigma2"} for r in out)
    judge = BLRJudge(10, 10_000, 1e-4, 1e-3, teacher_scale=4.0, c=10.0)
    expected = judge.error([1, 2, 5, 99], float(judge.temperature(10.0)))
    np.testing.assert_allclose([r["delta"] for r in out], expected, rtol=1e-12)
    np.testing.assert_allclose([r["delta_over_sigma2"] for r in out], expected / 1e-8, rtol=1e-12)
    # k = 1: E_x[Δ_T² + s²] in closed form
    assert out[0]["delta"] == pytest.approx(judge.de.bias_variance + judge.de.mean_variance, rel=1e-10)


def test_text_output_and_methods(capsys):
    assert main(BASE + ["--t", "0", "--k", "50", "100", "--method", "limit"]) == 0
    text = capsys.readouterr().out
    assert "delta_over_sigma2" in text and "method=limit" in text
    assert main(BASE + ["--t", "10", "--k", "3", "--method", "hte", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["k"] == 3


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--t", "-1", "--k", "5"], "t=-1"),
        (["--t", "1", "--k", "0"], "k=0"),
        (["--t", "0", "--k", "5", "--method", "hte"], "t=0"),
        (["--t", "1", "--k", "5", "--c", "nan"], "c=nan"),
    ],
)
def test_bad_input_one_line_exit_2(capsys, extra, needle):
    args = list(BASE)
    assert main(args + extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and needle in err and "\n" not in err and "Traceback" not in err


def test_unparsable_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(BASE + ["--t", "x", "--k", "5"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid float value" in err and "\n" not in err


def test_bad_model_parameter_from_cli(capsys):
    args = ["judge", "curve", "--d", "10", "--n", "100", "--sigma", "-1", "--gamma", "1", "--t", "1", "--k", "2"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: sigma=-1.0: must be finite and > 0"


def test_group_without_verb_prints_help(capsys):
    assert main(["judge"]) == 2
    assert "curve" in capsys.readouterr().out
