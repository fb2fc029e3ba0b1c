"""Log-format readers (lm-eval, human-eval, inspect-ai, outcome matrix): counts, detection, one-line errors.

Expected counts are worked out by hand from the fixtures in ``tests/data`` (see its README), or by an
independent computation (NumPy row sums) for generated matrices.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from scaling_theory import cli, io
from scaling_theory.errors import InputError

DATA = Path(__file__).parent / "data"
LM_DIR = DATA / "lm_eval" / "EleutherAI__pythia-160m"
LM_REPEATS = LM_DIR / "samples_gsm8k_cot_self_consistency_2024-06-01T12-00-00.123456.jsonl"
LM_FILTERS = LM_DIR / "samples_arithmetic_2024-06-02T08-30-00.jsonl"
HUMAN_EVAL = DATA / "samples.jsonl_results.jsonl"
INSPECT = DATA / "inspect_arith.json"
MATRIX = DATA / "matrix_outcomes.csv"


def nk(counts, **where):
    sub = counts
    for c, v in where.items():
        sub = sub[sub[c] == v]
    return {p: (int(n), int(k)) for p, n, k in zip(sub["problem"], sub["n"], sub["k"])}


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------------------------ detection


@pytest.mark.parametrize(
    "path, fmt",
    [
        (LM_REPEATS, "lm-eval"),
        (LM_FILTERS, "lm-eval"),
        (HUMAN_EVAL, "human-eval"),
        (INSPECT, "inspect"),
        (MATRIX, "matrix"),
    ],
)
def test_auto_recognises_each_format(path, fmt):
    assert io.detect_format(path) == fmt
    assert io.read_counts(path, ["filter"] if path == LM_FILTERS else []).attrs["format"] == fmt


def test_plain_tables_are_still_counts_and_attempts(tmp_path):
    c = write(tmp_path, "c.csv", "problem,n,k\n1,4,1\n2,4,0\n")
    a = write(tmp_path, "a.csv", "problem,attempt,correct\n1,0,1\n1,1,0\n")
    assert io.detect_format(c) == "counts" and io.detect_format(a) == "attempts"
    assert nk(io.read_counts(a)) == {1: (2, 1)}


def test_cli_format_choices_match_the_readers():
    assert cli.LOG_FORMATS == io.LOG_FORMATS


# -------------------------------------------------------------------------------- lm-eval


def test_lm_eval_repeated_generations_scored_against_target():
    counts = io.read_counts(LM_REPEATS)
    # doc 0: target "18", generations 18, 11, 18, [invalid]; doc 1: target "3", none match; doc 2: all four match
    assert nk(counts) == {0: (4, 2), 1: (4, 0), 2: (4, 4)}
    raw = io.read_lm_eval(LM_REPEATS)
    assert set(raw["task"]) == {"gsm8k_cot_self_consistency"} and set(raw["model"]) == {"EleutherAI__pythia-160m"}
    assert list(raw.loc[raw["problem"] == 0, "attempt"]) == [0, 1, 2, 3]


def test_lm_eval_one_record_per_attempt_with_filters():
    counts = io.read_counts(LM_FILTERS, ["filter"])
    # strict-match: correct when doc_id > seed (seeds 0, 1); flexible-extract: always correct
    assert nk(counts, filter="strict-match") == {0: (2, 0), 1: (2, 1), 2: (2, 2)}
    assert nk(counts, filter="flexible-extract") == {0: (2, 2), 1: (2, 2), 2: (2, 2)}


def test_lm_eval_filters_mixed_up_suggest_grouping():
    with pytest.raises(InputError, match="--group-by filter"):
        io.read_counts(LM_FILTERS)


def test_lm_eval_list_metric_and_gzip(tmp_path):
    recs = [
        {
            "doc_id": 7,
            "resps": [["a", "b", "c"]],
            "filtered_resps": [["a", "b", "c"]],
            "target": "z",
            "metrics": ["pass@1"],
            "pass@1": [1, 0, 1],
        }
    ]
    p = tmp_path / "samples_t_2024-01-01T00-00-00.jsonl.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in recs) + "\n")
    assert nk(io.read_counts(p, format="lm-eval")) == {7: (3, 2)}  # the list wins over scoring against target


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"doc_id": 1, "exact_match": 1.0', "line 2: invalid JSON"),
        ('{"doc": {}, "exact_match": 1.0}', "line 2: missing field 'doc_id'"),
        (
            '{"doc_id": 1, "metrics": ["exact_match"], "exact_match": 0.5}',
            "line 2, field 'exact_match': 0.5 is not a 0/1 outcome",
        ),
        ('{"doc_id": 1, "metrics": ["bleu"], "bleu": 13.2}', "line 2, field 'bleu': 13.2 is not a 0/1 outcome"),
        (
            '{"doc_id": 1, "metrics": ["bleu"]}',
            "line 2, field 'metrics': no metric value in the record (metrics: bleu)",
        ),
        ('{"doc_id": 1, "filtered_resps": [["a", "b"]], "exact_match": 1.0}', "line 2: missing field 'target'"),
    ],
)
def test_lm_eval_malformed(tmp_path, line, message):
    good = json.dumps(
        {"doc_id": 0, "target": "1", "filtered_resps": ["1"], "metrics": ["exact_match"], "exact_match": 1.0}
    )
    p = write(tmp_path, "samples_x_2024-01-01T00-00-00.jsonl", good + "\n" + line + "\n")
    with pytest.raises(InputError) as exc:
        io.read_counts(p, format="lm-eval")
    assert str(p) in str(exc.value) and message in str(exc.value) and "\n" not in str(exc.value)


def test_lm_eval_explicit_metric_missing(tmp_path):
    with pytest.raises(InputError, match="line 1, field 'metrics': no 'acc' in the record"):
        io.read_lm_eval(LM_REPEATS, metric="acc")


# ----------------------------------------------------------------------------- human-eval


def test_human_eval_results():
    counts = io.read_counts(HUMAN_EVAL)
    assert nk(counts) == {"HumanEval/0": (3, 2), "HumanEval/1": (3, 1), "HumanEval/2": (3, 2)}
    raw = io.read_human_eval(HUMAN_EVAL)
    assert list(raw.loc[raw["problem"] == "HumanEval/1", "attempt"]) == [0, 1, 2]


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"task_id": "HumanEval/0", "passed": "maybe"}', "line 2, field 'passed': 'maybe' is not true/false"),
        ('{"completion": "x", "passed": true}', "line 2: missing field 'task_id'"),
        ('{"task_id": "HumanEval/0", "result": "passed"}', "line 2: missing field 'passed'"),
    ],
)
def test_human_eval_malformed(tmp_path, line, message):
    p = write(tmp_path, "s.jsonl_results.jsonl", '{"task_id": "HumanEval/0", "passed": true}\n' + line + "\n")
    with pytest.raises(InputError) as exc:
        io.read_counts(p, format="human-eval")
    assert str(p) in str(exc.value) and message in str(exc.value)


# -------------------------------------------------------------------------------- inspect


def test_inspect_epochs_and_scores():
    counts = io.read_counts(INSPECT, ["model", "task"])
    # match scores per epoch: id 1 C I C, id 2 I I I, id "q3" C C I; sample 4 errored (no scores)
    assert nk(counts) == {1: (3, 2), 2: (3, 0), "q3": (3, 2)}
    assert set(counts["model"]) == {"openai/gpt-4o-mini"} and set(counts["task"]) == {"arith"}
    assert "1 unscored" in counts.attrs["note"]
    raw = io.read_inspect(INSPECT)
    assert sorted(raw.loc[raw["problem"] == 2, "attempt"]) == [0, 1, 2]  # epochs 1..3


def test_inspect_errors(tmp_path):
    with pytest.raises(
        InputError, match=r"samples\[0\] \(id=1, epoch 1\), field 'scores.length.value': 3.5 is not a pass/fail"
    ):
        io.read_inspect(INSPECT, scorer="length")
    log = json.loads(INSPECT.read_text())
    log["samples"][4]["scores"]["match"]["value"] = "P"
    p = write(tmp_path, "log.json", json.dumps(log))
    with pytest.raises(InputError, match=r"samples\[4\] .*'scores.match.value': 'P' is not a pass/fail"):
        io.read_counts(p)
    with pytest.raises(InputError, match=r"line 3: invalid JSON"):
        io.read_counts(write(tmp_path, "bad.json", '{\n"samples": [\n}'))
    with pytest.raises(InputError, match="field 'samples': missing"):
        io.read_counts(write(tmp_path, "nos.json", '{"eval": {}}'))
    del log["samples"][0]["epoch"]
    with pytest.raises(InputError, match=r"samples\[0\]: missing field 'epoch'"):
        io.read_counts(write(tmp_path, "noepoch.json", json.dumps(log)))
    with pytest.raises(InputError, match="inspect log convert --to json"):
        io.read_counts(write(tmp_path, "x.eval", "PK"))


# --------------------------------------------------------------------------------- matrix


def test_matrix_csv_with_header_and_ids():
    assert nk(io.read_counts(MATRIX)) == {"q1": (5, 2), "q2": (5, 0), "q3": (5, 5), "q4": (5, 1)}


def test_matrix_npy_and_headerless_csv_match_row_sums(tmp_path):
    rng = np.random.default_rng(1)
    mat = (rng.random((9, 13)) < rng.random((9, 1))).astype(np.int8)
    np.save(tmp_path / "m.npy", mat)
    np.savetxt(tmp_path / "m.csv", mat, fmt="%d", delimiter=",")
    np.save(tmp_path / "b.npy", mat.astype(bool))
    for name in ("m.npy", "m.csv", "b.npy"):
        c = io.read_counts(tmp_path / name)
        assert c.attrs["format"] == "matrix"
        np.testing.assert_array_equal(c["n"], np.full(9, 13))
        np.testing.assert_array_equal(c["k"], mat.sum(axis=1))


def test_matrix_errors(tmp_path):
    np.save(tmp_path / "v.npy", np.array([0, 1, 1]))
    with pytest.raises(InputError, match=r"v.npy: expected a 2-D .* shape \(3,\)"):
        io.read_counts(tmp_path / "v.npy")
    np.save(tmp_path / "two.npy", np.array([[0, 1], [2, 1]]))
    with pytest.raises(InputError, match=r"two.npy: entry \[1, 0\]: 2 is not 0 or 1"):
        io.read_counts(tmp_path / "two.npy")
    p = write(tmp_path, "m.csv", "question,a,b\nq1,1,0\nq2,1,x\n")
    with pytest.raises(InputError, match=r"m.csv: line 3, column 3: 'x' is not 0 or 1"):
        io.read_counts(p, format="matrix")
    p = write(tmp_path, "gap.csv", "1,0,1\n0,,1\n")
    with pytest.raises(InputError, match=r"gap.csv: line 2, column 2: missing value"):
        io.read_counts(p, format="matrix")


# ------------------------------------------------------------------------------------ CLI


def test_explicit_format_mismatch_is_one_line():
    with pytest.raises(InputError, match="line 1: missing field 'task_id'"):
        io.read_counts(LM_REPEATS, format="human-eval")


def test_passk_cli_reads_human_eval_and_says_what_it_read(capsys):
    code = cli.main(["passk", "estimate", str(HUMAN_EVAL), "--k", "1", "--json"])
    out = capsys.readouterr()
    assert code == 0
    [line] = out.err.strip().splitlines()
    assert "read as human-eval" in line and "9 rows, 3 problems, 3 attempts per problem" in line and "1 group" in line
    [row] = json.loads(out.out)
    assert row["pass_at_k"] == pytest.approx((2 / 3 + 1 / 3 + 2 / 3) / 3, abs=1e-12)


def test_saturation_cli_reads_a_matrix(capsys, tmp_path):
    code = cli.main(["saturation", "fit", str(MATRIX), "--eps", "0.01", "--format", "matrix", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["groups"][0]["problems"] == 4
    assert out["groups"][0]["pass_at_1"] == pytest.approx((2 + 0 + 5 + 1) / 20, abs=1e-12)


def test_cli_error_is_one_line(capsys, tmp_path):
    p = tmp_path / "samples_x_2024-01-01T00-00-00.jsonl"
    shutil.copy(LM_REPEATS, p)
    p.write_text(p.read_text() + '{"doc_id": 9, "exact_match": "yes please"}\n')
    code = cli.main(["passk", "estimate", str(p), "--k", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "line 4" in err
