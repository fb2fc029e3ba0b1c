"""Logged-data tables (counts, attempts, curve) from CSV, JSONL or parquet, validated.

Tables (see DESIGN.md):

* counts   — ``problem, n, k`` (+ grouping columns): k successes out of n attempts per problem;
* attempts — ``problem, attempt, correct`` (0/1) [+ ``score``] (+ grouping columns);
* curve    — x columns and one y column, for scaling-law fits.

Every reader reports bad input as one :class:`~scaling_theory.errors.InputError` line naming the
file, the row (1-based over data rows; CSV also gives the line) and the column. Writers are atomic
(temporary file + rename), so an interrupted or failed command never leaves a half-written file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Generator, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scaling_theory.distributed import is_main_process
from scaling_theory.errors import InputError

COUNTS_COLUMNS = ("problem", "n", "k")
ATTEMPTS_COLUMNS = ("problem", "attempt", "correct")
# Accepted spellings of the problem column in public logs (renamed to ``problem`` on read).
PROBLEM_ALIASES = ("problem_idx", "problem_id", "prompt_id", "question_id", "task_id")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
COMPRESSION = (".gz", ".bz2", ".xz")  # CSV / JSONL may be compressed


# --------------------------------------------------------------------------------------- reading


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV, JSONL or parquet file into a DataFrame, with one-line errors. Rows keep file order."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes[-2:]]
    compressed = bool(suffixes) and suffixes[-1] in COMPRESSION
    kind = SUFFIXES.get(suffixes[0] if compressed and len(suffixes) == 2 else p.suffix.lower())
    if kind is None or (compressed and kind == "parquet"):
        raise InputError(f"{p}: unsupported file type '{''.join(p.suffixes[-2:])}' (use .csv, .jsonl or .parquet)")
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    try:
        if kind == "csv":
            df = pd.read_csv(p, skipinitialspace=True)
        elif kind == "jsonl":
            df = _read_jsonl(p)
        else:
            df = pd.read_parquet(p)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{p}: the file is empty") from None
    except Exception as exc:  # parser errors, bad encodings, corrupt parquet (pyarrow's own types)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: cannot read {kind} file: {first}") from None
    if len(df) == 0:
        raise InputError(f"{p}: no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["source"] = str(p)
    df.attrs["kind"] = kind
    return df.reset_index(drop=True)


def _open_text(p: Path) -> Any:
    import bz2
    import gzip
    import lzma

    opener: Any = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(p.suffix.lower(), open)
    return opener(p, "rt", encoding="utf-8")


def _iter_jsonl(p: Path) -> Generator[tuple[int, dict], None, None]:
    """``(line number, object)`` for every non-blank line of a (possibly compressed) JSONL file."""
    with _open_text(p) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}: line {lineno}: invalid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{p}: line {lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def _read_jsonl(p: Path) -> pd.DataFrame:
    records = [obj for _, obj in _iter_jsonl(p)]
    if not records:
        raise InputError(f"{p}: the file is empty")
    return pd.DataFrame.from_records(records)


def _where(df: pd.DataFrame, i: int) -> str:
    """'row R' (1-based data row) plus the file line for CSV."""
    src = df.attrs.get("source", "<table>")
    line = f" (line {i + 2})" if df.attrs.get("kind") == "csv" else ""
    return f"{src}: row {i + 1}{line}"


def _src(df: pd.DataFrame) -> str:
    return df.attrs.get("source", "<table>")


def require_columns(df: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise unless every column is present (names the first missing one and lists what exists)."""
    for c in columns:
        if c not in df.columns:
            found = ", ".join(map(str, df.columns))
            raise InputError(f"{_src(df)}: missing column '{c}' (found: {found})")


def numeric_column(
    df: pd.DataFrame,
    col: str,
    *,
    integer: bool = False,
    minimum: float | None = None,
    positive: bool = False,
) -> np.ndarray:
    """Column ``col`` as a float64 (or int64) array, validated row by row.

    Errors name the first offending row: missing value, not a number, not finite, not an integer,
    below ``minimum``, or not > 0 when ``positive`` (e.g. where a logarithm is taken).
    """
    require_columns(df, [col])
    raw = df[col]
    if raw.dtype == bool:
        raw = raw.astype(np.int64)
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(vals)
    if bad.any():
        i = int(np.argmax(bad))
        orig = raw.iloc[i]
        if (
            orig is None
            or (isinstance(orig, float) and math.isnan(orig))
            or (isinstance(orig, str) and not orig.strip())
        ):
            what = "missing value"
        elif np.isnan(vals[i]):
            what = f"{_show(orig)} is not a number"
        else:
            what = f"{_show(orig)} is not finite"
        raise InputError(f"{_where(df, i)}, column '{col}': {what}")
    if integer:
        frac = vals != np.round(vals)
        if frac.any():
            i = int(np.argmax(frac))
            raise InputError(f"{_where(df, i)}, column '{col}': {_show(raw.iloc[i])} is not an integer")
    if minimum is not None:
        low = vals < minimum
        if low.any():
            i = int(np.argmax(low))
            raise InputError(f"{_where(df, i)}, column '{col}': {_num(vals[i])} is below the minimum {_num(minimum)}")
    if positive:
        nonpos = vals <= 0
        if nonpos.any():
            i = int(np.argmax(nonpos))
            raise InputError(f"{_where(df, i)}, column '{col}': {_num(vals[i])} is not positive")
    return vals.astype(np.int64) if integer else vals


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _show(v: Any) -> str:
    """A cell value as the user wrote it: strings quoted, numbers plain."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, float):
        return _num(v)
    return str(v)


def _rename_problem(df: pd.DataFrame) -> pd.DataFrame:
    if "problem" in df.columns:
        return df
    for alias in PROBLEM_ALIASES:
        if alias in df.columns:
            return df.rename(columns={alias: "problem"})
    return df


def check_groups(df: pd.DataFrame, group_by: Sequence[str]) -> None:
    """Raise unless every grouping column is present and has no missing value (names the first row)."""
    require_columns(df, group_by)
    for c in group_by:
        miss = df[c].isna().to_numpy()
        if miss.any():
            raise InputError(f"{_where(df, int(np.argmax(miss)))}, column '{c}': missing value")


def _check_unique(df: pd.DataFrame, keys: Sequence[str], what: str) -> None:
    dup = df.duplicated(list(keys), keep="first").to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        first = int(np.argmax((df[list(keys)] == df[list(keys)].iloc[i]).all(axis=1).to_numpy()))
        vals = ", ".join(f"{k}={_show(df[k].iloc[i])}" for k in keys)
        # columns whose values differ between the two rows could tell them apart: suggest grouping by them
        known = set(keys) | {"problem", "n", "k", "attempt", "correct", "score", "accepted", "round"}
        differ = [c for c in df.columns if c not in known and _show(df[c].iloc[i]) != _show(df[c].iloc[first])]
        hint = f"; to treat them as separate groups, add --group-by {' '.join(differ)}" if differ else ""
        raise InputError(f"{_where(df, i)}: duplicate {what} ({vals}; first at row {first + 1}){hint}")


def validate_counts(df: pd.DataFrame, group_by: Sequence[str] = ()) -> pd.DataFrame:
    """Validate a counts table: integer ``n ≥ 1``, integer ``0 ≤ k ≤ n``, unique problem per group."""
    group_by = list(group_by)
    df = _rename_problem(df)
    require_columns(df, COUNTS_COLUMNS)
    check_groups(df, group_by)
    n = numeric_column(df, "n", integer=True, minimum=1)
    k = numeric_column(df, "k", integer=True, minimum=0)
    over = k > n
    if over.any():
        i = int(np.argmax(over))
        raise InputError(f"{_where(df, i)}, column 'k': k={k[i]} exceeds n={n[i]}")
    check_groups(df, ["problem"])  # a missing problem id
    _check_unique(df, group_by + ["problem"], "problem")
    out = df.copy()
    out["n"], out["k"] = n, k
    return out


def validate_attempts(df: pd.DataFrame, group_by: Sequence[str] = (), score: bool = False) -> pd.DataFrame:
    """Validate an attempts table: ``correct`` ∈ {0, 1}, unique (problem, attempt) per group; ``score`` finite."""
    group_by = list(group_by)
    df = _rename_problem(df)
    require_columns(df, ATTEMPTS_COLUMNS)
    check_groups(df, group_by)
    correct = df["correct"]
    if correct.dtype == object:  # accept true/false spelled out
        lowered = correct.astype(str).str.strip().str.lower()
        correct = lowered.map({"true": 1, "false": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0}).where(
            lowered.isin(["true", "false", "1", "0", "1.0", "0.0"]), df["correct"]
        )
        df = df.assign(correct=correct)
    c = numeric_column(df, "correct")
    bad = (c != 0) & (c != 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{_where(df, i)}, column 'correct': {_show(df['correct'].iloc[i])} is not 0 or 1")
    check_groups(df, ["problem"])  # a missing problem id
    attempt = numeric_column(df, "attempt", integer=True, minimum=0)
    _check_unique(df, group_by + ["problem", "attempt"], "attempt")
    out = df.copy()
    out["correct"] = c.astype(np.int64)
    out["attempt"] = attempt
    if score or "score" in df.columns:
        out["score"] = numeric_column(df, "score")
    return out


def aggregate_attempts(attempts: pd.DataFrame, group_by: Sequence[str] = ()) -> pd.DataFrame:
    """Attempts → counts: ``n`` = number of attempts, ``k`` = number correct, per (group, problem)."""
    keys = list(group_by) + ["problem"]
    g = attempts.groupby(keys, sort=False, dropna=False)["correct"]
    counts = g.agg(n="size", k="sum").reset_index()
    counts["n"] = counts["n"].astype(np.int64)
    counts["k"] = counts["k"].astype(np.int64)
    counts.attrs.update(attempts.attrs)
    return counts


def is_attempts_table(df: pd.DataFrame) -> bool:
    """True when ``df`` looks like an attempts table (has ``correct`` and lacks ``n``/``k``)."""
    return "correct" in df.columns and not {"n", "k"} <= set(df.columns)


def read_counts(
    path: str | os.PathLike,
    group_by: Sequence[str] = (),
    *,
    format: str = "auto",
    announce: bool = False,
) -> pd.DataFrame:
    """Read a counts table, or attempts aggregated to counts, validated, from any of :data:`LOG_FORMATS`.

    Args:
      path: the log file.
      group_by: grouping columns (each group's problems must be unique).
      format: one of :data:`LOG_FORMATS`; ``"auto"`` recognises the format by its fields
        (:func:`detect_format`). Plain counts / attempts tables read exactly as before.
      announce: when the file was converted from a tool's log (lm-eval, human-eval, inspect, matrix),
        print one line to stderr saying what was read (:func:`describe_counts`).
    Returns:
      The counts table (``problem, n, k`` + group columns); ``attrs["format"]`` names the format read.
    """
    df = read_log_table(path, format)
    if is_attempts_table(df):
        out = aggregate_attempts(validate_attempts(df, group_by), group_by)
    else:
        out = validate_counts(df, group_by)
    out.attrs.update(df.attrs)
    out.attrs.setdefault("rows", len(df))  # a tool's reader sets the records it read (lines, samples, matrix rows)
    if announce and out.attrs.get("format") not in (None, "counts", "attempts"):
        import sys

        print(describe_counts(out, group_by), file=sys.stderr)
    return out


def read_attempts(path: str | os.PathLike, group_by: Sequence[str] = (), score: bool = False) -> pd.DataFrame:
    """Read and validate an attempts table (``score`` required when ``score=True``)."""
    return validate_attempts(read_table(path), group_by, score=score)


def read_curve(
    path: str | os.PathLike,
    columns: Sequence[str],
    *,
    positive: Sequence[str] = (),
    group_by: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a curve table: every column in ``columns`` numeric and finite, those in ``positive`` > 0."""
    df = read_table(path)
    require_columns(df, list(columns) + list(group_by))
    check_groups(df, group_by)
    out = df.copy()
    for c in columns:
        out[c] = numeric_column(df, c, positive=c in positive)
    return out


def data_path(name: str) -> Path:
    """Path of a data file shipped with the project (``data/`` in the checkout, else ``../shared/data``).

    ``SCALING_THEORY_DATA`` overrides the folder. ``name`` may omit a ``.gz`` suffix.
    """
    root = Path(__file__).resolve().parents[1]
    folders = [Path(os.environ["SCALING_THEORY_DATA"])] if os.environ.get("SCALING_THEORY_DATA") else []
    folders += [root / "data", root.parent / "shared" / "data"]
    for folder in folders:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise InputError(f"data file {name!r} not found in {', '.join(map(str, folders))}")


# -------------------------------------------------------------------------------------- grouping


def split_groups(df: pd.DataFrame, group_by: Sequence[str] = ()) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """``[(group_dict, sub_table), ...]`` in order of first appearance; ``[({}, df)]`` without grouping."""
    group_by = list(group_by)
    if not group_by:
        return [({}, df)]
    out = []
    for key, sub in df.groupby(group_by, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        group = {c: jsonable(v) for c, v in zip(group_by, key)}
        sub = sub.reset_index(drop=True)
        sub.attrs.update(df.attrs)
        out.append((group, sub))
    return out


def jsonable(v: Any) -> Any:
    """Convert numpy / pandas scalars and arrays to plain Python for ``json.dumps``; NaN/inf → None."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return [jsonable(x) for x in v.tolist()]
    if hasattr(v, "shape") and getattr(v, "shape", None) == () and hasattr(v, "item"):
        v = v.item()  # numpy / JAX scalars
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.bool_):
        return bool(v)
    return v


# --------------------------------------------------------------------------------------- writing


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename.

    In a multi-process run only process 0 writes (the others return the path without writing)."""
    p = Path(path)
    if not is_main_process():
        return p
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(jsonable(obj), indent=2) + "\n")


def write_csv_atomic(path: str | os.PathLike, df: pd.DataFrame | Sequence[dict]) -> Path:
    frame = df if isinstance(df, pd.DataFrame) else pd.DataFrame(list(df))
    return write_text_atomic(path, frame.to_csv(index=False))


# ---------------------------------------------------------------------------------- log formats
#
# Adapters from the logs of common evaluation tools to the attempts / counts tables. Each returns
# a raw (not yet validated) attempts table ``problem, attempt, correct`` + grouping columns, which
# :func:`read_counts` validates and aggregates like any other attempts table.

# The CLI's ``--format`` choices (``scaling_theory.cli.add_format_option`` keeps a copy, light to import).
LOG_FORMATS = ("auto", "counts", "attempts", "lm-eval", "human-eval", "inspect", "matrix")
# lm-evaluation-harness metrics that are a 0/1 outcome per sample, tried in this order when the
# record does not say (its ``metrics`` list comes first).
LM_EVAL_METRICS = ("exact_match", "acc", "pass@1", "pass_at_1", "correct", "em")
_MATRIX_ID_COLUMNS = ("problem", "question", "id", "question_id", "problem_id", "task_id", "prompt_id", "problem_idx")


def describe_counts(counts: pd.DataFrame, group_by: Sequence[str] = ()) -> str:
    """One line saying what a log held: format, rows, problems, attempts per problem, groups."""
    n = counts["n"].to_numpy()
    groups = 1 if not group_by else len(counts.groupby(list(group_by), sort=False, dropna=False))
    attempts = f"{n.min()}" if n.min() == n.max() else f"{n.min()}–{n.max()}"
    extra = counts.attrs.get("note")
    return (
        f"{counts.attrs.get('source', '<table>')}: read as {counts.attrs.get('format', 'counts')}"
        f"{f' ({extra})' if extra else ''}: {counts.attrs.get('rows', len(counts))} rows, "
        f"{counts['problem'].nunique()} problems, {attempts} attempts per problem "
        f"({int(n.sum())} in all), {groups} group{'s' if groups != 1 else ''}"
    )


def detect_format(path: str | os.PathLike) -> str:
    """The format of a log file, recognised by its suffix and its fields.

    ``.npy`` → matrix; ``.json`` with ``eval`` and ``samples`` → inspect; a table (CSV / JSONL /
    parquet) with ``doc_id`` and ``resps`` or ``filtered_resps`` → lm-eval; with ``task_id`` and
    ``passed`` → human-eval; with ``n`` and ``k`` → counts; with ``correct`` → attempts; a CSV whose
    cells are all 0/1 (optionally a header and a first column of problem ids) → matrix.
    """
    p = Path(path)
    suffix = _bare_suffix(p)
    if suffix == ".npy":
        return "matrix"
    if suffix in (".json", ".eval"):
        return "inspect"
    if SUFFIXES.get(suffix) == "jsonl" and p.is_file():  # the tools' logs: the first record's fields decide
        records = _iter_jsonl(p)
        first = next(records, (0, {}))[1]
        records.close()  # closes the file
        if "doc_id" in first and {"resps", "filtered_resps"} & set(first):
            return "lm-eval"
        if {"task_id", "passed"} <= set(first):
            return "human-eval"
    df = read_table(p)
    cols = set(df.columns)
    if "doc_id" in cols and cols & {"resps", "filtered_resps"}:
        return "lm-eval"
    if {"task_id", "passed"} <= cols:
        return "human-eval"
    if is_attempts_table(df):
        return "attempts"
    if {"n", "k"} <= cols:
        return "counts"
    if df.attrs.get("kind") == "csv" and _looks_like_matrix(df):
        return "matrix"
    return "counts"  # validate_counts names the missing column


def _bare_suffix(p: Path) -> str:
    suffixes = [s.lower() for s in p.suffixes[-2:]]
    if len(suffixes) == 2 and suffixes[-1] in COMPRESSION:
        return suffixes[0]
    return p.suffix.lower()


def _looks_like_matrix(df: pd.DataFrame) -> bool:
    known = {"problem", "n", "k", "attempt", "correct", *PROBLEM_ALIASES}
    if known & set(df.columns[1:]):
        return False
    body = df.iloc[:, 1:] if str(df.columns[0]).lower() in _MATRIX_ID_COLUMNS else df
    vals = pd.to_numeric(body.stack(), errors="coerce") if body.size else pd.Series([], dtype=float)
    return bool(body.size) and bool(vals.isin([0, 1]).mean() > 0.5)


def read_log_table(path: str | os.PathLike, format: str = "auto") -> pd.DataFrame:
    """Read a log file in one of :data:`LOG_FORMATS` as a raw counts or attempts table.

    Args:
      path: the file.
      format: ``auto`` (:func:`detect_format`), ``counts``, ``attempts`` (:func:`read_table`),
        ``lm-eval`` (:func:`read_lm_eval`), ``human-eval`` (:func:`read_human_eval`), ``inspect``
        (:func:`read_inspect`) or ``matrix`` (:func:`read_matrix`).
    Returns:
      An unvalidated table in the project's counts or attempts schema; ``attrs["format"]`` is the
      format read and ``attrs["source"]`` the file.
    """
    if format not in LOG_FORMATS:
        raise InputError(f"format must be one of {', '.join(LOG_FORMATS)}; got {format!r}")
    fmt = detect_format(path) if format == "auto" else format
    reader = {"lm-eval": read_lm_eval, "human-eval": read_human_eval, "inspect": read_inspect, "matrix": read_matrix}
    df = reader[fmt](path) if fmt in reader else read_table(path)
    df.attrs["format"] = fmt
    return df


def _attempt_index(keys: pd.DataFrame) -> np.ndarray:
    """0, 1, 2, … within each distinct row of ``keys``, in file order."""
    return keys.groupby(list(keys.columns), sort=False, dropna=False).cumcount().to_numpy(dtype=np.int64)


def _outcome(value: Any) -> float | None:
    """A logged per-sample outcome as 0.0 / 1.0 (bools, 0/1 numbers, 'true'/'false'); None otherwise."""
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value) in (0.0, 1.0):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "1.0", "0.0"):
        return 1.0 if value.strip().lower() in ("true", "1", "1.0") else 0.0
    return None


def read_lm_eval(path: str | os.PathLike, metric: str | None = None) -> pd.DataFrame:
    """lm-evaluation-harness per-sample log (``--log_samples``: ``samples_<task>_<date>.jsonl``) → attempts.

    One JSON object per document and filter, with the fields ``doc_id``, ``doc``, ``target``,
    ``arguments``, ``resps`` (the raw generations; with ``repeats: R`` in the task config, ``resps[0]``
    holds the R generations of the one request), ``filtered_resps`` (the generations after the
    filter pipeline named in ``filter``), ``metrics`` (the names of the metrics computed) and one
    key per metric holding its value for the document (e.g. ``"exact_match": 1.0``).

    Attempts, in this order of preference:

    * the metric value is a list (one 0/1 per repeat) → one attempt per element;
    * ``filtered_resps`` holds R > 1 filtered generations of one request (``[[r1, …, rR]]``, or a
      flat list of R strings) → one attempt per generation, correct when it equals ``target``
      exactly (the harness's ``exact_match`` with its default options);
    * otherwise the record is one attempt scored by its 0/1 metric; a document logged on several
      lines (runs with different seeds concatenated) gives several attempts.

    ``metric`` defaults to the first name in the record's ``metrics`` list that the record holds a
    value for, else the first of :data:`LM_EVAL_METRICS` present; its value must be 0/1. Columns: ``problem`` (= ``doc_id``),
    ``attempt``, ``correct``, ``task`` (from the file name ``samples_<task>_<date>.jsonl``),
    ``model`` (the folder the harness writes per model), ``filter`` (when logged).

    References:
      EleutherAI/lm-evaluation-harness, ``lm_eval/evaluator.py`` (the sample record) and
      ``docs/interface.md`` (``--log_samples``; ``--output_path``/<model>/samples_<task>_<date>.jsonl).
    """
    import re

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    m = re.match(r"samples_(.+?)_\d{4}-\d{2}-\d{2}T", p.name)
    task = m.group(1) if m else re.sub(r"\.(jsonl|json)(\.gz|\.bz2|\.xz)?$", "", p.name)
    model = p.resolve().parent.name
    problem, correct, filt, chosen = [], [], [], set()
    lineno_count = 0
    for lineno, rec in _iter_jsonl(p):
        lineno_count += 1
        if "doc_id" not in rec:
            raise InputError(f"{p}: line {lineno}: missing field 'doc_id' (not an lm-evaluation-harness samples log?)")
        name = metric or _lm_eval_metric(rec)
        if name is None or name not in rec:
            listed = ", ".join(map(str, rec.get("metrics", []))) or "none"
            want = f"no '{metric}'" if metric else "no metric value"
            raise InputError(f"{p}: line {lineno}, field 'metrics': {want} in the record (metrics: {listed})")
        chosen.add(name)
        value = rec[name]
        outs = _lm_eval_outcomes(p, lineno, rec, name, value)
        problem.extend([rec["doc_id"]] * len(outs))
        correct.extend(outs)
        filt.extend([rec.get("filter")] * len(outs))
    if not problem:
        raise InputError(f"{p}: the file is empty")
    df = pd.DataFrame(
        {"problem": problem, "correct": np.asarray(correct, dtype=np.int64), "task": task, "model": model}
    )
    if any(f is not None for f in filt):
        df["filter"] = filt
    df.insert(1, "attempt", _attempt_index(df[[c for c in ("task", "filter", "problem") if c in df.columns]]))
    df.attrs.update(source=str(p), kind="jsonl", note=f"metric {', '.join(sorted(chosen))}", rows=lineno_count)
    return df


def _lm_eval_metric(rec: dict) -> str | None:
    """The record's first listed metric that it holds a value for, else the first of LM_EVAL_METRICS it holds."""
    names = [m for m in rec.get("metrics", []) if isinstance(m, str)] + list(LM_EVAL_METRICS)
    return next((name for name in names if name in rec), None)


def _lm_eval_outcomes(p: Path, lineno: int, rec: dict, name: str, value: Any) -> list[int]:
    if isinstance(value, list):
        outs = [_outcome(v) for v in value]
        bad = [i for i, o in enumerate(outs) if o is None]
        if bad:
            raise InputError(
                f"{p}: line {lineno}, field '{name}[{bad[0]}]': {_show(value[bad[0]])} is not a 0/1 outcome"
            )
        return [int(o) for o in outs if o is not None]  # none is None here (checked above)
    gens = rec.get("filtered_resps")
    if isinstance(gens, list) and len(gens) == 1 and isinstance(gens[0], list):
        gens = gens[0]
    if isinstance(gens, list) and len(gens) > 1 and all(isinstance(g, str) for g in gens):
        if "target" not in rec:
            raise InputError(
                f"{p}: line {lineno}: missing field 'target' (needed to score {len(gens)} repeated generations)"
            )
        target = rec["target"]
        targets = [str(t) for t in target] if isinstance(target, list) else [str(target)]
        return [int(g in targets) for g in gens]
    o = _outcome(value)
    if o is None:
        raise InputError(f"{p}: line {lineno}, field '{name}': {_show(value)} is not a 0/1 outcome")
    return [int(o)]


def read_human_eval(path: str | os.PathLike) -> pd.DataFrame:
    """OpenAI human-eval results (``<samples>.jsonl_results.jsonl``) → attempts.

    ``evaluate_functional_correctness samples.jsonl`` writes one line per generated sample, in the
    order of the samples file, with the sample's fields (``task_id``, ``completion``) plus
    ``result`` ("passed", "timed out" or "failed: …") and ``passed`` (a boolean). Each line is one
    attempt at its ``task_id``; attempts are numbered in file order. Columns: ``problem`` (=
    ``task_id``), ``attempt``, ``correct`` (= ``passed``), plus any other scalar field of the lines
    (e.g. a ``model`` column added by the user) that has the same value on every line of a task.

    References:
      openai/human-eval, ``README.md`` (the sample and results formats) and
      ``human_eval/evaluation.py`` (``evaluate_functional_correctness``).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    problem, correct, extra = [], [], []
    for lineno, rec in _iter_jsonl(p):
        for field in ("task_id", "passed"):
            if field not in rec:
                raise InputError(f"{p}: line {lineno}: missing field '{field}' (not a human-eval results file?)")
        o = _outcome(rec["passed"])
        if o is None:
            raise InputError(f"{p}: line {lineno}, field 'passed': {_show(rec['passed'])} is not true/false")
        problem.append(rec["task_id"])
        correct.append(int(o))
        extra.append(
            {
                k: v
                for k, v in rec.items()
                if k not in ("task_id", "passed", "completion", "result", "prompt") and isinstance(v, (str, int, float))
            }
        )
    if not problem:
        raise InputError(f"{p}: the file is empty")
    df = pd.concat([pd.DataFrame({"problem": problem, "correct": correct}), pd.DataFrame(extra)], axis=1)
    keys = [c for c in df.columns if c not in ("problem", "correct")]
    df.insert(1, "attempt", _attempt_index(df[keys + ["problem"]]))
    df.attrs.update(source=str(p), kind="jsonl")
    return df


def _inspect_value(v: Any) -> float | None:
    """Inspect's ``value_to_float``: "C" 1, "I" and "N" 0, "P" 0.5, numbers/bools, yes/true, no/false."""
    if isinstance(v, (bool, int, float)) and not isinstance(v, str):
        return float(v)
    if isinstance(v, str):
        table = {"C": 1.0, "I": 0.0, "N": 0.0, "P": 0.5, "yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}
        if v in table or v.lower() in table:
            return table.get(v, table.get(v.lower()))
        try:
            return float(v)
        except ValueError:
            return None
    return None


def read_inspect(path: str | os.PathLike, scorer: str | None = None) -> pd.DataFrame:
    """inspect-ai evaluation log (JSON format, ``inspect eval … --log-format json``) → attempts.

    The log (``EvalLog``) holds ``eval`` (``task``, ``model``, …) and ``samples``: one ``EvalSample``
    per sample and epoch, with ``id``, ``epoch`` (1-based) and ``scores`` (a mapping from scorer name
    to a ``Score`` whose ``value`` is "C" correct, "I" incorrect, "P" partial, "N" no answer, a
    number or a boolean). Each sample × epoch is one attempt; ``correct`` is the value converted as
    Inspect's ``value_to_float`` does ("C" → 1, "I"/"N" → 0) and must be 0 or 1 (a partial score
    is an error: pass@k needs a pass/fail outcome). ``scorer`` defaults to the first scorer of the
    first scored sample. Samples without scores (an error halted them) are skipped and counted.
    Binary ``.eval`` logs (a zip) are converted first with ``inspect log convert --to json``.
    Columns: ``problem`` (= sample ``id``), ``attempt`` (= ``epoch`` − 1), ``correct``, ``model``,
    ``task``.

    References:
      UKGovernmentBEIS/inspect_ai, ``src/inspect_ai/log/_log.py`` (``EvalLog``, ``EvalSample``) and
      ``src/inspect_ai/scorer/_metric.py`` (``Score``, ``CORRECT``/``INCORRECT``, ``value_to_float``);
      https://inspect.aisi.org.uk/eval-logs.html.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    if _bare_suffix(p) == ".eval":
        raise InputError(
            f"{p}: binary .eval logs are not read; convert it with `inspect log convert --to json {p.name}`"
        )
    try:
        with _open_text(p) as fh:
            log = json.load(fh)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read JSON file: {exc}") from None
    if not isinstance(log, dict) or not isinstance(log.get("samples"), list):
        raise InputError(
            f"{p}: field 'samples': missing or not a list (not an inspect-ai eval log, or logged without samples)"
        )
    spec: dict = log["eval"] if isinstance(log.get("eval"), dict) else {}
    rows, skipped = [], 0
    for i, s in enumerate(log["samples"]):
        where = f"{p}: samples[{i}]"
        if not isinstance(s, dict):
            raise InputError(f"{where}: expected an object, got {type(s).__name__}")
        for field in ("id", "epoch"):
            if field not in s:
                raise InputError(f"{where}: missing field '{field}'")
        scores = s.get("scores")
        if not scores:
            skipped += 1
            continue
        if not isinstance(scores, dict):
            raise InputError(f"{where}, field 'scores': expected an object, got {type(scores).__name__}")
        scorer = scorer or next(iter(scores))
        if scorer not in scores:
            raise InputError(f"{where}, field 'scores': no scorer '{scorer}' (found: {', '.join(scores)})")
        sc = scores[scorer]
        raw = sc.get("value") if isinstance(sc, dict) else None
        v = _inspect_value(raw)
        if v is None or v not in (0.0, 1.0):
            raise InputError(
                f"{where} (id={s['id']!r}, epoch {s['epoch']}), field 'scores.{scorer}.value': "
                f"{_show(raw)} is not a pass/fail outcome (C/I, 0/1, true/false)"
            )
        epoch = s["epoch"]
        if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
            raise InputError(f"{where}, field 'epoch': {_show(epoch)} is not an integer ≥ 1")
        rows.append((s["id"], epoch - 1, int(v)))
    if not rows:
        raise InputError(f"{p}: no scored samples")
    df = pd.DataFrame(rows, columns=["problem", "attempt", "correct"])
    df.attrs["rows"] = len(log["samples"])
    df["model"] = str(spec.get("model", ""))
    df["task"] = str(spec.get("task", ""))
    note = f"scorer {scorer}" + (f", {skipped} unscored sample{'s' if skipped != 1 else ''} skipped" if skipped else "")
    df.attrs.update(source=str(p), kind="json", note=note)
    return df


def read_matrix(path: str | os.PathLike) -> pd.DataFrame:
    """A question × attempt outcome matrix → attempts: entry (i, j) = 1 when attempt j at question i passed.

    ``.npy``: a 2-D array of 0/1 (bool, int or float), questions along axis 0 — the ``(N, M)``
    "questions × trials" layout of scorio and similar toolkits. ``.csv``: one row per question, one
    column per attempt, cells 0/1 (or true/false); an optional header row, and an optional first
    column of question ids when its header is one of ``problem, question, id, question_id, …``.
    No missing cells: every question has the same number of attempts. Columns: ``problem`` (the
    row index, or the id column), ``attempt`` (column index), ``correct``.

    References:
      scorio (PyPI), "R: (N, M) binary outcome matrix" in its evaluation functions; the matrix is
      the transpose-free form used there.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    ids = None
    if _bare_suffix(p) == ".npy":
        try:
            mat = np.load(p, allow_pickle=False)
        except Exception as exc:
            raise InputError(
                f"{p}: cannot read .npy file: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from None
        if mat.ndim != 2 or 0 in mat.shape:
            raise InputError(f"{p}: expected a 2-D (questions × attempts) array, got shape {mat.shape}")
        vals = mat.astype(np.float64) if mat.dtype != object else np.full(mat.shape, np.nan)
        bad = ~np.isin(vals, (0.0, 1.0))
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise InputError(f"{p}: entry [{i}, {j}]: {_show(mat[i, j])} is not 0 or 1")
        kind = "npy"
    else:
        try:
            raw = pd.read_csv(p, header=None, dtype=str, keep_default_na=False, skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise InputError(f"{p}: the file is empty") from None
        except Exception as exc:
            raise InputError(f"{p}: cannot read csv file: {str(exc).strip().splitlines()[0]}") from None
        first_line = 1
        head = [c.strip().lower() for c in raw.iloc[0]]
        if any(_outcome(c) is None for c in head[1:]) or head[0] in _MATRIX_ID_COLUMNS:
            raw, first_line = raw.iloc[1:].reset_index(drop=True), 2
            if head[0] in _MATRIX_ID_COLUMNS:
                ids, raw = raw.iloc[:, 0].to_numpy(), raw.iloc[:, 1:]
        if raw.size == 0:
            raise InputError(f"{p}: no data rows")
        cells = raw.to_numpy()
        lowered = np.char.lower(np.char.strip(cells.astype(str)))
        table = {"1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0, "true": 1.0, "false": 0.0}
        vals = np.vectorize(lambda c: table.get(c, np.nan), otypes=[np.float64])(lowered)
        bad = np.isnan(vals)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            what = "missing value" if not lowered[i, j] else f"{_show(cells[i, j])} is not 0 or 1"
            raise InputError(f"{p}: line {i + first_line}, column {j + 1 + (ids is not None)}: {what}")
        kind = "csv"
    q, m = vals.shape
    problem = np.repeat(np.arange(q) if ids is None else ids, m)
    df = pd.DataFrame(
        {"problem": problem, "attempt": np.tile(np.arange(m), q), "correct": vals.reshape(-1).astype(np.int64)}
    )
    df.attrs.update(source=str(p), kind=kind, rows=q)
    return df
