"""A tiny end-to-end testbed run, its tables, reuse of a finished run, and the command line."""

from __future__ import annotations

import contextlib
import json
import os

import jax
import numpy as np
import pytest

from scaling_theory.cli import main
from scaling_theory.io import aggregate_attempts, read_attempts, read_counts
from scaling_theory.testbed import judge as J
from scaling_theory.testbed import task as T
from scaling_theory.testbed.config import profile_config
from scaling_theory.testbed.run import is_complete, run_testbed

CFG = profile_config("smoke")
GROUPS = ["model", "params", "temperature"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("testbed") / "run"
    metrics = run_testbed(jax.random.key(0), out, "smoke", progress=False)
    return out, metrics


def test_end_to_end_tables_follow_the_shared_schema(smoke_run):
    out, metrics = smoke_run
    for name in ("attempts.csv", "counts.csv", "train_log.csv", "metrics.json"):
        assert (out / name).is_file()
    att = read_attempts(out / "attempts.csv", group_by=GROUPS, score=True)  # the shared validator
    counts = read_counts(out / "counts.csv", group_by=GROUPS)
    assert set(att["temperature"]) == {CFG.temperature, *CFG.extra_temperatures}
    main_t = att[att["temperature"] == CFG.temperature]
    assert len(main_t) == CFG.n_eval * CFG.n_samples
    assert sorted(main_t["attempt"].unique()) == list(range(CFG.n_samples))
    # counts are the aggregate of the attempts, and `read_counts` aggregates the attempts file identically
    again = aggregate_attempts(att, GROUPS).sort_values(GROUPS + ["problem"]).reset_index(drop=True)
    from_attempts = read_counts(out / "attempts.csv", group_by=GROUPS).sort_values(GROUPS + ["problem"])
    c = counts.sort_values(GROUPS + ["problem"]).reset_index(drop=True)
    np.testing.assert_array_equal(c[["n", "k"]].to_numpy(), again[["n", "k"]].to_numpy())
    np.testing.assert_array_equal(c[["n", "k"]].to_numpy(), from_attempts[["n", "k"]].to_numpy())
    assert metrics["accuracy"]["pass1_mean"] == pytest.approx(main_t["correct"].mean())


def test_correct_and_accepted_columns_are_recomputable(smoke_run):
    out, _ = smoke_run
    att = read_attempts(out / "attempts.csv", group_by=GROUPS, score=True)
    probs = T.eval_problems(jax.random.key(0), CFG.task, CFG.n_eval)  # regenerated from the seed
    truth = T.answers(CFG.task, probs)[att["problem"].to_numpy()]
    np.testing.assert_array_equal(att["correct"], J.exact_verifier(att["answer"], truth))
    np.testing.assert_array_equal(att["length"], probs.length[att["problem"].to_numpy()])
    acc = J.ImperfectVerifier(CFG.fpr, seed=0).accept(att["problem"], att["answer"], att["correct"])
    np.testing.assert_array_equal(att["accepted"], acc)
    assert (att["accepted"] >= att["correct"]).all()
    assert ((att["answer"] >= 0) == (att["well_formed"] == 1)).all()


def test_a_finished_run_is_reused_not_retrained(smoke_run):
    out, metrics = smoke_run
    stamp = os.stat(out / "attempts.csv").st_mtime_ns
    assert is_complete(jax.random.key(0), out, CFG) and not is_complete(jax.random.key(1), out, CFG)
    again = run_testbed(jax.random.key(0), out, "smoke", progress=False)
    assert again == metrics
    assert os.stat(out / "attempts.csv").st_mtime_ns == stamp


def test_cli_run_json(smoke_run, capsys):
    out, metrics = smoke_run
    assert main(["testbed", "run", "--profile", "smoke", "--out", str(out), "--json", "--no-progress"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["params"] == metrics["params"] and "fingerprint" not in got
    assert {"train", "sampling", "accuracy", "judge"} <= set(got)
    assert got["train"]["tokens_per_s"] > 0 and all(s["tokens_per_s"] > 0 for s in got["sampling"])
    assert main(["testbed", "run", "--profile", "smoke", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "training tokens/s" in text and "attempts.csv" in text


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--seed", "-1"], "--seed must be in [0, 2**32), got -1"),
        (["--profile", "huge"], "invalid choice: 'huge'"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(argv, match, capsys, tmp_path):
    with pytest.raises(SystemExit) if "--profile" in argv else contextlib.nullcontext() as exc:
        code = main(["testbed", "run", "--out", str(tmp_path / "x"), *argv])
    code = exc.value.code if exc is not None and hasattr(exc, "value") else code
    err = capsys.readouterr().err.strip()
    assert code == 2 and match in err and len(err.splitlines()) == 1 and err.startswith("error:")


def test_cli_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["testbed", "run", "--profile", "smoke", "--out", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not a folder" in err and len(err.splitlines()) == 1
