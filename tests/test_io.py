"""Logged-data readers: formats, validation messages (file, row, column), aggregation, atomic writes."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from scaling_theory import io
from scaling_theory.errors import InputError


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_counts_csv_with_problem_alias_and_groups(tmp_path):
    p = write(tmp_path, "c.csv", "model,problem_idx,n,k\na,1,10,3\na,2,10,0\nb,1,5,5\n")
    df = io.read_counts(p, ["model"])
    assert list(df["problem"]) == [1, 2, 1]
    assert df["n"].dtype == np.int64 and list(df["k"]) == [3, 0, 5]
    groups = io.split_groups(df, ["model"])
    assert [g for g, _ in groups] == [{"model": "a"}, {"model": "b"}]
    assert [len(sub) for _, sub in groups] == [2, 1]


def test_split_groups_without_grouping_is_whole_table(tmp_path):
    p = write(tmp_path, "c.csv", "problem,n,k\n1,3,1\n")
    df = io.read_counts(p)
    [(group, sub)] = io.split_groups(df)
    assert group == {} and sub is df


def test_attempts_aggregate_to_counts_matches_bincount(tmp_path):
    rng = np.random.default_rng(0)
    problem = rng.integers(0, 7, size=200)
    correct = rng.integers(0, 2, size=200)
    attempt = np.zeros(200, dtype=int)
    for p_ in range(7):  # attempt index within each problem
        attempt[problem == p_] = np.arange((problem == p_).sum())
    df = pd.DataFrame({"problem": problem, "attempt": attempt, "correct": correct})
    path = tmp_path / "a.parquet"
    df.to_parquet(path)
    counts = io.read_counts(path).set_index("problem").sort_index()
    np.testing.assert_array_equal(counts["n"], np.bincount(problem, minlength=7))
    np.testing.assert_array_equal(counts["k"], np.bincount(problem, weights=correct, minlength=7).astype(int))


def test_attempts_accept_true_false_and_score(tmp_path):
    p = write(tmp_path, "a.csv", "problem,attempt,correct,score\nx,0,true,0.5\nx,1,False,-1\n")
    att = io.read_attempts(p)
    assert list(att["correct"]) == [1, 0] and list(att["score"]) == [0.5, -1.0]


def test_jsonl_and_gzip_csv(tmp_path):
    rows = [{"problem": i, "n": 4, "k": i} for i in range(3)]
    p = tmp_path / "c.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert list(io.read_counts(p)["k"]) == [0, 1, 2]
    g = tmp_path / "c.csv.gz"
    with gzip.open(g, "wt") as fh:
        fh.write("problem,n,k\n1,4,2\n")
    assert io.read_counts(g)["k"].tolist() == [2]


def test_curve_reader_checks_positive_columns(tmp_path):
    p = write(tmp_path, "curve.csv", "params,loss\n1e6,3.2\n0,2.9\n")
    with pytest.raises(InputError, match=r"curve.csv: row 2 \(line 3\), column 'params': 0 is not positive"):
        io.read_curve(p, ["params", "loss"], positive=["params"])
    df = io.read_curve(p, ["params", "loss"])
    assert df["params"].dtype == np.float64


@pytest.mark.parametrize(
    "name,text,pattern",
    [
        ("c.csv", "problem,n,k\n1,10,3\n2,10,12\n", r"c.csv: row 2 \(line 3\), column 'k': k=12 exceeds n=10"),
        ("c.csv", "problem,n,k\n1,-1,0\n", r"row 1 \(line 2\), column 'n': -1 is below the minimum 1"),
        ("c.csv", "problem,n,k\n1,10,2.5\n", r"column 'k': 2.5 is not an integer"),
        ("c.csv", "problem,n,k\n1,ten,2\n", r"column 'n': 'ten' is not a number"),
        ("c.csv", "problem,n,k\n1,10,\n", r"row 1 \(line 2\), column 'k': missing value"),
        ("c.csv", "problem,n\n1,10\n", r"c.csv: missing column 'k' \(found: problem, n\)"),
        (
            "c.csv",
            "problem,n,k\n1,10,2\n1,10,3\n",
            r"row 2 \(line 3\): duplicate problem \(problem=1; first at row 1\)",
        ),
        (
            "c.csv",
            "model,problem,n,k\nA,1,10,2\nB,1,10,3\n",
            r"duplicate problem \(problem=1; first at row 1\); to treat them as separate groups, add --group-by model",
        ),
        ("c.csv", "problem,n,k\n", r"c.csv: no data rows"),
        ("c.csv", "", r"c.csv: the file is empty"),
        ("c.csv", 'problem,n,k\n1,"10\n', r"c.csv: cannot read csv file"),
        ("c.jsonl", '{"problem": 1, "n": 3, "k": 1}\n{"problem": 2, "n": 3,\n', r"c.jsonl: line 2: invalid JSON"),
        ("c.jsonl", "[1, 2]\n", r"c.jsonl: line 1: expected a JSON object, got list"),
        ("a.csv", "problem,attempt,correct\n1,0,2\n", r"row 1 \(line 2\), column 'correct': 2 is not 0 or 1"),
        ("a.csv", "problem,attempt,correct\n1,0,1\n1,0,0\n", r"duplicate attempt"),
        ("c.txt", "x", r"c.txt: unsupported file type '.txt'"),
        ("c.parquet", "not parquet", r"c.parquet: cannot read parquet file"),
    ],
)
def test_bad_input_gives_one_line_naming_file_row_column(tmp_path, name, text, pattern):
    p = write(tmp_path, name, text)
    with pytest.raises(InputError, match=pattern) as err:
        io.read_counts(p)
    assert "\n" not in str(err.value)


def test_missing_file_and_missing_group_column(tmp_path):
    with pytest.raises(InputError, match="nope.csv: no such file"):
        io.read_counts(tmp_path / "nope.csv")
    p = write(tmp_path, "c.csv", "problem,n,k\n1,3,1\n")
    with pytest.raises(InputError, match="missing column 'model'"):
        io.read_counts(p, ["model"])


def test_jsonable_converts_scalars_and_non_finite():
    obj = {
        "a": np.int64(3),
        "b": np.float32(0.5),
        "c": float("nan"),
        "d": np.array([1.0, np.inf]),
        "e": (np.bool_(True),),
    }
    assert io.jsonable(obj) == {"a": 3, "b": 0.5, "c": None, "d": [1.0, None], "e": [True]}
    json.dumps(io.jsonable(obj))


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "out.json"
    io.write_json_atomic(p, {"v": 1})
    with pytest.raises(TypeError):
        io.write_bytes_atomic(p, "not bytes")  # type: ignore[arg-type]
    assert json.loads(p.read_text()) == {"v": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["out.json"]  # no temporary left behind


def test_shipped_data_is_found_and_valid():
    counts = io.read_counts(io.data_path("pythia_math_counts.csv"), ["model"])
    assert len(counts) == 896 and (counts["n"] == 10_000).all()
    assert len(io.split_groups(counts, ["model"])) == 7
    curve = io.read_curve(io.data_path("datablations_losses.csv"), ["tokens", "loss"], positive=["tokens", "loss"])
    assert len(curve) == 9261
    with pytest.raises(InputError, match="not found"):
        io.data_path("no_such_file.csv")
